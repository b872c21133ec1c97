import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { describeWithRedis, REDIS_URL } from './helpers/redis.js';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { queryAuditEvents } from './helpers/audit.js';
import { burst, type BurstRequest, type BurstResponse, tally } from './helpers/burst.js';
import {
  bearer,
  createAdmin,
  createUser,
  type TestUser,
  type TokenPair,
  uniqueName,
} from './helpers/factories.js';
import { csrfOf } from './helpers/pages.js';
import { resetClient, retryAfterSeconds } from './helpers/reset-flow.js';
import type { SmtpSink } from './helpers/smtp-sink.js';
import {
  createTestApp,
  createTestAppWithMail,
  type TestApp,
  type TestAppWithMail,
} from './helpers/test-app.js';
import {
  authenticator,
  challengeFor,
  createEnrolledUser,
  type EnrolledUser,
} from './helpers/totp.js';
import { expectProblem } from './helpers/problem.js';

/** From src/rate-limit/backoff-policy.ts and src/password-reset/password-reset.service.ts. */
const ACCOUNT_FREE_FAILURES = 5;
const CLIENT_FREE_FAILURES = 20;
const CODE_FREE_FAILURES = 5;
const RESET_SESSION_CODES = 5;
const RESET_IDENTIFIER_FREE = 5;
const RESET_CLIENT_FREE = 30;

/** A client address no other test in this file uses (198.18.0.0/15 is for benchmarks). */
let addressCounter = 0;
function freshAddress(): string {
  addressCounter += 1;
  return `198.18.${Math.floor(addressCounter / 250)}.${1 + (addressCounter % 250)}`;
}

/** Every throttled answer is a 429 problem with a Retry-After in whole seconds. */
function expectThrottled(responses: BurstResponse[], maxWaitSeconds: number): void {
  const throttled = responses.filter((r) => r.status === 429);
  for (const r of throttled) {
    expectProblem(r, 429, 'TOO_MANY_ATTEMPTS');
    const wait = Number(r.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(maxWaitSeconds);
  }
}

/** `n` six-digit codes, none of which the service accepts now for this secret. */
function wrongCodes(otp: ReturnType<typeof authenticator>, secret: string, n: number): string[] {
  const valid = new Set([-1, 0, 1].map((steps) => otp.codeAt(secret, steps)));
  const codes: string[] = [];
  let next = Number(otp.wrongCode(secret));
  while (codes.length < n) {
    const code = String(next % 1_000_000).padStart(6, '0');
    if (!valid.has(code)) {
      codes.push(code);
    }
    next += 7919;
  }
  return codes;
}

/** A well-formed recovery code that was never issued. */
function madeUpRecoveryCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const chars = [...randomBytes(16)].map((b) => alphabet[b % alphabet.length]).join('');
  return chars.match(/.{4}/g)!.join('-');
}

/** Setup, enrolment and sign-in steps through the API, for one test app. */
function flows(t: TestApp) {
  const otp = authenticator(t);
  const passwordLogin = (username: string, password: string) =>
    t.http().post('/api/v1/auth/login').send({ username, password });
  const secondStep = (challengeToken: string, code: string) =>
    t.http().post('/api/v1/auth/login/two-factor').send({ challengeToken, code });
  return {
    otp,
    passwordLogin,
    secondStep,
    enrolledUser: (): Promise<EnrolledUser> => createEnrolledUser(t),
    challengeFor: (user: { username: string; password: string }): Promise<string> =>
      challengeFor(t, user),
  };
}

async function countEvents(
  t: TestApp,
  adminToken: string,
  userId: string,
  type: string,
): Promise<number> {
  const res = await queryAuditEvents(t, adminToken, { userId, type });
  return res.body.total as number;
}

describe('attempt limits hold under a burst of parallel requests', () => {
  let t: TestAppWithMail;
  let sink: SmtpSink;
  let f: ReturnType<typeof flows>;
  let admin: TestUser & { tokens: TokenPair };

  beforeAll(async () => {
    t = await createTestAppWithMail({ TRUST_PROXY: 'true' });
    sink = t.sink;
    f = flows(t);
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const loginRequest = (username: string, password: string, from: string): BurstRequest => ({
    path: '/api/v1/auth/login',
    headers: { 'x-forwarded-for': from },
    body: { username, password },
  });

  describe('signing in with a password', () => {
    it('checks at most 20 of 40 parallel wrong passwords from one address; the rest answer 429 with Retry-After', async () => {
      const from = freshAddress();
      const responses = await burst(
        t.url,
        Array.from({ length: 40 }, () => loginRequest(uniqueName('nobody'), 'wrong', from)),
      );
      expect(tally(responses)).toEqual({
        '401 INVALID_CREDENTIALS': CLIENT_FREE_FAILURES,
        '429 TOO_MANY_ATTEMPTS': 40 - CLIENT_FREE_FAILURES,
      });
      expectThrottled(responses, 60);

      // The address now waits, even with a right password.
      const user = await createUser(t);
      const after = await t
        .http()
        .post('/api/v1/auth/login')
        .set('x-forwarded-for', from)
        .send({ username: user.username, password: user.password });
      expectProblem(after, 429, 'TOO_MANY_ATTEMPTS');
    });

    it('checks at most 5 of 30 parallel wrong passwords for one account, whatever the addresses', async () => {
      const user = await createUser(t);
      const responses = await burst(
        t.url,
        Array.from({ length: 30 }, () => loginRequest(user.username, 'wrong', freshAddress())),
      );
      expect(tally(responses)).toEqual({
        '401 INVALID_CREDENTIALS': ACCOUNT_FREE_FAILURES,
        '429 TOO_MANY_ATTEMPTS': 30 - ACCOUNT_FREE_FAILURES,
      });
      expectThrottled(responses, 30);
      expect(await countEvents(t, admin.tokens.accessToken, user.id, 'login.failed')).toBe(
        ACCOUNT_FREE_FAILURES,
      );
      const after = await t
        .http()
        .post('/api/v1/auth/login')
        .set('x-forwarded-for', freshAddress())
        .send({ username: user.username, password: user.password });
      expectProblem(after, 429, 'TOO_MANY_ATTEMPTS');
    });

    it('does not count right passwords once they are answered: parallel sign-ins all succeed', async () => {
      const user = await createUser(t);
      const from = freshAddress();
      const responses = await burst(
        t.url,
        Array.from({ length: 4 }, () => loginRequest(user.username, user.password, from)),
      );
      expect(tally(responses)).toEqual({ '200': 4 });
      // Nothing was left counted against the account or the address.
      for (let i = 0; i < ACCOUNT_FREE_FAILURES - 1; i++) {
        expectProblem(
          await t
            .http()
            .post('/api/v1/auth/login')
            .set('x-forwarded-for', from)
            .send({ username: user.username, password: 'wrong' }),
          401,
          'INVALID_CREDENTIALS',
        );
      }
      const ok = await t
        .http()
        .post('/api/v1/auth/login')
        .set('x-forwarded-for', from)
        .send({ username: user.username, password: user.password });
      expect(ok.status).toBe(200);
    });
  });

  describe('the second sign-in step', () => {
    it('checks at most 5 of 30 parallel authenticator codes on one challenge; the right code then waits too', async () => {
      const user = await f.enrolledUser();
      const challengeToken = await f.challengeFor(user);
      f.otp.nextStep();
      const responses = await burst(
        t.url,
        wrongCodes(f.otp, user.secret, 30).map((code) => ({
          path: '/api/v1/auth/login/two-factor',
          body: { challengeToken, code },
        })),
      );
      expect(tally(responses)).toEqual({
        '401 INVALID_TOTP_CODE': CODE_FREE_FAILURES,
        '429 TOO_MANY_ATTEMPTS': 30 - CODE_FREE_FAILURES,
      });
      expectThrottled(responses, 30);
      expect(
        await countEvents(t, admin.tokens.accessToken, user.id, 'two_factor.code_failed'),
      ).toBe(CODE_FREE_FAILURES);

      const blocked = await f.secondStep(challengeToken, f.otp.codeAt(user.secret));
      expectProblem(blocked, 429, 'TOO_MANY_ATTEMPTS');
      t.clock.advance(retryAfterSeconds(blocked));
      expect((await f.secondStep(challengeToken, f.otp.freshCode(user.secret))).status).toBe(200);
    });

    it('checks at most 5 of 30 parallel recovery codes on one challenge, and spends none of the real ones', async () => {
      const user = await f.enrolledUser();
      const challengeToken = await f.challengeFor(user);
      const responses = await burst(
        t.url,
        Array.from({ length: 30 }, () => ({
          path: '/api/v1/auth/login/two-factor',
          body: { challengeToken, code: madeUpRecoveryCode() },
        })),
      );
      expect(tally(responses)).toEqual({
        '401 INVALID_TOTP_CODE': CODE_FREE_FAILURES,
        '429 TOO_MANY_ATTEMPTS': 30 - CODE_FREE_FAILURES,
      });
      expectThrottled(responses, 30);

      const blocked = await f.secondStep(challengeToken, user.recoveryCodes[0]);
      expectProblem(blocked, 429, 'TOO_MANY_ATTEMPTS');
      t.clock.advance(retryAfterSeconds(blocked));
      expect((await f.secondStep(challengeToken, user.recoveryCodes[0])).status).toBe(200);
    });
  });

  describe('turning 2FA off (DELETE /me/two-factor)', () => {
    const disableRequest = (accessToken: string, currentPassword: string, code: string) => ({
      method: 'DELETE',
      path: '/api/v1/me/two-factor',
      headers: { authorization: `Bearer ${accessToken}` },
      body: { currentPassword, code },
    });

    it('checks at most 5 of 30 parallel wrong codes, and 2FA stays on', async () => {
      const user = await f.enrolledUser();
      f.otp.nextStep();
      const responses = await burst(
        t.url,
        wrongCodes(f.otp, user.secret, 30).map((code) =>
          disableRequest(user.tokens.accessToken, user.password, code),
        ),
      );
      // Each request holds an attempt on the account while its password is checked, so some
      // are turned away before the code; no more than 5 codes are ever checked.
      const counts = tally(responses);
      expect(counts['400 INVALID_TOTP_CODE']).toBe(CODE_FREE_FAILURES);
      expect(counts['429 TOO_MANY_ATTEMPTS']).toBe(30 - CODE_FREE_FAILURES);
      expectThrottled(responses, 30);
      expect(
        await countEvents(t, admin.tokens.accessToken, user.id, 'two_factor.code_failed'),
      ).toBe(CODE_FREE_FAILURES);
      const me = await t
        .http()
        .get('/api/v1/me')
        .set(...bearer(user.tokens.accessToken));
      expect(me.body.twoFactorEnabled).toBe(true);
    });

    it('checks at most 5 of 30 parallel wrong current passwords', async () => {
      const user = await f.enrolledUser();
      const code = f.otp.freshCode(user.secret);
      const responses = await burst(
        t.url,
        Array.from({ length: 30 }, (_, i) =>
          disableRequest(user.tokens.accessToken, `wrong password ${i}`, code),
        ),
      );
      expect(tally(responses)).toEqual({
        '401 INVALID_CREDENTIALS': ACCOUNT_FREE_FAILURES,
        '429 TOO_MANY_ATTEMPTS': 30 - ACCOUNT_FREE_FAILURES,
      });
      expectThrottled(responses, 30);
    });
  });

  describe('the password reset', () => {
    const verifyRequest = (resetToken: string, code: string): BurstRequest => ({
      path: '/api/v1/password-reset/two-factor/verify',
      headers: { authorization: `Bearer ${resetToken}` },
      body: { code },
    });
    const sessionRow = async (userId: string) => {
      const [row] = await t.app
        .get(DataSource)
        .query<{ failed_codes: number; finish_reason: string | null }[]>(
          'SELECT failed_codes, finish_reason FROM password_reset_sessions WHERE user_id = $1',
          [userId],
        );
      return row;
    };

    it('checks exactly 5 of 30 parallel wrong codes on one reset session: the rest find it ended, and so does the right code', async () => {
      const reset = resetClient(t, sink);
      const user = await f.enrolledUser();
      const resetToken = await reset.startReset(user);
      f.otp.nextStep();
      const responses = await burst(
        t.url,
        wrongCodes(f.otp, user.secret, 30).map((code) => verifyRequest(resetToken, code)),
      );
      expect(tally(responses)).toEqual({
        '400 INVALID_TOTP_CODE': RESET_SESSION_CODES,
        '401 RESET_SESSION_INVALID': 30 - RESET_SESSION_CODES,
      });
      expectProblem(
        await reset.verify(resetToken, f.otp.codeAt(user.secret)),
        401,
        'RESET_SESSION_INVALID',
      );
      expect(await sessionRow(user.id)).toEqual({
        failed_codes: RESET_SESSION_CODES,
        finish_reason: 'too_many_codes',
      });
    });

    it('checks exactly 5 of 30 parallel wrong codes while enrolling a new authenticator, and enrols nothing', async () => {
      const reset = resetClient(t, sink);
      const user = await createUser(t);
      const resetToken = await reset.startReset(user);
      const setup = await reset.setup(resetToken);
      expect(setup.status).toBe(200);
      const secret = setup.body.secret as string;
      f.otp.nextStep();
      const responses = await burst(
        t.url,
        wrongCodes(f.otp, secret, 30).map((code) => verifyRequest(resetToken, code)),
      );
      expect(tally(responses)).toEqual({
        '400 INVALID_TOTP_CODE': RESET_SESSION_CODES,
        '401 RESET_SESSION_INVALID': 30 - RESET_SESSION_CODES,
      });
      expectProblem(
        await reset.verify(resetToken, f.otp.codeAt(secret)),
        401,
        'RESET_SESSION_INVALID',
      );
      const signIn = await f.passwordLogin(user.username, user.password);
      expect(signIn.status).toBe(200);
      expect(signIn.body.accessToken).toEqual(expect.any(String));
    });

    it('sends at most 5 links for 40 parallel requests for one identifier', async () => {
      const user = await createUser(t);
      const responses = await burst(
        t.url,
        Array.from({ length: 40 }, () => ({
          path: '/api/v1/password-reset/requests',
          headers: { 'x-forwarded-for': freshAddress() },
          body: { identifier: user.username },
        })),
      );
      expect(tally(responses)).toEqual({
        '202': RESET_IDENTIFIER_FREE,
        '429 TOO_MANY_ATTEMPTS': 40 - RESET_IDENTIFIER_FREE,
      });
      expectThrottled(responses, 3600);
      const links = await t.app
        .get(DataSource)
        .query('SELECT id FROM password_reset_links WHERE user_id = $1', [user.id]);
      expect(links).toHaveLength(RESET_IDENTIFIER_FREE);
    });

    it('answers at most 30 of 40 parallel requests from one address', async () => {
      const from = freshAddress();
      const responses = await burst(
        t.url,
        Array.from({ length: 40 }, () => ({
          path: '/api/v1/password-reset/requests',
          headers: { 'x-forwarded-for': from },
          body: { identifier: uniqueName('nobody') },
        })),
      );
      expect(tally(responses)).toEqual({
        '404 USER_NOT_FOUND': RESET_CLIENT_FREE,
        '429 TOO_MANY_ATTEMPTS': 40 - RESET_CLIENT_FREE,
      });
      expectThrottled(responses, 3600);
    });
  });

  describe('the hosted pages', () => {
    /** The browser's cookies after these responses, later ones replacing earlier ones. */
    function cookiesOf(...responses: Response[]): string {
      const jar = new Map<string, string>();
      for (const res of responses) {
        const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
        for (const pair of (raw ?? []).map((c) => c.split(';')[0])) {
          jar.set(pair.slice(0, pair.indexOf('=')), pair);
        }
      }
      return [...jar.values()].join('; ');
    }

    it('checks at most 20 of 40 parallel wrong passwords from one address on the login form', async () => {
      const from = freshAddress();
      const form = await t.http().get('/login');
      const responses = await burst(
        t.url,
        Array.from({ length: 40 }, () => ({
          path: '/login',
          headers: { cookie: cookiesOf(form), 'x-forwarded-for': from },
          form: { _csrf: csrfOf(form), username: uniqueName('nobody'), password: 'wrong' },
        })),
      );
      expect(tally(responses)).toEqual({ '401': CLIENT_FREE_FAILURES, '429': 20 });
    });

    it('checks at most 5 of 30 parallel codes on the two-step page', async () => {
      const user = await f.enrolledUser();
      const form = await t.http().get('/login');
      const signIn = await t
        .http()
        .post('/login')
        .set('cookie', cookiesOf(form))
        .type('form')
        .send({ _csrf: csrfOf(form), username: user.username, password: user.password });
      expect(signIn.status).toBe(303);
      expect(signIn.headers.location).toBe('/login/two-factor');
      const cookie = cookiesOf(form, signIn);
      f.otp.nextStep();
      const responses = await burst(
        t.url,
        wrongCodes(f.otp, user.secret, 30).map((code) => ({
          path: '/login/two-factor',
          headers: { cookie },
          form: { _csrf: csrfOf(form), code },
        })),
      );
      expect(tally(responses)).toEqual({
        '401': CODE_FREE_FAILURES,
        '429': 30 - CODE_FREE_FAILURES,
      });
    });
  });
});

describe('the client address a limit counts', () => {
  let t: TestApp;
  let list: TestApp | undefined;

  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: 'true' });
  });
  afterAll(async () => {
    await t?.close();
    await list?.close();
  });

  const failFrom = (app: TestApp, forwardedFor: string) =>
    app
      .http()
      .post('/api/v1/auth/login')
      .set('x-forwarded-for', forwardedFor)
      .send({ username: uniqueName('nobody'), password: 'wrong' });

  async function failTimes(app: TestApp, n: number, forwardedFor: (i: number) => string) {
    for (let i = 0; i < n; i++) {
      expectProblem(await failFrom(app, forwardedFor(i)), 401, 'INVALID_CREDENTIALS');
    }
  }

  it('counts IPv6 clients per /64: another address in the same /64 waits, the next /64 does not', async () => {
    await failTimes(t, CLIENT_FREE_FAILURES, (i) => `2001:db8:17:1::${(i + 1).toString(16)}`);
    expectProblem(await failFrom(t, '2001:db8:17:1:ffff:1:2:3'), 429, 'TOO_MANY_ATTEMPTS');
    expectProblem(await failFrom(t, '2001:db8:17:2::1'), 401, 'INVALID_CREDENTIALS');
  });

  it('counts an IPv4-mapped IPv6 address as the IPv4 address', async () => {
    await failTimes(t, CLIENT_FREE_FAILURES, () => '::ffff:203.0.113.77');
    expectProblem(await failFrom(t, '203.0.113.77'), 429, 'TOO_MANY_ATTEMPTS');
  });

  it('with TRUST_PROXY=true, trusts one proxy: the address that proxy saw, not what the client wrote before it', async () => {
    // A client writes whatever it likes into X-Forwarded-For; the proxy appends the address
    // it saw. Picking the leftmost entry would give every attempt a new bucket.
    await failTimes(t, CLIENT_FREE_FAILURES, (i) => `10.9.8.${i}, 203.0.113.88`);
    expectProblem(await failFrom(t, '10.9.9.9, 203.0.113.88'), 429, 'TOO_MANY_ATTEMPTS');
    expectProblem(await failFrom(t, '203.0.113.89'), 401, 'INVALID_CREDENTIALS');
  });

  it('with a list of proxies, takes the rightmost address that is not one of them', async () => {
    list = await createTestApp({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' });
    const admin = await createAdmin(list);
    const user = await createUser(list);
    const res = await list
      .http()
      .post('/api/v1/auth/login')
      .set('x-forwarded-for', '192.0.2.1, 203.0.113.90, 10.1.2.3')
      .send({ username: user.username, password: user.password });
    expect(res.status).toBe(200);
    const events = await queryAuditEvents(list, admin.tokens.accessToken, {
      userId: user.id,
      type: 'login.succeeded',
    });
    expect(events.body.items).toEqual([expect.objectContaining({ clientIp: '203.0.113.90' })]);

    await failTimes(list, CLIENT_FREE_FAILURES, (i) => `192.0.2.${i}, 203.0.113.91, 10.0.0.1`);
    expectProblem(await failFrom(list, '192.0.2.200, 203.0.113.91'), 429, 'TOO_MANY_ATTEMPTS');
  });
});

const describeRedis = await describeWithRedis('the Redis burst suite');

describeRedis('attempt limits in Redis (REDIS_URL) under a burst', () => {
  const prefix = `portcullis-test-${randomBytes(6).toString('hex')}:`;
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let t: TestApp;
  let f: ReturnType<typeof flows>;

  beforeAll(async () => {
    await redis.connect();
    t = await createTestApp({ REDIS_URL, REDIS_KEY_PREFIX: prefix, TRUST_PROXY: 'true' });
    f = flows(t);
  });
  afterAll(async () => {
    await t?.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) {
      await redis.del(...keys);
    }
    await redis.quit();
  });

  it('checks at most 20 of 40 parallel wrong passwords from one address', async () => {
    const from = freshAddress();
    const responses = await burst(
      t.url,
      Array.from({ length: 40 }, () => ({
        path: '/api/v1/auth/login',
        headers: { 'x-forwarded-for': from },
        body: { username: uniqueName('nobody'), password: 'wrong' },
      })),
    );
    expect(tally(responses)).toEqual({
      '401 INVALID_CREDENTIALS': CLIENT_FREE_FAILURES,
      '429 TOO_MANY_ATTEMPTS': 40 - CLIENT_FREE_FAILURES,
    });
    expectThrottled(responses, 60);
    // The count lives in Redis, under the configured prefix.
    expect(await redis.hget(`${prefix}attempts:client:${from}`, 'failures')).toBe(
      String(CLIENT_FREE_FAILURES),
    );
  });

  it('takes right passwords back from the count in Redis', async () => {
    const from = freshAddress();
    const user = await createUser(t);
    const key = `${prefix}attempts:client:${from}`;
    const wrong = await burst(
      t.url,
      Array.from({ length: 3 }, () => ({
        path: '/api/v1/auth/login',
        headers: { 'x-forwarded-for': from },
        body: { username: uniqueName('nobody'), password: 'wrong' },
      })),
    );
    expect(tally(wrong)).toEqual({ '401 INVALID_CREDENTIALS': 3 });
    const right = await burst(
      t.url,
      Array.from({ length: 4 }, () => ({
        path: '/api/v1/auth/login',
        headers: { 'x-forwarded-for': from },
        body: { username: user.username, password: user.password },
      })),
    );
    expect(tally(right)).toEqual({ '200': 4 });
    expect(await redis.hget(key, 'failures')).toBe('3');

    // A right password leaves the time of the last failure as it was: the wait is not restarted.
    const last = await redis.hget(key, 'last');
    t.clock.advance(5);
    const ok = await t
      .http()
      .post('/api/v1/auth/login')
      .set('x-forwarded-for', from)
      .send({ username: user.username, password: user.password });
    expect(ok.status).toBe(200);
    expect(await redis.hgetall(key)).toEqual({ failures: '3', last });
  });

  it('checks at most 5 of 30 parallel codes on one challenge', async () => {
    const user = await f.enrolledUser();
    const challengeToken = await f.challengeFor(user);
    f.otp.nextStep();
    const responses = await burst(
      t.url,
      wrongCodes(f.otp, user.secret, 30).map((code) => ({
        path: '/api/v1/auth/login/two-factor',
        body: { challengeToken, code },
      })),
    );
    expect(tally(responses)).toEqual({
      '401 INVALID_TOTP_CODE': CODE_FREE_FAILURES,
      '429 TOO_MANY_ATTEMPTS': 30 - CODE_FREE_FAILURES,
    });
    expectThrottled(responses, 30);
    // A correct code clears the count after the wait, as in memory.
    const blocked = await f.secondStep(challengeToken, f.otp.codeAt(user.secret));
    expectProblem(blocked, 429, 'TOO_MANY_ATTEMPTS');
    t.clock.advance(retryAfterSeconds(blocked));
    expect((await f.secondStep(challengeToken, f.otp.freshCode(user.secret))).status).toBe(200);
  });
});
