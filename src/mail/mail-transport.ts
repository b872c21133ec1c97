import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Settings } from '../config/settings.js';
import type { RenderedMail } from './mail-renderer.js';

/**
 * Hands a rendered mail to SMTP (SMTP_URL), or, with no SMTP_URL, writes it as an .eml file
 * under $DATA_DIR/mail so a newcomer can read it without a mail server.
 *
 * nodemailer is used directly: @nestjs-modules/mailer is CommonJS and require()s the ESM-only
 * @nestjs/common, which Node 20 allows but Jest on Node < 24.9 cannot load, so the end-to-end
 * suite could not boot the real app with it.
 */
@Injectable()
export class MailTransport implements OnApplicationShutdown {
  private readonly logger = new Logger('Mail');
  private readonly fileDir: string | undefined;
  private readonly transporter: Transporter;

  constructor(config: ConfigService<Settings, true>) {
    const { smtpUrl, from } = config.get('mail', { infer: true });
    this.fileDir = smtpUrl
      ? undefined
      : join(config.get('database', { infer: true }).dataDir, 'mail');
    this.transporter = smtpUrl
      ? nodemailer.createTransport(smtpUrl, { from })
      : nodemailer.createTransport(
          { streamTransport: true, buffer: true, newline: 'unix' },
          { from },
        );
  }

  get writesFiles(): boolean {
    return this.fileDir !== undefined;
  }

  /** Sends; returns the .eml path in file mode. Throws when the server refuses or is down. */
  async send(id: string, to: string, mail: RenderedMail): Promise<string | undefined> {
    const info = (await this.transporter.sendMail({
      to,
      subject: mail.subject,
      html: mail.html,
      text: mail.text,
      headers: { 'X-Portcullis-Mail-Id': id },
    })) as { message?: Buffer };
    if (!this.fileDir) {
      return undefined;
    }
    mkdirSync(this.fileDir, { recursive: true, mode: 0o700 });
    const file = join(this.fileDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${id}.eml`);
    writeFileSync(file, info.message ?? Buffer.alloc(0), { mode: 0o600 });
    this.logger.log(`no SMTP_URL: wrote the mail to ${file}`);
    return file;
  }

  onApplicationShutdown(): void {
    this.transporter.close();
  }
}
