import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { PasswordPolicyModule } from '../password-policy/password-policy.module.js';
import { PasswordResetModule } from '../password-reset/password-reset.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { TwoFactorModule } from '../two-factor/two-factor.module.js';
import { UsersModule } from '../users/users.module.js';
import { AccountPagesController } from './account-pages.controller.js';
import { AssetsController } from './assets.controller.js';
import { RESET_TOKEN_COOKIE } from '../password-reset/guards/reset-step.guard.js';
import { PageRenderer } from './page-renderer.js';
import { PageSessions } from './page-session.service.js';
import { PagesController } from './pages.controller.js';
import { ResetPagesController } from './reset-pages.controller.js';
import { SignInService } from './sign-in.service.js';
import { VerifyEmailPagesController } from './verify-email-pages.controller.js';

/** The hosted HTML pages: the same services as the API, rendered from templates/pages. */
@Module({
  imports: [
    AuthModule,
    SessionsModule,
    UsersModule,
    TwoFactorModule,
    PasswordPolicyModule,
    PasswordResetModule,
  ],
  providers: [
    PageSessions,
    PageRenderer,
    SignInService,
    // @ResetStep(…, 'page-cookie') reads the reset token from the pages' sealed cookie.
    { provide: RESET_TOKEN_COOKIE, useExisting: PageSessions },
  ],
  controllers: [
    PagesController,
    ResetPagesController,
    VerifyEmailPagesController,
    AccountPagesController,
    AssetsController,
  ],
  exports: [PageSessions, PageRenderer, SignInService],
})
export class PagesModule {}
