import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuditDetails } from '../audit/audit-event.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { constantTimeEqual, randomToken, sha256 } from '../common/crypto/tokens.js';
import { AppError } from '../common/errors/app-error.js';
import type { Actor } from '../users/users.service.js';
import type { OidcClientEntity } from './oidc-client.entity.js';
import { OidcClientsRepository } from './oidc-clients.repository.js';

export interface ClientView {
  clientId: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  isPublic: boolean;
  firstParty: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewClient {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  public?: boolean;
  firstParty?: boolean;
}

export interface ClientChanges {
  name?: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  firstParty?: boolean;
}

/** What the OpenID Provider reads of a client (OpenID Connect Dynamic Registration names). */
export interface ClientMetadata {
  client_id: string;
  client_name: string;
  client_secret?: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: 'none' | 'client_secret_basic';
  application_type: 'web';
  id_token_signed_response_alg: 'ES256';
  require_auth_time: boolean;
}

/** The secret is 256 random bits, so one SHA-256 is a safe way to keep it (no dictionary to try). */
function hashSecret(secret: string): string {
  return sha256(secret).toString('base64url');
}

/** Whether `actual` is the secret whose hash is `storedHash`, in constant time. */
export function secretMatches(storedHash: string | undefined | null, actual: string): boolean {
  if (!storedHash || typeof actual !== 'string' || actual.length > 512) {
    return false;
  }
  return constantTimeEqual(Buffer.from(storedHash), Buffer.from(hashSecret(actual)));
}

function view(c: OidcClientEntity): ClientView {
  return {
    clientId: c.id,
    name: c.name,
    redirectUris: c.redirectUris,
    postLogoutRedirectUris: c.postLogoutRedirectUris,
    isPublic: c.isPublic,
    firstParty: c.firstParty,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

/** Applications registered by admins. Secrets are shown once and kept only as a hash. */
@Injectable()
export class OidcClients {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clients: OidcClientsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async create(input: NewClient, actor: Actor): Promise<ClientView & { clientSecret?: string }> {
    const now = this.clock.now();
    const isPublic = input.public ?? false;
    const clientSecret = isPublic ? undefined : randomToken();
    const entity: OidcClientEntity = {
      id: randomBytes(16).toString('base64url'),
      name: input.name,
      redirectUris: input.redirectUris,
      postLogoutRedirectUris: input.postLogoutRedirectUris ?? [],
      isPublic,
      firstParty: input.firstParty ?? false,
      secretHash: clientSecret ? hashSecret(clientSecret) : null,
      createdAt: now,
      updatedAt: now,
    };
    await this.dataSource.transaction(async (m) => {
      await this.clients.insert(entity, m);
      await this.audit.record(
        {
          type: 'oidc_client.created',
          actorId: actor.id,
          clientIp: actor.ip,
          details: {
            clientId: entity.id,
            name: entity.name,
            public: entity.isPublic,
            firstParty: entity.firstParty,
          },
        },
        m,
      );
    });
    return { ...view(entity), ...(clientSecret ? { clientSecret } : {}) };
  }

  async list(): Promise<ClientView[]> {
    const rows = await this.clients.list(1000);
    return rows.map(view);
  }

  async get(clientId: string): Promise<ClientView> {
    return view(await this.getEntity(clientId));
  }

  /** The client, or null (unknown, or not a plausible id). */
  async find(clientId: string): Promise<ClientView | null> {
    const row = await this.findEntity(clientId);
    return row ? view(row) : null;
  }

  async update(clientId: string, changes: ClientChanges, actor: Actor): Promise<ClientView> {
    return this.dataSource.transaction(async (m) => {
      const current = await this.clients.lockById(clientId, m);
      if (!current) {
        throw notFound();
      }
      const patch: Partial<OidcClientEntity> = {};
      const changed: AuditDetails = {};
      const same = (a: string[], b: string[]) => JSON.stringify(a) === JSON.stringify(b);
      if (changes.name !== undefined && changes.name !== current.name) {
        patch.name = changes.name;
        changed.name = { from: current.name, to: changes.name };
      }
      if (changes.redirectUris !== undefined && !same(changes.redirectUris, current.redirectUris)) {
        patch.redirectUris = changes.redirectUris;
        changed.redirectUris = { from: current.redirectUris, to: changes.redirectUris };
      }
      if (
        changes.postLogoutRedirectUris !== undefined &&
        !same(changes.postLogoutRedirectUris, current.postLogoutRedirectUris)
      ) {
        patch.postLogoutRedirectUris = changes.postLogoutRedirectUris;
        changed.postLogoutRedirectUris = {
          from: current.postLogoutRedirectUris,
          to: changes.postLogoutRedirectUris,
        };
      }
      if (changes.firstParty !== undefined && changes.firstParty !== current.firstParty) {
        patch.firstParty = changes.firstParty;
        changed.firstParty = { from: current.firstParty, to: changes.firstParty };
      }
      if (Object.keys(patch).length === 0) {
        return view(current);
      }
      patch.updatedAt = this.clock.now();
      await this.clients.update(clientId, patch, m);
      await this.audit.record(
        {
          type: 'oidc_client.updated',
          actorId: actor.id,
          clientIp: actor.ip,
          details: { clientId, changes: changed },
        },
        m,
      );
      return view({ ...current, ...patch });
    });
  }

  /** Deletes the client with everything issued to it: its tokens stop working at once. */
  async delete(clientId: string, actor: Actor): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const current = await this.clients.findById(clientId, m);
      if (!current) {
        throw notFound();
      }
      await this.clients.deleteWithArtifacts(clientId, m);
      await this.audit.record(
        {
          type: 'oidc_client.deleted',
          actorId: actor.id,
          clientIp: actor.ip,
          details: { clientId, name: current.name },
        },
        m,
      );
    });
  }

  /** A new secret for a confidential client; the previous one stops working at once. */
  async rotateSecret(clientId: string, actor: Actor): Promise<string> {
    const clientSecret = randomToken();
    await this.dataSource.transaction(async (m) => {
      const current = await this.clients.findById(clientId, m);
      if (!current) {
        throw notFound();
      }
      if (current.isPublic) {
        throw new AppError('CLIENT_IS_PUBLIC', 'A public client has no secret.');
      }
      await this.clients.update(
        clientId,
        { secretHash: hashSecret(clientSecret), updatedAt: this.clock.now() },
        m,
      );
      await this.audit.record(
        {
          type: 'oidc_client.secret_rotated',
          actorId: actor.id,
          clientIp: actor.ip,
          details: { clientId },
        },
        m,
      );
    });
    return clientSecret;
  }

  /** The confidential client these credentials belong to, or null. */
  async authenticate(clientId: string, secret: string): Promise<ClientView | null> {
    const row = await this.findEntity(clientId);
    // Unknown clients cost the same comparison as a wrong secret.
    const matches = secretMatches(row?.secretHash ?? hashSecret(''), secret);
    return row && !row.isPublic && matches ? view(row) : null;
  }

  /** The client as the OpenID Provider reads it; the "secret" it holds is the hash. */
  async metadata(clientId: string): Promise<ClientMetadata | undefined> {
    const row = await this.findEntity(clientId);
    if (!row) {
      return undefined;
    }
    return {
      client_id: row.id,
      client_name: row.name,
      ...(row.secretHash ? { client_secret: row.secretHash } : {}),
      redirect_uris: row.redirectUris,
      post_logout_redirect_uris: row.postLogoutRedirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: row.isPublic ? 'none' : 'client_secret_basic',
      application_type: 'web',
      id_token_signed_response_alg: 'ES256',
      // Every ID token says when the user signed in (auth_time), not only when asked.
      require_auth_time: true,
    };
  }

  private async getEntity(clientId: string): Promise<OidcClientEntity> {
    const row = await this.findEntity(clientId);
    if (!row) {
      throw notFound();
    }
    return row;
  }

  private findEntity(clientId: string): Promise<OidcClientEntity | null> {
    if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 64) {
      return Promise.resolve(null);
    }
    return this.clients.findById(clientId);
  }
}

function notFound(): AppError {
  return new AppError('CLIENT_NOT_FOUND', 'There is no client with this id.');
}
