import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { appOptions, configureApp, createAdapter } from './app.setup.js';
import type { Settings } from './config/settings.js';
import type { EmbeddedPostgres } from './database/embedded-postgres.js';
import { BootstrapAdmin, type GeneratedAdmin } from './users/bootstrap-admin.service.js';

function firstAdminBox({ username, password }: GeneratedAdmin): string {
  return [
    '',
    '  ┌──────────────────────────────────────────────────────────────',
    '  │ Portcullis created the first admin account:',
    `  │   username: ${username}`,
    `  │   password: ${password}`,
    '  │ It is shown only this once. Sign in and keep it safe.',
    '  └──────────────────────────────────────────────────────────────',
    '',
    '',
  ].join('\n');
}

/**
 * How long the drain after SIGTERM may take before the process exits anyway (exit code 1).
 * deploy/kubernetes sizes the pods' termination grace period on it.
 */
export const DRAIN_LIMIT_MS = 20_000;

/**
 * Starts the service on settings main.ts has validated, prints the first admin's generated
 * password when there is one, and drains on SIGTERM/SIGINT.
 */
export async function serve(
  settings: Settings,
  embeddedDatabase?: Promise<EmbeddedPostgres>,
): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(settings, embeddedDatabase),
    createAdapter(settings),
    appOptions(),
  );
  configureApp(app, settings);
  await app.listen(settings.http.port, settings.http.host);
  const generated = app.get(BootstrapAdmin).takeGenerated();
  if (generated) {
    // Printed once, on purpose, straight to the console: it is the only way to learn it.
    process.stdout.write(firstAdminBox(generated));
  }
  const logger = new Logger('Portcullis');
  const { host, port } = settings.management;
  logger.log(
    `listening on ${settings.http.host}:${settings.http.port}; public URL ${settings.http.publicUrl}; ` +
      `API docs at ${settings.http.publicUrl}/docs; ` +
      (port === 0 ? 'no management port' : `health and metrics on ${host}:${port}`),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.log(`${signal} received: draining requests and shutting down`);
    // A request that never ends must not keep the process alive forever.
    setTimeout(() => {
      logger.error(`shutdown took longer than ${DRAIN_LIMIT_MS / 1000} s: exiting anyway`);
      process.exit(1);
    }, DRAIN_LIMIT_MS).unref();
    app
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error(`shutdown failed: ${String(error)}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
