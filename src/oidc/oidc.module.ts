import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { SigningKeysModule } from '../auth/signing-keys.module.js';
import { PagesModule } from '../pages/pages.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { UsersModule } from '../users/users.module.js';
import { AdminClientsController } from './admin-clients.controller.js';
import { InteractionFlow } from './interaction-flow.service.js';
import { InteractionPagesController } from './interaction-pages.controller.js';
import { OidcClientsRepository } from './oidc-clients.repository.js';
import { OidcClients } from './oidc-clients.service.js';
import { OidcPayloadsRepository } from './oidc-payloads.repository.js';
import { OidcProviderService } from './oidc-provider.service.js';
import { OidcStore } from './oidc-store.service.js';

/**
 * OpenID Connect for applications: the provider (served by oidc.setup.ts), its storage, the
 * clients admins register, and the sign-in interaction on the hosted pages.
 */
@Module({
  imports: [AuthModule, SigningKeysModule, SessionsModule, UsersModule, PagesModule],
  providers: [
    OidcClientsRepository,
    OidcPayloadsRepository,
    OidcClients,
    OidcStore,
    OidcProviderService,
    InteractionFlow,
  ],
  controllers: [AdminClientsController, InteractionPagesController],
  // The admin console manages clients through the same service as the admin API.
  exports: [OidcClients],
})
export class OidcModule {}
