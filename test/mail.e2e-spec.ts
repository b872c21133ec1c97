import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { type ParsedMail, simpleParser } from 'mailparser';
import { DataSource } from 'typeorm';
import {
  CONFIRM_EMAIL_SUBJECT,
  EMAIL_CHANGED_SUBJECT,
  requestConfirmation,
  requestEmailChange,
  verifyEmail,
} from './helpers/email.js';
import { createUser, login, type TestUser, uniqueName } from './helpers/factories.js';
import { type SinkMail, type SmtpSink, startSmtpSink } from './helpers/smtp-sink.js';
import {
  createTestApp,
  createTestAppWithMail,
  type TestApp,
  type TestAppWithMail,
} from './helpers/test-app.js';

interface OutboxRow {
  id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  context_sealed: string | null;
  sent_at: Date | null;
}

/** A port where nothing listens (yet): opened on 0 by the OS, then closed again. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` returns something; for things the app does in the background. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await pause(100);
  }
}

/** The confirmation mails queued for an address (a unique address scopes the query). */
function outboxRows(t: TestApp, recipient: string): Promise<OutboxRow[]> {
  return t.app.get(DataSource).query(
    `SELECT id, status, attempts, last_error, context_sealed, sent_at FROM mail_outbox
        WHERE lower(recipient) = lower($1) AND template = 'email-verification'`,
    [recipient],
  );
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A user asks to move to a new address: the new address is owed a mail that holds a secret (the
 * confirmation link).
 */
async function askForNewEmail(
  t: TestApp,
): Promise<{ user: TestUser & { email: string }; newEmail: string }> {
  const user = await createUser(t);
  const { accessToken } = await login(t, user.username, user.password);
  const newEmail = `${uniqueName('moved')}@example.org`;
  const res = await requestEmailChange(t, accessToken, newEmail, user.password);
  expect(res.status).toBe(202);
  return { user: { ...user, email: user.email as string }, newEmail };
}

/** The first .eml file under `dir` sent to `address` with `subject`, parsed, and its path. */
async function emlFileFor(
  dir: string,
  address: string,
  subject: string,
): Promise<{ file: string; mail: ParsedMail } | undefined> {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')) : [];
  for (const name of files) {
    const file = join(dir, name);
    const mail = await simpleParser(readFileSync(file));
    const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
    if (mail.subject === subject && to.some((a) => a.value.some((v) => v.address === address))) {
      return { file, mail };
    }
  }
  return undefined;
}

/**
 * Every message given to Nest's Logger from now on, at any level and whatever LOG_LEVEL lets
 * through: the app logs through `new Logger(context)`, whichever logger backs it.
 */
function captureLogs(): { messages: () => string[]; restore: () => void } {
  const levels = ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'] as const;
  const spies = levels.map((level) => jest.spyOn(Logger.prototype, level));
  return {
    messages: () =>
      spies.flatMap((spy) =>
        spy.mock.calls.map((args) =>
          args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '),
        ),
      ),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}

const emailChangedTo = (address: string) => (m: SinkMail) =>
  m.envelopeTo.includes(address.toLowerCase()) && m.subject === EMAIL_CHANGED_SUBJECT;
const confirmationTo = (address: string) => (m: SinkMail) =>
  m.envelopeTo.includes(address.toLowerCase()) && m.subject === CONFIRM_EMAIL_SUBJECT;

describe('mail', () => {
  describe('through SMTP', () => {
    let t: TestAppWithMail;
    let sink: SmtpSink;

    beforeAll(async () => {
      t = await createTestAppWithMail();
      sink = t.sink;
    });
    afterAll(async () => {
      await t?.close();
    });

    it('tells the previous address that the email was changed, naming the new one, in HTML and text from the default sender', async () => {
      const created = await createUser(t);
      const user = { ...created, email: created.email as string };
      const { accessToken } = await login(t, user.username, user.password);
      const newEmail = `${uniqueName('moved')}@example.org`;
      const { token } = await requestConfirmation(t, sink, accessToken, newEmail, user.password);
      // The change happens when the new address is confirmed; only then is the old one told.
      expect(sink.mails.filter(emailChangedTo(user.email))).toEqual([]);
      expect((await verifyEmail(t, token)).status).toBe(200);
      const mail = await sink.waitForMail(emailChangedTo(user.email));

      expect(mail.to).toBe(user.email);
      expect(mail.fromAddress).toBe('no-reply@localhost');
      expect(mail.fromName).toBe('Portcullis');
      expect(mail.subject).toBe(EMAIL_CHANGED_SUBJECT);
      expect(mail.text).toContain(`Hello ${user.username},`);
      expect(mail.text).toContain(`was changed to ${newEmail}`);
      expect(mail.text).not.toMatch(/<[a-z!]/i);
      expect(mail.html).toMatch(/^<!doctype html>/i);
      expect(mail.html).toContain(`<strong>${newEmail}</strong>`);
      expect(mail.raw).toMatch(/multipart\/alternative/i);
      expect(mail.raw).not.toContain(user.password);
      // The new address is not the one told.
      expect(mail.envelopeTo).toEqual([user.email]);
    });

    it('keeps the context of a queued mail encrypted until the mail is sent, then erases it', async () => {
      // The sink takes the mail but does not acknowledge it yet, so the worker, which erases the
      // context only once the server has accepted the mail, is held between the two: when the
      // mail has arrived, its row is certainly still owed, with its context.
      const release = sink.hold();
      let queued: OutboxRow;
      let user: TestUser;
      let newEmail: string;
      try {
        ({ user, newEmail } = await askForNewEmail(t));
        await sink.waitForMail(confirmationTo(newEmail));
        [queued] = await outboxRows(t, newEmail);
      } finally {
        release();
      }
      expect(queued).toMatchObject({ status: 'pending', sent_at: null });
      expect(queued.context_sealed).toEqual(expect.any(String));
      expect(queued.context_sealed).not.toContain('verify-email');
      expect(queued.context_sealed).not.toContain(user.username);
      expect(isJson(queued.context_sealed as string)).toBe(false);

      // Acknowledged: the worker marks the row sent and erases the context.
      const sent = await eventually('the outbox row to be marked sent', async () => {
        const [row] = await outboxRows(t, newEmail);
        return row?.status === 'sent' ? row : undefined;
      });
      expect(sent.id).toBe(queued.id);
      expect(sent.context_sealed).toBeNull();
      expect(sent.sent_at).not.toBeNull();
    });
  });

  describe('with MAIL_FROM set', () => {
    let t: TestAppWithMail;
    let sink: SmtpSink;

    beforeAll(async () => {
      t = await createTestAppWithMail({ MAIL_FROM: 'Acme Sign-in <identity@acme.test>' });
      sink = t.sink;
    });
    afterAll(async () => {
      await t?.close();
    });

    it('sends from MAIL_FROM', async () => {
      const { newEmail } = await askForNewEmail(t);
      const mail = await sink.waitForMail(confirmationTo(newEmail));
      expect(mail.fromAddress).toBe('identity@acme.test');
      expect(mail.fromName).toBe('Acme Sign-in');
    });
  });

  describe('when the SMTP server is down for a while', () => {
    let t: TestApp;
    let port: number;
    let sink: SmtpSink | undefined;

    beforeAll(async () => {
      port = await freePort();
      t = await createTestApp({ SMTP_URL: `smtp://127.0.0.1:${port}` });
    });
    afterAll(async () => {
      await t?.close();
      await sink?.close();
    });

    it('keeps the mail queued, encrypted, and delivers it exactly once when the server is back', async () => {
      const { user, newEmail } = await askForNewEmail(t);

      const failed = await eventually('a failed first attempt', async () => {
        const [row] = await outboxRows(t, newEmail);
        return row && row.attempts >= 1 && row.status === 'pending' && row.last_error
          ? row
          : undefined;
      });
      expect(failed.sent_at).toBeNull();
      // Still owed, so its context is kept, and kept encrypted.
      expect(failed.context_sealed).toEqual(expect.any(String));
      expect(failed.context_sealed).not.toContain('verify-email');
      expect(failed.context_sealed).not.toContain(user.username);
      expect(isJson(failed.context_sealed as string)).toBe(false);

      sink = await startSmtpSink(port);
      const up = sink;
      // Past the first retry delay (10 s) on the app's clock.
      t.clock.advance(60);
      const mail = await up.waitForMail(confirmationTo(newEmail));
      expect(mail.text).toContain(`Hello ${user.username},`);
      expect(mail.text).toContain('http://portcullis.test/verify-email?token=');

      const sent = await eventually('the outbox row to be marked sent', async () => {
        const [row] = await outboxRows(t, newEmail);
        return row?.status === 'sent' ? row : undefined;
      });
      expect(sent.context_sealed).toBeNull();
      expect(sent.last_error).toBeNull();
      expect(sent.attempts).toBeGreaterThanOrEqual(2);

      // Several worker passes later, still exactly one copy.
      const settled = Date.now() + 1500;
      while (Date.now() < settled) {
        await pause(100);
      }
      expect(up.mails.filter(confirmationTo(newEmail))).toHaveLength(1);
      expect(await outboxRows(t, newEmail)).toHaveLength(1);
    });
  });

  describe('without SMTP_URL', () => {
    let t: TestApp;
    let logs: ReturnType<typeof captureLogs> | undefined;

    beforeAll(async () => {
      t = await createTestApp();
    });
    afterEach(() => {
      logs?.restore();
      logs = undefined;
    });
    afterAll(async () => {
      await t?.close();
    });

    it('writes the mail as an .eml file under DATA_DIR/mail', async () => {
      const { user, newEmail } = await askForNewEmail(t);
      const dir = join(t.dataDir, 'mail');

      const mail = await eventually('an .eml file for the new address', async () => {
        const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')) : [];
        for (const file of files) {
          const parsed = await simpleParser(readFileSync(join(dir, file)));
          const to = Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : [];
          if (to.some((a) => a.value.some((v) => v.address === newEmail))) {
            return parsed;
          }
        }
        return undefined;
      });

      expect(mail.subject).toBe(CONFIRM_EMAIL_SUBJECT);
      expect(mail.from?.value[0]?.address).toBe('no-reply@localhost');
      expect(mail.text).toContain(`the account ${user.username}`);
      expect(mail.text).toContain('http://portcullis.test/verify-email?token=');
      expect(mail.html).toEqual(expect.stringContaining('valid for 1 day'));
    });

    it('writes a reset mail to a file only its owner can read, and logs the path, never the link', async () => {
      logs = captureLogs();
      const user = await createUser(t);
      const email = user.email as string;
      const res = await t
        .http()
        .post('/api/v1/password-reset/requests')
        .send({ identifier: user.username });
      expect(res.status).toBe(202);

      const dir = join(t.dataDir, 'mail');
      const { file, mail } = await eventually('an .eml reset mail', () =>
        emlFileFor(dir, email, 'Reset your password'),
      );
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o777).toBe(0o700);

      const link = /\S+\/reset-password\?token=\S+/.exec(mail.text ?? '')?.[0] ?? '';
      const token = new URL(link).searchParams.get('token') ?? '';
      expect(link.startsWith('http://portcullis.test/reset-password?token=')).toBe(true);
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect(mail.text).toContain('valid for 5 minutes');
      expect(mail.html).toEqual(expect.stringContaining('valid for 5 minutes'));

      // The path is logged once the file is written (same tick as the write).
      const messages = logs.messages();
      expect(messages).toContainEqual(expect.stringContaining(file));
      const everything = messages.join('\n');
      expect(everything).not.toContain(token);
      expect(everything).not.toContain('reset-password?');
      expect(everything).not.toContain(user.password);
    });
  });
});
