import { Module } from '@nestjs/common';
import { OidcModule } from '../oidc/oidc.module.js';
import { PagesModule } from '../pages/pages.module.js';
import { PasswordPolicyModule } from '../password-policy/password-policy.module.js';
import { UsersModule } from '../users/users.module.js';
import { AdminAuditPagesController } from './admin-audit-pages.controller.js';
import { AdminClientsPagesController } from './admin-clients-pages.controller.js';
import { AdminUsersPagesController } from './admin-users-pages.controller.js';
import { ConsoleViews } from './console-views.service.js';
import { AdminPageGuard } from './guards/admin-page.guard.js';

/**
 * The admin console at /admin: hosted pages over the admin API's own services (users, audit
 * trail, OpenID Connect clients), with the pages' CSRF, CSP and cookie rules.
 */
@Module({
  imports: [PagesModule, UsersModule, OidcModule, PasswordPolicyModule],
  providers: [ConsoleViews, AdminPageGuard],
  controllers: [AdminUsersPagesController, AdminAuditPagesController, AdminClientsPagesController],
})
export class AdminConsoleModule {}
