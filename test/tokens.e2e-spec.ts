import {
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  bearer,
  createAdmin,
  createUser,
  getMe,
  type Json,
  login,
  type TestUser,
  type TokenPair,
} from './helpers/factories.js';
import { decodeJwt, decodePart, type PublishedJwk, verifiesWithKeys } from './helpers/jwt.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { expectProblem } from './helpers/problem.js';

function encodePart(value: Json): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Signs header.payload with an ES256 private key, as any JOSE library would. */
function signEs256(header: Json, payload: Json, privateKey: KeyObject): string {
  const input = `${encodePart(header)}.${encodePart(payload)}`;
  const signature = sign('sha256', Buffer.from(input), {
    key: privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${signature.toString('base64url')}`;
}

function signHs256(header: Json, payload: Json, secret: string | Buffer): string {
  const input = `${encodePart(header)}.${encodePart(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

describe('tokens', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const refresh = (refreshToken: string) =>
    t.http().post('/api/v1/auth/refresh').send({ refreshToken });
  /** Introspection as RFC 7662 asks: by an authenticated caller (an admin signed in just now). */
  const introspect = async (token: string) => {
    const admin = await createAdmin(t);
    return t
      .http()
      .post('/api/v1/auth/introspect')
      .set(...bearer(admin.tokens.accessToken))
      .send({ token });
  };

  async function jwks(): Promise<PublishedJwk[]> {
    const res = await t.http().get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    return (res.body as { keys: PublishedJwk[] }).keys;
  }

  async function signedInUser(
    options: Parameters<typeof createUser>[1] = {},
  ): Promise<TestUser & { tokens: TokenPair }> {
    const user = await createUser(t, options);
    return { ...user, tokens: await login(t, user.username, user.password) };
  }

  describe('access tokens', () => {
    it('answers a login with a Bearer pair whose access token lives ACCESS_TOKEN_TTL seconds', async () => {
      const user = await createUser(t);
      const res = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ username: user.username, password: user.password });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        deviceToken: expect.any(String),
      });
      const { payload } = decodeJwt(res.body.accessToken as string);
      expect((payload.exp as number) - (payload.iat as number)).toBe(900);
    });

    it('carries issuer, subject, session, times, id, username, roles and amr', async () => {
      const user = await signedInUser({ roles: ['editor'] });
      const { payload } = decodeJwt(user.tokens.accessToken);
      const nowSeconds = Math.floor(t.clock.now().getTime() / 1000);
      expect(payload).toMatchObject({
        iss: t.settings.http.publicUrl,
        sub: user.id,
        sid: expect.any(String),
        jti: expect.any(String),
        username: user.username,
        roles: ['editor'],
        amr: ['pwd'],
      });
      expect(payload.iss).toBe('http://portcullis.test');
      expect(Math.abs((payload.iat as number) - nowSeconds)).toBeLessThanOrEqual(5);
      expect(payload.exp).toBe((payload.iat as number) + 900);

      const second = decodeJwt((await login(t, user.username, user.password)).accessToken).payload;
      expect(second.sub).toBe(user.id);
      expect(second.sid).not.toBe(payload.sid);
      expect(second.jti).not.toBe(payload.jti);
    });

    it('signs with ES256 under a kid that the JWKS publishes', async () => {
      const user = await signedInUser();
      const { header } = decodeJwt(user.tokens.accessToken);
      expect(header.alg).toBe('ES256');
      expect(header.kid).toEqual(expect.any(String));
      const keys = await jwks();
      expect(keys.length).toBeGreaterThan(0);
      const published = keys.find((k) => k.kid === header.kid);
      expect(published).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
      for (const key of keys) {
        expect(key).not.toHaveProperty('d');
      }
    });

    it('lets another application verify an access token with the JWKS alone', async () => {
      const user = await signedInUser();
      const keys = await jwks();
      expect(verifiesWithKeys(user.tokens.accessToken, keys)).toBe(true);

      // The same check fails once a single byte of the payload changes.
      const [header, payload, signature] = user.tokens.accessToken.split('.');
      const claims = decodePart(payload);
      const altered = `${header}.${encodePart({ ...claims, username: 'someone-else' })}.${signature}`;
      expect(verifiesWithKeys(altered, keys)).toBe(false);
    });
  });

  describe('refresh', () => {
    it('exchanges a refresh token for a new pair in the same session', async () => {
      const user = await signedInUser();
      const res = await refresh(user.tokens.refreshToken);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
      });
      const next = res.body as TokenPair;
      expect(next.refreshToken).not.toBe(user.tokens.refreshToken);
      const before = decodeJwt(user.tokens.accessToken).payload;
      const after = decodeJwt(next.accessToken).payload;
      expect(after).toMatchObject({ sub: user.id, sid: before.sid, amr: ['pwd'] });
      expect(after.jti).not.toBe(before.jti);
      expect((await getMe(t, next.accessToken)).status).toBe(200);
    });

    it('rejects a refresh token that was already exchanged with 401 INVALID_REFRESH_TOKEN', async () => {
      const user = await signedInUser();
      expect((await refresh(user.tokens.refreshToken)).status).toBe(200);
      expectProblem(await refresh(user.tokens.refreshToken), 401, 'INVALID_REFRESH_TOKEN');
    });

    it('revokes the whole session when a rotated refresh token is presented again', async () => {
      const user = await signedInUser();
      const otherSession = await login(t, user.username, user.password);
      const rotated = await refresh(user.tokens.refreshToken);
      expect(rotated.status).toBe(200);
      const newest = rotated.body as TokenPair;

      // Someone replays the old token (it leaked): the whole session ends.
      expectProblem(await refresh(user.tokens.refreshToken), 401, 'INVALID_REFRESH_TOKEN');

      expectProblem(await getMe(t, newest.accessToken), 401, 'UNAUTHORIZED');
      expectProblem(await getMe(t, user.tokens.accessToken), 401, 'UNAUTHORIZED');
      expectProblem(await refresh(newest.refreshToken), 401, 'INVALID_REFRESH_TOKEN');
      // Another sign-in of the same user is a different session and lives on.
      expect((await getMe(t, otherSession.accessToken)).status).toBe(200);
      expect((await refresh(otherSession.refreshToken)).status).toBe(200);
    });

    it('exchanges a refresh token sent twice at once only once, and ends its session', async () => {
      const user = await signedInUser();
      const answers = await Promise.all([
        refresh(user.tokens.refreshToken),
        refresh(user.tokens.refreshToken),
      ]);
      const won = answers.filter((res) => res.status === 200);
      const lost = answers.filter((res) => res.status !== 200);
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expectProblem(lost[0], 401, 'INVALID_REFRESH_TOKEN');
      // The second use of one token is a replay: the pair the first one got dies with its session.
      const winner = won[0].body as TokenPair;
      expectProblem(await refresh(winner.refreshToken), 401, 'INVALID_REFRESH_TOKEN');
      expectProblem(await getMe(t, winner.accessToken), 401, 'UNAUTHORIZED');
    });

    it('rejects a refresh token once REFRESH_TOKEN_TTL has passed', async () => {
      const user = await signedInUser();
      t.clock.advance(t.settings.tokens.refreshTtl - 60);
      const stillGood = await refresh(user.tokens.refreshToken);
      expect(stillGood.status).toBe(200);
      const { refreshToken } = stillGood.body as TokenPair;

      t.clock.advance(t.settings.tokens.refreshTtl + 1);
      expectProblem(await refresh(refreshToken), 401, 'INVALID_REFRESH_TOKEN');
    });

    it('rejects an access token or a made-up string presented as a refresh token', async () => {
      const user = await signedInUser();
      // An access token is longer than any refresh token, so the body check may turn it away first.
      const swapped = await refresh(user.tokens.accessToken);
      expect([400, 401]).toContain(swapped.status);
      expect(['VALIDATION_FAILED', 'INVALID_REFRESH_TOKEN']).toContain(swapped.body.code);
      expectProblem(await refresh('not-a-refresh-token'), 401, 'INVALID_REFRESH_TOKEN');
      // The genuine one still works: nothing above touched the session.
      expect((await refresh(user.tokens.refreshToken)).status).toBe(200);
    });
  });

  describe('logout', () => {
    it('ends the session at once: its access token gets 401 and its refresh token is dead', async () => {
      const user = await signedInUser();
      const otherSession = await login(t, user.username, user.password);
      expect((await getMe(t, user.tokens.accessToken)).status).toBe(200);

      const res = await t
        .http()
        .post('/api/v1/auth/logout')
        .send({ refreshToken: user.tokens.refreshToken });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');

      expectProblem(await getMe(t, user.tokens.accessToken), 401, 'UNAUTHORIZED');
      expectProblem(await refresh(user.tokens.refreshToken), 401, 'INVALID_REFRESH_TOKEN');
      expect((await getMe(t, otherSession.accessToken)).status).toBe(200);
    });

    it('answers 204 to a refresh token it does not know', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/logout')
        .send({ refreshToken: 'no-such-refresh-token' });
      expect(res.status).toBe(204);
    });
  });

  describe('introspection', () => {
    it('refuses an anonymous caller and a caller who is not an admin', async () => {
      const user = await signedInUser();
      const anonymous = await t
        .http()
        .post('/api/v1/auth/introspect')
        .send({ token: user.tokens.accessToken });
      expectProblem(anonymous, 401, 'UNAUTHORIZED');
      const self = await t
        .http()
        .post('/api/v1/auth/introspect')
        .set(...bearer(user.tokens.accessToken))
        .send({ token: user.tokens.accessToken });
      expectProblem(self, 403, 'FORBIDDEN');
    });

    it('describes a live access token as active with its subject, session and expiry', async () => {
      const user = await signedInUser({ roles: ['editor'] });
      const claims = decodeJwt(user.tokens.accessToken).payload;
      const res = await introspect(user.tokens.accessToken);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        active: true,
        sub: user.id,
        sid: claims.sid,
        exp: claims.exp,
        iat: claims.iat,
        jti: claims.jti,
        iss: t.settings.http.publicUrl,
        aud: t.settings.http.publicUrl,
        username: user.username,
        roles: ['editor'],
        amr: ['pwd'],
      });
    });

    it('answers active:false for a garbage string', async () => {
      const res = await introspect('garbage.not-a.token');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    });

    it('answers active:false for a refresh token', async () => {
      const user = await signedInUser();
      const res = await introspect(user.tokens.refreshToken);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    });

    it('answers active:false for the access token of a session that logged out', async () => {
      const user = await signedInUser();
      expect((await introspect(user.tokens.accessToken)).body).toMatchObject({ active: true });
      await t.http().post('/api/v1/auth/logout').send({ refreshToken: user.tokens.refreshToken });
      const res = await introspect(user.tokens.accessToken);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    });

    it('answers active:false for the access token of a user who was disabled', async () => {
      const admin = await createAdmin(t);
      const user = await signedInUser();
      expect((await introspect(user.tokens.accessToken)).body).toMatchObject({ active: true });
      const patch = await t
        .http()
        .patch(`/api/v1/admin/users/${user.id}`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ disabled: true });
      expect(patch.status).toBe(200);
      const res = await introspect(user.tokens.accessToken);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    });

    it('answers active:false for an expired access token', async () => {
      const user = await signedInUser();
      t.clock.advance(t.settings.tokens.accessTtl + 1);
      const res = await introspect(user.tokens.accessToken);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    });
  });

  describe('forged and foreign bearer tokens', () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const attackerJwk = attacker.publicKey.export({ format: 'jwk' });

    /** A genuine token of a fresh user, taken apart so that the forgeries can copy it. */
    async function genuine(): Promise<{ token: string; header: Json; payload: Json }> {
      const user = await signedInUser();
      const { header, payload } = decodeJwt(user.tokens.accessToken);
      return { token: user.tokens.accessToken, header, payload };
    }

    it('accepts the genuine token that the forgeries below copy', async () => {
      const { token } = await genuine();
      expect((await getMe(t, token)).status).toBe(200);
    });

    it("rejects an unsigned alg 'none' token carrying real claims", async () => {
      const { header, payload } = await genuine();
      const unsigned = `${encodePart({ ...header, alg: 'none' })}.${encodePart(payload)}.`;
      expectProblem(await getMe(t, unsigned), 401, 'UNAUTHORIZED');
      const noSignaturePart = `${encodePart({ ...header, alg: 'none' })}.${encodePart(payload)}`;
      expectProblem(await getMe(t, noSignaturePart), 401, 'UNAUTHORIZED');
    });

    it('rejects an HS256 token keyed with the bytes of the published public key', async () => {
      const { header, payload } = await genuine();
      const jwk = (await jwks()).find((k) => k.kid === header.kid);
      expect(jwk).toBeDefined();
      const publicKey = createPublicKey({ key: jwk as PublishedJwk, format: 'jwk' });
      const secrets = [
        publicKey.export({ type: 'spki', format: 'pem' }),
        publicKey.export({ type: 'spki', format: 'der' }),
        JSON.stringify(jwk),
      ];
      for (const secret of secrets) {
        const forged = signHs256({ ...header, alg: 'HS256' }, payload, secret);
        expectProblem(await getMe(t, forged), 401, 'UNAUTHORIZED');
      }
    });

    it('rejects a token signed by another ES256 key under our kid', async () => {
      const { header, payload } = await genuine();
      const forged = signEs256(header, payload, attacker.privateKey);
      // Well-formed: it verifies with the attacker's own key.
      expect(verifiesWithKeys(forged, [{ ...attackerJwk, kid: header.kid as string }])).toBe(true);
      expectProblem(await getMe(t, forged), 401, 'UNAUTHORIZED');
    });

    it('rejects a token signed by another ES256 key under a kid of its own', async () => {
      const { header, payload } = await genuine();
      const forged = signEs256({ ...header, kid: 'attacker-key' }, payload, attacker.privateKey);
      expect(verifiesWithKeys(forged, [{ ...attackerJwk, kid: 'attacker-key' }])).toBe(true);
      expectProblem(await getMe(t, forged), 401, 'UNAUTHORIZED');
    });

    it('rejects a token that carries its own key in a jwk header', async () => {
      const { header, payload } = await genuine();
      const embedded = { ...attackerJwk, kid: 'attacker-key', alg: 'ES256', use: 'sig' };
      const withoutKid = signEs256(
        { alg: 'ES256', typ: header.typ, jwk: embedded },
        payload,
        attacker.privateKey,
      );
      expectProblem(await getMe(t, withoutKid), 401, 'UNAUTHORIZED');
      const withOurKid = signEs256(
        { ...header, jwk: { ...embedded, kid: header.kid } },
        payload,
        attacker.privateKey,
      );
      expectProblem(await getMe(t, withOurKid), 401, 'UNAUTHORIZED');
    });

    it('rejects a token that points to a key set of its own with jku', async () => {
      const { header, payload } = await genuine();
      const forged = signEs256(
        { ...header, kid: 'attacker-key', jku: 'https://attacker.example/jwks.json' },
        payload,
        attacker.privateKey,
      );
      expectProblem(await getMe(t, forged), 401, 'UNAUTHORIZED');
    });

    it('rejects a token whose payload was altered after signing', async () => {
      const { token, payload } = await genuine();
      const [encodedHeader, , signature] = token.split('.');
      const promoted = encodePart({ ...payload, roles: ['admin'], username: 'admin' });
      expectProblem(
        await getMe(t, `${encodedHeader}.${promoted}.${signature}`),
        401,
        'UNAUTHORIZED',
      );
      const prolonged = encodePart({ ...payload, exp: (payload.exp as number) + 86_400 });
      expectProblem(
        await getMe(t, `${encodedHeader}.${prolonged}.${signature}`),
        401,
        'UNAUTHORIZED',
      );
    });

    it('rejects a refresh token presented as a bearer token', async () => {
      const user = await signedInUser();
      expectProblem(await getMe(t, user.tokens.refreshToken), 401, 'UNAUTHORIZED');
    });

    it('rejects an access token once ACCESS_TOKEN_TTL has passed', async () => {
      const { token } = await genuine();
      t.clock.advance(t.settings.tokens.accessTtl - 30);
      expect((await getMe(t, token)).status).toBe(200);
      t.clock.advance(31);
      expectProblem(await getMe(t, token), 401, 'UNAUTHORIZED');
    });
  });

  describe('revoked sessions', () => {
    it('ends the other sessions at once when the user changes their password, and keeps the current one', async () => {
      const user = await signedInUser();
      const other = await login(t, user.username, user.password);
      const res = await t
        .http()
        .put('/api/v1/me/password')
        .set(...bearer(user.tokens.accessToken))
        .send({ currentPassword: user.password, newPassword: `${user.password} renewed` });
      expect(res.status).toBe(204);

      expectProblem(await getMe(t, other.accessToken), 401, 'UNAUTHORIZED');
      expectProblem(await refresh(other.refreshToken), 401, 'INVALID_REFRESH_TOKEN');
      expect((await getMe(t, user.tokens.accessToken)).status).toBe(200);
      expect((await refresh(user.tokens.refreshToken)).status).toBe(200);
    });

    it('ends every session of the user when an admin sets their password', async () => {
      const admin = await createAdmin(t);
      const user = await signedInUser();
      const other = await login(t, user.username, user.password);
      const res = await t
        .http()
        .put(`/api/v1/admin/users/${user.id}/password`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ password: `${user.password} by admin` });
      expect(res.status).toBe(204);

      for (const session of [user.tokens, other]) {
        expectProblem(await getMe(t, session.accessToken), 401, 'UNAUTHORIZED');
        expectProblem(await refresh(session.refreshToken), 401, 'INVALID_REFRESH_TOKEN');
      }
      // The admin's own session is not touched.
      expect((await getMe(t, admin.tokens.accessToken)).status).toBe(200);
    });

    it('ends every session of the user when an admin disables them', async () => {
      const admin = await createAdmin(t);
      const user = await signedInUser();
      const other = await login(t, user.username, user.password);
      const res = await t
        .http()
        .patch(`/api/v1/admin/users/${user.id}`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ disabled: true });
      expect(res.status).toBe(200);

      for (const session of [user.tokens, other]) {
        expectProblem(await getMe(t, session.accessToken), 401, 'UNAUTHORIZED');
        expectProblem(await refresh(session.refreshToken), 401, 'INVALID_REFRESH_TOKEN');
      }
    });

    it('ends every session of the user when an admin deletes them', async () => {
      const admin = await createAdmin(t);
      const user = await signedInUser();
      const other = await login(t, user.username, user.password);
      const res = await t
        .http()
        .delete(`/api/v1/admin/users/${user.id}`)
        .set(...bearer(admin.tokens.accessToken));
      expect(res.status).toBe(204);

      for (const session of [user.tokens, other]) {
        expectProblem(await getMe(t, session.accessToken), 401, 'UNAUTHORIZED');
        expectProblem(await refresh(session.refreshToken), 401, 'INVALID_REFRESH_TOKEN');
      }
      expect((await introspect(user.tokens.accessToken)).body).toEqual({ active: false });
    });
  });
});
