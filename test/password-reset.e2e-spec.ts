import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
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
import { auditEvents } from './helpers/audit.js';
import { bindEmail } from './helpers/email.js';
import { jwtPayload } from './helpers/jwt.js';
import {
  PASSWORD_CHANGED_SUBJECT,
  PUBLIC_URL,
  resetClient,
  resetLinkIn,
  RESET_SUBJECT,
} from './helpers/reset-flow.js';
import type { SmtpSink } from './helpers/smtp-sink.js';
import { createTestAppWithMail, type TestAppWithMail } from './helpers/test-app.js';
import { authenticator } from './helpers/totp.js';
import { expectProblem } from './helpers/problem.js';

describe('forgot password', () => {
  let t: TestAppWithMail;
  let sink: SmtpSink;
  let reset: ReturnType<typeof resetClient>;
  let otp: ReturnType<typeof authenticator>;

  beforeAll(async () => {
    t = await createTestAppWithMail();
    sink = t.sink;
    reset = resetClient(t, sink);
    otp = authenticator(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const refresh = (refreshToken: string) =>
    t.http().post('/api/v1/auth/refresh').send({ refreshToken });
  const passwordLogin = (username: string, password: string) =>
    t.http().post('/api/v1/auth/login').send({ username, password });

  /** The 2FA step for a user without 2FA: set up an authenticator and prove it. */
  async function enrolDuringReset(resetToken: string): Promise<{ secret: string }> {
    const setup = await reset.setup(resetToken);
    expect(setup.status).toBe(200);
    const secret = setup.body.secret as string;
    const verified = await reset.verify(resetToken, otp.freshCode(secret));
    expect(verified.status).toBe(200);
    return { secret };
  }

  describe('the whole flow for a user without 2FA', () => {
    it('mails a link, makes the user enrol an authenticator, sets the password, signs in and ends every other session', async () => {
      const user = await createUser(t);
      const email = user.email as string;
      const before: TokenPair = await login(t, user.username, user.password);

      // 1. Request by username.
      const requested = await reset.request(user.username);
      expect(requested.status).toBe(202);
      expect(Object.keys(requested.body as Json)).toEqual(['message']);
      expect(requested.body.message).toContain('5 minutes');

      // 2. The mail, and the link in it.
      const mail = await reset.nthMailTo(email, RESET_SUBJECT, 1);
      expect(mail.to).toBe(email);
      expect(mail.envelopeTo).toEqual([email]);
      expect(mail.text).toContain(`Hello ${user.username},`);
      expect(mail.text).toContain('valid for 5 minutes');
      const { link, token } = resetLinkIn(mail);
      expect(link).toBe(`${PUBLIC_URL}/reset-password?token=${token}`);
      // The HTML part carries the same link (Handlebars writes '=' as '&#x3D;').
      expect(mail.html.replace(/&#x3D;/g, '=')).toContain(`href="${link}"`);

      // 3. Open it.
      const opened = await reset.open(token);
      expect(opened.status).toBe(201);
      expect(opened.body).toEqual({
        resetToken: expect.any(String),
        expiresIn: 600,
        twoFactorConfigured: false,
      });
      const resetToken = opened.body.resetToken as string;

      // Out of order: no password before 2FA, no verify before setup.
      expectProblem(await reset.password(resetToken, strongPassword()), 403, 'TWO_FACTOR_REQUIRED');
      expectProblem(await reset.verify(resetToken, '123456'), 409, 'TWO_FACTOR_SETUP_REQUIRED');

      // 4. Enrol an authenticator.
      const setup = await reset.setup(resetToken);
      expect(setup.status).toBe(200);
      expect(Object.keys(setup.body as Json).sort()).toEqual([
        'otpauthUri',
        'qrCodeDataUrl',
        'secret',
      ]);
      const secret = setup.body.secret as string;
      expect(setup.body.otpauthUri).toContain(`secret=${secret}`);
      expect(setup.body.qrCodeDataUrl).toMatch(/^data:image\/png;base64,/);

      const verified = await reset.verify(resetToken, otp.freshCode(secret));
      expect(verified.status).toBe(200);
      expect(verified.body).toEqual({
        stage: 'TWO_FACTOR_VERIFIED',
        recoveryCodes: expect.any(Array),
      });
      const recoveryCodes = verified.body.recoveryCodes as string[];
      expect(recoveryCodes).toHaveLength(10);
      expect(new Set(recoveryCodes).size).toBe(10);

      // 5. The new password, first one the policy refuses.
      const weak = await reset.password(resetToken, user.password);
      expectProblem(weak, 400, 'PASSWORD_POLICY_VIOLATION');
      expect(weak.body.errors).toEqual([
        { field: 'newPassword', rule: 'notRecent', message: expect.any(String) },
      ]);
      // The username is also the local part of the email: two rules broken at once.
      const withName = await reset.password(resetToken, `my ${user.username}`);
      expectProblem(withName, 400, 'PASSWORD_POLICY_VIOLATION');
      expect(withName.body.errors).toEqual([
        { field: 'newPassword', rule: 'notUsername', message: expect.any(String) },
        { field: 'newPassword', rule: 'notEmail', message: expect.any(String) },
      ]);

      const newPassword = strongPassword();
      const done = await reset.password(resetToken, newPassword);
      expect(done.status).toBe(200);
      expect(done.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        deviceToken: expect.any(String),
      });
      const tokens = done.body as TokenPair;
      expect(jwtPayload(tokens.accessToken)).toMatchObject({
        sub: user.id,
        username: user.username,
        amr: ['pwd', 'otp'],
        iss: PUBLIC_URL,
      });

      const me = await getMe(t, tokens.accessToken);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: user.id, twoFactorEnabled: true });

      // The session from before the reset is dead, access and refresh.
      expectProblem(await getMe(t, before.accessToken), 401, 'UNAUTHORIZED');
      expectProblem(await refresh(before.refreshToken), 401, 'INVALID_REFRESH_TOKEN');

      // The reset session is finished.
      expectProblem(
        await reset.password(resetToken, strongPassword()),
        401,
        'RESET_SESSION_INVALID',
      );

      // The "password changed" mail holds no secret.
      const changed = await reset.nthMailTo(email, PASSWORD_CHANGED_SUBJECT, 1);
      expect(changed.text).toContain(`Hello ${user.username},`);
      expect(changed.text).toContain('was changed through a password reset');
      for (const part of [changed.text, changed.html, changed.raw]) {
        for (const secretText of [newPassword, resetToken, token, 'reset-password?token=']) {
          expect(part).not.toContain(secretText);
        }
      }

      // From now on, the password alone is not enough to sign in.
      expectProblem(await passwordLogin(user.username, user.password), 401, 'INVALID_CREDENTIALS');
      const signIn = await passwordLogin(user.username, newPassword);
      expect(signIn.status).toBe(200);
      expect(signIn.body).toEqual({
        twoFactorRequired: true,
        challengeToken: expect.any(String),
        expiresIn: 300,
      });
    });

    it("lifts the account's lockout: after a stranger's wrong guesses the owner signs in with the new password at once", async () => {
      const user = await createUser(t);
      for (let i = 0; i < 5; i += 1) {
        expectProblem(await passwordLogin(user.username, `guess ${i}`), 401, 'INVALID_CREDENTIALS');
      }
      expectProblem(await passwordLogin(user.username, user.password), 429, 'TOO_MANY_ATTEMPTS');

      const resetToken = await reset.startReset(user);
      await enrolDuringReset(resetToken);
      const newPassword = strongPassword();
      expect((await reset.password(resetToken, newPassword)).status).toBe(200);
      expect((await passwordLogin(user.username, newPassword)).status).toBe(200);
    });

    it('sends the link for a request by email address, in any letter case', async () => {
      const user = await createUser(t);
      const email = user.email as string;
      const { mail, token } = await reset.requestLink(email.toUpperCase(), email);
      expect(mail.to).toBe(email);
      expect(mail.text).toContain(`Hello ${user.username},`);

      const opened = await reset.open(token);
      expect(opened.status).toBe(201);
      expect(opened.body.twoFactorConfigured).toBe(false);
    });
  });

  describe('telling the user what is wrong (PASSWORD_RESET_DISCLOSURE=explicit)', () => {
    it('answers 404 USER_NOT_FOUND to a username nobody has', async () => {
      const res = await reset.request(uniqueName('nobody'));
      expectProblem(res, 404, 'USER_NOT_FOUND');
      expect(res.body.detail).toMatch(/incorrect username/i);
    });

    it('answers 422 NO_EMAIL_BOUND to a user without an email, and sends nothing', async () => {
      const user = await createUser(t, { email: null });
      const res = await reset.request(user.username);
      expectProblem(res, 422, 'NO_EMAIL_BOUND');
      expect(res.body.detail).toMatch(/contact the administrator/i);
      const links = await t.app
        .get(DataSource)
        .query('SELECT id FROM password_reset_links WHERE user_id = $1', [user.id]);
      expect(links).toEqual([]);
    });
  });

  describe('the emailed link', () => {
    it('answers 410 RESET_LINK_EXPIRED to a link opened after 5 minutes', async () => {
      const user = await createUser(t);
      const { token } = await reset.requestLink(user.username, user.email as string);
      t.clock.advance(301);
      const res = await reset.open(token);
      expectProblem(res, 410, 'RESET_LINK_EXPIRED');
      expect(res.body.detail).toContain('5 minutes');
    });

    it('still opens a link after 4 minutes 59 seconds', async () => {
      const user = await createUser(t);
      const { token } = await reset.requestLink(user.username, user.email as string);
      // Measured from when the link was made, not from now: on a loaded machine the mail can
      // take more than a second to arrive, and a fixed 299 s would then cross the deadline.
      const [link] = await t.app
        .get(DataSource)
        .query<{ expires_at: Date }[]>(
          'SELECT expires_at FROM password_reset_links WHERE user_id = $1',
          [user.id],
        );
      t.clock.advance((link.expires_at.getTime() - 1000 - t.clock.now().getTime()) / 1000);
      expect((await reset.open(token)).status).toBe(201);
    });

    it('opens once: the second time answers 410 RESET_LINK_USED', async () => {
      const user = await createUser(t);
      const { token } = await reset.requestLink(user.username, user.email as string);
      expect((await reset.open(token)).status).toBe(201);
      expectProblem(await reset.open(token), 410, 'RESET_LINK_USED');
    });

    it('answers 400 RESET_LINK_INVALID to an older link once a newer one was sent; the newer one opens', async () => {
      const user = await createUser(t);
      const email = user.email as string;
      const first = await reset.requestLink(user.username, email);
      const second = await reset.requestLink(user.username, email);
      expect(second.token).not.toBe(first.token);

      expectProblem(await reset.open(first.token), 400, 'RESET_LINK_INVALID');
      expect((await reset.open(second.token)).status).toBe(201);
    });

    it('answers 400 RESET_LINK_INVALID to a link sent before the password was changed', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const { token } = await reset.requestLink(user.username, user.email as string);
      const changed = await t
        .http()
        .put('/api/v1/me/password')
        .set(...bearer(tokens.accessToken))
        .send({ currentPassword: user.password, newPassword: strongPassword() });
      expect(changed.status).toBe(204);

      expectProblem(await reset.open(token), 400, 'RESET_LINK_INVALID');
    });

    it('answers 400 RESET_LINK_INVALID to a link sent before the user changed their email', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const { token } = await reset.requestLink(user.username, user.email as string);
      const moved = `${uniqueName('moved')}@example.com`;
      await bindEmail(t, sink, tokens.accessToken, moved, user.password);
      expectProblem(await reset.open(token), 400, 'RESET_LINK_INVALID');
    });

    it('answers 400 RESET_LINK_INVALID to a link sent before an admin changed the email', async () => {
      const admin = await createAdmin(t);
      const user = await createUser(t);
      const { token } = await reset.requestLink(user.username, user.email as string);
      const changed = await t
        .http()
        .patch(`/api/v1/admin/users/${user.id}`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ email: `${uniqueName('moved')}@example.com` });
      expect(changed.status).toBe(200);
      expectProblem(await reset.open(token), 400, 'RESET_LINK_INVALID');
    });

    it('lets exactly one of five simultaneous openings win; the others get 410 RESET_LINK_USED', async () => {
      const user = await createUser(t);
      const { token } = await reset.requestLink(user.username, user.email as string);
      const answers = await Promise.all(Array.from({ length: 5 }, () => reset.open(token)));

      const won = answers.filter((res) => res.status === 201);
      expect(won).toHaveLength(1);
      const lost = answers.filter((res) => res.status !== 201);
      for (const res of lost) {
        expectProblem(res, 410, 'RESET_LINK_USED');
      }
      const sessions = await t.app
        .get(DataSource)
        .query('SELECT id FROM password_reset_sessions WHERE user_id = $1', [user.id]);
      expect(sessions).toHaveLength(1);
    });

    it('is not used up by fetching the page it points to (GET), as a mail scanner would', async () => {
      const user = await createUser(t);
      const { link, token } = await reset.requestLink(user.username, user.email as string);
      const path = link.slice(PUBLIC_URL.length);
      expect(path).toBe(`/reset-password?token=${token}`);
      const page = await t.http().get(path);
      // The hosted page may or may not exist; it must not fail, and must not consume the token.
      expect(page.status).toBeLessThan(500);
      const again = await t.http().get(path);
      expect(again.status).toBe(page.status);

      expect((await reset.open(token)).status).toBe(201);
    });

    it('builds the link from PUBLIC_URL, never from the Host or X-Forwarded-Host of the request', async () => {
      const user = await createUser(t);
      const { link, mail } = await reset.requestLink(user.username, user.email as string, {
        Host: 'evil.example',
        'X-Forwarded-Host': 'evil.example',
      });
      expect(link.startsWith(`${PUBLIC_URL}/reset-password?token=`)).toBe(true);
      expect(mail.text).not.toContain('evil.example');
      expect(mail.html).not.toContain('evil.example');
    });
  });

  describe('the reset session', () => {
    it('answers 401 RESET_SESSION_INVALID without a reset token, with a made-up one or with an access token', async () => {
      const user = await createUser(t);
      const resetToken = await reset.startReset(user);
      const tokens = await login(t, user.username, user.password);

      const noToken = await t
        .http()
        .post('/api/v1/password-reset/password')
        .send({ newPassword: strongPassword() });
      expectProblem(noToken, 401, 'RESET_SESSION_INVALID');
      expectProblem(
        await reset.password('garbage-token', strongPassword()),
        401,
        'RESET_SESSION_INVALID',
      );
      expectProblem(
        await reset.password(tokens.accessToken, strongPassword()),
        401,
        'RESET_SESSION_INVALID',
      );
      expectProblem(await reset.setup(tokens.accessToken), 401, 'RESET_SESSION_INVALID');

      // Nor is a reset token an access token.
      expectProblem(await getMe(t, resetToken), 401, 'UNAUTHORIZED');
      // The real reset session is untouched by all this.
      expect((await reset.setup(resetToken)).status).toBe(200);
    });

    it('ends 10 minutes after the link was opened: 401 RESET_SESSION_INVALID', async () => {
      const user = await createUser(t);
      const resetToken = await reset.startReset(user);
      t.clock.advance(599);
      expect((await reset.setup(resetToken)).status).toBe(200);
      t.clock.advance(2);
      expectProblem(await reset.setup(resetToken), 401, 'RESET_SESSION_INVALID');
      expectProblem(await reset.verify(resetToken, '123456'), 401, 'RESET_SESSION_INVALID');
    });

    it('cannot be finished by a user an admin disabled after the 2FA step; the password stays', async () => {
      const admin = await createAdmin(t);
      const user = await createUser(t);
      const resetToken = await reset.startReset(user);
      await enrolDuringReset(resetToken);

      const disabled = await t
        .http()
        .patch(`/api/v1/admin/users/${user.id}`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ disabled: true });
      expect(disabled.status).toBe(200);
      expect(disabled.body.disabled).toBe(true);

      const newPassword = strongPassword();
      expectProblem(await reset.password(resetToken, newPassword), 401, 'RESET_SESSION_INVALID');

      // Enabled again, the old password still signs in and the new one does not.
      const enabled = await t
        .http()
        .patch(`/api/v1/admin/users/${user.id}`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ disabled: false });
      expect(enabled.status).toBe(200);
      expect((await passwordLogin(user.username, user.password)).status).toBe(200);
      expectProblem(await passwordLogin(user.username, newPassword), 401, 'INVALID_CREDENTIALS');
      // Nor did re-enabling bring the reset session back.
      expectProblem(await reset.password(resetToken, newPassword), 401, 'RESET_SESSION_INVALID');
    });

    it('ends when an admin changes the email of the account mid-flow', async () => {
      const admin = await createAdmin(t);
      const user = await createUser(t);
      const resetToken = await reset.startReset(user);
      await enrolDuringReset(resetToken);
      const changed = await t
        .http()
        .patch(`/api/v1/admin/users/${user.id}`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ email: `${uniqueName('moved')}@example.com` });
      expect(changed.status).toBe(200);
      expectProblem(
        await reset.password(resetToken, strongPassword()),
        401,
        'RESET_SESSION_INVALID',
      );
      expect((await passwordLogin(user.username, user.password)).status).toBe(200);
    });

    it('does not open a link sent before the user was disabled, even once the user is enabled again', async () => {
      const admin = await createAdmin(t);
      const user = await createUser(t);
      const { token } = await reset.requestLink(user.username, user.email as string);
      for (const disabled of [true, false]) {
        const res = await t
          .http()
          .patch(`/api/v1/admin/users/${user.id}`)
          .set(...bearer(admin.tokens.accessToken))
          .send({ disabled });
        expect(res.status).toBe(200);
      }
      expectProblem(await reset.open(token), 400, 'RESET_LINK_INVALID');
      // A new request works as usual.
      expect(await reset.startReset(user)).toEqual(expect.any(String));
    });

    it('cannot be finished for a user an admin deleted after the 2FA step', async () => {
      const admin = await createAdmin(t);
      const user = await createUser(t);
      const resetToken = await reset.startReset(user);
      await enrolDuringReset(resetToken);

      const deleted = await t
        .http()
        .delete(`/api/v1/admin/users/${user.id}`)
        .set(...bearer(admin.tokens.accessToken));
      expect(deleted.status).toBe(204);

      expectProblem(
        await reset.password(resetToken, strongPassword()),
        401,
        'RESET_SESSION_INVALID',
      );
      const found = await t
        .http()
        .get(`/api/v1/admin/users/${user.id}`)
        .set(...bearer(admin.tokens.accessToken));
      expectProblem(found, 404, 'USER_NOT_FOUND');
    });
  });

  describe('audit trail', () => {
    it('records refused requests and refused link openings', async () => {
      const admin = await createAdmin(t);
      const nameless = await createUser(t, { email: null });
      expectProblem(await reset.request(nameless.username), 422, 'NO_EMAIL_BOUND');
      const user = await createUser(t);
      const { token } = await reset.requestLink(user.username, user.email as string);
      expect((await reset.open(token)).status).toBe(201);
      expectProblem(await reset.open(token), 410, 'RESET_LINK_USED');

      const refusedRequest = (await auditEvents(t, admin.tokens.accessToken, nameless.id)).items;
      expect(refusedRequest).toContainEqual(
        expect.objectContaining({
          type: 'password_reset.request_refused',
          details: { reason: 'no_email' },
        }),
      );
      const refusedOpening = (await auditEvents(t, admin.tokens.accessToken, user.id)).items;
      expect(refusedOpening).toContainEqual(
        expect.objectContaining({
          type: 'password_reset.link_refused',
          details: { reason: 'RESET_LINK_USED' },
          flowId: expect.any(String),
        }),
      );
      const unknown = uniqueName('nobody');
      expectProblem(await reset.request(unknown), 404, 'USER_NOT_FOUND');
      const byType = await t
        .http()
        .get('/api/v1/admin/audit-events')
        .query({ type: 'password_reset.request_refused', pageSize: 100 })
        .set(...bearer(admin.tokens.accessToken));
      expect(byType.body.items).toContainEqual(
        expect.objectContaining({ details: { reason: 'unknown_identifier', identifier: unknown } }),
      );
    });

    it('records every step of one reset under the same flow id, without any token', async () => {
      const admin = await createAdmin(t);
      const user: TestUser = await createUser(t);
      const { token } = await reset.requestLink(user.username, user.email as string);
      const opened = await reset.open(token);
      expect(opened.status).toBe(201);
      const resetToken = opened.body.resetToken as string;
      const { secret } = await enrolDuringReset(resetToken);
      expect((await reset.password(resetToken, strongPassword())).status).toBe(200);

      const { items, body } = await auditEvents(t, admin.tokens.accessToken, user.id);
      const flowTypes = [
        'password_reset.requested',
        'password_reset.link_opened',
        'password_reset.two_factor_enrolled',
        'password.changed',
        'password_reset.completed',
      ];
      const steps = flowTypes.map((type) => {
        const found = items.filter((e) => e.type === type);
        expect({ type, count: found.length }).toEqual({ type, count: 1 });
        expect(found[0]).toMatchObject({ actorId: user.id, subjectId: user.id });
        return found[0];
      });
      const flowId = steps[0].flowId;
      expect(flowId).toMatch(/^[0-9a-f-]{36}$/);
      expect(steps.map((e) => [e.type, e.flowId])).toEqual(flowTypes.map((type) => [type, flowId]));
      // Enrolling the authenticator is part of the same flow.
      expect(items.find((e) => e.type === 'two_factor.enabled')?.flowId).toBe(flowId);

      const dump = JSON.stringify(body);
      for (const secretText of [token, resetToken, secret]) {
        expect(dump).not.toContain(secretText);
      }
    });
  });
});
