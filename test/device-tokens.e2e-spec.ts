import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { createUser } from './helpers/factories.js';
import { authenticator, enableTwoFactor } from './helpers/totp.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { expectProblem } from './helpers/problem.js';

describe('device tokens: the owner is not locked out by strangers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const loginWith = (username: string, password: string, deviceToken?: string) =>
    t
      .http()
      .post('/api/v1/auth/login')
      .send({ username, password, ...(deviceToken ? { deviceToken } : {}) });

  it('hands out an opaque device token with every full sign-in, stored only as a hash', async () => {
    const user = await createUser(t);
    const res = await loginWith(user.username, user.password);
    expect(res.status).toBe(200);
    const deviceToken = res.body.deviceToken as string;
    expect(deviceToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(deviceToken.split('.')).toHaveLength(1);
    const rows = await t.app
      .get(DataSource)
      .query(`SELECT token_hash FROM device_tokens WHERE user_id = $1`, [user.id]);
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0].token_hash as Buffer).toString()).not.toContain(deviceToken);
    // Signing in again from that device keeps its token.
    const again = await loginWith(user.username, user.password, deviceToken);
    expect(again.body.deviceToken).toBe(deviceToken);
  });

  it('lets the owner in from a known device while the account is locked for everyone else', async () => {
    const user = await createUser(t);
    const { deviceToken } = (await loginWith(user.username, user.password)).body as {
      deviceToken: string;
    };
    for (let i = 0; i < 5; i++) {
      expectProblem(
        await loginWith(user.username, 'a stranger guesses'),
        401,
        'INVALID_CREDENTIALS',
      );
    }
    // The account is now locked: even the right password waits, without the device token.
    expectProblem(await loginWith(user.username, user.password), 429, 'TOO_MANY_ATTEMPTS');
    const owner = await loginWith(user.username, user.password, deviceToken);
    expect(owner.status).toBe(200);
    expect(owner.body.accessToken).toEqual(expect.any(String));
  });

  it("counts a device token's own failures, then it is dead and the account's lockout applies", async () => {
    const user = await createUser(t);
    const { deviceToken } = (await loginWith(user.username, user.password)).body as {
      deviceToken: string;
    };
    for (let i = 0; i < 5; i++) {
      expectProblem(
        await loginWith(user.username, `wrong ${i}`, deviceToken),
        401,
        'INVALID_CREDENTIALS',
      );
    }
    // The account's own count was untouched by them: the right password still signs in, but
    // the dead token is replaced by a new one.
    const next = await loginWith(user.username, user.password, deviceToken);
    expect(next.status).toBe(200);
    expect(next.body.deviceToken).not.toBe(deviceToken);
  });

  it("does not take another user's device token", async () => {
    const owner = await createUser(t);
    const other = await createUser(t);
    const { deviceToken } = (await loginWith(owner.username, owner.password)).body as {
      deviceToken: string;
    };
    for (let i = 0; i < 5; i++) {
      await loginWith(other.username, 'a stranger guesses');
    }
    expectProblem(
      await loginWith(other.username, other.password, deviceToken),
      429,
      'TOO_MANY_ATTEMPTS',
    );
  });

  it('keeps the device token through the two-factor step', async () => {
    const user = await createUser(t);
    const { secret } = await enableTwoFactor(t, user);
    const first = await loginWith(user.username, user.password);
    expect(first.body.twoFactorRequired).toBe(true);
    const signedIn = await t
      .http()
      .post('/api/v1/auth/login/two-factor')
      .send({
        challengeToken: first.body.challengeToken,
        code: authenticator(t).freshCode(secret),
      });
    expect(signedIn.status).toBe(200);
    const deviceToken = signedIn.body.deviceToken as string;
    expect(deviceToken).toEqual(expect.any(String));
    const second = await loginWith(user.username, user.password, deviceToken);
    const kept = await t
      .http()
      .post('/api/v1/auth/login/two-factor')
      .send({
        challengeToken: second.body.challengeToken,
        code: authenticator(t).freshCode(secret),
        deviceToken,
      });
    expect(kept.status).toBe(200);
    expect(kept.body.deviceToken).toBe(deviceToken);
  });
});
