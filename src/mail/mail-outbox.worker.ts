import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { outboxContextLabel } from './mail-outbox.service.js';
import { MailRenderer } from './mail-renderer.js';
import type { MailTemplateName, MailTemplates } from './mail-templates.js';
import { MailTransport } from './mail-transport.js';

/** How often every instance looks for due mail. */
export const OUTBOX_POLL_MS = 500;
/** A claimed row is not offered again for this long, so a crashed sender's mail is retried. */
const CLAIM_LEASE_MS = 60_000;
const BATCH_SIZE = 10;
export const MAX_ATTEMPTS = 8;

/** 10 s, 20 s, 40 s … capped at 1 hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(3_600_000, 10_000 * 2 ** Math.max(0, attempts - 1));
}

interface ClaimedRow {
  id: string;
  template: MailTemplateName;
  recipient: string;
  context_sealed: string;
  attempts: number;
}

/**
 * Sends the outbox. Runs in every instance; rows are claimed with FOR UPDATE SKIP LOCKED, so
 * two instances never send the same mail at once. Failures retry with exponential backoff; after
 * MAX_ATTEMPTS a mail is marked dead (and logged) instead of retried forever.
 */
@Injectable()
export class MailOutboxWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MailOutbox');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly renderer: MailRenderer,
    private readonly transport: MailTransport,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), OUTBOX_POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Starts a pass unless one is running. */
  kick(): void {
    if (this.stopped || this.running) {
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => this.logger.warn(`outbox pass failed: ${String(error)}`))
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Sends every due mail; resolves when the outbox has nothing due. */
  async drain(): Promise<void> {
    for (;;) {
      const rows = await this.claim();
      for (const row of rows) {
        await this.deliver(row);
      }
      if (rows.length < BATCH_SIZE || this.stopped) {
        return;
      }
    }
  }

  private async claim(): Promise<ClaimedRow[]> {
    const now = this.clock.now();
    const [rows] = await this.dataSource.query<[ClaimedRow[], number]>(
      `UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $2
        WHERE id IN (
          SELECT id FROM mail_outbox
           WHERE status = 'pending' AND next_attempt_at <= $1
           ORDER BY next_attempt_at
           LIMIT ${BATCH_SIZE}
           FOR UPDATE SKIP LOCKED)
        RETURNING id, template, recipient, context_sealed, attempts`,
      [now, new Date(now.getTime() + CLAIM_LEASE_MS)],
    );
    return rows;
  }

  private async deliver(row: ClaimedRow): Promise<void> {
    try {
      const context = JSON.parse(
        this.box.open(row.context_sealed, outboxContextLabel(row.id)).toString('utf8'),
      ) as MailTemplates[MailTemplateName];
      const mail = this.renderer.render(row.template, context, row.recipient);
      await this.transport.send(row.id, row.recipient, mail);
      if (this.transport.writesFiles && row.template === 'password-reset') {
        this.logger.log(
          `password reset link for ${row.recipient}: ${(context as MailTemplates['password-reset']).link}`,
        );
      }
      await this.dataSource.query(
        `UPDATE mail_outbox SET status = 'sent', sent_at = $2, context_sealed = NULL, last_error = NULL WHERE id = $1`,
        [row.id, this.clock.now()],
      );
      this.metrics.mailsSent.inc({ outcome: 'sent' });
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      const dead = row.attempts >= MAX_ATTEMPTS;
      this.metrics.mailsSent.inc({ outcome: dead ? 'dead' : 'retry' });
      await this.dataSource.query(
        `UPDATE mail_outbox SET status = $2, next_attempt_at = $3, last_error = $4 WHERE id = $1`,
        [
          row.id,
          dead ? 'dead' : 'pending',
          new Date(this.clock.now().getTime() + retryDelayMs(row.attempts)),
          message,
        ],
      );
      const what = `mail ${row.id} (${row.template}) attempt ${row.attempts} failed: ${message}`;
      if (dead) {
        this.logger.error(`${what}; giving up after ${MAX_ATTEMPTS} attempts`);
      } else {
        this.logger.warn(`${what}; retrying in ${retryDelayMs(row.attempts) / 1000} s`);
      }
    }
  }
}
