import { type DataSource, MigrationExecutor } from 'typeorm';

/** Any fixed number works; it only has to be the same for every replica. */
const MIGRATION_LOCK_ID = 7_301_604_112;

/**
 * Applies pending migrations under a session-level advisory lock on one connection, so several
 * replicas starting at once take turns instead of racing to create the same tables.
 */
export async function migrateUnderLock(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    // A migration of a large table may take longer than the statement timeout requests get.
    await runner.query('SET statement_timeout = 0');
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return applied.map((m) => m.name);
    } finally {
      await runner.query('RESET statement_timeout');
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await runner.release();
  }
}

/** True when the database answers and every migration the code knows has been applied. */
export async function migrationsUpToDate(dataSource: DataSource): Promise<boolean> {
  const names = dataSource.migrations.map((m) => m.name ?? m.constructor.name);
  const rows: { applied: string }[] = await dataSource.query(
    'SELECT count(*)::text AS applied FROM migrations WHERE name = ANY($1)',
    [names],
  );
  return Number(rows[0]?.applied) === names.length;
}
