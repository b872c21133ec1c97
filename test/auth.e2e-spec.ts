import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  bearer,
  createAdmin,
  createUser,
  getMe,
  login,
  strongPassword,
  uniqueName,
  type TestUser,
} from './helpers/factories.js';
import { auditEvents, queryAuditEvents } from './helpers/audit.js';
import { retryAfterSeconds } from './helpers/reset-flow.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { expectProblem } from './helpers/problem.js';

/** From src/rate-limit/backoff-policy.ts: ACCOUNT_POLICY and CLIENT_POLICY. */
const ACCOUNT_FREE_FAILURES = 5;
const ACCOUNT_FIRST_WAIT_SECONDS = 30;
const CLIENT_FREE_FAILURES = 20;
const CLIENT_FIRST_WAIT_SECONDS = 60;

function attempt(t: TestApp, username: string, password: string, from?: string) {
  const req = t.http().post('/api/v1/auth/login');
  if (from) {
    void req.set('x-forwarded-for', from);
  }
  return req.send({ username, password });
}

async function failTimes(
  t: TestApp,
  times: number,
  username: (i: number) => string,
  from?: (i: number) => string,
): Promise<void> {
  for (let i = 0; i < times; i++) {
    expectProblem(
      await attempt(t, username(i), 'not the password', from?.(i)),
      401,
      'INVALID_CREDENTIALS',
    );
  }
}

describe('signing in', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  describe('with a password', () => {
    it('signs in by username, whatever its case', async () => {
      const user = await createUser(t);
      for (const name of [user.username, user.username.toUpperCase()]) {
        const res = await attempt(t, name, user.password);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
        const profile = await getMe(t, res.body.accessToken as string);
        expect(profile.status).toBe(200);
        expect(profile.body).toMatchObject({ id: user.id, username: user.username });
      }
    });

    it('signs in by email, whatever its case', async () => {
      const user = await createUser(t);
      const email = user.email as string;
      for (const identifier of [email, email.toUpperCase()]) {
        const res = await attempt(t, identifier, user.password);
        expect(res.status).toBe(200);
        const profile = await getMe(t, res.body.accessToken as string);
        expect(profile.body).toMatchObject({ id: user.id, email });
      }
    });

    it('answers an unknown user and a wrong password with the same 401 INVALID_CREDENTIALS', async () => {
      const user = await createUser(t);
      const unknown = await attempt(t, uniqueName('nobody'), user.password);
      const wrong = await attempt(t, user.username, `${user.password}x`);
      expectProblem(unknown, 401, 'INVALID_CREDENTIALS');
      expectProblem(wrong, 401, 'INVALID_CREDENTIALS');
      expect(wrong.body).toEqual(unknown.body);
      expect(unknown.body).toEqual({
        type: expect.any(String),
        title: expect.any(String),
        status: 401,
        detail: expect.any(String),
        code: 'INVALID_CREDENTIALS',
      });
    });

    it('does not sign in with the password of another user', async () => {
      const alice = await createUser(t);
      const bob = await createUser(t);
      expectProblem(await attempt(t, alice.username, bob.password), 401, 'INVALID_CREDENTIALS');
    });

    it('refuses a disabled account with 403 ACCOUNT_DISABLED, and lets it in once enabled again', async () => {
      const admin = await createAdmin(t);
      const user = await createUser(t);
      const disable = await t
        .http()
        .patch(`/api/v1/admin/users/${user.id}`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ disabled: true });
      expect(disable.status).toBe(200);
      expect(disable.body).toMatchObject({ id: user.id, disabled: true });

      expectProblem(await attempt(t, user.username, user.password), 403, 'ACCOUNT_DISABLED');
      // Only someone who knows the password learns that the account is disabled.
      expectProblem(
        await attempt(t, user.username, 'not the password'),
        401,
        'INVALID_CREDENTIALS',
      );

      const enable = await t
        .http()
        .patch(`/api/v1/admin/users/${user.id}`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ disabled: false });
      expect(enable.status).toBe(200);
      expect((await attempt(t, user.username, user.password)).status).toBe(200);
    });

    it('records login.succeeded and login.failed in the audit trail', async () => {
      const admin = await createAdmin(t);
      const user = await createUser(t);
      expectProblem(
        await attempt(t, user.username, 'not the password'),
        401,
        'INVALID_CREDENTIALS',
      );
      await login(t, user.username, user.password);

      const { items, body } = await auditEvents(t, admin.tokens.accessToken, user.id);
      expect(items.map((e) => e.type)).toEqual(
        expect.arrayContaining(['login.failed', 'login.succeeded']),
      );
      expect(items.find((e) => e.type === 'login.failed')).toMatchObject({
        subjectId: user.id,
        details: { reason: 'wrong_password' },
      });
      expect(items.find((e) => e.type === 'login.succeeded')).toMatchObject({
        subjectId: user.id,
        actorId: user.id,
        details: { amr: ['pwd'] },
      });
      // Newest first: the success came after the failure.
      const types = items.map((e) => e.type);
      expect(types.indexOf('login.succeeded')).toBeLessThan(types.indexOf('login.failed'));
      // No event holds the password.
      expect(JSON.stringify(body)).not.toContain(user.password);

      const failedOnly = await queryAuditEvents(t, admin.tokens.accessToken, {
        userId: user.id,
        type: 'login.failed',
      });
      expect(failedOnly.body.total).toBe(1);
      expect(failedOnly.body.items).toEqual([
        expect.objectContaining({ type: 'login.failed', subjectId: user.id }),
      ]);
    });

    it('records a replayed refresh token in the audit trail', async () => {
      const admin = await createAdmin(t);
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const refresh = () =>
        t.http().post('/api/v1/auth/refresh').send({ refreshToken: tokens.refreshToken });
      expect((await refresh()).status).toBe(200);
      expectProblem(await refresh(), 401, 'INVALID_REFRESH_TOKEN');

      const res = await queryAuditEvents(t, admin.tokens.accessToken, {
        userId: user.id,
        type: 'token.refresh_reuse_detected',
      });
      expect(res.body.items).toEqual([
        expect.objectContaining({ type: 'token.refresh_reuse_detected', subjectId: user.id }),
      ]);
    });
  });

  describe('with a temporary password', () => {
    async function createWithDefaults(
      admin: { tokens: { accessToken: string } },
      roles: string[],
    ): Promise<TestUser> {
      const username = uniqueName();
      const password = strongPassword();
      // temporaryPassword is left out: the contract makes it true by default.
      const res = await t
        .http()
        .post('/api/v1/admin/users')
        .set(...bearer(admin.tokens.accessToken))
        .send({ username, password, roles });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ username, mustChangePassword: true });
      return { id: res.body.id as string, username, password, email: null };
    }

    it('gets tokens, but every call except /me and /me/password answers 403 PASSWORD_CHANGE_REQUIRED', async () => {
      const creator = await createAdmin(t);
      const user = await createWithDefaults(creator, ['admin']);
      const tokens = await login(t, user.username, user.password);

      const profile = await getMe(t, tokens.accessToken);
      expect(profile.status).toBe(200);
      expect(profile.body).toMatchObject({ id: user.id, mustChangePassword: true });

      expectProblem(
        await t
          .http()
          .get('/api/v1/admin/users')
          .set(...bearer(tokens.accessToken)),
        403,
        'PASSWORD_CHANGE_REQUIRED',
      );
      expectProblem(
        await t
          .http()
          .put('/api/v1/me/email')
          .set(...bearer(tokens.accessToken))
          .send({ email: `${user.username}@example.com`, currentPassword: user.password }),
        403,
        'PASSWORD_CHANGE_REQUIRED',
      );
      // Logging out stays possible.
      const other = await login(t, user.username, user.password);
      const logout = await t
        .http()
        .post('/api/v1/auth/logout')
        .send({ refreshToken: other.refreshToken });
      expect(logout.status).toBe(204);
    });

    it('lifts the restriction on the same token once the password is changed', async () => {
      const creator = await createAdmin(t);
      const user = await createWithDefaults(creator, ['admin']);
      const tokens = await login(t, user.username, user.password);
      const newPassword = strongPassword();

      const change = await t
        .http()
        .put('/api/v1/me/password')
        .set(...bearer(tokens.accessToken))
        .send({ currentPassword: user.password, newPassword });
      expect(change.status).toBe(204);

      const profile = await getMe(t, tokens.accessToken);
      expect(profile.body).toMatchObject({ id: user.id, mustChangePassword: false });
      const list = await t
        .http()
        .get('/api/v1/admin/users')
        .query({ search: user.username })
        .set(...bearer(tokens.accessToken));
      expect(list.status).toBe(200);
      expect(list.body.items).toEqual([expect.objectContaining({ id: user.id })]);
      const email = await t
        .http()
        .put('/api/v1/me/email')
        .set(...bearer(tokens.accessToken))
        .send({ email: `${user.username}@example.com`, currentPassword: newPassword });
      expect(email.status).toBe(202);
      expect(email.body).toMatchObject({ pendingEmail: `${user.username}@example.com` });
      expect((await login(t, user.username, newPassword)).tokenType).toBe('Bearer');
    });

    it('makes a password set by an admin temporary again', async () => {
      const admin = await createAdmin(t);
      const user = await createUser(t);
      const password = strongPassword();
      const reset = await t
        .http()
        .put(`/api/v1/admin/users/${user.id}/password`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ password });
      expect(reset.status).toBe(204);

      const tokens = await login(t, user.username, password);
      expect((await getMe(t, tokens.accessToken)).body).toMatchObject({ mustChangePassword: true });
      expectProblem(
        await t
          .http()
          .put('/api/v1/me/email')
          .set(...bearer(tokens.accessToken))
          .send({ email: `${user.username}-new@example.com`, currentPassword: password }),
        403,
        'PASSWORD_CHANGE_REQUIRED',
      );
    });
  });
});

describe('login throttling behind a trusted proxy', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Its own app: the in-memory failure counters must not leak into other tests.
    t = await createTestApp({ TRUST_PROXY: 'true' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 429 TOO_MANY_ATTEMPTS with Retry-After once an account has failed 5 times', async () => {
    const user = await createUser(t);
    await failTimes(
      t,
      ACCOUNT_FREE_FAILURES,
      () => user.username,
      () => '198.51.100.10',
    );

    const res = await attempt(t, user.username, 'not the password', '198.51.100.10');
    expectProblem(res, 429, 'TOO_MANY_ATTEMPTS');
    const wait = retryAfterSeconds(res);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(ACCOUNT_FIRST_WAIT_SECONDS);
    // The right password does not get through either while the account waits.
    expectProblem(
      await attempt(t, user.username, user.password, '198.51.100.10'),
      429,
      'TOO_MANY_ATTEMPTS',
    );
  });

  it('throttles the account from any client address, with the right password too', async () => {
    const user = await createUser(t);
    await failTimes(
      t,
      ACCOUNT_FREE_FAILURES,
      () => user.username,
      (i) => `198.51.100.${20 + i}`,
    );

    const res = await attempt(t, user.username, user.password, '198.51.100.99');
    expectProblem(res, 429, 'TOO_MANY_ATTEMPTS');
    expect(retryAfterSeconds(res)).toBeGreaterThan(0);
    // The throttle is the account's: another user from the same address signs in.
    const other = await createUser(t);
    expect((await attempt(t, other.username, other.password, '198.51.100.99')).status).toBe(200);
  });

  it('counts the email and the username of an account as one account', async () => {
    const user = await createUser(t);
    await failTimes(
      t,
      ACCOUNT_FREE_FAILURES,
      (i) => (i % 2 === 0 ? user.username : (user.email as string).toUpperCase()),
      () => '198.51.100.30',
    );
    expectProblem(
      await attempt(t, user.email as string, user.password, '198.51.100.31'),
      429,
      'TOO_MANY_ATTEMPTS',
    );
  });

  it('lets the account try again once Retry-After has passed, and doubles the wait after another failure', async () => {
    const user = await createUser(t);
    const from = '198.51.100.40';
    await failTimes(
      t,
      ACCOUNT_FREE_FAILURES,
      () => user.username,
      () => from,
    );
    const first = await attempt(t, user.username, user.password, from);
    expectProblem(first, 429, 'TOO_MANY_ATTEMPTS');

    t.clock.advance(retryAfterSeconds(first));
    expectProblem(await attempt(t, user.username, 'still wrong', from), 401, 'INVALID_CREDENTIALS');
    const second = await attempt(t, user.username, user.password, from);
    expectProblem(second, 429, 'TOO_MANY_ATTEMPTS');
    expect(retryAfterSeconds(second)).toBeGreaterThan(ACCOUNT_FIRST_WAIT_SECONDS);
    expect(retryAfterSeconds(second)).toBeLessThanOrEqual(2 * ACCOUNT_FIRST_WAIT_SECONDS);

    t.clock.advance(retryAfterSeconds(second));
    expect((await attempt(t, user.username, user.password, from)).status).toBe(200);
  });

  it("forgets an account's failures once it signs in successfully", async () => {
    const user = await createUser(t);
    const from = '198.51.100.50';
    await failTimes(
      t,
      ACCOUNT_FREE_FAILURES - 1,
      () => user.username,
      () => from,
    );
    expect((await attempt(t, user.username, user.password, from)).status).toBe(200);
    await failTimes(
      t,
      ACCOUNT_FREE_FAILURES - 1,
      () => user.username,
      () => from,
    );
    expect((await attempt(t, user.username, user.password, from)).status).toBe(200);
  });

  it('throttles a client address after 20 failures across accounts, but not other addresses', async () => {
    const user = await createUser(t);
    const from = '203.0.113.7';
    await failTimes(
      t,
      CLIENT_FREE_FAILURES,
      () => uniqueName('nobody'),
      () => from,
    );

    const res = await attempt(t, user.username, user.password, from);
    expectProblem(res, 429, 'TOO_MANY_ATTEMPTS');
    const wait = retryAfterSeconds(res);
    expect(wait).toBeGreaterThan(ACCOUNT_FIRST_WAIT_SECONDS);
    expect(wait).toBeLessThanOrEqual(CLIENT_FIRST_WAIT_SECONDS);
    expect((await attempt(t, user.username, user.password, '203.0.113.8')).status).toBe(200);

    t.clock.advance(wait);
    expect((await attempt(t, user.username, user.password, from)).status).toBe(200);
  });

  it('records the forwarded client address in the audit trail', async () => {
    const admin = await createAdmin(t);
    const user = await createUser(t);
    expect((await attempt(t, user.username, user.password, '192.0.2.77')).status).toBe(200);
    const res = await queryAuditEvents(t, admin.tokens.accessToken, {
      userId: user.id,
      type: 'login.succeeded',
    });
    expect(res.body.items).toEqual([expect.objectContaining({ clientIp: '192.0.2.77' })]);
  });
});

describe('login throttling without a trusted proxy', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Its own app: this test throttles the one address every request comes from.
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('ignores X-Forwarded-For, so a client cannot escape its address throttle with it', async () => {
    const user = await createUser(t);
    await failTimes(
      t,
      CLIENT_FREE_FAILURES,
      () => uniqueName('nobody'),
      (i) => `203.0.113.${100 + i}`,
    );

    const res = await attempt(t, user.username, user.password, '203.0.113.200');
    expectProblem(res, 429, 'TOO_MANY_ATTEMPTS');
    expect(retryAfterSeconds(res)).toBeGreaterThan(0);
  });
});
