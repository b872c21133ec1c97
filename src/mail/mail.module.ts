import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Settings } from '../config/settings.js';
import { MailOutbox } from './mail-outbox.service.js';
import { MailOutboxWorker } from './mail-outbox.worker.js';
import { MailRenderer } from './mail-renderer.js';
import { MailTransport } from './mail-transport.js';

@Module({
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
