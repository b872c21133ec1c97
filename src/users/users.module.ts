import { Module } from '@nestjs/common';
import { MailModule } from '../mail/mail.module.js';
import { PasswordPolicyModule } from '../password-policy/password-policy.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { TwoFactorModule } from '../two-factor/two-factor.module.js';
import { AdminUsersController } from './admin-users.controller.js';
import { BootstrapAdmin } from './bootstrap-admin.service.js';
import { EmailVerificationController } from './email-verification.controller.js';
import { EmailVerificationService } from './email-verification.service.js';
import { MeTwoFactorController } from './me-two-factor.controller.js';
import { MeController } from './me.controller.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [PasswordPolicyModule, SessionsModule, MailModule, TwoFactorModule],
  providers: [UsersRepository, UsersService, EmailVerificationService, BootstrapAdmin],
  controllers: [
    AdminUsersController,
    MeController,
    MeTwoFactorController,
    EmailVerificationController,
  ],
  // The hosted pages drive the same services.
  exports: [UsersService, EmailVerificationService],
})
export class UsersModule {}
