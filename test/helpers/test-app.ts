import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../../src/app.module.js';
import { appOptions, configureApp, createAdapter } from '../../src/app.setup.js';
import { Clock } from '../../src/common/clock.js';
import { loadSettings, type Settings } from '../../src/config/settings.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';
import { TestClock } from './test-clock.js';

export const ADMIN_USERNAME = 'admin';
export const ADMIN_PASSWORD = 'bootstrap secret for tests 1';
/** A fixed test key; production keys come from the operator. */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestApp {
  app: NestFastifyApplication;
  settings: Settings;
  clock: TestClock;
  /** The base URL of the listening server. */
  url: string;
  /** supertest bound to the server: `http().post('/api/v1/...')`. */
  http: () => ReturnType<typeof request>;
  dataDir: string;
  close: () => Promise<void>;
}

/**
 * Boots the real AppModule on Fastify, listening on a free loopback port, against PostgreSQL
 * (TEST_DATABASE_URL) or embedded PGlite in a fresh directory. Only the clock is replaced.
 */
export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-test-'));
  // Set by global-setup.ts when the suite runs against PostgreSQL.
  const databaseUrl = process.env.PORTCULLIS_TEST_DB;
  const template = process.env.PORTCULLIS_PGLITE_TEMPLATE;
  if (!databaseUrl && template) {
    cpSync(template, join(dataDir, 'pgdata'), { recursive: true });
  }
  const settings = loadSettings({
    DATA_DIR: dataDir,
    ADMIN_USERNAME,
    ADMIN_PASSWORD,
    LOG_LEVEL: 'error',
    MANAGEMENT_PORT: '0',
    PUBLIC_URL: 'http://portcullis.test',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, ENCRYPTION_KEY: TEST_ENCRYPTION_KEY } : {}),
    ...env,
  });
  const clock = new TestClock();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(settings)] })
    .overrideProvider(Clock)
    .useValue(clock)
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    createAdapter(settings),
    appOptions(),
  );
  configureApp(app, settings);
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  const url = await app.getUrl();
  const server = app.getHttpServer();
  return {
    app,
    settings,
    clock,
    url,
    http: () => request(server),
    dataDir,
    close: async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An app whose mail goes to an SMTP sink of its own, for tests that read what a user receives. */
export interface TestAppWithMail extends TestApp {
  /** The SMTP server behind SMTP_URL; `close` closes it after the app. */
  sink: SmtpSink;
}

/** createTestApp with SMTP_URL pointing at a fresh SMTP sink (startSmtpSink). */
export async function createTestAppWithMail(
  env: Record<string, string> = {},
): Promise<TestAppWithMail> {
  const sink = await startSmtpSink();
  let t: TestApp;
  try {
    t = await createTestApp({ ...env, SMTP_URL: sink.url });
  } catch (error) {
    await sink.close();
    throw error;
  }
  return {
    ...t,
    sink,
    // The app first: its outbox worker may be handing the sink a last mail.
    close: async () => {
      try {
        await t.close();
      } finally {
        await sink.close();
      }
    },
  };
}
