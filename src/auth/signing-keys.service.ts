import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import { Clock } from '../common/clock.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import type { Settings } from '../config/settings.js';
import { SigningKeyEntity } from './signing-key.entity.js';

export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  use: 'sig';
  alg: 'ES256';
}

interface LoadedKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: PublicJwk;
}

/** RFC 7638 thumbprint: a kid that is the same wherever the key is loaded. */
function thumbprint(jwk: { crv: string; kty: string; x: string; y: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

function fromPrivateKey(privateKey: KeyObject): LoadedKey {
  if (
    privateKey.asymmetricKeyType !== 'ec' ||
    privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new Error('the JWT signing key must be an EC P-256 private key (ES256)');
  }
  const publicKey = createPublicKey(privateKey);
  const raw = publicKey.export({ format: 'jwk' }) as {
    crv: string;
    kty: string;
    x: string;
    y: string;
  };
  const kid = thumbprint(raw);
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { kty: 'EC', crv: 'P-256', x: raw.x, y: raw.y, kid, use: 'sig', alg: 'ES256' },
  };
}

/**
 * The ES256 key pair that signs access tokens, as KeyObjects (parsed once, never per call).
 * It comes from JWT_PRIVATE_KEY(_FILE), or is generated once and kept encrypted in the database
 * so that every replica signs with the same key.
 */
@Injectable()
export class SigningKeys implements OnModuleInit {
  private readonly logger = new Logger('SigningKeys');
  private active!: LoadedKey;
  private readonly byKid = new Map<string, LoadedKey>();

  constructor(
    @InjectRepository(SigningKeyEntity) private readonly keys: Repository<SigningKeyEntity>,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly config: ConfigService<Settings, true>,
  ) {}

  async onModuleInit(): Promise<void> {
    const { jwtPrivateKey, jwtPrivateKeyFile } = this.config.get('secrets', { infer: true });
    const pem =
      jwtPrivateKey ?? (jwtPrivateKeyFile ? readFileSync(jwtPrivateKeyFile, 'utf8') : undefined);
    this.use(pem ? fromPrivateKey(createPrivateKey(pem)) : await this.loadOrCreateStoredKey());
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

  private use(key: LoadedKey): void {
    this.active = key;
    this.byKid.set(key.kid, key);
  }

  private async loadOrCreateStoredKey(): Promise<LoadedKey> {
    const existing = await this.keys.findOneBy({ retiredAt: IsNull() });
    if (existing) {
      return this.open(existing);
    }
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const key = fromPrivateKey(privateKey);
    const pkcs8 = privateKey.export({ format: 'pem', type: 'pkcs8' });
    // Replicas may race here; the one-active-key index lets exactly one insert win.
    await this.keys
      .createQueryBuilder()
      .insert()
      .values({
        kid: key.kid,
        algorithm: 'ES256',
        publicJwk: { ...key.jwk },
        privateKeyEncrypted: this.box.seal(pkcs8, `signing-key:${key.kid}`),
        createdAt: this.clock.now(),
        retiredAt: null,
      })
      .orIgnore()
      .execute();
    const winner = await this.keys.findOneByOrFail({ retiredAt: IsNull() });
    if (winner.kid === key.kid) {
      this.logger.log(`generated the ES256 signing key ${key.kid}`);
    }
    return this.open(winner);
  }

  private open(row: SigningKeyEntity): LoadedKey {
    let pem: Buffer;
    try {
      pem = this.box.open(row.privateKeyEncrypted, `signing-key:${row.kid}`);
    } catch {
      throw new Error(
        'ENCRYPTION_KEY does not decrypt the signing key stored in the database: ' +
          'it is not the key this database was set up with',
      );
    }
    return fromPrivateKey(createPrivateKey(pem));
  }
}
