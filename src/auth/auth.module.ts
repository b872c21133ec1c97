import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { SessionsModule } from '../sessions/sessions.module.js';
import { TwoFactorModule } from '../two-factor/two-factor.module.js';
import { UsersModule } from '../users/users.module.js';
import { AdminSigningKeysController } from './admin-signing-keys.controller.js';
import { AuthController, IntrospectionController, JwksController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { AccessTokenGuard } from './guards/access-token.guard.js';
import { AuthorizationGuard } from './guards/authorization.guard.js';
import { JwtWithSigningKeys, SigningKeysModule } from './signing-keys.module.js';
import { AccessTokenStrategy } from './strategies/access-token.strategy.js';
import { TokenService } from './token.service.js';

@Module({
  imports: [UsersModule, SessionsModule, TwoFactorModule, SigningKeysModule, JwtWithSigningKeys],
  providers: [
    AuthService,
    TokenService,
    AccessTokenStrategy,
    // Order matters: authenticate first, then authorize.
    { provide: APP_GUARD, useClass: AccessTokenGuard },
    { provide: APP_GUARD, useClass: AuthorizationGuard },
  ],
  controllers: [
    AuthController,
    IntrospectionController,
    JwksController,
    AdminSigningKeysController,
  ],
  exports: [AuthService, TokenService],
})
export class AuthModule {}
