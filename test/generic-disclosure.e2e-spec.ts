import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { auditEvents, queryAuditEvents, type AuditEvent } from './helpers/audit.js';
import { burst, tally } from './helpers/burst.js';
import {
  bearer,
  createAdmin,
  createUser,
  type Json,
  type TestUser,
  type TokenPair,
  uniqueName,
} from './helpers/factories.js';
import { resetClient, resetLinkIn, RESET_SUBJECT } from './helpers/reset-flow.js';
import type { SmtpSink } from './helpers/smtp-sink.js';
import { createTestAppWithMail, type TestAppWithMail } from './helpers/test-app.js';
import { expectProblem } from './helpers/problem.js';

/** From src/rate-limit/backoff-policy.ts: reset requests per identifier, failed sign-ins per account. */
const RESET_FREE = 5;
const ACCOUNT_FREE_FAILURES = 5;

/** A client address no other test in this file uses (198.18.0.0/15 is for benchmarks). */
let addressCounter = 0;
function freshAddress(): string {
  addressCounter += 1;
  return `198.19.${Math.floor(addressCounter / 250)}.${1 + (addressCounter % 250)}`;
}

/** What a caller can tell from an answer: everything but the request id. */
function visible(res: Response): Json {
  const headers = Object.fromEntries(
    Object.entries(res.headers).filter(([name]) => !['date', 'x-request-id'].includes(name)),
  );
  const body = { ...(res.body as Json) };
  delete body.instance;
  delete body.requestId;
  return { status: res.status, headers, body };
}

describe('PASSWORD_RESET_DISCLOSURE=generic: nothing a caller sees depends on the account', () => {
  let t: TestAppWithMail;
  let sink: SmtpSink;
  let reset: ReturnType<typeof resetClient>;
  let admin: TestUser & { tokens: TokenPair };

  beforeAll(async () => {
    t = await createTestAppWithMail({
      PASSWORD_RESET_DISCLOSURE: 'generic',
      TRUST_PROXY: 'true',
    });
    sink = t.sink;
    reset = resetClient(t, sink);
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const requestFrom = (identifier: string, from = freshAddress()) =>
    reset.request(identifier, { 'x-forwarded-for': from });
  const loginFrom = (username: string, password: string, extra: Json = {}) =>
    t
      .http()
      .post('/api/v1/auth/login')
      .set('x-forwarded-for', freshAddress())
      .send({ username, password, ...extra });

  /** Waits until the queue's worker has recorded its decision on `n` requests about `userId`. */
  async function decisions(userId: string, n: number): Promise<AuditEvent[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { items } = await auditEvents(t, admin.tokens.accessToken, userId);
      const decided = items.filter((e) =>
        ['password_reset.requested', 'password_reset.request_refused'].includes(e.type),
      );
      if (decided.length >= n || Date.now() > deadline) {
        return decided;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function refusedUnknown(identifier: string): Promise<AuditEvent | undefined> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await queryAuditEvents(t, admin.tokens.accessToken, {
        type: 'password_reset.request_refused',
        pageSize: 100,
      });
      const found = (res.body.items as AuditEvent[]).find(
        (e) => e.details.identifier === identifier,
      );
      if (found || Date.now() > deadline) {
        return found;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const linksOf = (userId: string): Promise<unknown[]> =>
    t.app.get(DataSource).query('SELECT id FROM password_reset_links WHERE user_id = $1', [userId]);

  it('answers an unknown name, an account without email and one with email alike, and mails only the last', async () => {
    const noEmail = await createUser(t, { email: null });
    const real = await createUser(t);
    const email = real.email as string;
    const unknownName = uniqueName('nobody');

    const unknown = await requestFrom(unknownName);
    const withoutEmail = await requestFrom(noEmail.username);
    const known = await requestFrom(real.username);
    for (const res of [unknown, withoutEmail, known]) {
      expect(res.status).toBe(202);
    }
    expect(visible(withoutEmail)).toEqual(visible(unknown));
    expect(visible(known)).toEqual(visible(unknown));
    expect(known.text).toBe(unknown.text);
    expect(Object.keys(known.body as Json)).toEqual(['message']);
    expect(known.body.message).toContain('5 minutes');

    const mail = await reset.nthMailTo(email, RESET_SUBJECT, 1);
    expect((await reset.open(resetLinkIn(mail).token)).status).toBe(201);

    // The worker decided each request, after the answers, and says why it sent nothing.
    expect((await decisions(noEmail.id, 1)).map((e) => [e.type, e.details.reason])).toEqual([
      ['password_reset.request_refused', 'no_email'],
    ]);
    expect((await refusedUnknown(unknownName))?.details.reason).toBe('unknown_identifier');
    expect(await linksOf(noEmail.id)).toEqual([]);
    expect(sink.mails.filter((m) => m.subject === RESET_SUBJECT)).toHaveLength(1);
    // Handled requests leave the queue: it holds no identifier longer than needed.
    const waiting = await t.app
      .get(DataSource)
      .query('SELECT identifier FROM password_reset_requests WHERE identifier = ANY($1)', [
        [unknownName, noEmail.username, real.username],
      ]);
    expect(waiting).toEqual([]);
  });

  it('counts a username and its email separately where a caller can see it; over the account allowance it answers 202 and sends nothing', async () => {
    const user = await createUser(t);
    const email = user.email as string;
    const stranger = uniqueName('nobody');

    for (let i = 1; i <= RESET_FREE; i += 1) {
      expect((await requestFrom(user.username)).status).toBe(202);
      expect((await requestFrom(stranger)).status).toBe(202);
    }
    // The sixth request for a name is throttled, for the account's name as for a stranger's.
    const knownThrottled = await requestFrom(user.username);
    const unknownThrottled = await requestFrom(stranger);
    expectProblem(knownThrottled, 429, 'TOO_MANY_ATTEMPTS');
    expect(visible(knownThrottled)).toEqual(visible(unknownThrottled));

    // The account's email has a visible counter of its own: it answers 202 like a fresh name …
    const byEmail = await requestFrom(email);
    const freshName = await requestFrom(uniqueName('nobody'));
    expect(visible(byEmail)).toEqual(visible(freshName));
    // … but the account has had its links: this one sends nothing, and the audit says why.
    const decided = await decisions(user.id, RESET_FREE + 1);
    expect(decided.map((e) => e.type).sort()).toEqual([
      'password_reset.request_refused',
      ...Array<string>(RESET_FREE).fill('password_reset.requested'),
    ]);
    expect(decided.find((e) => e.type === 'password_reset.request_refused')?.details).toEqual({
      reason: 'over_allowance',
    });
    await reset.nthMailTo(email, RESET_SUBJECT, RESET_FREE);
    expect(await linksOf(user.id)).toHaveLength(RESET_FREE);
    expect(reset.mailsTo(email, RESET_SUBJECT)).toHaveLength(RESET_FREE);
  });

  it('sends at most 5 links for 40 parallel requests for one name, and throttles the rest with one answer', async () => {
    const user = await createUser(t);
    const responses = await burst(
      t.url,
      Array.from({ length: 40 }, () => ({
        path: '/api/v1/password-reset/requests',
        headers: { 'x-forwarded-for': freshAddress() },
        body: { identifier: user.username },
      })),
    );
    expect(tally(responses)).toEqual({
      '202': RESET_FREE,
      '429 TOO_MANY_ATTEMPTS': 40 - RESET_FREE,
    });
    expect(await decisions(user.id, RESET_FREE)).toHaveLength(RESET_FREE);
    expect(await linksOf(user.id)).toHaveLength(RESET_FREE);
  });

  it('treats a disabled account like an unknown name, and records why nothing was sent', async () => {
    const user = await createUser(t);
    const disabled = await t
      .http()
      .patch(`/api/v1/admin/users/${user.id}`)
      .set(...bearer(admin.tokens.accessToken))
      .send({ disabled: true });
    expect(disabled.status).toBe(200);
    const answer = await requestFrom(user.username);
    expect(visible(answer)).toEqual(visible(await requestFrom(uniqueName('nobody'))));
    expect((await decisions(user.id, 1)).map((e) => e.details.reason)).toEqual(['disabled']);
    expect(await linksOf(user.id)).toEqual([]);
  });

  describe('sign-in throttles', () => {
    it('lock a username and its email separately where a caller can see it, for known and unknown names alike', async () => {
      const user = await createUser(t);
      const stranger = uniqueName('nobody');
      for (let i = 0; i < ACCOUNT_FREE_FAILURES; i += 1) {
        expectProblem(
          await loginFrom(user.username, 'wrong password 1'),
          401,
          'INVALID_CREDENTIALS',
        );
        expectProblem(await loginFrom(stranger, 'wrong password 1'), 401, 'INVALID_CREDENTIALS');
      }
      const known = await loginFrom(user.username, 'wrong password 1');
      const unknown = await loginFrom(stranger, 'wrong password 1');
      expectProblem(known, 429, 'TOO_MANY_ATTEMPTS');
      expect(visible(known)).toEqual(visible(unknown));
      // The email's own counter is fresh: a wrong password is simply wrong, as for a fresh name.
      const byEmail = await loginFrom(user.email as string, 'wrong password 1');
      const freshName = await loginFrom(`${uniqueName('nobody')}@example.com`, 'wrong password 1');
      expectProblem(byEmail, 401, 'INVALID_CREDENTIALS');
      expect(visible(byEmail)).toEqual(visible(freshName));
    });

    it("keep the account's own lockout silent: the right password gets the wrong-password answer, but a device token or a new password gets in", async () => {
      const user = await createUser(t);
      const first = await loginFrom(user.username, user.password);
      expect(first.status).toBe(200);
      const deviceToken = first.body.deviceToken as string;
      for (let i = 0; i < ACCOUNT_FREE_FAILURES; i += 1) {
        expectProblem(
          await loginFrom(user.username, 'wrong password 1'),
          401,
          'INVALID_CREDENTIALS',
        );
      }
      // Locked out silently: by email, even the right password answers like a wrong one.
      const right = await loginFrom(user.email as string, user.password);
      const wrong = await loginFrom(user.email as string, 'wrong password 1');
      expectProblem(right, 401, 'INVALID_CREDENTIALS');
      expect(visible(right)).toEqual(visible(wrong));
      const { items } = await auditEvents(t, admin.tokens.accessToken, user.id);
      expect(items.find((e) => e.type === 'login.throttled')?.details).toEqual({
        reason: 'account_locked',
      });

      // The owner's device is not locked out.
      const fromDevice = await loginFrom(user.email as string, user.password, { deviceToken });
      expect(fromDevice.status).toBe(200);

      // An admin's new password clears every counter of the account: its owner gets in at once.
      const newPassword = `${user.password} renewed`;
      const set = await t
        .http()
        .put(`/api/v1/admin/users/${user.id}/password`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ password: newPassword, temporary: false });
      expect(set.status).toBe(204);
      expect((await loginFrom(user.username, newPassword)).status).toBe(200);
      expect((await loginFrom(user.email as string, newPassword)).status).toBe(200);
    });
  });
});
