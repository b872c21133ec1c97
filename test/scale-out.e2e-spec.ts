import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { decodeJwt } from './helpers/jwt.js';
import { REDIS_URL } from './helpers/redis.js';
import {
  freePort,
  jsonLines,
  type ServiceProcess,
  startService,
} from './helpers/service-process.js';
import { type SmtpSink, startSmtpSink } from './helpers/smtp-sink.js';
import { TEST_ENCRYPTION_KEY } from './helpers/test-app.js';

/**
 * Three production processes (`node dist/main.js`) on one PostgreSQL and one Redis, behind
 * HAProxy health-checking their readiness, as an operator runs them. Runs in the PostgreSQL pass
 * of the suite (the embedded database serves one instance by construction). Needs `haproxy`
 * (Debian's package; CI installs it): skipped, loudly, without it on a developer machine.
 */
function haproxyInstalled(): boolean {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const runs =
  process.env.PORTCULLIS_TEST_DB_ADMIN && (haproxyInstalled() || process.env.CI === 'true');
if (process.env.PORTCULLIS_TEST_DB_ADMIN && !runs) {
  console.warn('SKIPPED: the scale-out suite needs haproxy (apt install haproxy)');
}
const onPostgresWithHaproxy = runs ? describe : describe.skip;

const ADMIN_USERNAME = 'admin';
const ADMIN_PASSWORD = `scale out operator ${randomBytes(6).toString('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Json {
  [key: string]: unknown;
}

async function post(
  url: string,
  body: Json,
  token?: string,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

async function signIn(base: string, username: string, password: string): Promise<Json> {
  const res = await post(`${base}/api/v1/auth/login`, { username, password });
  expect(res.status).toBe(200);
  return res.body;
}

async function meStatus(base: string, token: string): Promise<number> {
  return (await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } }))
    .status;
}

onPostgresWithHaproxy('three instances behind HAProxy', () => {
  const dbName = `portcullis_scale_${process.pid}_${Date.now()}`;
  let dbUrl: string;
  let sink: SmtpSink;
  let instances: ServiceProcess[] = [];
  let haproxy: ChildProcess | undefined;
  let haproxyDir: string;
  let lb: string;
  const report: string[] = [];

  async function adminQuery<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: process.env.PORTCULLIS_TEST_DB_ADMIN });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${dbName}"`);
    await admin.end();
    const url = new URL(process.env.PORTCULLIS_TEST_DB_ADMIN!);
    url.pathname = `/${dbName}`;
    dbUrl = url.toString();
    sink = await startSmtpSink();
    const port = await freePort();
    lb = `http://127.0.0.1:${port}`;
    const env = {
      // One public address for all: tokens name it as issuer and audience.
      PUBLIC_URL: lb,
      DATABASE_URL: dbUrl,
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      REDIS_URL,
      REDIS_KEY_PREFIX: `${dbName}:`,
      SMTP_URL: sink.url,
      ADMIN_USERNAME,
      ADMIN_PASSWORD,
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
    };
    // All three at the same moment, on an empty database.
    instances = await Promise.all([startService(env), startService(env), startService(env)]);

    haproxyDir = mkdtempSync(join(tmpdir(), 'portcullis-haproxy-'));
    const servers = instances.map((s, i) => {
      const app = new URL(s.url);
      const management = new URL(s.managementUrl);
      return `  server s${i + 1} 127.0.0.1:${app.port} check port ${management.port} inter 250ms fall 2 rise 2`;
    });
    const config = [
      'global',
      '  maxconn 2000',
      'defaults',
      '  mode http',
      '  timeout connect 1s',
      '  timeout client 10s',
      '  timeout server 10s',
      '  retries 3',
      '  option redispatch 1',
      '  retry-on conn-failure empty-response response-timeout 503',
      'frontend portcullis',
      `  bind 127.0.0.1:${port}`,
      '  default_backend instances',
      'backend instances',
      '  balance roundrobin',
      '  option httpchk GET /health/ready',
      '  http-check expect status 200',
      ...servers,
      '',
    ].join('\n');
    writeFileSync(join(haproxyDir, 'haproxy.cfg'), config);
    haproxy = spawn('haproxy', ['-db', '-f', join(haproxyDir, 'haproxy.cfg')], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i += 1) {
      const ok = await fetch(`${lb}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        break;
      }
      await sleep(100);
    }
  }, 120_000);

  afterAll(async () => {
    haproxy?.kill('SIGTERM');
    await Promise.all(instances.map((s) => (s.child.exitCode === null ? s.stop() : s.exited)));
    await sink?.close();
    if (haproxyDir) {
      rmSync(haproxyDir, { recursive: true, force: true });
    }
    const admin = new pg.Client({ connectionString: process.env.PORTCULLIS_TEST_DB_ADMIN });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
    if (report.length > 0) {
      process.stdout.write(`\nscale-out report:\n${report.map((l) => `  ${l}`).join('\n')}\n`);
    }
  });

  it('starting together on an empty database, migrates once, creates one admin and one signing key', async () => {
    const created = instances.flatMap((s) =>
      jsonLines(s.stdout()).filter((l) => String(l.msg).includes('created the first admin')),
    );
    expect(created).toHaveLength(1);
    const migrations = await adminQuery<{ name: string; n: string }>(
      'SELECT name, count(*)::text AS n FROM migrations GROUP BY name',
    );
    expect(migrations.length).toBeGreaterThan(0);
    expect(migrations.every((m) => m.n === '1')).toBe(true);
    expect(await adminQuery("SELECT id FROM users WHERE username = 'admin'")).toHaveLength(1);
    expect(await adminQuery('SELECT kid FROM signing_keys WHERE retired_at IS NULL')).toHaveLength(
      1,
    );
  });

  it('a logout and a key rotation on one instance reach the others within a second', async () => {
    const [a, b, c] = instances;
    const tokens = await signIn(a.url, ADMIN_USERNAME, ADMIN_PASSWORD);
    const access = tokens.accessToken as string;
    expect(await meStatus(b.url, access)).toBe(200);
    expect(await meStatus(c.url, access)).toBe(200);
    let since = performance.now();
    expect(
      (await post(`${a.url}/api/v1/auth/logout`, { refreshToken: tokens.refreshToken })).status,
    ).toBe(204);
    while ((await meStatus(b.url, access)) === 200 && performance.now() - since < 5_000) {
      await sleep(10);
    }
    const revocationMs = performance.now() - since;
    expect(await meStatus(b.url, access)).toBe(401);
    expect(revocationMs).toBeLessThan(1_000);

    const adminTokens = await signIn(a.url, ADMIN_USERNAME, ADMIN_PASSWORD);
    since = performance.now();
    const rotated = await post(
      `${a.url}/api/v1/admin/signing-keys/rotate`,
      {},
      adminTokens.accessToken as string,
    );
    expect(rotated.status).toBe(201);
    let kid = '';
    while (kid !== rotated.body.kid && performance.now() - since < 5_000) {
      kid = decodeJwt((await signIn(c.url, ADMIN_USERNAME, ADMIN_PASSWORD)).accessToken as string)
        .header.kid as string;
    }
    const rotationMs = performance.now() - since;
    expect(kid).toBe(rotated.body.kid);
    expect(rotationMs).toBeLessThan(1_000);
    report.push(
      `revocation reached another instance in ${revocationMs.toFixed(0)} ms; ` +
        `a rotated key signed on another instance after ${rotationMs.toFixed(0)} ms (limit 1000)`,
    );
  });

  it('sends each queued mail exactly once with three workers', async () => {
    const adminTokens = await signIn(lb, ADMIN_USERNAME, ADMIN_PASSWORD);
    const users: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      const username = `scale-${i}-${randomBytes(3).toString('hex')}`;
      const created = await post(
        `${lb}/api/v1/admin/users`,
        {
          username,
          password: `scale out password ${randomBytes(6).toString('hex')}`,
          email: `${username}@example.com`,
          temporaryPassword: false,
        },
        adminTokens.accessToken as string,
      );
      expect(created.status).toBe(201);
      users.push(username);
    }
    const answers = await Promise.all(
      users.map((identifier) => post(`${lb}/api/v1/password-reset/requests`, { identifier })),
    );
    expect(answers.map((a) => a.status)).toEqual(users.map(() => 202));
    const resets = () => sink.mails.filter((m) => m.subject === 'Reset your password');
    const deadline = Date.now() + 20_000;
    while (resets().length < users.length && Date.now() < deadline) {
      await sleep(100);
    }
    await sleep(2_000); // a duplicate would come now
    const ids = resets().map((m) => m.headers.get('x-portcullis-mail-id'));
    expect(resets()).toHaveLength(users.length);
    expect(new Set(ids).size).toBe(users.length);
    const senders = await adminQuery<{ n: string }>(
      "SELECT count(*)::text AS n FROM mail_outbox WHERE template = 'password-reset' AND status = 'sent'",
    );
    expect(senders[0].n).toBe(String(users.length));
  });

  it('keeps answering through HAProxy while one instance is killed and another drained', async () => {
    const tokens = await signIn(lb, ADMIN_USERNAME, ADMIN_PASSWORD);
    const access = tokens.accessToken as string;
    const tally = new Map<string, number>();
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const outcome = await fetch(`${lb}/api/v1/me`, {
          headers: { authorization: `Bearer ${access}` },
        }).then(
          async (r) => {
            await r.arrayBuffer();
            return String(r.status);
          },
          (error: unknown) => `error ${error instanceof Error ? error.message : String(error)}`,
        );
        tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
      }
    };
    const workers = Array.from({ length: 8 }, () => worker());
    await sleep(1_500);
    instances[0].child.kill('SIGKILL');
    await sleep(1_500);
    const drained = instances[1].stop();
    await sleep(2_000);
    stop = true;
    await Promise.all(workers);
    expect(await drained).toBe(0);

    const total = [...tally.values()].reduce((a, b) => a + b, 0);
    const failed = total - (tally.get('200') ?? 0);
    report.push(
      `load through HAProxy, 8 clients, 5 s, GET /api/v1/me: ${total} requests, ${failed} failed ` +
        `(${JSON.stringify(Object.fromEntries(tally))}); instance 1 killed (SIGKILL) at 1.5 s, ` +
        'instance 2 drained (SIGTERM, exit 0) at 3 s',
    );
    expect(total).toBeGreaterThan(500);
    // Every request the balancer could retry was retried: none reached a client as a failure.
    expect(failed).toBe(0);
  });
});
