import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { bearer, createUser, login, strongPassword, type TestUser } from './helpers/factories.js';
import { resetClient } from './helpers/reset-flow.js';
import type { SmtpSink } from './helpers/smtp-sink.js';
import { createTestAppWithMail, type TestAppWithMail } from './helpers/test-app.js';
import { authenticator } from './helpers/totp.js';

/** The answer succeeded, holds `field`, and no browser or proxy may keep it. */
function expectUncached(res: Response, status: number, field: string): void {
  expect({ status: res.status, has: field in (res.body as object) }).toEqual({ status, has: true });
  expect(res.headers['cache-control']).toBe('no-store');
}

describe('caching headers', () => {
  let t: TestAppWithMail;
  let sink: SmtpSink;
  let otp: ReturnType<typeof authenticator>;

  beforeAll(async () => {
    t = await createTestAppWithMail();
    sink = t.sink;
    otp = authenticator(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A user who turned 2FA on, with the answers of the personal center that did it. */
  async function enrol(
    user: TestUser,
  ): Promise<{ secret: string; setup: Response; enable: Response }> {
    const tokens = await login(t, user.username, user.password);
    const setup = await t
      .http()
      .post('/api/v1/me/two-factor/setup')
      .set(...bearer(tokens.accessToken))
      .send({ currentPassword: user.password });
    const secret = setup.body.secret as string;
    const enable = await t
      .http()
      .post('/api/v1/me/two-factor/enable')
      .set(...bearer(tokens.accessToken))
      .send({ code: otp.freshCode(secret) });
    return { secret, setup, enable };
  }

  it('marks sign-in, two-factor sign-in and refresh answers no-store', async () => {
    const user = await createUser(t);
    const signIn = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: user.password });
    expectUncached(signIn, 200, 'refreshToken');

    const refreshed = await t
      .http()
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: signIn.body.refreshToken });
    expectUncached(refreshed, 200, 'accessToken');

    const { secret } = await enrol(user);
    const challenge = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: user.password });
    expectUncached(challenge, 200, 'challengeToken');
    const second = await t
      .http()
      .post('/api/v1/auth/login/two-factor')
      .send({ challengeToken: challenge.body.challengeToken, code: otp.freshCode(secret) });
    expectUncached(second, 200, 'accessToken');
  });

  it('marks the authenticator secret, its QR code and the recovery codes no-store', async () => {
    const { setup, enable } = await enrol(await createUser(t));
    expectUncached(setup, 200, 'qrCodeDataUrl');
    expectUncached(enable, 200, 'recoveryCodes');
  });

  it('marks every answer of the reset flow no-store (the reset steps read a lower-case bearer scheme)', async () => {
    const user = await createUser(t);
    const reset = resetClient(t, sink);
    const { token } = await reset.requestLink(user.username, user.email as string);
    const opened = await reset.open(token);
    expectUncached(opened, 201, 'resetToken');
    const step = (path: string) =>
      t
        .http()
        .post(`/api/v1/password-reset/${path}`)
        .set('authorization', `bearer ${opened.body.resetToken as string}`);

    const setup = await step('two-factor/setup');
    expectUncached(setup, 200, 'secret');
    const verified = await step('two-factor/verify').send({
      code: otp.freshCode(setup.body.secret as string),
    });
    expectUncached(verified, 200, 'recoveryCodes');
    const done = await step('password').send({ newPassword: strongPassword() });
    expectUncached(done, 200, 'refreshToken');
  });

  it('marks other API answers and problem documents no-store by default', async () => {
    const user = await createUser(t);
    const tokens = await login(t, user.username, user.password);
    const me = await t
      .http()
      .get('/api/v1/me')
      .set(...bearer(tokens.accessToken));
    expectUncached(me, 200, 'username');
    const refused = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: 'x', password: 'y' });
    expectUncached(refused, 401, 'code');
    const policy = await t.http().get('/api/v1/password-policy');
    expect(policy.headers['cache-control']).toBe('no-store');
  });

  it('lets verifiers cache the JWKS for between 1 minute and 1 hour', async () => {
    const res = await t.http().get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    const cacheControl = res.headers['cache-control'] ?? '';
    expect(cacheControl).toMatch(/^public, max-age=\d+$/);
    const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)?.[1]);
    expect(maxAge).toBeGreaterThanOrEqual(60);
    expect(maxAge).toBeLessThanOrEqual(3600);
  });

  it('documents the Cache-Control of the JWKS answer', async () => {
    const doc = (await t.http().get('/docs-json')).body;
    const answer = doc.paths['/.well-known/jwks.json'].get.responses['200'];
    expect(answer.headers['Cache-Control'].schema.example).toMatch(/^public, max-age=\d+$/);
  });
});
