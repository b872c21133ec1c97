import { Module } from '@nestjs/common';
import { MailModule } from '../mail/mail.module.js';
import { TwoFactorService } from './two-factor.service.js';

@Module({
  imports: [MailModule],
  providers: [TwoFactorService],
  exports: [TwoFactorService],
})
export class TwoFactorModule {}
