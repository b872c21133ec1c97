import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Clock } from '../common/clock.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import type { Settings } from '../config/settings.js';
import { I18n } from '../i18n/i18n.service.js';
import { isLocale } from '../i18n/locales.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { MailComposer } from './mail-composer.js';
import { type ClaimedMail, MailOutboxRepository } from './mail-outbox.repository.js';
import { outboxContextLabel } from './mail-outbox.service.js';
import type { MailTemplateName, MailTemplates } from './mail-templates.js';
import { MailerService } from './mailer-package.js';

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

/**
 * Sends the outbox. Runs in every instance; rows are claimed with FOR UPDATE SKIP LOCKED, so
 * two instances never send the same mail at once. Failures retry with exponential backoff; after
 * MAX_ATTEMPTS a mail is marked dead (and logged) instead of retried forever.
 *
 * A mail is rendered by MailComposer and sent by @nestjs-modules/mailer's MailerService. Without
 * SMTP_URL the transport only builds the message, and it is written to $DATA_DIR/mail (directory
 * 0700, file 0600): the log names the file, never its link or any other content.
 */
@Injectable()
export class MailOutboxWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('MailOutbox');
  /** Where mails are written when there is no SMTP server to send them to. */
  private readonly fileDir: string | undefined;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly outbox: MailOutboxRepository,
    private readonly composer: MailComposer,
    @Inject(MailerService) private readonly mailer: MailerService,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
    private readonly i18n: I18n,
    config: ConfigService<Settings, true>,
  ) {
    this.fileDir = config.get('mail', { infer: true }).smtpUrl
      ? undefined
      : join(config.get('database', { infer: true }).dataDir, 'mail');
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), OUTBOX_POLL_MS);
    this.timer.unref();
  }

  /** Stops and lets a pass in flight finish, before MailerService closes its transport. */
  async onModuleDestroy(): Promise<void> {
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
      const now = this.clock.now();
      const rows = await this.outbox.claimDueMails(
        now,
        new Date(now.getTime() + CLAIM_LEASE_MS),
        BATCH_SIZE,
      );
      for (const row of rows) {
        await this.deliver(row);
      }
      if (rows.length < BATCH_SIZE || this.stopped) {
        return;
      }
    }
  }

  private async deliver(row: ClaimedMail): Promise<void> {
    try {
      const context = JSON.parse(
        this.box.open(row.context_sealed, outboxContextLabel(row.id)).toString('utf8'),
      ) as MailTemplates[MailTemplateName];
      const locale = isLocale(row.locale) ? row.locale : this.i18n.defaultLocale;
      const mail = await this.composer.compose(row.template, context, row.recipient, locale);
      // No `context` here: sendMail would substitute `{{name}}` in the rendered subject and HTML.
      const info = (await this.mailer.sendMail({
        to: row.recipient,
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        headers: { 'X-Portcullis-Mail-Id': row.id },
      })) as { message?: unknown };
      if (this.fileDir) {
        const file = this.writeFile(this.fileDir, row.id, info.message);
        this.logger.log(`no SMTP_URL: wrote the mail to ${file}`);
      }
      await this.outbox.markSent(row.id, this.clock.now());
      this.metrics.mailsSent.inc({ outcome: 'sent' });
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      const dead = row.attempts >= MAX_ATTEMPTS;
      this.metrics.mailsSent.inc({ outcome: dead ? 'dead' : 'retry' });
      await this.outbox.markFailed(
        row.id,
        dead ? 'dead' : 'pending',
        new Date(this.clock.now().getTime() + retryDelayMs(row.attempts)),
        message,
      );
      const what = `mail ${row.id} (${row.template}) attempt ${row.attempts} failed: ${message}`;
      if (dead) {
        this.logger.error(`${what}; giving up after ${MAX_ATTEMPTS} attempts`);
      } else {
        this.logger.warn(`${what}; retrying in ${retryDelayMs(row.attempts) / 1000} s`);
      }
    }
  }

  /** The message the stream transport built, as `<time>-<id>.eml`, readable by us only. */
  private writeFile(dir: string, id: string, message: unknown): string {
    if (!Buffer.isBuffer(message)) {
      throw new Error('the mail transport returned no message to write');
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${id}.eml`);
    writeFileSync(file, message, { mode: 0o600 });
    return file;
  }
}
