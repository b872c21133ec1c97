import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
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
import {
  CONFIRM_EMAIL_SUBJECT,
  confirmationLinkIn,
  mailsTo,
  requestEmailChange,
  verifyEmail,
} from './helpers/email.js';
import { resetClient } from './helpers/reset-flow.js';
import { UsersService } from '../src/users/users.service.js';
import {
  createTestApp,
  createTestAppWithMail,
  type TestApp,
  type TestAppWithMail,
} from './helpers/test-app.js';
import { authenticator, enableTwoFactor } from './helpers/totp.js';

/**
 * `GET /me` answers from the state the access-token guard caches (750 ms). Each test here reads
 * /me (so that the state is cached), changes the user in one of the ways the service offers, and
 * reads /me again on the same instance: the change must show. The app's clock is frozen in each
 * test, so that nothing cached expires on its own however slow the machine: only the change can
 * make the second read see it. A test that moves the clock reads /me after moving it.
 */
describe('GET /api/v1/me right after a change (read-your-writes)', () => {
  let t: TestAppWithMail;
  let admin: TestUser & { tokens: TokenPair };
  let otp: ReturnType<typeof authenticator>;

  beforeAll(async () => {
    t = await createTestAppWithMail();
    admin = await createAdmin(t);
    otp = authenticator(t);
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(() => t.clock.freeze());
  afterEach(() => t.clock.unfreeze());

  /** The signed-in user's profile (200), which also caches their state. */
  async function me(accessToken: string): Promise<Json> {
    const res = await getMe(t, accessToken);
    expect(res.status).toBe(200);
    return res.body as Json;
  }

  const asAdmin = {
    patch: (user: TestUser, body: Json) =>
      t
        .http()
        .patch(`/api/v1/admin/users/${user.id}`)
        .set(...bearer(admin.tokens.accessToken))
        .send(body),
    setPassword: (user: TestUser, password: string, temporary: boolean) =>
      t
        .http()
        .put(`/api/v1/admin/users/${user.id}/password`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ password, temporary }),
    resetTwoFactor: (user: TestUser) =>
      t
        .http()
        .delete(`/api/v1/admin/users/${user.id}/two-factor`)
        .set(...bearer(admin.tokens.accessToken)),
  };

  it('shows the language the user sets, and the PATCH answers what GET /me then shows', async () => {
    const user = await createUser(t);
    const { accessToken } = await login(t, user.username, user.password);
    expect((await me(accessToken)).locale).toBeNull();
    const set = await t
      .http()
      .patch('/api/v1/me')
      .set(...bearer(accessToken))
      .send({ locale: 'zh-CN' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ locale: 'zh-CN' });
    const after = await getMe(t, accessToken);
    expect(after.text).toBe(set.text);

    await t
      .http()
      .patch('/api/v1/me')
      .set(...bearer(accessToken))
      .send({ locale: null });
    expect((await me(accessToken)).locale).toBeNull();
  });

  it('shows the address waiting for confirmation when asked for, cancelled, asked again and confirmed', async () => {
    const user = await createUser(t);
    const { accessToken } = await login(t, user.username, user.password);
    const email = `${uniqueName('moved')}@example.com`;
    expect((await me(accessToken)).pendingEmail).toBeNull();

    expect((await requestEmailChange(t, accessToken, email, user.password)).status).toBe(202);
    expect((await me(accessToken)).pendingEmail).toBe(email);
    // Its link arrives before the next one is asked for: the second mail holds the live link.
    await t.sink.waitForMail(() => mailsTo(t.sink, email, CONFIRM_EMAIL_SUBJECT).length === 1);

    const cancelled = await t
      .http()
      .delete('/api/v1/me/email/pending')
      .set(...bearer(accessToken));
    expect(cancelled.status).toBe(204);
    expect((await me(accessToken)).pendingEmail).toBeNull();

    expect((await requestEmailChange(t, accessToken, email, user.password)).status).toBe(202);
    expect((await me(accessToken)).pendingEmail).toBe(email);
    await t.sink.waitForMail(() => mailsTo(t.sink, email, CONFIRM_EMAIL_SUBJECT).length === 2);
    const { token } = confirmationLinkIn(mailsTo(t.sink, email, CONFIRM_EMAIL_SUBJECT)[1]);

    expect((await me(accessToken)).pendingEmail).toBe(email);
    const verified = await verifyEmail(t, token);
    expect(verified.status).toBe(200);
    expect(await me(accessToken)).toMatchObject({
      email,
      emailVerified: true,
      pendingEmail: null,
    });
    // The confirmation answers the profile as read from the database, /me from the cached state:
    // the same bytes (fields, their order, the format of dates).
    expect((await getMe(t, accessToken)).text).toBe(verified.text);
  });

  it('shows two-factor authentication turned on and off by the user, and reset by an admin', async () => {
    const user = await createUser(t);
    const { accessToken } = await login(t, user.username, user.password);
    const setup = await t
      .http()
      .post('/api/v1/me/two-factor/setup')
      .set(...bearer(accessToken))
      .send({ currentPassword: user.password });
    expect(setup.status).toBe(200);
    const secret = setup.body.secret as string;
    const code = otp.freshCode(secret); // moves the clock: read /me after it
    expect((await me(accessToken)).twoFactorEnabled).toBe(false);
    const enabled = await t
      .http()
      .post('/api/v1/me/two-factor/enable')
      .set(...bearer(accessToken))
      .send({ code });
    expect(enabled.status).toBe(200);
    expect((await me(accessToken)).twoFactorEnabled).toBe(true);

    const offCode = otp.freshCode(secret);
    expect((await me(accessToken)).twoFactorEnabled).toBe(true);
    const disabled = await t
      .http()
      .delete('/api/v1/me/two-factor')
      .set(...bearer(accessToken))
      .send({ currentPassword: user.password, code: offCode });
    expect(disabled.status).toBe(204);
    expect((await me(accessToken)).twoFactorEnabled).toBe(false);

    await enableTwoFactor(t, user);
    expect((await me(accessToken)).twoFactorEnabled).toBe(true);
    expect((await asAdmin.resetTwoFactor(user)).status).toBe(204);
    expect((await me(accessToken)).twoFactorEnabled).toBe(false);
  });

  it("shows a changed password's time, and a temporary password the user changed", async () => {
    const user = await createUser(t, { temporaryPassword: true });
    const { accessToken } = await login(t, user.username, user.password);
    const before = await me(accessToken);
    expect(before.mustChangePassword).toBe(true);
    t.clock.advance(1);
    const changed = await t
      .http()
      .put('/api/v1/me/password')
      .set(...bearer(accessToken))
      .send({ currentPassword: user.password, newPassword: strongPassword() });
    expect(changed.status).toBe(204);
    const after = await me(accessToken);
    expect(after.mustChangePassword).toBe(false);
    expect(Date.parse(after.passwordChangedAt as string)).toBeGreaterThan(
      Date.parse(before.passwordChangedAt as string),
    );
  });

  it('shows a temporary password an admin set', async () => {
    const user = await createUser(t);
    const old = await login(t, user.username, user.password);
    expect((await me(old.accessToken)).mustChangePassword).toBe(false);
    const password = strongPassword();
    expect((await asAdmin.setPassword(user, password, true)).status).toBe(204);
    // Every session of the user ended; the user signs in with the new password.
    expect((await getMe(t, old.accessToken)).status).toBe(401);
    const { accessToken } = await login(t, user.username, password);
    expect((await me(accessToken)).mustChangePassword).toBe(true);
  });

  it('shows the authenticator enrolled and the password set by a password reset', async () => {
    const user = await createUser(t);
    const reset = resetClient(t, t.sink);
    const old = await login(t, user.username, user.password);
    const before = await me(old.accessToken);
    expect(before.twoFactorEnabled).toBe(false);

    const resetToken = await reset.startReset(user);
    const setup = await reset.setup(resetToken);
    expect(setup.status).toBe(200);
    const code = otp.freshCode(setup.body.secret as string);
    expect((await me(old.accessToken)).twoFactorEnabled).toBe(false);
    expect((await reset.verify(resetToken, code)).status).toBe(200);
    expect((await me(old.accessToken)).twoFactorEnabled).toBe(true);

    t.clock.advance(1);
    const done = await reset.password(resetToken, strongPassword());
    expect(done.status).toBe(200);
    const after = await me(done.body.accessToken as string);
    expect(Date.parse(after.passwordChangedAt as string)).toBeGreaterThan(
      Date.parse(before.passwordChangedAt as string),
    );
  });

  it('shows what an admin changes: roles, language, the address and whether it is verified', async () => {
    const user = await createUser(t);
    const { accessToken } = await login(t, user.username, user.password);
    expect(await me(accessToken)).toMatchObject({ roles: [], locale: null, emailVerified: true });

    expect((await asAdmin.patch(user, { roles: ['auditor'] })).status).toBe(200);
    expect((await me(accessToken)).roles).toEqual(['auditor']);

    expect((await asAdmin.patch(user, { locale: 'zh-CN' })).status).toBe(200);
    expect((await me(accessToken)).locale).toBe('zh-CN');

    expect((await asAdmin.patch(user, { emailVerified: false })).status).toBe(200);
    expect((await me(accessToken)).emailVerified).toBe(false);

    // An address the admin sets replaces the one waiting for the user's confirmation.
    const asked = `${uniqueName('asked')}@example.com`;
    expect((await requestEmailChange(t, accessToken, asked, user.password)).status).toBe(202);
    expect((await me(accessToken)).pendingEmail).toBe(asked);
    const email = `${uniqueName('set')}@example.com`;
    expect((await asAdmin.patch(user, { email })).status).toBe(200);
    expect(await me(accessToken)).toMatchObject({ email, emailVerified: true, pendingEmail: null });
  });

  it('refuses a disabled user at once, and lets them in again as soon as they are enabled', async () => {
    const user = await createUser(t);
    const { accessToken } = await login(t, user.username, user.password);
    await me(accessToken);
    expect((await asAdmin.patch(user, { disabled: true })).status).toBe(200);
    expect((await getMe(t, accessToken)).status).toBe(401);
    // Disabling revoked every session, so no request of this test can put the disabled state in
    // the cache; the guard's own lookup does (as one racing the disable past its session check).
    expect(await t.app.get(UsersService).authState(user.id)).toMatchObject({ disabled: true });
    expect((await asAdmin.patch(user, { disabled: false })).status).toBe(200);
    const again = await login(t, user.username, user.password);
    expect((await me(again.accessToken)).username).toBe(user.username);
  });
});

describe('GET /api/v1/me when the address waiting for confirmation expires', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ EMAIL_VERIFICATION_TTL: '5s' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('stops showing it at once, even while the rest of the state is cached', async () => {
    const user = await createUser(t);
    const { accessToken } = await login(t, user.username, user.password);
    const email = `${uniqueName('late')}@example.com`;
    expect((await requestEmailChange(t, accessToken, email, user.password)).status).toBe(202);
    t.clock.advance(4);
    // Read (and cached) 1 s before the link expires; read again 0.5 s after.
    expect((await getMe(t, accessToken)).body.pendingEmail).toBe(email);
    t.clock.advance(1.5);
    expect((await getMe(t, accessToken)).body.pendingEmail).toBeNull();
  });
});
