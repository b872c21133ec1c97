// What the benchmarks share: starting the built server as production runs it, and reporting.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MAIN = join(ROOT, 'dist', 'main.js');
export const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// One database per run: two runs on one PostgreSQL (several worktrees) must not drop each other's.
const BENCH_DB = `portcullis_bench_${process.pid}`;
export const ADMIN_USERNAME = 'admin';
export const ADMIN_PASSWORD = `bench-${randomBytes(12).toString('base64url')}`;

export function log(message) {
  process.stderr.write(`[bench] ${message}\n`);
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The memory settings the container image runs the service with: the `ENV` instruction of
 * docker/Dockerfile that sets MALLOC_ARENA_MAX, so the benchmark measures what production runs.
 * BENCH_RUNTIME_ENV=0 leaves them out (to see what they change).
 */
export function runtimeEnv() {
  if (process.env.BENCH_RUNTIME_ENV === '0') {
    return {};
  }
  const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');
  const instruction = /^ENV MALLOC_ARENA_MAX=(?:[^\n]*\\\n)*[^\n]*$/m.exec(dockerfile)?.[0];
  if (!instruction) {
    throw new Error('docker/Dockerfile has no ENV MALLOC_ARENA_MAX=… instruction');
  }
  return Object.fromEntries(
    [...instruction.matchAll(/([A-Z_]+)=(\S+)/g)].map(([, key, value]) => [key, value]),
  );
}

/** Resident memory (current and peak) of a process, in MiB, from /proc (Linux only). */
export function memoryMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux only). */
export function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
  } catch {
    return NaN;
  }
}

/** Every server started, so that a failed run stops them instead of leaving them running. */
const running = new Set();

/** Stops every server still running (after a failure); the caller then exits. */
export function stopAll() {
  for (const child of running) {
    child.kill('SIGTERM');
  }
}

/** Starts `node dist/main.js` (or `node ...args`) and resolves once GET /health/ready answers 200. */
export async function startServer(label, env, args = [MAIN]) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      MANAGEMENT_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      ADMIN_USERNAME,
      ADMIN_PASSWORD,
      ...runtimeEnv(),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  running.add(child);
  void exited.then(() => running.delete(child));
  let exit;
  void exited.then((e) => (exit = e));
  const deadline = started + 120_000;
  for (;;) {
    if (exit) {
      throw new Error(`${label}: server exited (${JSON.stringify(exit)}) before ready:\n${output}`);
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${label}: not ready after 120 s:\n${output}`);
    }
    try {
      const response = await fetch(`${base}/health/ready`);
      if (response.status === 200) {
        break;
      }
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  const startupMs = performance.now() - started;
  log(`${label}: ready in ${startupMs.toFixed(0)} ms on port ${port}`);
  return {
    base,
    child,
    startupMs,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      const result = await Promise.race([exited, sleep(30_000).then(() => undefined)]);
      if (!result) {
        child.kill('SIGKILL');
        throw new Error(`${label}: did not exit within 30 s of SIGTERM`);
      }
      return result;
    },
  };
}

export async function json(response) {
  const body = await response.json();
  if (!response.ok) {
    throw new Error(`${response.url} answered ${response.status}: ${JSON.stringify(body)}`);
  }
  return body;
}

export async function login(base) {
  const body = await json(
    await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ADMIN_USERNAME, password: ADMIN_PASSWORD }),
    }),
  );
  if (!body.accessToken) {
    throw new Error(`login gave no access token: ${JSON.stringify(body)}`);
  }
  return body.accessToken;
}

export async function withBenchDatabase(run) {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${BENCH_DB}`;
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${BENCH_DB}`);
    return await run(dbUrl.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
}

/**
 * Runs `run(env)` on fresh storage of one database: a PostgreSQL database made for the run (and
 * dropped after), or an empty PGlite data folder. `env` is what the server needs to use it.
 */
export async function withStorage(database, run) {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  try {
    if (database === 'PGlite') {
      return await run({ DATA_DIR: dataDir });
    }
    return await withBenchDatabase((url) =>
      run({
        DATABASE_URL: url,
        DATA_DIR: dataDir,
        ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      }),
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * `run(database, env)` on PostgreSQL, then on PGlite, each on fresh storage (withStorage), less
 * the one BENCH_SKIP_POSTGRES=1 or BENCH_SKIP_PGLITE=1 skips. Resolves to their results in order.
 */
export async function forEachDatabase(run) {
  const results = [];
  for (const database of ['PostgreSQL', 'PGlite']) {
    if (process.env[database === 'PGlite' ? 'BENCH_SKIP_PGLITE' : 'BENCH_SKIP_POSTGRES'] !== '1') {
      results.push(await withStorage(database, (env) => run(database, env)));
    }
  }
  return results;
}

export function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export const fixed = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
