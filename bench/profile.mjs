// Where one request's CPU goes: runs the built server under `node --cpu-prof`, loads one endpoint
// and sums the profile's self time by package (node_modules/<name>), by our own source file, and
// by function.
//
//   npm run build && node bench/profile.mjs [me|introspect|refresh|login|hello] [PostgreSQL|PGlite]
//
// `refresh` runs 16 chains each rotating its own refresh token, `login` signs the bootstrap admin
// in with 4 requests in flight (as bench/run.mjs does); the others use autocannon. On PostgreSQL
// it also prints what the database did per request during the load: commits, rows written, WAL
// records and WAL flushes (pg_stat_database, pg_stat_wal), which tell round trips and commits
// apart from CPU.
//
// Settings: BENCH_PG_URL, BENCH_DURATION (8), BENCH_CONNECTIONS (50), PROFILE_TOP (25),
// PROFILE_OUT (a path to keep the .cpuprofile at, for a flame graph).

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  cpuSeconds,
  json,
  log,
  ROOT,
  sleep,
  startServer,
  stopAll,
  withStorage,
} from './lib/server.mjs';

const [endpoint = 'me', database = 'PostgreSQL'] = process.argv.slice(2);
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const TOP = Number(process.env.PROFILE_TOP ?? 25);

/**
 * Sums self time per node of a .cpuprofile, keyed by `key(callFrame)`, over the samples of its
 * last `windowUs` microseconds (the load and the stop, not the start-up).
 */
function summarise(profile, key, windowUs) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  let t = profile.startTime;
  const from = profile.endTime - windowUs;
  for (let i = 0; i < profile.samples.length; i += 1) {
    t += dt[i] ?? 0;
    if (t < from) {
      continue;
    }
    const node = byId.get(profile.samples[i]);
    const k = key(node.callFrame);
    self.set(k, (self.get(k) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return { total, rows: [...self].sort((a, b) => b[1] - a[1]) };
}

/**
 * Like summarise, but inclusive: each sample counts once for every key found anywhere on its
 * stack, so a layer's share includes what it calls (a guard's share includes the cache it asks).
 */
function summariseInclusive(profile, key, windowUs) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) {
    for (const child of n.children ?? []) {
      parent.set(child, n.id);
    }
  }
  const keysOf = new Map();
  const stackKeys = (id) => {
    let keys = keysOf.get(id);
    if (!keys) {
      const up = parent.get(id);
      keys = new Set(up === undefined ? [] : stackKeys(up));
      keys.add(key(byId.get(id).callFrame));
      keysOf.set(id, keys);
    }
    return keys;
  };
  const inclusive = new Map();
  const dt = profile.timeDeltas;
  let t = profile.startTime;
  let total = 0;
  const from = profile.endTime - windowUs;
  for (let i = 0; i < profile.samples.length; i += 1) {
    t += dt[i] ?? 0;
    if (t < from) {
      continue;
    }
    total += dt[i] ?? 0;
    for (const k of stackKeys(profile.samples[i])) {
      inclusive.set(k, (inclusive.get(k) ?? 0) + (dt[i] ?? 0));
    }
  }
  return { total, rows: [...inclusive].sort((a, b) => b[1] - a[1]) };
}

function where(frame) {
  const url = frame.url;
  if (!url) {
    return frame.functionName ? `(${frame.functionName})` : '(native)';
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) {
    return url;
  }
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? `src/${url.slice(dist + 6)}` : url;
}

function request(base, token) {
  switch (endpoint) {
    case 'me':
      return { url: `${base}/api/v1/me`, headers: { authorization: `Bearer ${token}` } };
    case 'introspect':
      return {
        url: `${base}/api/v1/auth/introspect`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ token }),
      };
    case 'hello':
      return { url: `${base}/health/live` };
    default:
      throw new Error(`unknown endpoint ${endpoint}`);
  }
}

async function signIn(base) {
  return json(
    await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ADMIN_USERNAME, password: ADMIN_PASSWORD }),
    }),
  );
}

/** One loop per state, each sending `step(state)` requests one after another for DURATION seconds. */
async function lanesLoad(pid, states, step) {
  const until = performance.now() + DURATION * 1000;
  let done = 0;
  const cpu = cpuSeconds(pid);
  await Promise.all(
    states.map(async (first) => {
      let state = first;
      while (performance.now() < until) {
        state = await step(state);
        done += 1;
      }
    }),
  );
  return { requests: done, cpu: cpuSeconds(pid) - cpu };
}

async function refreshLoad(base, pid) {
  const tokens = [];
  for (let i = 0; i < 16; i += 1) {
    tokens.push((await signIn(base)).refreshToken);
  }
  return lanesLoad(pid, tokens, async (token) => {
    const body = await json(
      await fetch(`${base}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: token }),
      }),
    );
    return body.refreshToken;
  });
}

/** Sign-in of one account, 4 in flight, as bench/run.mjs measures it. */
async function loginLoad(base, pid) {
  return lanesLoad(pid, [0, 1, 2, 3], async (lane) => {
    await signIn(base);
    return lane;
  });
}

/**
 * What the database has done so far (PostgreSQL only; null on PGlite): commits and rows written in
 * the bench database, WAL records and flushes of the whole server. Its statistics reach these
 * views within a second of each transaction, so read them after a pause.
 */
async function databaseCounters(url) {
  if (!url) {
    return null;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await sleep(1500);
    const { rows } = await client.query(
      `SELECT d.xact_commit, d.xact_rollback, d.tup_inserted, d.tup_updated, d.tup_deleted,
              w.wal_records, w.wal_sync
         FROM pg_stat_database d, pg_stat_wal w
        WHERE d.datname = current_database()`,
    );
    // The server's connections to the bench database: their CPU is the database's share of a
    // request (the WAL writer's and the checkpointer's are left out).
    const backends = await client.query(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    return {
      ...Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)])),
      backendCpu: new Map(backends.rows.map(({ pid }) => [pid, cpuSeconds(pid)])),
    };
  } finally {
    await client.end();
  }
}

async function run(env) {
  const url = env.DATABASE_URL;
  const profiles = mkdtempSync(join(tmpdir(), 'portcullis-profile-'));
  const first = await startServer(`${database} (setup)`, env);
  await first.stop();
  const server = await startServer(`${database} (profiled)`, env, [
    '--cpu-prof',
    `--cpu-prof-dir=${profiles}`,
    '--cpu-prof-interval=200',
    // The modules as tsc wrote them, not the bundle: the profile can then name each package and
    // source file. At steady state both run the same code.
    join(ROOT, 'dist/boot.js'),
  ]);
  let requests;
  let cpu;
  let loadStarted;
  let before;
  let after;
  try {
    const { accessToken } = await signIn(server.base);
    if (endpoint === 'refresh' || endpoint === 'login') {
      const load = endpoint === 'refresh' ? refreshLoad : loginLoad;
      before = await databaseCounters(url);
      loadStarted = performance.now();
      ({ requests, cpu } = await load(server.base, server.child.pid));
      after = await databaseCounters(url);
    } else {
      const options = request(server.base, accessToken);
      await autocannon({ ...options, connections: CONNECTIONS, duration: 2 });
      const before = cpuSeconds(server.child.pid);
      loadStarted = performance.now();
      const result = await autocannon({ ...options, connections: CONNECTIONS, duration: DURATION });
      cpu = cpuSeconds(server.child.pid) - before;
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors`);
      }
      requests = result.requests.total;
    }
  } finally {
    await server.stop();
  }
  const windowUs = (performance.now() - loadStarted) * 1000;
  const file = readdirSync(profiles).find((f) => f.endsWith('.cpuprofile'));
  const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8'));
  if (process.env.PROFILE_OUT) {
    // For a flame graph: open it in Chrome DevTools (Performance) or speedscope.
    writeFileSync(process.env.PROFILE_OUT, JSON.stringify(profile));
  }
  rmSync(profiles, { recursive: true, force: true });
  const msPerRequest = (cpu / requests) * 1000;
  process.stdout.write(
    `${database} ${endpoint}: ${requests} requests, ${msPerRequest.toFixed(3)} CPU ms/req ` +
      `(shares of the profile's samples from the load on, stop included)\n\n`,
  );
  if (before && after) {
    const per = (k) => ((after[k] - before[k]) / requests).toFixed(2);
    process.stdout.write(
      `database per request: ${per('xact_commit')} commits, ${per('xact_rollback')} rollbacks, ` +
        `${per('tup_inserted')} rows inserted, ${per('tup_updated')} updated, ` +
        `${per('tup_deleted')} deleted; ${per('wal_records')} WAL records, ` +
        `${per('wal_sync')} WAL flushes (all databases)\n`,
    );
    // Connections opened during the load count from zero.
    let backendCpu = 0;
    for (const [pid, cpu] of after.backendCpu) {
      backendCpu += cpu - (before.backendCpu.get(pid) ?? 0);
    }
    process.stdout.write(
      `database server CPU (its connections to this database): ` +
        `${((backendCpu / requests) * 1000).toFixed(3)} ms/req\n\n`,
    );
  }
  const fn = (f) => `${f.functionName || '(anonymous)'} ${where(f)}:${f.lineNumber + 1}`;
  for (const [title, key, sum] of [
    ['by package or file (self)', where, summarise],
    ['by function (self)', fn, summarise],
    ['by package or file (inclusive: with what it calls)', where, summariseInclusive],
    ['by function (inclusive)', fn, summariseInclusive],
  ]) {
    const { total, rows } = sum(profile, key, windowUs);
    process.stdout.write(`${title}\n`);
    for (const [k, us] of rows.slice(0, TOP)) {
      process.stdout.write(`  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${k}\n`);
    }
    process.stdout.write('\n');
  }
}

async function main() {
  await withStorage(database, run);
}

main().catch((error) => {
  log(`failed: ${error instanceof Error ? error.stack : error}`);
  stopAll();
  process.exit(1);
});
