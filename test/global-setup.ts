import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/**
 * With TEST_DATABASE_URL, the suite creates its own database on that server, hands its URL to
 * the test workers as PORTCULLIS_TEST_DB, and drops it afterwards (global-teardown.ts). Without
 * it, every test app runs on embedded PGlite in a temporary directory, copied from a template
 * initialised here once (initdb costs ~6 s; opening a copy ~0.3 s).
 *
 * Jest loads this file outside the ESM test environment, so it imports nothing relative.
 */
export default async function globalSetup(): Promise<void> {
  buildIfStale();
  const raw = process.env.TEST_DATABASE_URL;
  if (!raw) {
    delete process.env.PORTCULLIS_TEST_DB;
    const template = join(mkdtempSync(join(tmpdir(), 'portcullis-pglite-template-')), 'pgdata');
    mkdirSync(template);
    const db = await PGlite.create({ dataDir: template });
    await db.close();
    process.env.PORTCULLIS_PGLITE_TEMPLATE = template;
    return;
  }
  const url = new URL(raw);
  const name = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'portcullis_test';
  if (!/^[A-Za-z0-9_]+$/.test(name) || ['postgres', 'template0', 'template1'].includes(name)) {
    throw new Error(
      `TEST_DATABASE_URL must name a scratch database the suite may drop, not "${name}"`,
    );
  }
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  url.pathname = `/${name}`;
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  process.env.PORTCULLIS_TEST_DB = url.toString();
  process.env.PORTCULLIS_TEST_DB_ADMIN = adminUrl.toString();
  process.env.PORTCULLIS_TEST_DB_NAME = name;
}

/**
 * Some suites run the built service (`node dist/main.js`) as an operator would: bring dist/ up to
 * date first. `tsc -b` compiles only what changed, and returns in about a second when nothing did.
 */
function buildIfStale(): void {
  const tsc = spawnSync(
    process.execPath,
    ['node_modules/typescript/bin/tsc', '-b', 'tsconfig.build.json'],
    {
      stdio: 'inherit',
    },
  );
  if (tsc.status !== 0) {
    throw new Error('the build failed: see the compiler output above');
  }
}
