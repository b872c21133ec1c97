import { Module } from '@nestjs/common';
import { MailOutbox } from './mail-outbox.service.js';

@Module({
  providers: [MailOutbox],
  exports: [MailOutbox],
})
export class MailModule {}
