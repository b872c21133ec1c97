import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { MailModule } from '../mail/mail.module.js';
import { TwoFactorModule } from '../two-factor/two-factor.module.js';
import { UsersModule } from '../users/users.module.js';
import { ResetStepGuard } from './guards/reset-step.guard.js';
import { PasswordResetController } from './password-reset.controller.js';
import { PasswordResetService } from './password-reset.service.js';
import { ResetLinkIssuer } from './reset-link-issuer.service.js';
import { ResetRequestQueue } from './reset-request.queue.js';

@Module({
  imports: [UsersModule, TwoFactorModule, AuthModule, MailModule],
  providers: [PasswordResetService, ResetLinkIssuer, ResetRequestQueue, ResetStepGuard],
  controllers: [PasswordResetController],
  // The hosted reset pages drive the same flow.
  exports: [PasswordResetService],
})
export class PasswordResetModule {}
