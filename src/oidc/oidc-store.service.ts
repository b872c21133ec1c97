import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { SessionsService } from '../sessions/sessions.service.js';
import { OidcClients } from './oidc-clients.service.js';
import { OidcPayloadsRepository, type PayloadRow } from './oidc-payloads.repository.js';

/** How often expired artifacts are deleted (by every instance; deleting twice is harmless). */
const CLEANUP_INTERVAL_MS = 10 * 60_000;
/** The rows of our own beside the provider's: what a user agreed to share with a client. */
const CONSENT_MODEL = 'Consent';

/**
 * oidc-provider's storage on our database: one table (oidc_payloads), a row per artifact, keyed
 * by model and id. Clients are read from the admin-managed oidc_clients table.
 *
 * A grant is tied to the Portcullis session it was given in: while that session is revoked or
 * expired (sign-out, password change, disable, delete), the grant is not found, and so every
 * code, access and refresh token issued under it is refused. Revocation anywhere in Portcullis
 * thus reaches OpenID Connect without a hook in each place that revokes.
 */
@Injectable()
export class OidcStore implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('OidcStore');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly payloads: OidcPayloadsRepository,
    private readonly sessions: SessionsService,
    private readonly clients: OidcClients,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.cleanUp(), CLEANUP_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The adapter class oidc-provider instantiates once per model. */
  adapterClass(): new (model: string) => Adapter {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const store = this;
    return class {
      constructor(private readonly model: string) {}
      upsert(id: string, payload: AdapterPayload, expiresIn: number) {
        return store.upsert(this.model, id, payload, expiresIn);
      }
      find(id: string) {
        return store.find(this.model, id);
      }
      findByUid(uid: string) {
        return store.findBy(this.model, 'uid', uid);
      }
      findByUserCode(userCode: string) {
        return store.findBy(this.model, 'user_code', userCode);
      }
      consume(id: string) {
        return store.consume(this.model, id);
      }
      destroy(id: string) {
        return store.destroy(this.model, id);
      }
      revokeByGrantId(grantId: string) {
        return store.revokeByGrantId(this.model, grantId);
      }
    };
  }

  async upsert(
    model: string,
    id: string,
    payload: AdapterPayload,
    expiresIn: number,
  ): Promise<void> {
    const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
    await this.payloads.upsert(model, id, payload, expiresAt);
  }

  async find(model: string, id: string): Promise<AdapterPayload | undefined> {
    if (!storable(id)) {
      return undefined;
    }
    if (model === 'Client') {
      return (await this.clients.metadata(id)) as AdapterPayload | undefined;
    }
    return this.live(model, await this.payloads.find(model, id));
  }

  async findBy(
    model: string,
    column: 'uid' | 'user_code',
    value: string,
  ): Promise<AdapterPayload | undefined> {
    if (!storable(value)) {
      return undefined;
    }
    return this.live(model, await this.payloads.findBy(model, column, value));
  }

  consume(model: string, id: string): Promise<void> {
    return this.payloads.consume(model, id);
  }

  destroy(model: string, id: string): Promise<void> {
    return this.payloads.destroy(model, id);
  }

  revokeByGrantId(model: string, grantId: string): Promise<void> {
    return this.payloads.revokeByGrantId(model, grantId);
  }

  /** Ties a grant (and so every token issued under it) to the Portcullis session it was given in. */
  linkGrant(grantId: string, sessionId: string): Promise<void> {
    return this.payloads.linkGrant(grantId, sessionId);
  }

  /** The Portcullis session a grant was given in, if the grant exists. */
  grantSession(grantId: string): Promise<string | null> {
    return this.payloads.grantSession(grantId);
  }

  /** Deletes the grants given in these Portcullis sessions, and everything issued under them. */
  async endSessions(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) {
      return;
    }
    await this.payloads.deleteGrantsOfSessions(sessionIds);
  }

  /** The Portcullis sessions behind the grants of these grant ids. */
  async sessionsOfGrants(grantIds: string[]): Promise<string[]> {
    if (grantIds.length === 0) {
      return [];
    }
    return this.payloads.sessionsOfGrants(grantIds);
  }

  /** The scopes a user has agreed to share with a client (empty when never asked). */
  async consentedScopes(clientId: string, userId: string): Promise<Set<string>> {
    const consent = await this.payloads.findOwn<{ scopes?: string[] }>(
      CONSENT_MODEL,
      consentId(clientId, userId),
    );
    return new Set(consent?.scopes ?? []);
  }

  /** Remembers that a user agreed to share these scopes with a client (added to earlier ones). */
  async rememberConsent(clientId: string, userId: string, scopes: string[]): Promise<void> {
    const all = new Set([...(await this.consentedScopes(clientId, userId)), ...scopes]);
    await this.payloads.saveOwn(CONSENT_MODEL, consentId(clientId, userId), {
      clientId,
      accountId: userId,
      scopes: [...all].sort(),
    });
  }

  /** Deletes what has expired. */
  async cleanUp(): Promise<void> {
    try {
      await this.payloads.deleteExpired();
    } catch (error) {
      this.logger.warn(
        `could not delete expired OpenID Connect artifacts: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private async live(
    model: string,
    row: PayloadRow | undefined,
  ): Promise<AdapterPayload | undefined> {
    if (!row || (row.expires_at && row.expires_at.getTime() <= Date.now())) {
      return undefined;
    }
    if (model === 'Grant') {
      const accountId = row.payload.accountId;
      if (
        !row.session_id ||
        typeof accountId !== 'string' ||
        !(await this.sessions.isActive(row.session_id, accountId))
      ) {
        return undefined;
      }
    }
    return row.consumed_at
      ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) }
      : row.payload;
  }
}

/** A value PostgreSQL can hold in a varchar(255) column: ids a caller made up may be anything. */
function storable(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 255 && !value.includes('\u0000');
}

function consentId(clientId: string, userId: string): string {
  return `${clientId}:${userId}`;
}
