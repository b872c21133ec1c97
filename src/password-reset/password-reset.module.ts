import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { MailModule } from '../mail/mail.module.js';
import { TwoFactorModule } from '../two-factor/two-factor.module.js';
import { UsersModule } from '../users/users.module.js';
import { ResetStepGuard } from './guards/reset-step.guard.js';
import { PasswordResetController } from './password-reset.controller.js';
import { PasswordResetService } from './password-reset.service.js';
import { ResetLinkIssuer } from './reset-link-issuer.service.js';
import { ResetLinksRepository } from './reset-links.repository.js';
import { ResetRequestQueue } from './reset-request.queue.js';
import { ResetRequestService } from './reset-request.service.js';
import { ResetRequestsRepository } from './reset-requests.repository.js';
import { ResetSessionsRepository } from './reset-sessions.repository.js';
import { ResetTwoFactorService } from './reset-two-factor.service.js';

@Module({
  imports: [UsersModule, TwoFactorModule, AuthModule, MailModule],
  providers: [
    ResetLinksRepository,
    ResetSessionsRepository,
    ResetRequestsRepository,
    PasswordResetService,
    ResetRequestService,
    ResetTwoFactorService,
    ResetLinkIssuer,
    ResetRequestQueue,
    ResetStepGuard,
  ],
  controllers: [PasswordResetController],
  // The hosted reset pages drive the same flow.
  exports: [PasswordResetService],
})
export class PasswordResetModule {}
