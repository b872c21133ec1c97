import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';

/** Drops the database global-setup.ts created, or removes its PGlite template. */
export default async function globalTeardown(): Promise<void> {
  const template = process.env.PORTCULLIS_PGLITE_TEMPLATE;
  if (template) {
    rmSync(dirname(template), { recursive: true, force: true });
  }
  const adminUrl = process.env.PORTCULLIS_TEST_DB_ADMIN;
  const name = process.env.PORTCULLIS_TEST_DB_NAME;
  if (!adminUrl || !name) {
    return;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
