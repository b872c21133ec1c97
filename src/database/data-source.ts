import { DataSource, type DataSourceOptions } from 'typeorm';
import { AuditEventEntity } from '../audit/audit-event.entity.js';
import { SigningKeyEntity } from '../auth/signing-key.entity.js';
import { MailOutboxEntity } from '../mail/mail-outbox.entity.js';
import { RefreshTokenEntity } from '../sessions/refresh-token.entity.js';
import { SessionEntity } from '../sessions/session.entity.js';
import { PasswordHistoryEntity } from '../users/password-history.entity.js';
import { UserEntity } from '../users/user.entity.js';
import { ResetLinkEntity } from '../password-reset/reset-link.entity.js';
import { ResetSessionEntity } from '../password-reset/reset-session.entity.js';
import { RecoveryCodeEntity } from '../two-factor/recovery-code.entity.js';
import { TwoFactorCredentialEntity } from '../two-factor/two-factor-credential.entity.js';
import { InitialSchema1764190000000 } from './migrations/1764190000000-initial-schema.js';
import { TwoFactorAndReset1764200000000 } from './migrations/1764200000000-two-factor-and-reset.js';
import { DeviceTokens1764300000000 } from './migrations/1764300000000-device-tokens.js';
import { DeviceTokenEntity } from '../sessions/device-token.entity.js';
import { ResetRequestEntity } from '../password-reset/reset-request.entity.js';
import { ResetRequestQueue1764350000000 } from './migrations/1764350000000-reset-request-queue.js';
import { EmailVerification1764400000000 } from './migrations/1764400000000-email-verification.js';
import { EmailVerificationEntity } from '../users/email-verification.entity.js';
import { OidcClientEntity } from '../oidc/oidc-client.entity.js';
import { OidcPayloadEntity } from '../oidc/oidc-payload.entity.js';
import { OpenIdConnect1764500000000 } from './migrations/1764500000000-openid-connect.js';
import { Languages1764600000000 } from './migrations/1764600000000-languages.js';
import { AfterTransactionSubscriber } from './after-transaction.js';
import { POOL_SIZE } from './pool.js';

export const ENTITIES = [
  UserEntity,
  PasswordHistoryEntity,
  SessionEntity,
  RefreshTokenEntity,
  SigningKeyEntity,
  AuditEventEntity,
  MailOutboxEntity,
  TwoFactorCredentialEntity,
  RecoveryCodeEntity,
  ResetLinkEntity,
  ResetSessionEntity,
  DeviceTokenEntity,
  ResetRequestEntity,
  EmailVerificationEntity,
  OidcClientEntity,
  OidcPayloadEntity,
];

/** Every migration, in order. New ones are appended here. */
export const MIGRATIONS = [
  InitialSchema1764190000000,
  TwoFactorAndReset1764200000000,
  DeviceTokens1764300000000,
  ResetRequestQueue1764350000000,
  EmailVerification1764400000000,
  OpenIdConnect1764500000000,
  Languages1764600000000,
];

/** The one place the data source is described, for the app and the migration CLI alike. */
export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    // afterTransaction(): what a transaction's changes make this instance forget, once it ends.
    subscribers: [AfterTransactionSubscriber],
    poolSize: POOL_SIZE,
    extra: {
      application_name: 'portcullis',
      // While the database is unreachable, requests fail fast (503) instead of queueing:
      // a new connection gets 3 s, a statement 15 s (migrations lift that for their session).
      connectionTimeoutMillis: 3_000,
      statement_timeout: 15_000,
      keepAlive: true,
    },
    // Never let TypeORM log failed queries: their parameters hold password hashes.
    logging: false,
  };
}

export function createDataSource(url: string): DataSource {
  return new DataSource(dataSourceOptions(url));
}
