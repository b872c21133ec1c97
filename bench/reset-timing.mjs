// Benchmark: can the timing of a reset request tell account states apart in generic mode?
//
//   npm run build && node bench/reset-timing.mjs      (also part of `npm run bench`)
//
// Starts the built server with PASSWORD_RESET_DISCLOSURE=generic, creates accounts with and
// without an email address, then asks for reset links for three kinds of identifier, interleaved
// in a random order so that drift in the machine's load falls on all three alike:
//   unknown      a name no account has
//   no email     the username of an account without an email address
//   with email   the username of an account with one (a link is mailed)
// Each identifier is asked for at most 5 times (the per-identifier allowance) from its own client
// address (TRUST_PROXY, X-Forwarded-For), so no answer is a 429. Requests are spaced by a pause,
// so that the worker's work on the previous request (which differs by state, after the answer)
// is done before the next one is timed. The contract asks that the three medians differ by less
// than 3 ms; the script prints them, on PostgreSQL and on PGlite, and exits 1 if they do not.
//
// Settings (environment): BENCH_PG_URL, BENCH_SKIP_POSTGRES=1, BENCH_SKIP_PGLITE=1,
// BENCH_RESET_SAMPLES (per state and database, default 150), BENCH_RESET_PAUSE_MS (default 15).

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import {
  fixed,
  json,
  log,
  login,
  MAIN,
  sleep,
  startServer,
  stopAll,
  table,
  forEachDatabase,
} from './lib/server.mjs';

const SAMPLES = Number(process.env.BENCH_RESET_SAMPLES ?? 150);
const PAUSE_MS = Number(process.env.BENCH_RESET_PAUSE_MS ?? 15);
/** Requests per identifier: the per-identifier allowance (src/rate-limit/backoff-policy.ts). */
const PER_IDENTIFIER = 5;
export const LIMIT_MS = 3;
const STATES = ['unknown', 'no email', 'with email'];

let addressCounter = 0;
/** A client address of its own for each request (198.18.0.0/15 is meant for benchmarks). */
function nextAddress() {
  addressCounter += 1;
  return `198.18.${Math.floor(addressCounter / 250) % 256}.${1 + (addressCounter % 250)}`;
}

function shuffle(items) {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = randomBytes(4).readUInt32LE() % (i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function createUsers(base, token, count, withEmail, tag) {
  const names = [];
  for (let i = 0; i < count; i += 1) {
    const username = `bench-${tag}-${i}-${randomBytes(3).toString('hex')}`;
    await json(
      await fetch(`${base}/api/v1/admin/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          username,
          password: `bench password ${randomBytes(9).toString('base64url')}`,
          ...(withEmail ? { email: `${username}@example.com` } : {}),
          temporaryPassword: false,
        }),
      }),
    );
    names.push(username);
  }
  return names;
}

/** One reset request, timed from the client: milliseconds to the complete answer. */
async function timedRequest(base, identifier) {
  const started = performance.now();
  const response = await fetch(`${base}/api/v1/password-reset/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': nextAddress() },
    body: JSON.stringify({ identifier }),
  });
  const text = await response.text();
  const elapsed = performance.now() - started;
  if (response.status !== 202) {
    throw new Error(`${identifier}: answered ${response.status} ${text}`);
  }
  return { elapsed, text };
}

export async function measure(database, env) {
  const server = await startServer(database, {
    ...env,
    PASSWORD_RESET_DISCLOSURE: 'generic',
    TRUST_PROXY: 'true',
  });
  try {
    const token = await login(server.base);
    const accounts = Math.ceil(SAMPLES / PER_IDENTIFIER);
    log(`${database}: creating ${accounts} accounts with and ${accounts} without email`);
    const names = {
      unknown: Array.from(
        { length: accounts },
        (_, i) => `nobody-${i}-${randomBytes(3).toString('hex')}`,
      ),
      'no email': await createUsers(server.base, token, accounts, false, 'plain'),
      'with email': await createUsers(server.base, token, accounts, true, 'mail'),
    };
    const plan = shuffle(
      STATES.flatMap((state) =>
        Array.from({ length: SAMPLES }, (_, i) => ({
          state,
          identifier: names[state][i % accounts],
        })),
      ),
    );
    // Warm-up: a few requests of each kind, not counted.
    for (const state of STATES) {
      await timedRequest(server.base, `warm-up-${state}-${randomBytes(3).toString('hex')}`);
    }
    const times = Object.fromEntries(STATES.map((s) => [s, []]));
    const bodies = new Set();
    for (const { state, identifier } of plan) {
      const { elapsed, text } = await timedRequest(server.base, identifier);
      times[state].push(elapsed);
      bodies.add(text);
      await sleep(PAUSE_MS);
    }
    if (bodies.size !== 1) {
      throw new Error(`${database}: the answers differ: ${[...bodies].join(' | ')}`);
    }
    return STATES.map((state) => {
      const sorted = [...times[state]].sort((a, b) => a - b);
      return {
        database,
        state,
        n: sorted.length,
        p25: quantile(sorted, 0.25),
        median: quantile(sorted, 0.5),
        p75: quantile(sorted, 0.75),
        p90: quantile(sorted, 0.9),
      };
    });
  } finally {
    await server.stop();
  }
}

async function main() {
  if (!existsSync(MAIN)) {
    throw new Error('dist/main.js is missing: run `npm run build` first (or `npm run bench`)');
  }
  const load = loadavg()[0];
  log(
    `node ${process.version}, ${cpus().length} cores, load average ${load.toFixed(2)}; ` +
      `${SAMPLES} requests per state, ${PAUSE_MS} ms apart`,
  );
  const rows = (await forEachDatabase(measure)).flat();

  const verdicts = [];
  for (const database of new Set(rows.map((r) => r.database))) {
    const medians = rows.filter((r) => r.database === database).map((r) => r.median);
    const spread = Math.max(...medians) - Math.min(...medians);
    verdicts.push({ database, spread, ok: spread < LIMIT_MS });
  }
  process.stdout.write(
    [
      `Generic-mode reset request timing, ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ` +
        `${cpus().length} cores, load average at start ${load.toFixed(2)}; ` +
        `${SAMPLES} requests per state, client-side, ${PAUSE_MS} ms apart`,
      '',
      table(
        ['database', 'account state', 'n', 'p25 ms', 'median ms', 'p75 ms', 'p90 ms'],
        rows.map((r) => [
          r.database,
          r.state,
          r.n,
          fixed(r.p25, 2),
          fixed(r.median, 2),
          fixed(r.p75, 2),
          fixed(r.p90, 2),
        ]),
      ),
      '',
      ...verdicts.map(
        (v) =>
          `${v.database}: medians differ by ${fixed(v.spread, 2)} ms ` +
          `(limit ${LIMIT_MS} ms): ${v.ok ? 'ok' : 'TOO FAR APART'}`,
      ),
      '',
    ].join('\n'),
  );
  if (verdicts.some((v) => !v.ok)) {
    process.exitCode = 1;
  }
}

// Run on its own (`node bench/reset-timing.mjs`); bench/run.mjs imports `measure` instead.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error) => {
    process.stderr.write(`[bench] failed: ${error instanceof Error ? error.message : error}\n`);
    stopAll();
    process.exit(1);
  });
}
