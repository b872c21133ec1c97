import { Module } from '@nestjs/common';
import { MailModule } from '../mail/mail.module.js';
import { PasswordPolicyModule } from '../password-policy/password-policy.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { TwoFactorModule } from '../two-factor/two-factor.module.js';
import { AdminUsersController } from './admin-users.controller.js';
import { AdminUsersService } from './admin-users.service.js';
import { BootstrapAdmin } from './bootstrap-admin.service.js';
import { EmailVerificationController } from './email-verification.controller.js';
import { EmailVerificationService } from './email-verification.service.js';
import { EmailVerificationsRepository } from './email-verifications.repository.js';
import { MeTwoFactorController } from './me-two-factor.controller.js';
import { MeController } from './me.controller.js';
import { PasswordHistoryRepository } from './password-history.repository.js';
import { PasswordsService } from './passwords.service.js';
import { UserStateService } from './user-state.service.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [PasswordPolicyModule, SessionsModule, MailModule, TwoFactorModule],
  providers: [
    UsersRepository,
    PasswordHistoryRepository,
    EmailVerificationsRepository,
    UserStateService,
    PasswordsService,
    UsersService,
    AdminUsersService,
    EmailVerificationService,
    BootstrapAdmin,
  ],
  controllers: [
    AdminUsersController,
    MeController,
    MeTwoFactorController,
    EmailVerificationController,
  ],
  // Sign-in and the reset flow check and set passwords; the hosted pages (and the admin console)
  // drive the same services.
  exports: [UsersService, PasswordsService, EmailVerificationService, AdminUsersService],
})
export class UsersModule {}
