import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule } from '@nestjs/config';
import { AdminConsoleModule } from './admin-console/admin-console.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ClusterModule } from './cluster/cluster.module.js';
import { Clock } from './common/clock.js';
import { CryptoModule } from './common/crypto/crypto.module.js';
import { ProblemDetailsFilter } from './common/errors/problem-details.filter.js';
import type { Settings } from './config/settings.js';
import { DatabaseModule } from './database/database.module.js';
import type { EmbeddedPostgres } from './database/embedded-postgres.js';
import { HealthModule } from './health/health.module.js';
import { I18nModule } from './i18n/i18n.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MemoryModule } from './memory/memory.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OidcModule } from './oidc/oidc.module.js';
import { PagesModule } from './pages/pages.module.js';
import { PasswordPolicyModule } from './password-policy/password-policy.module.js';
import { PasswordResetModule } from './password-reset/password-reset.module.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';
import { UsersModule } from './users/users.module.js';

@Global()
@Module({ providers: [Clock], exports: [Clock] })
class ClockModule {}

@Module({})
export class AppModule {
  /**
   * The whole service, built from settings that were validated once (see config/settings.ts).
   * `embeddedDatabase`: PGlite already starting (main.ts); otherwise it is started here when needed.
   */
  static forRoot(settings: Settings, embeddedDatabase?: Promise<EmbeddedPostgres>): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [() => ({ ...settings })],
        }),
        LoggingModule.forRoot(settings.log),
        ClockModule,
        CryptoModule,
        I18nModule,
        DatabaseModule.forRoot(embeddedDatabase),
        ClusterModule,
        RateLimitModule,
        AuditModule,
        PasswordPolicyModule,
        UsersModule,
        AuthModule,
        PasswordResetModule,
        HealthModule,
        MetricsModule,
        MemoryModule,
        PagesModule,
        OidcModule,
        AdminConsoleModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    };
  }
}
