import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { Clock } from '../common/clock.js';
import { TtlCache } from '../common/ttl-cache.js';
import type { Settings } from '../config/settings.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import { SigningKeys } from './signing-keys.service.js';

/** RFC 9068's media type for access tokens; other token kinds use other `typ`s, so they cannot be swapped. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** The second sign-in step's token: proves the password, nothing more. */
export const CHALLENGE_TOKEN_TYP = 'challenge+jwt';
/** How long a user has to type the authenticator code after the password. */
export const CHALLENGE_TTL_SECONDS = 300;

export interface AccessClaims {
  iss: string;
  aud: string;
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  username: string;
  roles: string[];
  amr: string[];
}

export interface TokenSubject {
  userId: string;
  sessionId: string;
  username: string;
  roles: string[];
  amr: string[];
}

/** How long a checked access token's signature is trusted without checking it again. */
const VERIFIED_TOKEN_TTL_MS = 60_000;

const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit'];

/**
 * Signs and checks our JWTs. Access tokens (and, later, ID tokens) are ES256 with the published
 * key, for applications to verify with the JWKS. Challenge tokens prove a password to our own
 * second sign-in step only: they are HS256 with a key derived from ENCRYPTION_KEY, which is never
 * published, so no application that verifies with the JWKS (and forgets to check `typ`) can be
 * fooled into taking one for a sign-in.
 */
@Injectable()
export class TokenService {
  private readonly issuer: string;
  readonly accessTtl: number;
  private readonly challengeKey: Buffer;
  /**
   * Access tokens whose signature and claims were checked, for a short while: an ES256 verify is
   * most of what an authenticated request costs us. Only the token's own validity is cached;
   * whether its session is still live is asked on every request (SessionsService), so a
   * revocation still takes effect at once.
   */
  private readonly verified = new TtlCache<string, AccessClaims>(VERIFIED_TOKEN_TTL_MS, 10_000);

  constructor(
    private readonly jwt: JwtService,
    private readonly keys: SigningKeys,
    private readonly clock: Clock,
    box: SecretBox,
    config: ConfigService<Settings, true>,
  ) {
    this.issuer = config.get('http', { infer: true }).publicUrl;
    this.accessTtl = config.get('tokens', { infer: true }).accessTtl;
    this.challengeKey = box.deriveKey('portcullis challenge tokens v1');
  }

  signAccessToken(subject: TokenSubject): string {
    const claims = {
      sid: subject.sessionId,
      username: subject.username,
      roles: subject.roles,
      amr: subject.amr,
      iat: this.clock.nowSeconds(),
    };
    return this.jwt.sign(claims, {
      algorithm: 'ES256',
      issuer: this.issuer,
      subject: subject.userId,
      audience: this.issuer,
      jwtid: randomUUID(),
      keyid: this.keys.current.kid,
      expiresIn: this.accessTtl,
      header: { alg: 'ES256', typ: ACCESS_TOKEN_TYP },
    });
  }

  /**
   * A token for the 2FA step of a sign-in. It carries when the password was last changed, so a
   * password change in between kills it.
   */
  signChallenge(userId: string, passwordChangedAt: Date): string {
    return this.jwt.sign(
      { pwc: passwordChangedAt.getTime(), iat: this.clock.nowSeconds() },
      {
        algorithm: 'HS256',
        secret: this.challengeKey,
        issuer: this.issuer,
        subject: userId,
        jwtid: randomUUID(),
        expiresIn: CHALLENGE_TTL_SECONDS,
        header: { alg: 'HS256', typ: CHALLENGE_TOKEN_TYP },
      },
    );
  }

  verifyChallenge(token: string): { userId: string; passwordChangedAt: number; id: string } | null {
    const verified = this.verify<{ sub: string; pwc: number; jti: string }>(
      token,
      CHALLENGE_TOKEN_TYP,
      { algorithms: ['HS256'], secret: this.challengeKey },
    );
    return verified && typeof verified.pwc === 'number' && typeof verified.jti === 'string'
      ? { userId: verified.sub, passwordChangedAt: verified.pwc, id: verified.jti }
      : null;
  }

  /** The claims of a genuine, unexpired access token of ours; null for anything else. */
  verifyAccessToken(token: string): AccessClaims | null {
    const nowMs = this.clock.now().getTime();
    const known = this.verified.get(token, nowMs);
    if (known) {
      // The signature was checked already; time moves on, so expiry is checked again.
      return known.exp * 1000 > nowMs ? known : null;
    }
    const claims = this.verify<AccessClaims>(token, ACCESS_TOKEN_TYP, {
      algorithms: ['ES256'],
      audience: this.issuer,
    });
    if (!claims || typeof claims.sid !== 'string' || !Array.isArray(claims.roles)) {
      return null;
    }
    this.verified.set(token, claims, nowMs);
    return claims;
  }

  /**
   * Signature (one algorithm per token kind: ES256 with our published keys, or HS256 with the
   * unpublished challenge key), issuer, audience where given, expiry on our clock, the token kind.
   */
  private verify<T extends { sub: string }>(
    token: string,
    typ: string,
    options: { algorithms: ['ES256'] | ['HS256']; secret?: Buffer; audience?: string },
  ): T | null {
    try {
      const { header, payload } = this.jwt.verify<{ header: Record<string, unknown>; payload: T }>(
        token,
        {
          ...options,
          issuer: this.issuer,
          clockTimestamp: this.clock.nowSeconds(),
          complete: true,
        },
      );
      if (
        header.typ !== typ ||
        FORBIDDEN_HEADERS.some((h) => h in header) ||
        typeof payload.sub !== 'string'
      ) {
        return null;
      }
      return payload;
    } catch {
      return null;
    }
  }
}
