// Benchmark: what an authenticated request costs, and how fast the service starts.
//
//   npm run bench            (builds first; needs PostgreSQL, see bench/README.md)
//
// Runs the built server (dist/main.js) as a child process, the way it runs in production, and
// drives it with autocannon from this process over loopback:
//   1. GET  /health/live             framework baseline: routing, hooks, JSON, no auth, no database
//   2. GET  /api/v1/me               bearer auth (ES256 verify + session check + user state, both
//                                    behind 2-second in-process caches) and one SELECT of the user
//   3. POST /api/v1/auth/introspect  the admin's bearer checks, then the same checks of the token
//                                    introspected (RFC 7662: the caller authenticates)
// first on PostgreSQL, then on the embedded PGlite. It also measures the time from spawn to
// /health/ready answering 200 and the server's memory. Total run time is well under a minute.
//
// Settings (environment): BENCH_PG_URL (a database the benchmark may create databases from,
// default postgres://postgres@127.0.0.1:5432/postgres), BENCH_DURATION (seconds per endpoint,
// default 5), BENCH_CONNECTIONS (default 10), BENCH_SKIP_PGLITE=1, BENCH_SKIP_POSTGRES=1.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import {
  ADMIN_USERNAME,
  cpuSeconds,
  fixed,
  json,
  log,
  login,
  MAIN,
  memoryMiB,
  startServer,
  stopAll,
  table,
  withBenchDatabase,
} from './lib/server.mjs';
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

function scenarios(token) {
  return [
    { name: 'GET /health/live', path: '/health/live', method: 'GET', headers: {} },
    {
      name: 'GET /api/v1/me',
      path: '/api/v1/me',
      method: 'GET',
      headers: { authorization: `Bearer ${token}` },
    },
    {
      name: 'POST /api/v1/auth/introspect',
      path: '/api/v1/auth/introspect',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ token }),
    },
  ];
}

/** Checks each scenario answers what it should before load is put on it. */
async function sanityCheck(base, token) {
  const me = await json(
    await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } }),
  );
  if (me.username !== ADMIN_USERNAME) {
    throw new Error(`/me answered ${JSON.stringify(me)}`);
  }
  const introspection = await json(
    await fetch(`${base}/api/v1/auth/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ token }),
    }),
  );
  if (introspection.active !== true) {
    throw new Error(`introspect answered ${JSON.stringify(introspection)}`);
  }
}

function cannon(options) {
  return autocannon({ connections: CONNECTIONS, pipelining: 1, ...options });
}

/** Loads one endpoint for DURATION seconds; fails on any answer but 2xx. */
async function loadOne(label, server, name, options) {
  const cpuBefore = cpuSeconds(server.child.pid);
  const result = await cannon({ ...options, duration: DURATION });
  const cpu = (cpuSeconds(server.child.pid) - cpuBefore) / result.duration;
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(
      `${label} ${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors ` +
        `(${JSON.stringify(result.statusCodeStats)})`,
    );
  }
  log(`${label} ${name}: ${result.requests.average.toFixed(0)} req/s`);
  return {
    database: label,
    endpoint: name,
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    serverCpu: cpu,
  };
}

/** Warms the JIT and the caches briefly, then loads each scenario for DURATION seconds. */
async function measure(label, server, token) {
  const list = scenarios(token);
  await cannon({ url: server.base, duration: 1, requests: list.map(({ name: _n, ...r }) => r) });
  const rows = [];
  for (const { name, path, ...request } of list) {
    rows.push(await loadOne(label, server, name, { url: server.base + path, ...request }));
  }
  return rows;
}

/** The same route on a bare Fastify server: what this machine gives at this moment. */
const BARE_FASTIFY = `
import Fastify from 'fastify';
const app = Fastify({ logger: false });
app.get('/health/live', async () => ({ status: 'ok' }));
app.get('/health/ready', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

async function benchBareFastify(loads) {
  const server = await startServer('bare Fastify', {}, ['--input-type=module', '-e', BARE_FASTIFY]);
  try {
    const url = `${server.base}/health/live`;
    loads.push(await loadOne('(reference)', server, 'bare Fastify GET /health/live', { url }));
  } finally {
    await server.stop();
  }
}

/**
 * Starts the server twice on the same storage: once empty (migrations, signing key, first admin),
 * then again as a restart, which is the one put under load.
 */
async function startTwiceAndLoad(database, storage, starts, loads) {
  // A cold first start: V8's compile cache (main.ts enables it) starts empty, and the restart
  // finds what the first start left in it, as on a fresh install.
  const compileCache = mkdtempSync(join(tmpdir(), 'portcullis-bench-compile-cache-'));
  const env = { ...storage, NODE_COMPILE_CACHE: compileCache };
  try {
    await startTwiceAndLoadIn(database, env, starts, loads);
  } finally {
    rmSync(compileCache, { recursive: true, force: true });
  }
}

async function startTwiceAndLoadIn(database, env, starts, loads) {
  const first = await startServer(`${database} (first start)`, env);
  const firstMem = memoryMiB(first.child.pid);
  const firstExit = await first.stop();
  starts.push({
    database,
    start: 'first (empty)',
    ...common(first, firstMem, firstMem, firstExit),
  });
  const second = await startServer(`${database} (second start)`, env);
  const atReady = memoryMiB(second.child.pid);
  loads.push(...(await measure(database, second, await prepare(second))));
  const after = memoryMiB(second.child.pid);
  const exit = await second.stop();
  starts.push({ database, start: 'second (restart)', ...common(second, atReady, after, exit) });
}

async function benchPostgres(starts, loads) {
  await withBenchDatabase(async (url) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
    try {
      const env = {
        DATABASE_URL: url,
        DATA_DIR: dataDir,
        ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      };
      await startTwiceAndLoad('PostgreSQL', env, starts, loads);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

async function benchPglite(starts, loads) {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  try {
    await startTwiceAndLoad('PGlite', { DATA_DIR: dataDir }, starts, loads);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function prepare(server) {
  const token = await login(server.base);
  await sanityCheck(server.base, token);
  return token;
}

function common(server, atReady, after, exit) {
  return {
    startupMs: server.startupMs,
    rssAtReady: atReady.rss,
    rssAfter: after.rss,
    peakRss: after.peak,
    exit: exit.code ?? exit.signal,
  };
}

async function main() {
  if (!existsSync(MAIN)) {
    throw new Error('dist/main.js is missing: run `npm run build` first (or `npm run bench`)');
  }
  const began = performance.now();
  const load = loadavg()[0];
  log(
    `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), ` +
      `load average ${load.toFixed(2)}; ${DURATION} s per endpoint, ${CONNECTIONS} connections`,
  );
  if (load > cpus().length / 2) {
    log('warning: the machine is busy; the numbers below will be lower and noisier than usual');
  }
  const starts = [];
  const loads = [];
  await benchBareFastify(loads);
  if (process.env.BENCH_SKIP_POSTGRES !== '1') {
    await benchPostgres(starts, loads);
  }
  if (process.env.BENCH_SKIP_PGLITE !== '1') {
    await benchPglite(starts, loads);
  }

  const out = [];
  out.push(
    `Portcullis benchmark, ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ` +
      `${cpus().length} cores, load average at start ${load.toFixed(2)}; ` +
      `autocannon ${CONNECTIONS} connections, ${DURATION} s per row, loopback`,
    '',
    table(
      ['database', 'endpoint', 'req/s', 'p50 ms', 'p99 ms', 'server CPU', 'CPU ms/req'],
      loads.map((r) => [
        r.database,
        r.endpoint,
        fixed(r.reqPerSec),
        fixed(r.p50, 1),
        fixed(r.p99, 1),
        `${fixed(r.serverCpu * 100)} %`,
        fixed((r.serverCpu / r.reqPerSec) * 1000, 3),
      ]),
    ),
    '',
    table(
      [
        'database',
        'start',
        'spawn → ready ms',
        'RSS at ready MiB',
        'RSS after load MiB',
        'peak RSS MiB',
        'exit on SIGTERM',
      ],
      starts.map((s) => [
        s.database,
        s.start,
        fixed(s.startupMs),
        fixed(s.rssAtReady),
        s.rssAfter === s.rssAtReady ? '-' : fixed(s.rssAfter),
        fixed(s.peakRss),
        s.exit,
      ]),
    ),
    '',
    `(total ${((performance.now() - began) / 1000).toFixed(1)} s)`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? error.message : error}\n`);
  stopAll();
  process.exit(1);
});
