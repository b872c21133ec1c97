import { createPublicKey, type JsonWebKeyInput, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, createAdmin, createUser, getMe, login } from './helpers/factories.js';
import { decodeJwt } from './helpers/jwt.js';
import { enableTwoFactor } from './helpers/totp.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { expectProblem } from './helpers/problem.js';

const HOUR = 3600;

describe('SESSION_MAX_LIFETIME and TEMPORARY_PASSWORD_TTL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      SESSION_MAX_LIFETIME: '1h',
      REFRESH_TOKEN_TTL: '45m',
      ACCESS_TOKEN_TTL: '10m',
      TEMPORARY_PASSWORD_TTL: '1d',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  const refresh = (refreshToken: string) =>
    t.http().post('/api/v1/auth/refresh').send({ refreshToken });

  it('ends a session an hour after sign-in however often it is refreshed', async () => {
    const user = await createUser(t);
    let tokens = await login(t, user.username, user.password);
    // Refreshed every 15 minutes: each refresh would push a 45-minute expiry further out.
    for (let minute = 15; minute <= 45; minute += 15) {
      t.clock.advance(15 * 60);
      const res = await refresh(tokens.refreshToken);
      expect(res.status).toBe(200);
      tokens = res.body;
    }
    t.clock.advance(14 * 60); // 59 minutes after sign-in
    const lastGood = await refresh(tokens.refreshToken);
    expect(lastGood.status).toBe(200);
    expect((await getMe(t, lastGood.body.accessToken)).status).toBe(200);
    t.clock.advance(2 * 60); // 61 minutes after sign-in
    const refused = await refresh(lastGood.body.refreshToken);
    expectProblem(refused, 401, 'INVALID_REFRESH_TOKEN');
    // The access token issued at minute 59 is still within its 10 minutes, but its session is over.
    expect((await getMe(t, lastGood.body.accessToken)).status).toBe(401);
  });

  it('refuses a temporary password once TEMPORARY_PASSWORD_TTL has passed, telling what to do', async () => {
    const admin = await createAdmin(t);
    const user = await createUser(t, { temporaryPassword: true });
    t.clock.advance(HOUR);
    const early = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: user.password });
    expect(early.status).toBe(200);
    t.clock.advance(24 * HOUR);
    const late = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: user.password });
    expect(late.status).toBe(401);
    expect(late.body).toMatchObject({
      code: 'PASSWORD_EXPIRED',
      detail: expect.stringMatching(/administrator/),
    });
    // A wrong password still gets the usual answer: the expiry tells a guesser nothing.
    const wrong = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: `${user.password}x` });
    expectProblem(wrong, 401, 'INVALID_CREDENTIALS');
    // A new temporary password from an admin works again.
    const reset = await t
      .http()
      .put(`/api/v1/admin/users/${user.id}/password`)
      .set(...bearer((await login(t, admin.username, admin.password)).accessToken))
      .send({ password: `${user.password}-renewed`, temporary: true });
    expect(reset.status).toBe(204);
    const again = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: `${user.password}-renewed` });
    expect(again.status).toBe(200);
  });

  it('never expires a password the user chose', async () => {
    const user = await createUser(t, { temporaryPassword: false });
    t.clock.advance(30 * 24 * HOUR);
    const res = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: user.password });
    expect(res.status).toBe(200);
  });
});

describe('tokens that applications must not accept', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('puts aud = PUBLIC_URL in access tokens', async () => {
    const user = await createUser(t);
    const tokens = await login(t, user.username, user.password);
    const { header, payload } = decodeJwt(tokens.accessToken);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(payload).toMatchObject({ iss: 'http://portcullis.test', aud: 'http://portcullis.test' });
  });

  it('signs the sign-in challenge with no key of the JWKS', async () => {
    const user = await createUser(t);
    await enableTwoFactor(t, user);
    const res = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: user.password });
    expect(res.body).toMatchObject({ twoFactorRequired: true });
    const challenge = res.body.challengeToken as string;
    const [header, payload, signature] = challenge.split('.');
    const jwks = (await t.http().get('/.well-known/jwks.json')).body
      .keys as JsonWebKeyInput['key'][];
    expect(jwks.length).toBeGreaterThan(0);
    for (const jwk of jwks) {
      const key = createPublicKey({ key: jwk, format: 'jwk' });
      const ok = verify(
        'sha256',
        Buffer.from(`${header}.${payload}`),
        { key, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature, 'base64url'),
      );
      expect(ok).toBe(false);
    }
    // And it is no access token to Portcullis either.
    expect((await getMe(t, challenge)).status).toBe(401);
  });
});
