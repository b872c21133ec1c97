/**
 * Migration CLI, for the database the settings point at (PostgreSQL with DATABASE_URL, else the
 * embedded PGlite in $DATA_DIR — stop the service first: PGlite allows one process at a time).
 *
 *   npm run migration:run                apply pending migrations (the service also does this at start)
 *   npm run migration:revert             undo the last migration
 *   npm run migration:generate -- Name   write src/database/migrations/<time>-<name>.ts from the entities
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidSettingsError } from '../config/env.validation.js';
import { settingsFromEnvironment } from '../config/settings.js';
import { createDataSource } from './data-source.js';
import { EmbeddedPostgres } from './embedded-postgres.js';
import { migrateUnderLock } from './migrator.js';

function migrationSource(className: string, up: string[], down: string[]): string {
  const lines = (queries: string[]) =>
    queries.map((q) => `    await db.query(${JSON.stringify(q)});`).join('\n');
  return `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(db: QueryRunner): Promise<void> {
${lines(up)}
  }

  async down(db: QueryRunner): Promise<void> {
${lines(down)}
  }
}
`;
}

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  const settings = settingsFromEnvironment();
  const embedded = settings.database.url
    ? undefined
    : await EmbeddedPostgres.start(settings.database.dataDir);
  const dataSource = await createDataSource(settings.database.url ?? embedded!.url).initialize();
  try {
    switch (command) {
      case 'run': {
        const applied = await migrateUnderLock(dataSource);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply');
        break;
      }
      case 'revert':
        await dataSource.undoLastMigration({ transaction: 'each' });
        console.log('reverted the last migration');
        break;
      case 'generate': {
        if (!name || !/^[A-Za-z][A-Za-z0-9]*$/.test(name)) {
          throw new Error(
            'usage: npm run migration:generate -- MigrationName (letters and digits)',
          );
        }
        await migrateUnderLock(dataSource);
        const sql = await dataSource.driver.createSchemaBuilder().log();
        if (sql.upQueries.length === 0) {
          console.log('the entities match the schema: no migration needed');
          break;
        }
        const timestamp = Date.now();
        const kebab = name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
        const file = join(process.cwd(), 'src/database/migrations', `${timestamp}-${kebab}.ts`);
        writeFileSync(
          file,
          migrationSource(
            `${name}${timestamp}`,
            sql.upQueries.map((q) => q.query),
            sql.downQueries.map((q) => q.query).reverse(),
          ),
        );
        console.log(`wrote ${file}; add it to MIGRATIONS in src/database/data-source.ts`);
        break;
      }
      default:
        throw new Error('usage: migrate.js run | revert | generate <Name>');
    }
  } finally {
    await dataSource.destroy();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  const message =
    error instanceof InvalidSettingsError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
