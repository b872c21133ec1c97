import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MailerModule, type MailerOptions } from '@nestjs-modules/mailer';
import type { Settings } from '../config/settings.js';
import { MailOutbox } from './mail-outbox.service.js';
import { MailOutboxWorker } from './mail-outbox.worker.js';
import { MailRenderer } from './mail-renderer.js';
import { MailTransport } from './mail-transport.js';

@Module({
  imports: [
    MailerModule.forRootAsync({
      imports: [],
      inject: [ConfigService],
      useFactory: (config: ConfigService<Settings, true>) => {
        const { smtpUrl, from } = config.get('mail', { infer: true });
        const options: MailerOptions = {
          transport: smtpUrl ?? { streamTransport: true, buffer: true, newline: 'unix' },
          defaults: { from } as MailerOptions['defaults'],
        };
        return options;
      },
    }),
  ],
  providers: [
    MailOutbox,
    MailOutboxWorker,
    MailTransport,
    {
      provide: MailRenderer,
      inject: [ConfigService],
      useFactory: (config: ConfigService<Settings, true>) =>
        new MailRenderer(config.get('totp', { infer: true }).issuer),
    },
  ],
  exports: [MailOutbox, MailOutboxWorker],
})
export class MailModule {}
