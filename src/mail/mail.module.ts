import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { MailDefaults } from 'nodemailer';
import type { Settings } from '../config/settings.js';
import { I18n } from '../i18n/i18n.service.js';
import { MailComposer } from './mail-composer.js';
import { MailOutboxRepository } from './mail-outbox.repository.js';
import { MailOutbox } from './mail-outbox.service.js';
import { MailOutboxWorker } from './mail-outbox.worker.js';
import { MailerModule, type MailerOptions } from './mailer-package.js';

/**
 * SMTP_URL when set; otherwise nodemailer's stream transport hands the worker the whole message
 * as a buffer, which it keeps as an .eml file under $DATA_DIR/mail.
 */
export function mailerOptions(mail: Settings['mail']): MailerOptions {
  // MailerModule hands `defaults` to nodemailer's createTransport as its mail defaults (its own
  // type names transport options, which nodemailer 10 keeps apart from MailDefaults).
  const defaults: MailDefaults = { from: mail.from };
  return {
    transport: mail.smtpUrl ?? { streamTransport: true, buffer: true, newline: 'unix' },
    defaults,
  };
}

@Module({
  imports: [
    MailerModule.forRootAsync({
      imports: [],
      inject: [ConfigService],
      useFactory: (config: ConfigService<Settings, true>) =>
        mailerOptions(config.get('mail', { infer: true })),
    }),
  ],
  providers: [
    MailOutboxRepository,
    MailOutbox,
    MailOutboxWorker,
    {
      provide: MailComposer,
      inject: [ConfigService, I18n],
      useFactory: (config: ConfigService<Settings, true>, i18n: I18n) =>
        new MailComposer(config.get('totp', { infer: true }).issuer, i18n),
    },
  ],
  exports: [MailOutbox, MailOutboxWorker],
})
export class MailModule {}
