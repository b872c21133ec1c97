import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { EmailVerificationEntity } from './email-verification.entity.js';

/** A link that was alive when it was revoked. */
export interface RevokedVerification {
  email: string;
  expiresAt: Date;
}

/** The mailed links that confirm a new email address (by the SHA-256 of their token). */
@Injectable()
export class EmailVerificationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private links(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(EmailVerificationEntity);
  }

  /** The addresses waiting for confirmation (a live, unexpired link), by user id. */
  async pendingEmails(
    userIds: string[],
    now: Date,
    manager?: EntityManager,
  ): Promise<Map<string, string>> {
    if (userIds.length === 0) {
      return new Map();
    }
    const rows = await this.links(manager)
      .createQueryBuilder('v')
      .where('v.user_id IN (:...userIds)', { userIds })
      .andWhere('v.used_at IS NULL AND v.revoked_at IS NULL AND v.expires_at > :now', { now })
      .getMany();
    return new Map(rows.map((v) => [v.userId, v.email]));
  }

  async insert(
    link: Omit<EmailVerificationEntity, 'id' | 'user'>,
    manager?: EntityManager,
  ): Promise<void> {
    await this.links(manager).insert(link);
  }

  /** The link with this token hash, locked for the rest of the transaction: its uses take turns. */
  lockByToken(tokenHash: Buffer, manager: EntityManager): Promise<EmailVerificationEntity | null> {
    return this.links(manager)
      .createQueryBuilder('v')
      .setLock('pessimistic_write')
      .where('v.token_hash = :tokenHash', { tokenHash })
      .getOne();
  }

  /** The link bound its address: it cannot be used again. */
  async consumeLink(id: string, at: Date, manager?: EntityManager): Promise<void> {
    await this.links(manager).update({ id }, { usedAt: at });
  }

  /** Kills the user's live confirmation link, if any, and says what it was for. */
  async revokeLiveLinks(
    userId: string,
    at: Date,
    manager?: EntityManager,
  ): Promise<RevokedVerification[]> {
    const [rows] = await (manager ?? this.dataSource.manager).query<
      [{ email: string; expires_at: Date }[], number]
    >(
      `UPDATE email_verifications SET revoked_at = $2
        WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL
        RETURNING email, expires_at`,
      [userId, at],
    );
    return rows.map((r) => ({ email: r.email, expiresAt: new Date(r.expires_at) }));
  }
}
