import { Module } from '@nestjs/common';
import { MailModule } from '../mail/mail.module.js';
import { TwoFactorEnrolment } from './two-factor-enrolment.service.js';
import { TwoFactorRepository } from './two-factor.repository.js';
import { TwoFactorService } from './two-factor.service.js';

@Module({
  imports: [MailModule],
  providers: [TwoFactorRepository, TwoFactorService, TwoFactorEnrolment],
  exports: [TwoFactorService, TwoFactorEnrolment],
})
export class TwoFactorModule {}
