import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { SigningKeysModule } from '../auth/signing-keys.module.js';
import { PagesModule } from '../pages/pages.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { UsersModule } from '../users/users.module.js';
import { AdminClientsController } from './admin-clients.controller.js';
import { InteractionPagesController } from './interaction-pages.controller.js';
import { OidcClientEntity } from './oidc-client.entity.js';
import { OidcClients } from './oidc-clients.service.js';
import { OidcPayloadEntity } from './oidc-payload.entity.js';
import { OidcProviderService } from './oidc-provider.service.js';
import { OidcStore } from './oidc-store.service.js';

/**
 * OpenID Connect for applications: the provider (served by oidc.setup.ts), its storage, the
 * clients admins register, and the sign-in interaction on the hosted pages.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([OidcClientEntity, OidcPayloadEntity]),
    AuthModule,
    SigningKeysModule,
    SessionsModule,
    UsersModule,
    PagesModule,
  ],
  providers: [OidcClients, OidcStore, OidcProviderService],
  controllers: [AdminClientsController, InteractionPagesController],
})
export class OidcModule {}
