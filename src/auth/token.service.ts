import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { Clock } from '../common/clock.js';
import type { Settings } from '../config/settings.js';
import { SigningKeys } from './signing-keys.service.js';

/** RFC 9068's media type for access tokens; other token kinds use other `typ`s, so they cannot be swapped. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

export interface AccessClaims {
  iss: string;
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

const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit'];

@Injectable()
export class TokenService {
  private readonly issuer: string;
  readonly accessTtl: number;

  constructor(
    private readonly jwt: JwtService,
    private readonly keys: SigningKeys,
    private readonly clock: Clock,
    config: ConfigService<Settings, true>,
  ) {
    this.issuer = config.get('http', { infer: true }).publicUrl;
    this.accessTtl = config.get('tokens', { infer: true }).accessTtl;
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
      jwtid: randomUUID(),
      keyid: this.keys.current.kid,
      expiresIn: this.accessTtl,
      header: { alg: 'ES256', typ: ACCESS_TOKEN_TYP },
    });
  }

  /** The claims of a genuine, unexpired access token of ours; null for anything else. */
  verifyAccessToken(token: string): AccessClaims | null {
    try {
      const { header, payload } = this.jwt.verify<{
        header: Record<string, unknown>;
        payload: AccessClaims;
      }>(token, {
        algorithms: ['ES256'],
        issuer: this.issuer,
        clockTimestamp: this.clock.nowSeconds(),
        complete: true,
      });
      if (header.typ !== ACCESS_TOKEN_TYP || FORBIDDEN_HEADERS.some((h) => h in header)) {
        return null;
      }
      if (
        typeof payload.sub !== 'string' ||
        typeof payload.sid !== 'string' ||
        !Array.isArray(payload.roles)
      ) {
        return null;
      }
      return payload;
    } catch {
      return null;
    }
  }
}
