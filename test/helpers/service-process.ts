import { randomBytes } from 'node:crypto';
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { TEST_ENCRYPTION_KEY } from './test-app.js';

/** The built service (`dist/main.js`, built by global-setup.ts when stale). */
export const MAIN = resolve('dist/main.js');

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (!address || typeof address === 'string') {
    throw new Error('no port');
  }
  return address.port;
}

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  managementUrl: string;
  /** Everything written to stdout so far. */
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop: () => Promise<number | null>;
}

/**
 * Runs `node dist/main.js` as an operator would, on free ports, with its own fresh database: a
 * scratch PostgreSQL database (when the suite runs on PostgreSQL) or an embedded PGlite copied
 * from the suite's template. Resolves once /health/ready answers 200 on the public port.
 */
export async function startService(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-process-'));
  const template = process.env.PORTCULLIS_PGLITE_TEMPLATE;
  // A DATABASE_URL given by the caller (several instances on one database) is used as it is.
  const database = env.DATABASE_URL ? undefined : await scratchDatabase();
  if (!database && template) {
    cpSync(template, join(dataDir, 'pgdata'), { recursive: true });
  }
  const [port, managementPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      MANAGEMENT_PORT: String(managementPort),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      ...(database ? { DATABASE_URL: database.url, ENCRYPTION_KEY: TEST_ENCRYPTION_KEY } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const cleanup = async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
  };
  void exited.then(cleanup);
  const url = `http://127.0.0.1:${port}`;
  const service: ServiceProcess = {
    child,
    url,
    managementUrl: `http://127.0.0.1:${managementPort}`,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
  const deadline = Date.now() + 50_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const ready = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) {
      return service;
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  child.kill('SIGKILL');
  await exited;
  throw new Error(`the service did not become ready:\n${out}\n${err}`);
}

/** On PostgreSQL, a database of its own (so that its first start is a real first start). */
async function scratchDatabase(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const adminUrl = process.env.PORTCULLIS_TEST_DB_ADMIN;
  if (!adminUrl) {
    return undefined;
  }
  const name = `portcullis_process_${process.pid}_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const run = async (sql: string) => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  await run(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/** The JSON log lines of a service's output (the first-admin box and blank lines are not JSON). */
export function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
