// Benchmark: the OpenID Provider's token endpoint, code exchange and refresh.
//
//   npm run build && node bench/oidc-token.mjs      (also the last step of `npm run bench`)
//
// Starts the built server (dist/main.js) as in production, registers a confidential first-party
// client through the admin API, signs the bootstrap admin in once through the hosted sign-in page
// (as a browser would: cookies, CSRF token), then collects authorization codes through single
// sign-on (each a few redirects, not timed). It then times, from this process over loopback:
//   1. POST /oidc/token grant_type=authorization_code  every code exchanged once (PKCE, client
//      secret, ID token signed with ES256), BENCH_CONNECTIONS at a time
//   2. POST /oidc/token grant_type=refresh_token       BENCH_CONNECTIONS chains of rotating
//      refresh tokens (each answer's token is the next request's), for BENCH_DURATION seconds
// first on PostgreSQL, then on the embedded PGlite. Any answer but 200 fails the run.
//
// Settings: BENCH_PG_URL, BENCH_DURATION (5), BENCH_CONNECTIONS (10), BENCH_OIDC_CODES (300),
// BENCH_SKIP_POSTGRES=1, BENCH_SKIP_PGLITE=1.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  cpuSeconds,
  fixed,
  json,
  log,
  login,
  MAIN,
  startServer,
  stopAll,
  table,
  forEachDatabase,
} from './lib/server.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const CODES = Number(process.env.BENCH_OIDC_CODES ?? 300);
const CALLBACK = 'http://127.0.0.1:9/callback';

const verifier = randomBytes(32).toString('base64url');
const challenge = createHash('sha256').update(verifier).digest('base64url');

/** A browser over fetch: cookies by name (all paths), redirects followed while they stay on `base`. */
function browser(base) {
  const publicBase = base.replace('127.0.0.1', 'localhost');
  const cookies = new Map();
  const local = (url) => url.replace(publicBase, base);
  async function request(url, init = {}) {
    const res = await fetch(local(new URL(url, base).href), {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair.indexOf('=');
      cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return res;
  }
  /** Follows redirects; answers the last page, or the redirect that leaves the server. */
  async function follow(res) {
    for (let hops = 0; hops < 20; hops++) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) {
        return { res, text: await res.text() };
      }
      const next = new URL(location, base).href;
      if (!local(next).startsWith(base)) {
        return { res, location: next };
      }
      await res.arrayBuffer();
      res = await request(next);
    }
    throw new Error('too many redirects');
  }
  return { request, follow };
}

function authorizationUrl(base, clientId) {
  const url = new URL('/oidc/auth', base);
  url.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: CALLBACK,
    scope: 'openid offline_access',
    prompt: 'consent',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
  }).toString();
  return url.href;
}

function codeOf(step) {
  const code = step.location && new URL(step.location).searchParams.get('code');
  if (!code) {
    throw new Error(`no code: ${step.location ?? step.res.status} ${step.text?.slice(0, 300)}`);
  }
  return code;
}

/** Registers the client, signs the admin in once, then collects CODES codes by single sign-on. */
async function prepare(base) {
  const adminToken = await login(base);
  const client = await json(
    await fetch(`${base}/api/v1/admin/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ name: 'bench', redirectUris: [CALLBACK], firstParty: true }),
    }),
  );
  const b = browser(base);
  const page = await b.follow(await b.request(authorizationUrl(base, client.clientId)));
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
  const action = new URL(page.res.url).pathname;
  const signedIn = await b.follow(
    await b.request(`${action}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        _csrf: csrf,
        username: ADMIN_USERNAME,
        password: ADMIN_PASSWORD,
      }).toString(),
    }),
  );
  const codes = [codeOf(signedIn)];
  while (codes.length < CODES) {
    codes.push(codeOf(await b.follow(await b.request(authorizationUrl(base, client.clientId)))));
  }
  const basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
  return { codes, basic };
}

async function token(base, basic, params) {
  const started = performance.now();
  const res = await fetch(`${base}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
    body: new URLSearchParams(params).toString(),
  });
  const body = await res.json();
  if (res.status !== 200) {
    throw new Error(`token endpoint answered ${res.status}: ${JSON.stringify(body)}`);
  }
  return { body, ms: performance.now() - started };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** Runs `worker` on CONNECTIONS lanes; reports throughput, latency and the server's CPU. */
async function timed(label, server, name, worker) {
  const cpuBefore = cpuSeconds(server.child.pid);
  const began = performance.now();
  const lanes = await Promise.all(Array.from({ length: CONNECTIONS }, (_, lane) => worker(lane)));
  const seconds = (performance.now() - began) / 1000;
  const cpu = (cpuSeconds(server.child.pid) - cpuBefore) / seconds;
  const latencies = lanes.flat().sort((a, b) => a - b);
  log(`${label} ${name}: ${(latencies.length / seconds).toFixed(0)} req/s`);
  return {
    database: label,
    endpoint: name,
    requests: latencies.length,
    reqPerSec: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    serverCpu: cpu,
  };
}

async function measure(label, server) {
  const { codes, basic } = await prepare(server.base);
  log(`${label}: ${codes.length} codes collected`);
  const refreshTokens = [];
  const queue = [...codes];
  const exchange = await timed(label, server, 'code exchange', async () => {
    const ms = [];
    for (let code = queue.shift(); code; code = queue.shift()) {
      const answer = await token(server.base, basic, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      });
      if (!answer.body.id_token || !answer.body.refresh_token) {
        throw new Error(`no ID or refresh token: ${JSON.stringify(answer.body)}`);
      }
      refreshTokens.push(answer.body.refresh_token);
      ms.push(answer.ms);
    }
    return ms;
  });
  const until = performance.now() + DURATION * 1000;
  const refresh = await timed(label, server, 'refresh (rotating)', async (lane) => {
    const ms = [];
    let current = refreshTokens[lane];
    while (performance.now() < until) {
      const answer = await token(server.base, basic, {
        grant_type: 'refresh_token',
        refresh_token: current,
      });
      current = answer.body.refresh_token;
      ms.push(answer.ms);
    }
    return ms;
  });
  return [exchange, refresh];
}

async function main() {
  if (!existsSync(MAIN)) {
    throw new Error('dist/main.js is missing: run `npm run build` first (or `npm run bench`)');
  }
  const load = loadavg()[0];
  log(
    `node ${process.version}, ${cpus().length} cores, load average ${load.toFixed(2)}; ` +
      `${CODES} codes, ${DURATION} s of refresh, ${CONNECTIONS} connections`,
  );
  const rows = (
    await forEachDatabase(async (database, env) => {
      const server = await startServer(database, env);
      try {
        return await measure(database, server);
      } finally {
        await server.stop();
      }
    })
  ).flat();
  process.stdout.write(
    [
      `Portcullis OpenID Connect token endpoint, ${new Date().toISOString().slice(0, 10)}, ` +
        `node ${process.version}, ${cpus().length} cores, load average at start ${load.toFixed(2)}; ` +
        `${CONNECTIONS} connections, loopback`,
      '',
      table(
        [
          'database',
          'POST /oidc/token',
          'requests',
          'req/s',
          'p50 ms',
          'p99 ms',
          'server CPU',
          'CPU ms/req',
        ],
        rows.map((r) => [
          r.database,
          r.endpoint,
          r.requests,
          fixed(r.reqPerSec),
          fixed(r.p50, 1),
          fixed(r.p99, 1),
          `${fixed(r.serverCpu * 100)} %`,
          fixed((r.serverCpu / r.reqPerSec) * 1000, 2),
        ]),
      ),
      '',
    ].join('\n'),
  );
}

main().catch((error) => {
  log(`failed: ${error instanceof Error ? error.stack : String(error)}`);
  stopAll();
  process.exit(1);
});
