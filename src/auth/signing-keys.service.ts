import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { ClusterEvents } from '../cluster/cluster-events.service.js';
import { Clock } from '../common/clock.js';
import { AppError } from '../common/errors/app-error.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import type { Settings } from '../config/settings.js';
import { fromPem, type LoadedKey, newEs256Key, privateJwk, type PublicJwk } from './es256-key.js';
import type { SigningKeyEntity } from './signing-key.entity.js';
import { SigningKeysRepository } from './signing-keys.repository.js';

export type { PublicJwk } from './es256-key.js';

/** A signing key as admins see it. */
export interface SigningKeyView {
  kid: string;
  createdAt: Date;
  retiredAt: Date | null;
  /** Whether the JWKS still publishes it (the active key, or a retired one whose tokens may live). */
  published: boolean;
}

/** Clocks of verifiers differ: a retired key stays published this much longer. */
const CLOCK_SKEW_MS = 60_000;

/**
 * The ES256 keys that sign access tokens, as KeyObjects (parsed once, never per call).
 *
 * They come from JWT_PRIVATE_KEY(_FILE) (then never rotated here), or are generated and kept
 * encrypted in the database so that every instance signs with the same key. A stored key is
 * replaced every SIGNING_KEY_ROTATION (SigningKeyRotation; one instance, under an advisory lock)
 * or by an admin; every instance signs with the new key as soon as it hears of it
 * (ClusterEvents), and the JWKS keeps publishing a retired key until every access token it
 * signed has expired.
 */
@Injectable()
export class SigningKeys implements OnModuleInit {
  private readonly logger = new Logger('SigningKeys');
  private active!: LoadedKey;
  private activeCreatedAt = new Date(0);
  private byKid = new Map<string, LoadedKey>();
  /** Decrypted keys by kid, so that a reload does not decrypt again. */
  private readonly opened = new Map<string, LoadedKey>();
  private fromSettings = false;
  private readonly tokenLifetimeMs: number;
  private readonly changeListeners: (() => void)[] = [];

  constructor(
    private readonly keys: SigningKeysRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly cluster: ClusterEvents,
    private readonly auditTrail: AuditService,
    private readonly config: ConfigService<Settings, true>,
  ) {
    this.tokenLifetimeMs = config.get('tokens', { infer: true }).accessTtl * 1000;
    cluster.on('signing_keys_changed', () => void this.reloadLogged());
    cluster.onResync(() => void this.reloadLogged());
  }

  async onModuleInit(): Promise<void> {
    const { jwtPrivateKey, jwtPrivateKeyFile } = this.config.get('secrets', { infer: true });
    const pem =
      jwtPrivateKey ?? (jwtPrivateKeyFile ? readFileSync(jwtPrivateKeyFile, 'utf8') : undefined);
    if (pem) {
      this.fromSettings = true;
      const key = fromPem(pem);
      this.active = key;
      this.byKid = new Map([[key.kid, key]]);
      return;
    }
    await this.ensureStoredKey();
    await this.reload();
  }

  /** The key comes from JWT_PRIVATE_KEY(_FILE): used as it is, never stored or rotated here. */
  get external(): boolean {
    return this.fromSettings;
  }

  /** When the active key was made (SigningKeyRotation replaces it once it is due). */
  get activeSince(): Date {
    return this.activeCreatedAt;
  }

  get current(): LoadedKey {
    return this.active;
  }

  publicKey(kid: string): KeyObject | undefined {
    return this.byKid.get(kid)?.publicKey;
  }

  jwks(): { keys: PublicJwk[] } {
    return { keys: [...this.byKid.values()].map((k) => k.jwk) };
  }

  /**
   * The published keys with their private parts, the active key first, for a signer that takes
   * JWKs (the OpenID Provider signs ID tokens with the active key and publishes the same set).
   */
  privateJwks(): { keys: (PublicJwk & { d: string })[] } {
    const keys = [this.active, ...[...this.byKid.values()].filter((k) => k !== this.active)];
    return { keys: keys.map(privateJwk) };
  }

  /** `listener` runs whenever the active key or the published set changes (here or elsewhere). */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /** Every key, newest first, as admins see it. */
  async list(): Promise<SigningKeyView[]> {
    if (this.fromSettings) {
      return [{ kid: this.active.kid, createdAt: new Date(0), retiredAt: null, published: true }];
    }
    const rows = await this.keys.newest(100);
    return rows.map((r) => ({
      kid: r.kid,
      createdAt: r.createdAt,
      retiredAt: r.retiredAt,
      published: this.byKid.has(r.kid),
    }));
  }

  /**
   * Replaces the active key now: it is retired (still published while its tokens live) and a new
   * one signs from now on, here at once and on every other instance when it hears of it.
   * `onlyIfOlderThan`: rotate only when the active key is at least that old (automatic rotation;
   * another instance may just have done it). Returns the new kid, or null when nothing was due.
   */
  async rotate(
    actor: { id: string | null; ip: string | null },
    onlyIfOlderThan?: number,
  ): Promise<string | null> {
    if (this.fromSettings) {
      throw new AppError(
        'SIGNING_KEY_EXTERNAL',
        'The signing key comes from JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE: replace it there.',
      );
    }
    const kid = await this.dataSource.transaction(async (m) => {
      await this.keys.lockForRotation(m);
      const now = this.clock.now();
      const current = await this.keys.findActive(m);
      if (
        onlyIfOlderThan !== undefined &&
        current &&
        now.getTime() - current.createdAt.getTime() < onlyIfOlderThan
      ) {
        return null;
      }
      await this.keys.retireActive(now, m);
      const key = await this.insertNewKey(m, now);
      await this.auditTrail.record(
        {
          type: 'signing_key.rotated',
          actorId: actor.id,
          clientIp: actor.ip,
          details: { kid: key.kid, previousKid: current?.kid ?? null, automatic: !actor.id },
        },
        m,
      );
      await this.cluster.publish(m, { kind: 'signing_keys_changed' });
      return key.kid;
    });
    if (kid) {
      this.logger.log(`signing with the new key ${kid}`);
      await this.reload();
    }
    return kid;
  }

  private async reloadLogged(): Promise<void> {
    try {
      await this.reload();
    } catch (error) {
      this.logger.warn(
        `could not reload the signing keys: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Reads the active key and the retired keys still published from the database. */
  async reload(): Promise<void> {
    if (this.fromSettings) {
      return;
    }
    const publishedSince = new Date(
      this.clock.now().getTime() - this.tokenLifetimeMs - CLOCK_SKEW_MS,
    );
    const rows = await this.keys.activeAndRetiredAfter(publishedSince);
    const activeRow = rows.find((r) => r.retiredAt === null);
    if (!activeRow) {
      throw new Error('no active signing key in the database');
    }
    const byKid = new Map<string, LoadedKey>();
    for (const row of rows) {
      byKid.set(row.kid, this.open(row));
    }
    const changed =
      this.active?.kid !== activeRow.kid ||
      byKid.size !== this.byKid.size ||
      [...byKid.keys()].some((kid) => !this.byKid.has(kid));
    this.byKid = byKid;
    this.active = byKid.get(activeRow.kid)!;
    this.activeCreatedAt = activeRow.createdAt;
    if (changed) {
      for (const listener of this.changeListeners) {
        listener();
      }
    }
  }

  /** The first start on an empty database creates the first key (instances may race: one wins). */
  private async ensureStoredKey(): Promise<void> {
    if (await this.keys.hasActive()) {
      return;
    }
    await this.dataSource.transaction(async (m) => {
      await this.keys.lockForRotation(m);
      if (await this.keys.hasActive(m)) {
        return;
      }
      const key = await this.insertNewKey(m, this.clock.now());
      this.logger.log(`generated the ES256 signing key ${key.kid}`);
    });
  }

  private async insertNewKey(m: EntityManager, now: Date): Promise<LoadedKey> {
    const key = newEs256Key();
    const pkcs8 = key.privateKey.export({ format: 'pem', type: 'pkcs8' });
    await this.keys.insert(
      {
        kid: key.kid,
        algorithm: 'ES256',
        publicJwk: { ...key.jwk },
        privateKeyEncrypted: this.box.seal(pkcs8, `signing-key:${key.kid}`),
        createdAt: now,
        retiredAt: null,
      },
      m,
    );
    this.opened.set(key.kid, key);
    return key;
  }

  private open(row: SigningKeyEntity): LoadedKey {
    const known = this.opened.get(row.kid);
    if (known) {
      return known;
    }
    let pem: Buffer;
    try {
      pem = this.box.open(row.privateKeyEncrypted, `signing-key:${row.kid}`);
    } catch {
      throw new Error(
        'ENCRYPTION_KEY does not decrypt the signing key stored in the database: ' +
          'it is not the key this database was set up with',
      );
    }
    const key = fromPem(pem);
    this.opened.set(row.kid, key);
    return key;
  }
}
