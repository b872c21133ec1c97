import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Response } from 'supertest';
import { bearer, createUser, login, type TestUser, type TokenPair } from './helpers/factories.js';
import { type PrivatePostgres, startPrivatePostgres } from './helpers/private-postgres.js';
import { expectProblem } from './helpers/problem.js';
import { RESET_SUBJECT } from './helpers/reset-flow.js';
import { freePort } from './helpers/service-process.js';
import { type SmtpSink, startSmtpSink } from './helpers/smtp-sink.js';
import { createTestApp, TEST_ENCRYPTION_KEY, type TestApp } from './helpers/test-app.js';

/**
 * The database, or Redis, goes away and comes back. The tests run their own PostgreSQL cluster
 * and Redis server, so the machine's shared ones are never disturbed; they run once, in the
 * PostgreSQL pass of the suite (the embedded database cannot go away on its own).
 */
const onPostgres = process.env.PORTCULLIS_TEST_DB ? describe : describe.skip;

/** The contract: within this long after the database returns, everything works again. */
const RECOVERY_LIMIT_MS = 5_000;
/** Every answer during the outage comes within this long: a bounded wait, never a hang. */
const ANSWER_LIMIT_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A 503 problem that says when to try again (and, like every problem, hides the driver's words). */
function expectUnavailable(res: Response): void {
  expectProblem(res, 503, 'SERVICE_UNAVAILABLE');
  expect(res.headers['retry-after']).toMatch(/^\d+$/);
}

onPostgres('the database goes away and comes back', () => {
  let db: PrivatePostgres;
  let sink: SmtpSink;
  let t: TestApp;
  let user: TestUser;
  let tokens: TokenPair;

  beforeAll(async () => {
    db = await startPrivatePostgres();
    sink = await startSmtpSink();
    t = await createTestApp({
      DATABASE_URL: db.url,
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      SMTP_URL: sink.url,
    });
    user = await createUser(t);
    tokens = await login(t, user.username, user.password);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await sink?.close();
    db?.destroy();
  });

  /** Polls `path` until it answers `status`; returns the milliseconds that took. */
  async function msUntil(path: string, status: number, limitMs: number): Promise<number> {
    const since = performance.now();
    for (;;) {
      const res = await t.http().get(path);
      if (res.status === status) {
        return performance.now() - since;
      }
      if (performance.now() - since > limitMs) {
        throw new Error(`${path} still answers ${res.status} after ${limitMs} ms`);
      }
      await sleep(100);
    }
  }

  it('answers 503 while it is away, recovers by itself, and loses nothing accepted before', async () => {
    // A reset mail is accepted while the mail server is down: it waits in the outbox.
    const smtpPort = Number(new URL(sink.url).port);
    await sink.close();
    const requested = await t
      .http()
      .post('/api/v1/password-reset/requests')
      .send({ identifier: user.username });
    expect(requested.status).toBe(202);
    const probe = new pg.Client({ connectionString: db.url });
    await probe.connect();
    for (let i = 0; i < 50; i += 1) {
      const { rows } = await probe.query<{ attempts: number }>(
        "SELECT attempts FROM mail_outbox WHERE status = 'pending' AND template = 'password-reset'",
      );
      if (rows[0]?.attempts >= 1) {
        break;
      }
      await sleep(100);
    }
    await probe.end();

    db.stop();
    await msUntil('/health/ready', 503, ANSWER_LIMIT_MS);
    expect((await t.http().get('/health/live')).status).toBe(200);
    const ready = await t.http().get('/health/ready');
    expectUnavailable(ready);

    const calls: (() => Promise<Response>)[] = [
      () =>
        t
          .http()
          .post('/api/v1/auth/login')
          .send({ username: user.username, password: user.password }),
      () => t.http().post('/api/v1/auth/refresh').send({ refreshToken: tokens.refreshToken }),
      () => t.http().post('/api/v1/password-reset/requests').send({ identifier: user.username }),
      () =>
        t
          .http()
          .get('/api/v1/admin/users')
          .set(...bearer(tokens.accessToken)),
    ];
    // Past the caches' lifetime (750 ms), even a request with a cached token needs the database.
    await sleep(1_000);
    calls.push(() =>
      t
        .http()
        .get('/api/v1/me')
        .set(...bearer(tokens.accessToken)),
    );
    for (const call of calls) {
      const since = performance.now();
      const res = await call();
      expect(performance.now() - since).toBeLessThan(ANSWER_LIMIT_MS);
      expectUnavailable(res);
    }

    // Back: the service notices by itself, without a restart.
    db.start();
    expect(await msUntil('/health/ready', 200, RECOVERY_LIMIT_MS)).toBeLessThan(RECOVERY_LIMIT_MS);
    const again = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: user.password });
    expect(again.status).toBe(200);
    expect(
      (
        await t
          .http()
          .get('/api/v1/me')
          .set(...bearer(again.body.accessToken as string))
      ).status,
    ).toBe(200);

    // The mail accepted before the outage is delivered once the mail server is back, once.
    sink = await startSmtpSink(smtpPort);
    await sink.waitForMail((m) => m.subject === RESET_SUBJECT, 30_000);
    await sleep(1_500);
    expect(sink.mails.filter((m) => m.subject === RESET_SUBJECT)).toHaveLength(1);
  }, 90_000);
});

onPostgres('Redis goes away and comes back', () => {
  let redis: ChildProcess | undefined;
  let port: number;
  let t: TestApp;
  let user: TestUser;

  async function startRedis(): Promise<void> {
    redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const probe = new Redis(`redis://127.0.0.1:${port}`, {
      lazyConnect: true,
      retryStrategy: () => null,
    });
    for (let i = 0; i < 50; i += 1) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        await sleep(100);
      }
    }
    throw new Error('redis-server did not start');
  }

  beforeAll(async () => {
    port = await freePort();
    await startRedis();
    t = await createTestApp({ REDIS_URL: `redis://127.0.0.1:${port}` });
    user = await createUser(t);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    redis?.kill('SIGKILL');
  });

  const signIn = () =>
    t.http().post('/api/v1/auth/login').send({ username: user.username, password: user.password });

  it('refuses sign-ins with 503 while the attempt counters are away (fail closed), and recovers by itself', async () => {
    expect((await signIn()).status).toBe(200);
    redis?.kill('SIGKILL');
    await sleep(200);
    const since = performance.now();
    const refused = await signIn();
    expect(performance.now() - since).toBeLessThan(ANSWER_LIMIT_MS);
    expectUnavailable(refused);
    expect(refused.body.detail).toMatch(/attempt counters/);
    // The rest of the service does not need Redis.
    expect((await t.http().get('/health/ready')).status).toBe(200);

    await startRedis();
    const back = performance.now();
    let res = await signIn();
    while (res.status !== 200 && performance.now() - back < RECOVERY_LIMIT_MS) {
      await sleep(100);
      res = await signIn();
    }
    expect(res.status).toBe(200);
  }, 60_000);
});
