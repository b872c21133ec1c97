import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { appOptions, configureApp, createAdapter } from './app.setup.js';
import { InvalidSettingsError } from './config/env.validation.js';
import { type Settings, settingsFromEnvironment } from './config/settings.js';
import { BootstrapAdmin, type GeneratedAdmin } from './users/bootstrap-admin.service.js';

function settingsOrExit(): Settings {
  try {
    return settingsFromEnvironment();
  } catch (error) {
    if (error instanceof InvalidSettingsError) {
      process.stderr.write(`Portcullis cannot start. ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

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

async function bootstrap(): Promise<void> {
  const settings = settingsOrExit();
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(settings),
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
      logger.error('shutdown took longer than 20 s: exiting anyway');
      process.exit(1);
    }, 20_000).unref();
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

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `Portcullis failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
