import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { auditEvents } from './helpers/audit.js';
import {
  bindEmail,
  CONFIRM_EMAIL_SUBJECT,
  confirmationLinkIn,
  EMAIL_CHANGED_SUBJECT,
  mailsTo,
  requestConfirmation,
  requestEmailChange,
  verifyEmail,
} from './helpers/email.js';
import {
  bearer,
  createAdmin,
  createUser,
  getMe,
  type Json,
  login,
  strongPassword,
  type TestUser,
  type TokenPair,
  uniqueName,
} from './helpers/factories.js';
import { PUBLIC_URL, resetClient, resetLinkIn, RESET_SUBJECT } from './helpers/reset-flow.js';
import type { SmtpSink } from './helpers/smtp-sink.js';
import { createTestAppWithMail, type TestAppWithMail } from './helpers/test-app.js';
import { expectProblem } from './helpers/problem.js';

/** A client address of its own (TEST-NET-3), so that the per-address limits of one test stay its own. */
function freshAddress(): string {
  return `203.0.113.${randomInt(1, 255)}`;
}

const newAddress = (prefix = 'new') => `${uniqueName(prefix)}@example.org`;

describe('verified email addresses', () => {
  let t: TestAppWithMail;
  let sink: SmtpSink;
  let admin: TestUser & { tokens: TokenPair };
  let reset: ReturnType<typeof resetClient>;

  /** A user signed in, with the factory's (admin-set, verified) address. */
  async function signedInUser(
    options: Parameters<typeof createUser>[1] = {},
  ): Promise<TestUser & { accessToken: string }> {
    const user = await createUser(t, options);
    return { ...user, accessToken: (await login(t, user.username, user.password)).accessToken };
  }

  const tryLogin = (username: string, password: string) =>
    t.http().post('/api/v1/auth/login').send({ username, password });
  const asAdmin = () => bearer(admin.tokens.accessToken);
  const adminGetUser = (id: string) =>
    t
      .http()
      .get(`/api/v1/admin/users/${id}`)
      .set(...asAdmin());
  const adminPatchUser = (id: string, body: Json) =>
    t
      .http()
      .patch(`/api/v1/admin/users/${id}`)
      .set(...asAdmin())
      .send(body);
  const cancelPending = (accessToken: string) =>
    t
      .http()
      .delete('/api/v1/me/email/pending')
      .set(...bearer(accessToken));
  const resend = (accessToken: string, headers: Record<string, string> = {}) =>
    t
      .http()
      .post('/api/v1/me/email/pending/resend')
      .set(...bearer(accessToken))
      .set(headers);
  const outboxTemplatesFor = async (recipient: string): Promise<string[]> => {
    const rows = await t.app
      .get(DataSource)
      .query<{ template: string }[]>(
        `SELECT template FROM mail_outbox WHERE lower(recipient) = lower($1) ORDER BY created_at`,
        [recipient],
      );
    return rows.map((r) => r.template);
  };

  beforeAll(async () => {
    t = await createTestAppWithMail({ TRUST_PROXY: 'true' });
    sink = t.sink;
    admin = await createAdmin(t);
    reset = resetClient(t, sink);
  });
  beforeEach(async () => {
    // A fresh access token: a test may move the clock a day on.
    admin.tokens = await login(t, admin.username, admin.password);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('the confirmation link', () => {
    it('binds the new address only once it is used: sign-in by the new address works only then', async () => {
      const user = await signedInUser();
      const email = newAddress();
      const { mail, link } = await requestConfirmation(
        t,
        sink,
        user.accessToken,
        email,
        user.password,
      );
      expect(link.startsWith(`${PUBLIC_URL}/verify-email?token=`)).toBe(true);
      expect(mail.text).toContain(`Hello ${user.username},`);
      expect(mail.text).toContain('It is valid for 1 day and works once');
      expect(mail.html).toContain('Confirm my email address');

      // Pending: shown, but nothing else changed.
      expect((await getMe(t, user.accessToken)).body).toMatchObject({
        email: user.email,
        emailVerified: true,
        pendingEmail: email,
      });
      expect((await adminGetUser(user.id)).body).toMatchObject({
        email: user.email,
        emailVerified: true,
        pendingEmail: email,
      });
      expectProblem(await tryLogin(email, user.password), 401, 'INVALID_CREDENTIALS');
      await login(t, user.email as string, user.password);

      const verified = await verifyEmail(t, confirmationLinkIn(mail).token);
      expect(verified.status).toBe(200);
      expect(verified.body).toMatchObject({
        id: user.id,
        username: user.username,
        email,
        emailVerified: true,
        pendingEmail: null,
      });
      expect((await getMe(t, user.accessToken)).body).toMatchObject({
        email,
        emailVerified: true,
        pendingEmail: null,
      });
      await login(t, email, user.password);
      expectProblem(
        await tryLogin(user.email as string, user.password),
        401,
        'INVALID_CREDENTIALS',
      );
    });

    it('works once: a second use answers 410 EMAIL_VERIFICATION_USED', async () => {
      const user = await signedInUser();
      const email = newAddress();
      const { token } = await requestConfirmation(t, sink, user.accessToken, email, user.password);
      expect((await verifyEmail(t, token)).status).toBe(200);
      const again = await verifyEmail(t, token);
      expectProblem(again, 410, 'EMAIL_VERIFICATION_USED');
      expect((await getMe(t, user.accessToken)).body.email).toBe(email);
    });

    it('expires after EMAIL_VERIFICATION_TTL (24 hours): 410 EMAIL_VERIFICATION_EXPIRED, and nothing is pending any more', async () => {
      const user = await signedInUser();
      const email = newAddress();
      const { token } = await requestConfirmation(t, sink, user.accessToken, email, user.password);
      t.clock.advance(24 * 3600 + 1);
      const { accessToken } = await login(t, user.username, user.password);
      expectProblem(await verifyEmail(t, token), 410, 'EMAIL_VERIFICATION_EXPIRED');
      expect((await getMe(t, accessToken)).body).toMatchObject({
        email: user.email,
        pendingEmail: null,
      });
    });

    it('is killed by a newer request (400 EMAIL_VERIFICATION_INVALID); the newer link binds its own address', async () => {
      const user = await signedInUser();
      const first = newAddress('first');
      const second = newAddress('second');
      const older = await requestConfirmation(t, sink, user.accessToken, first, user.password);
      const newer = await requestConfirmation(t, sink, user.accessToken, second, user.password);
      expect((await getMe(t, user.accessToken)).body.pendingEmail).toBe(second);

      expectProblem(await verifyEmail(t, older.token), 400, 'EMAIL_VERIFICATION_INVALID');
      expect((await verifyEmail(t, newer.token)).status).toBe(200);
      expect((await getMe(t, user.accessToken)).body.email).toBe(second);
    });

    it('cannot bind an address another user bound meanwhile: 409 EMAIL_TAKEN, and the account keeps its address', async () => {
      const user = await signedInUser();
      const rival = await signedInUser();
      const email = newAddress('contested');
      const mine = await requestConfirmation(t, sink, user.accessToken, email, user.password);
      // A pending address is not reserved: whoever confirms first gets it.
      await bindEmail(t, sink, rival.accessToken, email, rival.password);

      expectProblem(await verifyEmail(t, mine.token), 409, 'EMAIL_TAKEN');
      expect((await getMe(t, user.accessToken)).body).toMatchObject({
        email: user.email,
        emailVerified: true,
      });
      expect((await getMe(t, rival.accessToken)).body.email).toBe(email);
      // Nobody was told of a change that did not happen.
      expect(mailsTo(sink, user.email as string, EMAIL_CHANGED_SUBJECT)).toEqual([]);
    });

    it('is not used up by opening its page (GET), as a mail scanner would', async () => {
      const user = await signedInUser();
      const email = newAddress();
      const { link, token } = await requestConfirmation(
        t,
        sink,
        user.accessToken,
        email,
        user.password,
      );
      const path = link.slice(PUBLIC_URL.length);
      expect(path).toBe(`/verify-email?token=${token}`);
      for (let i = 0; i < 2; i++) {
        const page = await t.http().get(path);
        expect(page.status).toBe(200);
        expect(page.headers['content-type']).toMatch(/^text\/html/);
        expect(page.headers['referrer-policy']).toBe('no-referrer');
        expect(page.text).toContain('Confirm my email address');
        expect(page.text).toContain(`name="token" value="${token}"`);
      }
      expect((await getMe(t, user.accessToken)).body).toMatchObject({
        email: user.email,
        pendingEmail: email,
      });
      expect((await verifyEmail(t, token)).status).toBe(200);
    });

    it('lets exactly one of five simultaneous uses win; the others get 410 EMAIL_VERIFICATION_USED', async () => {
      const user = await signedInUser();
      const email = newAddress();
      const { token } = await requestConfirmation(t, sink, user.accessToken, email, user.password);
      const from = freshAddress();
      const answers = await Promise.all(
        Array.from({ length: 5 }, () =>
          t.http().post('/api/v1/me/email/verify').set('x-forwarded-for', from).send({ token }),
        ),
      );
      expect(answers.filter((res) => res.status === 200)).toHaveLength(1);
      for (const res of answers.filter((r) => r.status !== 200)) {
        expectProblem(res, 410, 'EMAIL_VERIFICATION_USED');
      }
      const used = await t.app
        .get(DataSource)
        .query('SELECT used_at FROM email_verifications WHERE user_id = $1', [user.id]);
      expect(used).toEqual([{ used_at: expect.any(Date) }]);
      // Told once, not once per attempt.
      await sink.waitForMail(
        () => mailsTo(sink, user.email as string, EMAIL_CHANGED_SUBJECT).length > 0,
      );
      expect(await outboxTemplatesFor(user.email as string)).toEqual(['email-changed']);
    });

    it('answers 400 EMAIL_VERIFICATION_INVALID to an unknown token and 400 VALIDATION_FAILED to no token', async () => {
      const from = freshAddress();
      const unknown = await t
        .http()
        .post('/api/v1/me/email/verify')
        .set('x-forwarded-for', from)
        .send({ token: 'not-a-token-anyone-was-sent' });
      expectProblem(unknown, 400, 'EMAIL_VERIFICATION_INVALID');
      const missing = await t
        .http()
        .post('/api/v1/me/email/verify')
        .set('x-forwarded-for', from)
        .send({});
      expectProblem(missing, 400, 'VALIDATION_FAILED');
      expect(missing.body.errors).toEqual([expect.objectContaining({ field: 'token' })]);
    });

    it('does not work for a disabled user, not even after they are enabled again', async () => {
      const user = await signedInUser();
      const { token } = await requestConfirmation(
        t,
        sink,
        user.accessToken,
        newAddress(),
        user.password,
      );
      expect((await adminPatchUser(user.id, { disabled: true })).status).toBe(200);
      expect((await adminPatchUser(user.id, { disabled: false })).status).toBe(200);
      expectProblem(await verifyEmail(t, token), 400, 'EMAIL_VERIFICATION_INVALID');
      expect((await adminGetUser(user.id)).body).toMatchObject({
        email: user.email,
        pendingEmail: null,
      });
    });
  });

  describe('once the address is bound', () => {
    it('tells the previous address, naming the new one, and ends live reset links and reset sessions', async () => {
      const user = await signedInUser();
      const email = newAddress('moved');
      // A reset under way (its link opened) and a newer link not yet opened, both to the old address.
      const resetToken = await reset.startReset(user);
      const { token: resetLink } = await reset.requestLink(user.username, user.email as string);

      await bindEmail(t, sink, user.accessToken, email, user.password);

      const notice = await sink.waitForMail(
        (m) =>
          m.envelopeTo.includes((user.email as string).toLowerCase()) &&
          m.subject === EMAIL_CHANGED_SUBJECT,
      );
      expect(notice.text).toContain(`was changed to ${email}`);
      expect(notice.envelopeTo).toEqual([user.email]);
      expect(mailsTo(sink, email, EMAIL_CHANGED_SUBJECT)).toEqual([]);

      expectProblem(await reset.open(resetLink), 400, 'RESET_LINK_INVALID');
      expectProblem(await reset.setup(resetToken), 401, 'RESET_SESSION_INVALID');
      // A new reset goes to the new address.
      const fresh = await reset.requestLink(user.username, email);
      expect(fresh.mail.envelopeTo).toEqual([email.toLowerCase()]);
    });

    it('is the only one a reset request finds; until then reset mails keep going to the previous address', async () => {
      const user = await signedInUser();
      const email = newAddress('pending');
      const { token } = await requestConfirmation(t, sink, user.accessToken, email, user.password);

      expectProblem(await reset.request(email), 404, 'USER_NOT_FOUND');
      const before = await reset.requestLink(user.username, user.email as string);
      expect(before.mail.envelopeTo).toEqual([(user.email as string).toLowerCase()]);
      expect(mailsTo(sink, email, RESET_SUBJECT)).toEqual([]);

      expect((await verifyEmail(t, token)).status).toBe(200);
      const after = await reset.requestLink(email, email);
      expect(after.mail.envelopeTo).toEqual([email.toLowerCase()]);
      expect(resetLinkIn(after.mail).token).not.toBe(before.token);
    });
  });

  describe('addresses set by an admin', () => {
    const createAsAdmin = (body: Json) =>
      t
        .http()
        .post('/api/v1/admin/users')
        .set(...asAdmin())
        .send({ password: strongPassword(), temporaryPassword: false, ...body });

    it('are bound at once and verified by default', async () => {
      const username = uniqueName('vouched');
      const email = `${username}@example.org`;
      const created = await createAsAdmin({ username, email });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ email, emailVerified: true, pendingEmail: null });
      // No confirmation mail: the admin vouched for the address.
      expect(await outboxTemplatesFor(email)).toEqual([]);
      await reset.requestLink(username, email);

      const other = await createUser(t);
      const moved = newAddress('admin-moved');
      const patched = await adminPatchUser(other.id, { email: moved });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ email: moved, emailVerified: true });
    });

    it('stay unverified when the admin sends emailVerified: false, and then get no reset link (422 NO_EMAIL_BOUND)', async () => {
      const username = uniqueName('unvouched');
      const email = `${username}@example.org`;
      const password = strongPassword();
      const created = await createAsAdmin({ username, email, password, emailVerified: false });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ email, emailVerified: false, pendingEmail: null });

      expectProblem(await reset.request(username), 422, 'NO_EMAIL_BOUND');
      expectProblem(await reset.request(email), 422, 'NO_EMAIL_BOUND');
      // The address is bound all the same: its owner signs in with it.
      await login(t, email, password);
      expect(await outboxTemplatesFor(email)).toEqual([]);
      const rows = await t.app
        .get(DataSource)
        .query('SELECT id FROM password_reset_links WHERE user_id = $1', [created.body.id]);
      expect(rows).toEqual([]);
    });

    it('can be confirmed by their owner, which makes them verified without telling anyone of a change', async () => {
      const user = await signedInUser();
      const marked = await adminPatchUser(user.id, { emailVerified: false });
      expect(marked.status).toBe(200);
      expect(marked.body).toMatchObject({ email: user.email, emailVerified: false });
      expectProblem(await reset.request(user.username), 422, 'NO_EMAIL_BOUND');

      const profile = await bindEmail(
        t,
        sink,
        user.accessToken,
        user.email as string,
        user.password,
      );
      expect(profile).toMatchObject({ email: user.email, emailVerified: true });
      expect(await outboxTemplatesFor(user.email as string)).toEqual(['email-verification']);
      await reset.requestLink(user.username, user.email as string);
    });

    it('kill the reset links sent to an address the admin no longer vouches for', async () => {
      const user = await createUser(t);
      const { token } = await reset.requestLink(user.username, user.email as string);
      const marked = await adminPatchUser(user.id, { emailVerified: false });
      expect(marked.status).toBe(200);
      expectProblem(await reset.open(token), 400, 'RESET_LINK_INVALID');
    });

    it('replace a change the user has not confirmed yet: its link dies', async () => {
      const user = await signedInUser();
      const { token } = await requestConfirmation(
        t,
        sink,
        user.accessToken,
        newAddress('superseded'),
        user.password,
      );
      const chosen = newAddress('chosen');
      const patched = await adminPatchUser(user.id, { email: chosen });
      expect(patched.body).toMatchObject({
        email: chosen,
        emailVerified: true,
        pendingEmail: null,
      });
      expectProblem(await verifyEmail(t, token), 400, 'EMAIL_VERIFICATION_INVALID');
      expect((await getMe(t, user.accessToken)).body.email).toBe(chosen);
    });

    it('answers 400 VALIDATION_FAILED to emailVerified: true without an address', async () => {
      const user = await createUser(t, { email: null });
      const res = await adminPatchUser(user.id, { emailVerified: true });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors).toEqual([
        expect.objectContaining({ field: 'emailVerified', rule: 'requiresEmail' }),
      ]);
      const notBoolean = await adminPatchUser(user.id, { emailVerified: 'yes' });
      expectProblem(notBoolean, 400, 'VALIDATION_FAILED');
      expect((await adminGetUser(user.id)).body).toMatchObject({
        email: null,
        emailVerified: false,
      });
    });
  });

  describe('an account whose only address is unverified', () => {
    it('is treated as having none by a reset request: 422 NO_EMAIL_BOUND, nothing sent', async () => {
      const user = await createUser(t, { email: null });
      const { accessToken } = await login(t, user.username, user.password);
      const email = newAddress('typo');
      await requestConfirmation(t, sink, accessToken, email, user.password);

      expectProblem(await reset.request(user.username), 422, 'NO_EMAIL_BOUND');
      expectProblem(await reset.request(email), 404, 'USER_NOT_FOUND');
      expect(await outboxTemplatesFor(email)).toEqual(['email-verification']);
    });
  });

  describe('pending changes', () => {
    it('can be cancelled: 204, the link dies, and cancelling again is 204 too', async () => {
      const user = await signedInUser();
      const email = newAddress('cancelled');
      const { token } = await requestConfirmation(t, sink, user.accessToken, email, user.password);
      const cancelled = await cancelPending(user.accessToken);
      expect(cancelled.status).toBe(204);
      expect(cancelled.text).toBe('');
      expect((await getMe(t, user.accessToken)).body).toMatchObject({
        email: user.email,
        pendingEmail: null,
      });
      expectProblem(await verifyEmail(t, token), 400, 'EMAIL_VERIFICATION_INVALID');
      expect((await cancelPending(user.accessToken)).status).toBe(204);
      expectProblem(await t.http().delete('/api/v1/me/email/pending'), 401, 'UNAUTHORIZED');
    });

    it('can have their link sent again: the older link dies; with nothing pending, 409 NO_PENDING_EMAIL', async () => {
      const user = await signedInUser();
      expectProblem(await resend(user.accessToken), 409, 'NO_PENDING_EMAIL');
      const email = newAddress('resent');
      const first = await requestConfirmation(t, sink, user.accessToken, email, user.password);
      const again = await resend(user.accessToken);
      expect(again.status).toBe(202);
      expect(again.body).toEqual({ pendingEmail: email, expiresIn: 24 * 3600 });
      await sink.waitForMail(() => mailsTo(sink, email, CONFIRM_EMAIL_SUBJECT).length >= 2);
      const second = confirmationLinkIn(mailsTo(sink, email, CONFIRM_EMAIL_SUBJECT)[1]);
      expect(second.token).not.toBe(first.token);

      expectProblem(await verifyEmail(t, first.token), 400, 'EMAIL_VERIFICATION_INVALID');
      expect((await verifyEmail(t, second.token)).status).toBe(200);
      expectProblem(await t.http().post('/api/v1/me/email/pending/resend'), 401, 'UNAUTHORIZED');
    });
  });

  describe('refusals', () => {
    it('answers 401 INVALID_CREDENTIALS to a wrong password and 409 EMAIL_UNCHANGED to the verified address itself, sending nothing', async () => {
      const user = await signedInUser();
      const email = newAddress();
      expectProblem(
        await requestEmailChange(t, user.accessToken, email, `${user.password}x`),
        401,
        'INVALID_CREDENTIALS',
      );
      expectProblem(
        await requestEmailChange(
          t,
          user.accessToken,
          (user.email as string).toUpperCase(),
          user.password,
        ),
        409,
        'EMAIL_UNCHANGED',
      );
      expect(await outboxTemplatesFor(email)).toEqual([]);
      expect(await outboxTemplatesFor(user.email as string)).toEqual([]);
      expect((await getMe(t, user.accessToken)).body.pendingEmail).toBeNull();
    });

    it('throttles confirmation requests per user: the 6th in a row answers 429 with Retry-After and sends nothing', async () => {
      const user = await signedInUser();
      const emails = Array.from({ length: 6 }, () => newAddress('flood'));
      for (const email of emails.slice(0, 5)) {
        const res = await requestEmailChange(t, user.accessToken, email, user.password).set(
          'x-forwarded-for',
          freshAddress(),
        );
        expect(res.status).toBe(202);
      }
      const sixth = await requestEmailChange(t, user.accessToken, emails[5], user.password).set(
        'x-forwarded-for',
        freshAddress(),
      );
      expectProblem(sixth, 429, 'TOO_MANY_ATTEMPTS');
      expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
      expect(await outboxTemplatesFor(emails[5])).toEqual([]);
      expectProblem(
        await resend(user.accessToken, { 'x-forwarded-for': freshAddress() }),
        429,
        'TOO_MANY_ATTEMPTS',
      );
      expect((await getMe(t, user.accessToken)).body.pendingEmail).toBe(emails[4]);
    });

    it('throttles refused links per client address: after 20, even a good link waits (429)', async () => {
      const user = await signedInUser();
      const { token } = await requestConfirmation(
        t,
        sink,
        user.accessToken,
        newAddress(),
        user.password,
      );
      const from = freshAddress();
      const verifyFrom = (value: string) =>
        t
          .http()
          .post('/api/v1/me/email/verify')
          .set('x-forwarded-for', from)
          .send({ token: value });
      for (let i = 0; i < 20; i++) {
        expectProblem(await verifyFrom(`guess-${i}`), 400, 'EMAIL_VERIFICATION_INVALID');
      }
      const blocked = await verifyFrom(token);
      expectProblem(blocked, 429, 'TOO_MANY_ATTEMPTS');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      // Another address is not affected, and the link was not used up by the refusal.
      expect((await verifyEmail(t, token)).status).toBe(200);
    });
  });

  it('records each step as an audit event, without the token', async () => {
    const user = await signedInUser();
    const first = newAddress('audit-first');
    const second = newAddress('audit-second');
    // A second between steps, so that the trail's order (by time) is the order of the steps.
    const step = () => t.clock.advance(1);
    const cancelled = await requestConfirmation(t, sink, user.accessToken, first, user.password);
    step();
    expect((await cancelPending(user.accessToken)).status).toBe(204);
    step();
    expectProblem(await verifyEmail(t, cancelled.token), 400, 'EMAIL_VERIFICATION_INVALID');
    step();
    const taken = await requestEmailChange(t, user.accessToken, admin.email!, user.password);
    expectProblem(taken, 409, 'EMAIL_TAKEN');
    step();
    const { token } = await requestConfirmation(t, sink, user.accessToken, second, user.password);
    step();
    expect((await resend(user.accessToken)).status).toBe(202);
    await sink.waitForMail(() => mailsTo(sink, second, CONFIRM_EMAIL_SUBJECT).length >= 2);
    const latest = confirmationLinkIn(mailsTo(sink, second, CONFIRM_EMAIL_SUBJECT)[1]);
    step();
    expectProblem(await verifyEmail(t, token), 400, 'EMAIL_VERIFICATION_INVALID');
    step();
    expect((await verifyEmail(t, latest.token)).status).toBe(200);
    step();
    expectProblem(await verifyEmail(t, latest.token), 410, 'EMAIL_VERIFICATION_USED');

    const { items, body } = await auditEvents(t, admin.tokens.accessToken, user.id);
    const steps = items
      .filter((e) => e.type.startsWith('email.'))
      .reverse()
      .map((e) => ({ type: e.type, details: e.details }));
    expect(steps).toEqual([
      { type: 'email.change_requested', details: { email: first } },
      { type: 'email.change_cancelled', details: { email: first, reason: 'cancelled' } },
      {
        type: 'email.verification_refused',
        details: { reason: 'EMAIL_VERIFICATION_INVALID' },
      },
      { type: 'email.change_refused', details: { reason: 'EMAIL_TAKEN' } },
      { type: 'email.change_requested', details: { email: second } },
      { type: 'email.change_requested', details: { email: second, resent: true } },
      {
        type: 'email.verification_refused',
        details: { reason: 'EMAIL_VERIFICATION_INVALID' },
      },
      { type: 'email.verified', details: { email: second, replaced: true } },
      { type: 'email.verification_refused', details: { reason: 'EMAIL_VERIFICATION_USED' } },
    ]);
    const own = items.filter((e) => e.type !== 'email.verification_refused');
    for (const event of own.filter((e) => e.type.startsWith('email.'))) {
      expect(event).toMatchObject({ actorId: user.id, subjectId: user.id });
    }
    const serialized = JSON.stringify(body);
    for (const secret of [cancelled.token, token, latest.token]) {
      expect(serialized).not.toContain(secret);
    }
  });
});

describe('verified email addresses with PASSWORD_RESET_DISCLOSURE=generic', () => {
  let t: TestAppWithMail;
  let sink: SmtpSink;
  let reset: ReturnType<typeof resetClient>;

  beforeAll(async () => {
    t = await createTestAppWithMail({ PASSWORD_RESET_DISCLOSURE: 'generic' });
    sink = t.sink;
    reset = resetClient(t, sink);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers the same 202 for an account whose only address is unverified, and sends it nothing', async () => {
    const admin = await createAdmin(t);
    const username = uniqueName('unvouched');
    const email = `${username}@example.org`;
    const created = await t
      .http()
      .post('/api/v1/admin/users')
      .set(...bearer(admin.tokens.accessToken))
      .send({ username, password: strongPassword(), email, emailVerified: false });
    expect(created.status).toBe(201);
    const verified = await createUser(t);

    const unverified = await reset.request(username);
    const known = await reset.request(verified.username);
    expect(unverified.status).toBe(202);
    expect(unverified.text).toBe(known.text);
    // The verified account's mail arrives; by then nothing went to the unverified address.
    await reset.nthMailTo(verified.email as string, RESET_SUBJECT, 1);
    expect(sink.mails.filter((m) => m.envelopeTo.includes(email))).toEqual([]);
    const links = await t.app
      .get(DataSource)
      .query('SELECT id FROM password_reset_links WHERE user_id = $1', [created.body.id]);
    expect(links).toEqual([]);
  });
});
