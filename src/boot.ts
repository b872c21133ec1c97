/**
 * The service's start, loaded by main.ts (as the bundle dist/bundle.js after `npm run build`). It
 * loads as little as it can before it knows the settings are valid, then loads the application
 * while, in embedded mode, PGlite opens its data directory.
 */
import 'reflect-metadata';

const { InvalidSettingsError } = await import('./config/env.validation.js');
const { settingsFromEnvironment } = await import('./config/settings.js');

function fail(error: unknown): never {
  process.stderr.write(
    `Portcullis failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}

let settings;
try {
  settings = settingsFromEnvironment();
} catch (error) {
  if (error instanceof InvalidSettingsError) {
    process.stderr.write(`Portcullis cannot start. ${error.message}\n`);
    process.exit(2);
  }
  fail(error);
}

const { dataDir, url } = settings.database;
const embedded = url
  ? undefined
  : import('./database/embedded-postgres.js').then(({ EmbeddedPostgres }) =>
      EmbeddedPostgres.start(dataDir),
    );
// Until the application takes it over, a failed start is reported as below, not left unhandled.
embedded?.catch(() => undefined);

try {
  const { serve } = await import('./server.js');
  await serve(settings, embedded);
} catch (error) {
  fail(error);
}
