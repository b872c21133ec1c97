// Every figure of issue #11 ("Speed and footprint") in one run, each beside its target.
//
//   npm run bench                       (builds first; needs PostgreSQL, see bench/README.md)
//   BENCH_STRICT=1 npm run bench        exits 1 when a target is missed
//
// The machine is shared and its speed varies from minute to minute, so throughput targets are
// ratios to a ceiling measured in the same run, just before: a bare Fastify hello for the HTTP
// rows, argon2id verifications in a process of their own for sign-in. For each database
// (PostgreSQL, then embedded PGlite) it:
//   1. starts `node dist/main.js` on empty storage (migrations, signing key, first admin): start
//      time; stops it, starts it again on the same storage: start time, idle memory;
//   2. warms up (BENCH_WARMUP_REQUESTS of the loaded endpoints), then measures memory again
//      (post-warm-up);
//   3. GET /api/v1/me and POST /api/v1/auth/introspect (BENCH_CONNECTIONS connections,
//      BENCH_DURATION s each), each just after the bare Fastify ceiling it is compared with, with
//      the server's CPU per request;
//   4. refresh: BENCH_REFRESH_CHAINS chains of rotating refresh tokens (each answer's token is the
//      chain's next request);
//   5. the argon2id ceiling, then sign-in with BENCH_LOGIN_IN_FLIGHT requests in flight;
//   6. memory after that load (every kind of request has run: the warm-up of the leak check),
//      then BENCH_LEAK_REQUESTS more requests (/me and introspect) and memory once more: a leak
//      would show as growth over the first reading;
//   7. the generic-mode reset timing (bench/reset-timing.mjs) on a server of its own.
// Any answer that is not 2xx fails the run.
//
// Settings (environment): BENCH_PG_URL, BENCH_DURATION (5), BENCH_CONNECTIONS (50),
// BENCH_REFRESH_CHAINS (16), BENCH_LOGIN_IN_FLIGHT (4), BENCH_LEAK_REQUESTS (100000),
// BENCH_WARMUP_REQUESTS (20000),
// BENCH_SKIP_POSTGRES=1, BENCH_SKIP_PGLITE=1, BENCH_SKIP_RESET=1, BENCH_STRICT=1.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  cpuSeconds,
  fixed,
  json,
  log,
  MAIN,
  memoryMiB,
  ROOT,
  runtimeEnv,
  sleep,
  startServer,
  stopAll,
  table,
  forEachDatabase,
} from './lib/server.mjs';
import { LIMIT_MS as RESET_LIMIT_MS, measure as measureResetTiming } from './reset-timing.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const REFRESH_CHAINS = Number(process.env.BENCH_REFRESH_CHAINS ?? 16);
const LOGIN_IN_FLIGHT = Number(process.env.BENCH_LOGIN_IN_FLIGHT ?? 4);
const LEAK_REQUESTS = Number(process.env.BENCH_LEAK_REQUESTS ?? 100_000);
const WARMUP_REQUESTS = Number(process.env.BENCH_WARMUP_REQUESTS ?? 20_000);
/** How long the server is left alone before its memory is read "idle" or "settled". */
const SETTLE_MS = 2000;

/** The targets of issue #11. `kind` says how a value is compared. */
const TARGETS = {
  me: { min: 0.15, text: '≥ 15 % of bare Fastify' },
  introspect: { min: 0.3, text: '≥ 30 % of bare Fastify' },
  refresh: { min: 1000, text: '≥ 1,000/s', only: 'PostgreSQL' },
  login: { min: 0.85, text: '≥ 85 % of argon2id ceiling' },
  readyExisting: {
    PostgreSQL: { max: 1000, text: '≤ 1,000 ms' },
    PGlite: { max: 3000, text: '≤ 3,000 ms' },
  },
  readyEmpty: { PostgreSQL: { max: 2000, text: '≤ 2,000 ms' } },
  idleRss: { PostgreSQL: { max: 130, text: '≤ 130 MiB' }, PGlite: { max: 400, text: '≤ 400 MiB' } },
  rssAfterLoad: { PostgreSQL: { max: 200, text: '≤ 200 MiB' } },
  leak: { max: 0.1, text: '≤ +10 % of RSS after the rows above' },
  reset: { max: RESET_LIMIT_MS, text: `< ${RESET_LIMIT_MS} ms spread` },
};

function verdict(target, value) {
  if (!target) {
    return { target: '—', met: '—' };
  }
  if (!Number.isFinite(value)) {
    return { target: target.text, met: 'not met' };
  }
  const ok =
    (target.min === undefined || value >= target.min) &&
    (target.max === undefined || value <= target.max);
  return { target: target.text, met: ok ? 'met' : 'NOT MET' };
}

const percent = (ratio) => `${fixed(ratio * 100, 1)} %`;

function cannon(options) {
  return autocannon({ connections: CONNECTIONS, pipelining: 1, ...options });
}

/** Loads one request for DURATION seconds (or `amount` requests); fails on any answer but 2xx. */
async function load(label, pid, options) {
  const cpuBefore = cpuSeconds(pid);
  const result = await cannon({ duration: DURATION, ...options });
  const cpu = cpuSeconds(pid) - cpuBefore;
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `${label}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ` +
        `${result.timeouts} timeouts (${JSON.stringify(result.statusCodeStats)})`,
    );
  }
  const requests = result.requests.total;
  const perSecond = requests / result.duration;
  log(
    `${label}: ${perSecond.toFixed(0)} req/s, ${((cpu / requests) * 1000).toFixed(3)} CPU ms/req`,
  );
  return {
    label,
    perSecond,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuMsPerRequest: (cpu / requests) * 1000,
    requests,
  };
}

function authenticated(base, token) {
  return {
    me: { url: `${base}/api/v1/me`, headers: { authorization: `Bearer ${token}` } },
    introspect: {
      url: `${base}/api/v1/auth/introspect`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ token }),
    },
  };
}

/** The ceiling of the HTTP rows: a bare Fastify server answering a hello, as loaded as the rest. */
const BARE_FASTIFY = `
import Fastify from 'fastify';
const app = Fastify({ logger: false });
app.get('/health/ready', async () => ({ status: 'ok' }));
app.get('/hello', async () => ({ hello: 'world' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

async function bareFastify(row) {
  const server = await startServer('bare Fastify', {}, ['--input-type=module', '-e', BARE_FASTIFY]);
  try {
    return await load(`bare Fastify GET /hello, before ${row}`, server.child.pid, {
      url: `${server.base}/hello`,
    });
  } finally {
    await server.stop();
  }
}

/**
 * A reference, not a target: the framework this service is built on (Nest on Fastify) answering
 * the same hello with nothing of ours (no guard, pipe, hook, log or metric): what is left of the
 * bare ceiling once the framework's own routing has run.
 */
const NEST_HELLO = `
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
class Hello {
  hello() { return { hello: 'world' }; }
  ready() { return { status: 'ok' }; }
}
Controller()(Hello);
for (const [method, path] of [['hello', 'hello'], ['ready', 'health/ready']]) {
  Get(path)(Hello.prototype, method, Object.getOwnPropertyDescriptor(Hello.prototype, method));
}
class AppModule {}
Module({ controllers: [Hello] })(AppModule);
const app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT), '127.0.0.1');
`;

async function nestHello() {
  const server = await startServer('Nest on Fastify', {}, [
    '--input-type=module',
    '-e',
    NEST_HELLO,
  ]);
  try {
    return await load('Nest on Fastify GET /hello (reference)', server.child.pid, {
      url: `${server.base}/hello`,
    });
  } finally {
    await server.stop();
  }
}

/**
 * The sign-in ceiling: argon2id verifications of a hash made with the service's parameters
 * (src/password-policy/password-hasher.service.ts), LOGIN_IN_FLIGHT at a time, in a process of
 * its own, for DURATION seconds. Prints verifications per second.
 */
const ARGON2_CEILING = `
import argon2 from 'argon2';
const options = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const hash = await argon2.hash('a bench password', options);
const inFlight = Number(process.env.IN_FLIGHT);
const until = performance.now() + Number(process.env.DURATION) * 1000;
let done = 0;
await Promise.all(Array.from({ length: inFlight }, async () => {
  while (performance.now() < until) {
    if (!(await argon2.verify(hash, 'a bench password'))) throw new Error('verify failed');
    done += 1;
  }
}));
const seconds = (performance.now() - until) / 1000 + Number(process.env.DURATION);
process.stdout.write(String(done / seconds));
`;

async function argon2Ceiling() {
  const child = spawn(process.execPath, ['--input-type=module', '-e', ARGON2_CEILING], {
    cwd: ROOT,
    // The server's runtime settings (its libuv thread pool runs the hashes): a ceiling with more
    // threads than the server has would measure a different machine.
    env: {
      PATH: process.env.PATH,
      ...runtimeEnv(),
      IN_FLIGHT: String(LOGIN_IN_FLIGHT),
      DURATION: String(DURATION),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const code = await new Promise((r) => child.once('exit', r));
  if (code !== 0) {
    throw new Error(`argon2 ceiling exited ${code}`);
  }
  const perSecond = Number(out);
  log(`argon2id ceiling: ${perSecond.toFixed(1)} verifications/s`);
  return perSecond;
}

async function signIn(base) {
  const response = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: ADMIN_USERNAME, password: ADMIN_PASSWORD }),
  });
  const body = await json(response);
  if (!body.accessToken || !body.refreshToken) {
    throw new Error(`sign-in gave no tokens: ${JSON.stringify(body)}`);
  }
  return body;
}

/** `lanes` loops, each sending `step(state)` requests one after another for DURATION seconds. */
async function lanes(label, pid, count, first, step) {
  // One after another: parallel sign-ins of one account are counted as attempts until their
  // passwords are checked, and more than five at once would be refused (ACCOUNT_POLICY).
  const states = [];
  for (let i = 0; i < count; i += 1) {
    states.push(await first());
  }
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  const until = started + DURATION * 1000;
  const latencies = [];
  await Promise.all(
    states.map(async (initial) => {
      let state = initial;
      while (performance.now() < until) {
        const t = performance.now();
        state = await step(state);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(pid) - cpuBefore;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  const perSecond = latencies.length / seconds;
  log(`${label}: ${perSecond.toFixed(1)}/s`);
  return {
    label,
    perSecond,
    p50: q(0.5),
    p99: q(0.99),
    cpuMsPerRequest: (cpu / latencies.length) * 1000,
    requests: latencies.length,
  };
}

function refreshChains(base, pid) {
  return lanes(
    `refresh, ${REFRESH_CHAINS} chains`,
    pid,
    REFRESH_CHAINS,
    async () => (await signIn(base)).refreshToken,
    async (refreshToken) => {
      const body = await json(
        await fetch(`${base}/api/v1/auth/refresh`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refreshToken }),
        }),
      );
      return body.refreshToken;
    },
  );
}

function logins(base, pid) {
  return lanes(
    `sign-in, ${LOGIN_IN_FLIGHT} in flight`,
    pid,
    LOGIN_IN_FLIGHT,
    async () => undefined,
    async () => {
      await signIn(base);
    },
  );
}

/** Reads a process's resident memory after leaving it alone for SETTLE_MS. */
async function settledRss(pid) {
  await sleep(SETTLE_MS);
  return memoryMiB(pid).rss;
}

async function benchDatabase(database, storage) {
  const compileCache = mkdtempSync(join(tmpdir(), 'portcullis-bench-compile-cache-'));
  // A fresh install: V8's compile cache starts empty and the restart finds what the first left.
  const env = { ...storage, NODE_COMPILE_CACHE: compileCache };
  const r = { database };
  try {
    const first = await startServer(`${database} (empty storage)`, env);
    r.readyEmpty = first.startupMs;
    r.exitEmpty = await first.stop();
    const server = await startServer(`${database} (existing storage)`, env);
    const pid = server.child.pid;
    try {
      r.readyExisting = server.startupMs;
      r.idleRss = await settledRss(pid);
      const { accessToken } = await signIn(server.base);
      const requests = authenticated(server.base, accessToken);
      const me = await json(await fetch(requests.me.url, { headers: requests.me.headers }));
      if (me.username !== ADMIN_USERNAME) {
        throw new Error(`/me answered ${JSON.stringify(me)}`);
      }
      const introspection = await json(await fetch(requests.introspect.url, requests.introspect));
      if (introspection.active !== true) {
        throw new Error(`introspect answered ${JSON.stringify(introspection)}`);
      }
      // Warm-up: enough requests for V8 to have optimised the hot paths (a server in production
      // runs for hours; the first few thousand requests of a fresh process run colder code).
      await cannon({
        url: server.base,
        amount: WARMUP_REQUESTS,
        duration: 0,
        requests: [requests.me, requests.introspect].map(({ url, ...rest }) => ({
          path: new URL(url).pathname,
          ...rest,
        })),
      });
      r.warmRss = await settledRss(pid);
      // The ceiling is measured just before each row it is the ceiling of: the machine is
      // shared, and its speed moves from one minute to the next.
      r.bareMe = await bareFastify('/me');
      r.me = await load(`${database} GET /api/v1/me`, pid, requests.me);
      r.bareIntrospect = await bareFastify('introspect');
      r.introspect = await load(
        `${database} POST /api/v1/auth/introspect`,
        pid,
        requests.introspect,
      );
      r.nest = await nestHello();
      r.refresh = await refreshChains(server.base, pid);
      r.argon2 = await argon2Ceiling();
      r.login = await logins(server.base, pid);
      r.loadedRss = await settledRss(pid);
      r.peakRss = memoryMiB(pid).peak;
      const half = Math.floor(LEAK_REQUESTS / 2);
      await load(`${database} ${half} × /me`, pid, { ...requests.me, duration: 0, amount: half });
      await load(`${database} ${LEAK_REQUESTS - half} × introspect`, pid, {
        ...requests.introspect,
        duration: 0,
        amount: LEAK_REQUESTS - half,
      });
      r.leakRss = await settledRss(pid);
    } finally {
      r.exit = await server.stop();
    }
    if (process.env.BENCH_SKIP_RESET !== '1') {
      const rows = await measureResetTiming(database, storage);
      const medians = rows.map((row) => row.median);
      r.resetSpread = Math.max(...medians) - Math.min(...medians);
      r.resetRows = rows;
    }
  } finally {
    rmSync(compileCache, { recursive: true, force: true });
  }
  return r;
}

function summary(r) {
  // A target given per database applies to those databases only.
  const pick = (target) =>
    'PostgreSQL' in target || 'PGlite' in target ? target[r.database] : target;
  const only = (target) => (!target.only || target.only === r.database ? target : undefined);
  const rows = [];
  const add = (figure, value, shown, target) => {
    const v = verdict(target, value);
    rows.push([r.database, figure, shown, v.target, v.met]);
  };
  const meRatio = r.me.perSecond / r.bareMe.perSecond;
  const inRatio = r.introspect.perSecond / r.bareIntrospect.perSecond;
  add(
    'GET /api/v1/me',
    meRatio,
    `${fixed(r.me.perSecond)} req/s = ${percent(meRatio)}; ${fixed(r.me.cpuMsPerRequest, 3)} CPU ms/req`,
    TARGETS.me,
  );
  add(
    'POST /api/v1/auth/introspect',
    inRatio,
    `${fixed(r.introspect.perSecond)} req/s = ${percent(inRatio)}; ` +
      `${fixed(r.introspect.cpuMsPerRequest, 3)} CPU ms/req`,
    TARGETS.introspect,
  );
  const nestRatio = r.nest.perSecond / r.bareIntrospect.perSecond;
  add(
    'Nest on Fastify hello (reference)',
    nestRatio,
    `${fixed(r.nest.perSecond)} req/s = ${percent(nestRatio)}; ${fixed(r.nest.cpuMsPerRequest, 3)} CPU ms/req`,
    undefined,
  );
  add(
    `refresh, ${REFRESH_CHAINS} chains`,
    r.refresh.perSecond,
    `${fixed(r.refresh.perSecond)}/s; ${fixed(r.refresh.cpuMsPerRequest, 3)} CPU ms/req`,
    only(TARGETS.refresh),
  );
  const loginRatio = r.login.perSecond / r.argon2;
  add(
    `sign-in, ${LOGIN_IN_FLIGHT} in flight`,
    loginRatio,
    `${fixed(r.login.perSecond, 1)}/s of ${fixed(r.argon2, 1)}/s = ${percent(loginRatio)}`,
    TARGETS.login,
  );
  add(
    'start → ready, empty storage',
    r.readyEmpty,
    `${fixed(r.readyEmpty)} ms`,
    pick(TARGETS.readyEmpty),
  );
  add(
    'start → ready, existing storage',
    r.readyExisting,
    `${fixed(r.readyExisting)} ms`,
    pick(TARGETS.readyExisting),
  );
  add('idle RSS', r.idleRss, `${fixed(r.idleRss)} MiB`, pick(TARGETS.idleRss));
  add(
    'RSS after load',
    r.loadedRss,
    `${fixed(r.loadedRss)} MiB (peak ${fixed(r.peakRss)})`,
    pick(TARGETS.rssAfterLoad),
  );
  // The rows above are the warm-up of the leak check: every kind of request (sign-ins too, with
  // their argon2 memory) has run before the reading it is compared with.
  const growth = r.leakRss / r.loadedRss - 1;
  add(
    `RSS after ${LEAK_REQUESTS.toLocaleString('en')} more requests`,
    growth,
    `${fixed(r.leakRss)} MiB; ${fixed(r.loadedRss)} after the rows above, ` +
      `${fixed(r.warmRss)} after the warm-up: ${growth >= 0 ? '+' : ''}${percent(growth)}`,
    TARGETS.leak,
  );
  if (r.resetSpread !== undefined) {
    add(
      'reset timing (generic mode)',
      r.resetSpread,
      `medians ${r.resetRows.map((row) => fixed(row.median, 2)).join(' / ')} ms ` +
        `(unknown / no email / with email): spread ${fixed(r.resetSpread, 2)} ms`,
      TARGETS.reset,
    );
  }
  return rows;
}

function details(r) {
  return [r.bareMe, r.me, r.bareIntrospect, r.introspect, r.nest, r.refresh, r.login].map((x) => [
    r.database,
    x.label.replace(`${r.database} `, ''),
    fixed(x.requests),
    fixed(x.perSecond, 1),
    fixed(x.p50, 1),
    fixed(x.p99, 1),
    fixed(x.cpuMsPerRequest, 3),
  ]);
}

async function main() {
  if (!existsSync(MAIN)) {
    throw new Error('dist/main.js is missing: run `npm run build` first (or `npm run bench`)');
  }
  const began = performance.now();
  const load0 = loadavg()[0];
  log(
    `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), ` +
      `load average ${load0.toFixed(2)}`,
  );
  const results = await forEachDatabase(benchDatabase);
  const rows = results.flatMap(summary);
  const missed = rows.filter((row) => row[4] === 'NOT MET').length;
  const out = [
    `Portcullis benchmark, ${new Date().toISOString().slice(0, 16)}Z, node ${process.version}, ` +
      `${cpus().length} cores, load average at start ${load0.toFixed(2)}, at end ` +
      `${loadavg()[0].toFixed(2)}; ${DURATION} s per row, ${CONNECTIONS} connections`,
    '',
    table(['database', 'figure', 'measured', 'target', 'met?'], rows),
    '',
    table(
      ['database', 'load', 'requests', 'per s', 'p50 ms', 'p99 ms', 'server CPU ms/req'],
      results.flatMap(details),
    ),
    '',
    `${missed === 0 ? 'every target met' : `${missed} target(s) not met`}; ` +
      `stops by SIGTERM exited ${results.map((r) => `${r.exitEmpty.code ?? r.exitEmpty.signal}, ${r.exit.code ?? r.exit.signal}`).join(', ')}; ` +
      `total ${((performance.now() - began) / 1000).toFixed(0)} s`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (process.env.BENCH_STRICT === '1' && missed > 0) {
    process.exitCode = 1;
  }
}

// Stopped by hand: stop the servers it started too.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    stopAll();
    process.exit(1);
  });
}

main().catch((error) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? error.stack : error}\n`);
  stopAll();
  process.exit(1);
});
