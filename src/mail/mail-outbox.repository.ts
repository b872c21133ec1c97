import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { MailOutboxEntity, type OutboxStatus } from './mail-outbox.entity.js';
import type { MailTemplateName } from './mail-templates.js';

/** A mail a worker has claimed: what it needs to render and send it. */
export interface ClaimedMail {
  id: string;
  template: MailTemplateName;
  recipient: string;
  /** Null for a mail queued before languages: DEFAULT_LOCALE. */
  locale: string | null;
  context_sealed: string;
  attempts: number;
}

/** The durable mail outbox. */
@Injectable()
export class MailOutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Always in the transaction of the change the mail announces: the mail exists iff it does. */
  async insert(mail: MailOutboxEntity, manager: EntityManager): Promise<void> {
    await manager.getRepository(MailOutboxEntity).insert(mail);
  }

  /**
   * Claims up to `limit` due mails for this worker: each counts an attempt and is not due again
   * until `leaseUntil` (so a crashed sender's mail is retried). FOR UPDATE SKIP LOCKED: two
   * instances never claim the same mail.
   */
  async claimDueMails(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedMail[]> {
    const [rows] = await this.dataSource.query<[ClaimedMail[], number]>(
      `UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $2
        WHERE id IN (
          SELECT id FROM mail_outbox
           WHERE status = 'pending' AND next_attempt_at <= $1
           ORDER BY next_attempt_at
           LIMIT ${limit}
           FOR UPDATE SKIP LOCKED)
        RETURNING id, template, recipient, locale, context_sealed, attempts`,
      [now, leaseUntil],
    );
    return rows;
  }

  /** Sent: the context (which may hold a live link) is erased. */
  async markSent(id: string, at: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE mail_outbox SET status = 'sent', sent_at = $2, context_sealed = NULL, last_error = NULL WHERE id = $1`,
      [id, at],
    );
  }

  async markFailed(
    id: string,
    status: Exclude<OutboxStatus, 'sent'>,
    nextAttemptAt: Date,
    error: string,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE mail_outbox SET status = $2, next_attempt_at = $3, last_error = $4 WHERE id = $1`,
      [id, status, nextAttemptAt, error],
    );
  }
}
