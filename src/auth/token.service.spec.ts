import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { ConfigService } from '@nestjs/config';
import { JwtService, JwtSecretRequestType } from '@nestjs/jwt';
import { Clock } from '../common/clock.js';
import type { Settings } from '../config/settings.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import type { SigningKeys } from './signing-keys.service.js';
import { ACCESS_TOKEN_TYP, TokenService } from './token.service.js';

class MovableClock extends Clock {
  offset = 0;
  override now(): Date {
    return new Date(Date.now() + this.offset * 1000);
  }
}

function keyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function setup() {
  const ours = keyPair();
  const keys = { current: { kid: 'k1', privateKey: ours.privateKey } } as unknown as SigningKeys;
  const jwt = new JwtService({
    secretOrKeyProvider: (type: JwtSecretRequestType, _token: unknown, options?: object) =>
      (options as { secret?: Buffer } | undefined)?.secret ??
      (type === JwtSecretRequestType.SIGN ? ours.privateKey : ours.publicKey),
  });
  const config = {
    get: (key: string) =>
      ({ http: { publicUrl: 'https://id.example.com' }, tokens: { accessTtl: 900 } })[key],
  } as unknown as ConfigService<Settings, true>;
  const clock = new MovableClock();
  const box = new SecretBox(Buffer.alloc(32, 1));
  return { tokens: new TokenService(jwt, keys, clock, box, config), clock, ours };
}

const subject = {
  userId: 'u1',
  sessionId: 's1',
  username: 'alice',
  roles: ['admin'],
  amr: ['pwd'],
};

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('TokenService', () => {
  it('verifies its own access token and returns the claims', () => {
    const { tokens } = setup();
    const claims = tokens.verifyAccessToken(tokens.signAccessToken(subject));
    expect(claims).toMatchObject({
      iss: 'https://id.example.com',
      aud: 'https://id.example.com',
      sub: 'u1',
      sid: 's1',
      username: 'alice',
      amr: ['pwd'],
    });
    expect(claims!.exp - claims!.iat).toBe(900);
  });

  it('rejects an access token once its lifetime has passed on the injected clock', () => {
    const { tokens, clock } = setup();
    const token = tokens.signAccessToken(subject);
    clock.offset = 901;
    expect(tokens.verifyAccessToken(token)).toBeNull();
  });

  it('rejects a challenge token presented as an access token, and the reverse', () => {
    const { tokens } = setup();
    const challenge = tokens.signChallenge('u1', new Date(0));
    expect(tokens.verifyAccessToken(challenge)).toBeNull();
    expect(tokens.verifyChallenge(tokens.signAccessToken(subject))).toBeNull();
    expect(tokens.verifyChallenge(challenge)).toMatchObject({ userId: 'u1', passwordChangedAt: 0 });
  });

  it("rejects alg none and HS256 keyed with the public key's bytes", () => {
    const { tokens, ours } = setup();
    const payload = {
      ...subject,
      sub: 'u1',
      sid: 's1',
      iss: 'https://id.example.com',
      iat: 0,
      exp: 4102444800,
    };
    const none = `${b64({ alg: 'none', typ: ACCESS_TOKEN_TYP })}.${b64(payload)}.`;
    expect(tokens.verifyAccessToken(none)).toBeNull();
    const pem = ours.publicKey.export({ format: 'pem', type: 'spki' });
    const input = `${b64({ alg: 'HS256', typ: ACCESS_TOKEN_TYP, kid: 'k1' })}.${b64(payload)}`;
    const hs256 = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    expect(tokens.verifyAccessToken(hs256)).toBeNull();
  });

  it('rejects a token signed by another key', () => {
    const { tokens } = setup();
    const other = setup();
    expect(tokens.verifyAccessToken(other.tokens.signAccessToken(subject))).toBeNull();
  });

  it('signs challenge tokens with a key that is not published: the JWKS key does not verify them', () => {
    const { tokens, ours } = setup();
    const challenge = tokens.signChallenge('u1', new Date(0));
    const [header, payload, signature] = challenge.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({
      alg: 'HS256',
      typ: 'challenge+jwt',
    });
    const verifier = new JwtService({ publicKey: ours.publicKey as unknown as string });
    expect(() => {
      verifier.verify(challenge, { algorithms: ['ES256'] });
    }).toThrow();
    // Neither is it an HMAC under the public key's bytes (the classic algorithm confusion).
    const pem = ours.publicKey.export({ format: 'pem', type: 'spki' });
    const forged = createHmac('sha256', pem).update(`${header}.${payload}`).digest('base64url');
    expect(forged).not.toBe(signature);
  });

  it('rejects an access token for another audience', () => {
    const { tokens, ours } = setup();
    const foreign = new JwtService({ privateKey: ours.privateKey as unknown as string }).sign(
      { sid: 's1', roles: [], amr: ['pwd'], username: 'alice' },
      {
        algorithm: 'ES256',
        issuer: 'https://id.example.com',
        audience: 'https://other.example.com',
        subject: 'u1',
        expiresIn: 900,
        header: { alg: 'ES256', typ: ACCESS_TOKEN_TYP },
      },
    );
    expect(tokens.verifyAccessToken(foreign)).toBeNull();
  });
});
