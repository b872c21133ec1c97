import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import {
  bearer,
  createAdmin,
  createUser,
  getMe,
  type Json,
  login,
  type TokenPair,
} from './helpers/factories.js';
import { auditEvents } from './helpers/audit.js';
import { jwtPayload } from './helpers/jwt.js';
import { retryAfterSeconds } from './helpers/reset-flow.js';
import type { SinkMail, SmtpSink } from './helpers/smtp-sink.js';
import { createTestAppWithMail, type TestAppWithMail } from './helpers/test-app.js';
import {
  authenticator,
  base32Decode,
  challengeFor,
  createEnrolledUser,
  TOTP_PERIOD_SECONDS,
} from './helpers/totp.js';
import { expectProblem } from './helpers/problem.js';
import { TwoFactorRepository } from '../src/two-factor/two-factor.repository.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const RECOVERY_CODE = /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/;

const ENABLED_SUBJECT = 'Two-factor authentication is on';
const DISABLED_SUBJECT = 'Two-factor authentication was turned off';
const RECOVERY_USED_SUBJECT = 'A recovery code was used';

describe('two-factor authentication', () => {
  let t: TestAppWithMail;
  let sink: SmtpSink;
  let otp: ReturnType<typeof authenticator>;

  beforeAll(async () => {
    t = await createTestAppWithMail();
    sink = t.sink;
    otp = authenticator(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const db = () => t.app.get(DataSource);
  const setup = (accessToken: string, currentPassword: string) =>
    t
      .http()
      .post('/api/v1/me/two-factor/setup')
      .set(...bearer(accessToken))
      .send({ currentPassword });
  const enable = (accessToken: string, code: string) =>
    t
      .http()
      .post('/api/v1/me/two-factor/enable')
      .set(...bearer(accessToken))
      .send({ code });
  const disable = (accessToken: string, body: { currentPassword: string; code: string }) =>
    t
      .http()
      .delete('/api/v1/me/two-factor')
      .set(...bearer(accessToken))
      .send(body);
  const passwordLogin = (username: string, password: string) =>
    t.http().post('/api/v1/auth/login').send({ username, password });
  const secondStep = (challengeToken: string, code: string) =>
    t.http().post('/api/v1/auth/login/two-factor').send({ challengeToken, code });
  const adminGetUser = (admin: TokenPair, id: string) =>
    t
      .http()
      .get(`/api/v1/admin/users/${id}`)
      .set(...bearer(admin.accessToken));
  const adminResetTwoFactor = (admin: TokenPair, id: string) =>
    t
      .http()
      .delete(`/api/v1/admin/users/${id}/two-factor`)
      .set(...bearer(admin.accessToken));

  const mailTo = (address: string, subject: string): Promise<SinkMail> =>
    sink.waitForMail((m) => m.envelopeTo.includes(address.toLowerCase()) && m.subject === subject);

  describe('setting up an authenticator in the personal center', () => {
    it('asks for the current password, so a stolen access token cannot bind an authenticator', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const without = await t
        .http()
        .post('/api/v1/me/two-factor/setup')
        .set(...bearer(tokens.accessToken));
      expectProblem(without, 400, 'VALIDATION_FAILED');
      expectProblem(
        await setup(tokens.accessToken, `${user.password}x`),
        401,
        'INVALID_CREDENTIALS',
      );
      expect((await setup(tokens.accessToken, user.password)).status).toBe(200);
    });

    it('offers a base32 secret with its otpauth URI and a PNG QR code', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const res = await setup(tokens.accessToken, user.password);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body as Json).sort()).toEqual([
        'otpauthUri',
        'qrCodeDataUrl',
        'secret',
      ]);
      const { secret, otpauthUri, qrCodeDataUrl } = res.body as Record<string, string>;

      expect(secret).toMatch(/^[A-Z2-7]+$/);
      expect(base32Decode(secret).length).toBeGreaterThanOrEqual(16);

      expect(otpauthUri.startsWith(`otpauth://totp/Portcullis:${user.username}?`)).toBe(true);
      const params = new URL(otpauthUri).searchParams;
      expect(params.get('secret')).toBe(secret);
      expect(params.get('issuer')).toBe('Portcullis');
      // What Google Authenticator assumes when they are left out.
      expect(params.get('algorithm') ?? 'SHA1').toBe('SHA1');
      expect(params.get('digits') ?? '6').toBe('6');
      expect(params.get('period') ?? '30').toBe('30');

      expect(qrCodeDataUrl.startsWith('data:image/png;base64,')).toBe(true);
      const png = Buffer.from(qrCodeDataUrl.slice('data:image/png;base64,'.length), 'base64');
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);

      // Offering a secret does not turn anything on yet.
      expect((await getMe(t, tokens.accessToken)).body.twoFactorEnabled).toBe(false);
      const signIn = await passwordLogin(user.username, user.password);
      expect(signIn.status).toBe(200);
      expect(signIn.body.accessToken).toEqual(expect.any(String));
    });

    it('refuses to enable with a wrong code (400 INVALID_TOTP_CODE) and leaves 2FA off', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const { secret } = (await setup(tokens.accessToken, user.password)).body as {
        secret: string;
      };
      otp.nextStep();

      expectProblem(
        await enable(tokens.accessToken, otp.wrongCode(secret)),
        400,
        'INVALID_TOTP_CODE',
      );
      expectProblem(await enable(tokens.accessToken, 'abcdef'), 400, 'INVALID_TOTP_CODE');
      expect((await getMe(t, tokens.accessToken)).body.twoFactorEnabled).toBe(false);
      // The secret is still waiting for its first good code.
      expect((await enable(tokens.accessToken, otp.codeAt(secret))).status).toBe(200);
    });

    it('turns 2FA on with a current code and shows ten distinct recovery codes once', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const { secret } = (await setup(tokens.accessToken, user.password)).body as {
        secret: string;
      };

      const res = await enable(tokens.accessToken, otp.freshCode(secret));
      expect(res.status).toBe(200);
      expect(Object.keys(res.body as Json)).toEqual(['recoveryCodes']);
      const codes = res.body.recoveryCodes as string[];
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      for (const code of codes) {
        expect(code).toMatch(RECOVERY_CODE);
      }

      const me = await getMe(t, tokens.accessToken);
      expect(me.status).toBe(200);
      expect(me.body.twoFactorEnabled).toBe(true);
      expect(JSON.stringify(me.body)).not.toContain(secret);
    });

    it('mails the user that two-factor authentication is on, without the secret or the codes', async () => {
      const user = await createEnrolledUser(t);
      const mail = await mailTo(user.email, ENABLED_SUBJECT);
      expect(mail.to).toBe(user.email);
      expect(mail.text).toContain(`Hello ${user.username},`);
      expect(mail.text).toContain('authenticator app');
      expect(mail.html).toContain(user.username);
      for (const secretText of [user.secret, ...user.recoveryCodes]) {
        expect(mail.raw).not.toContain(secretText);
      }
    });

    it('answers 409 TWO_FACTOR_ALREADY_CONFIGURED to setup or enable once 2FA is on', async () => {
      const user = await createEnrolledUser(t);
      expectProblem(
        await setup(user.tokens.accessToken, user.password),
        409,
        'TWO_FACTOR_ALREADY_CONFIGURED',
      );
      expectProblem(
        await enable(user.tokens.accessToken, otp.freshCode(user.secret)),
        409,
        'TWO_FACTOR_ALREADY_CONFIGURED',
      );
      // The authenticator in use is untouched: its next code signs in.
      const challenge = await challengeFor(t, user);
      expect((await secondStep(challenge, otp.freshCode(user.secret))).status).toBe(200);
    });

    it('never overwrites an enabled authenticator with a new setup (enabled between check and write)', async () => {
      // The setup checks "not enabled", then stores the new secret; an enabling that commits in
      // between must win. The write itself refuses: call it as if the check had passed.
      const user = await createEnrolledUser(t);
      const stored = await t.app
        .get(TwoFactorRepository)
        .savePending(user.id, 'a-secret-that-must-not-land', new Date());
      expect(stored).toBe(false);
      const challenge = await challengeFor(t, user);
      expect((await secondStep(challenge, otp.freshCode(user.secret))).status).toBe(200);
    });

    it('answers 409 TWO_FACTOR_SETUP_REQUIRED to enable without a setup', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      expectProblem(await enable(tokens.accessToken, '123456'), 409, 'TWO_FACTOR_SETUP_REQUIRED');
      expect((await getMe(t, tokens.accessToken)).body.twoFactorEnabled).toBe(false);
    });

    it('replaces an unconfirmed secret when setup is called again', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const first = (await setup(tokens.accessToken, user.password)).body.secret as string;
      const second = (await setup(tokens.accessToken, user.password)).body.secret as string;
      expect(second).not.toBe(first);

      otp.nextStep();
      expectProblem(await enable(tokens.accessToken, otp.codeAt(first)), 400, 'INVALID_TOTP_CODE');
      expect((await enable(tokens.accessToken, otp.codeAt(second))).status).toBe(200);
    });
  });

  describe('signing in with 2FA', () => {
    it('answers a correct password with a challenge and no tokens', async () => {
      const user = await createEnrolledUser(t);
      const res = await passwordLogin(user.username, user.password);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        twoFactorRequired: true,
        challengeToken: expect.any(String),
        expiresIn: 300,
      });
    });

    it('gives tokens with amr pwd and otp for the challenge and a current code', async () => {
      const user = await createEnrolledUser(t);
      const challenge = await challengeFor(t, user);
      const res = await secondStep(challenge, otp.freshCode(user.secret));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        deviceToken: expect.any(String),
      });
      const tokens = res.body as TokenPair;
      expect(jwtPayload(tokens.accessToken)).toMatchObject({ sub: user.id, amr: ['pwd', 'otp'] });
      const me = await getMe(t, tokens.accessToken);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: user.id, twoFactorEnabled: true });

      // The session keeps its strength across a refresh.
      const refreshed = await t
        .http()
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: tokens.refreshToken });
      expect(refreshed.status).toBe(200);
      expect(jwtPayload(refreshed.body.accessToken as string).amr).toEqual(['pwd', 'otp']);
    });

    it('refuses a wrong code with 401 INVALID_TOTP_CODE and keeps the challenge usable', async () => {
      const user = await createEnrolledUser(t);
      const challenge = await challengeFor(t, user);
      otp.nextStep();
      expectProblem(
        await secondStep(challenge, otp.wrongCode(user.secret)),
        401,
        'INVALID_TOTP_CODE',
      );
      expectProblem(await secondStep(challenge, 'not-a-code'), 401, 'INVALID_TOTP_CODE');
      expect((await secondStep(challenge, otp.codeAt(user.secret))).status).toBe(200);
    });

    it('never accepts the same code twice, even while it is still inside the time window', async () => {
      const user = await createEnrolledUser(t);
      const code = otp.freshCode(user.secret);
      expect((await secondStep(await challengeFor(t, user), code)).status).toBe(200);

      const again = await challengeFor(t, user);
      expectProblem(await secondStep(again, code), 401, 'INVALID_TOTP_CODE');
      // A step later the code is one step old, which drift tolerance would accept: still refused.
      t.clock.advance(TOTP_PERIOD_SECONDS);
      expectProblem(await secondStep(again, code), 401, 'INVALID_TOTP_CODE');
      expect((await secondStep(again, otp.freshCode(user.secret))).status).toBe(200);
      // Admins see the replays for what they are: a code someone else has seen.
      const admin = await createAdmin(t);
      const { items } = await auditEvents(t, admin.tokens.accessToken, user.id);
      expect(items.filter((e) => e.type === 'two_factor.code_replayed')).toHaveLength(2);
    });

    it('refuses at sign-in the code that turned 2FA on', async () => {
      const user = await createEnrolledUser(t);
      const challenge = await challengeFor(t, user);
      expectProblem(await secondStep(challenge, user.enableCode), 401, 'INVALID_TOTP_CODE');
      expect((await secondStep(challenge, otp.freshCode(user.secret))).status).toBe(200);
    });

    it('accepts a code one step old or one step ahead, not two', async () => {
      const user = await createEnrolledUser(t);
      // Two steps on, the step before now was never used.
      otp.nextStep();
      otp.nextStep();
      const late = await challengeFor(t, user);
      expectProblem(await secondStep(late, otp.codeAt(user.secret, -2)), 401, 'INVALID_TOTP_CODE');
      expect((await secondStep(late, otp.codeAt(user.secret, -1))).status).toBe(200);

      const early = await challengeFor(t, user);
      expectProblem(await secondStep(early, otp.codeAt(user.secret, 2)), 401, 'INVALID_TOTP_CODE');
      expect((await secondStep(early, otp.codeAt(user.secret, 1))).status).toBe(200);
    });

    it('answers 401 CHALLENGE_INVALID to a made-up challenge', async () => {
      const user = await createEnrolledUser(t);
      expectProblem(
        await secondStep('not-a-challenge', otp.freshCode(user.secret)),
        401,
        'CHALLENGE_INVALID',
      );
      const challenge = await challengeFor(t, user);
      const [header, payload] = challenge.split('.');
      expectProblem(
        await secondStep(`${header}.${payload}.AAAA`, otp.codeAt(user.secret)),
        401,
        'CHALLENGE_INVALID',
      );
    });

    it('accepts the code for 5 minutes after the password, and answers 401 CHALLENGE_INVALID after', async () => {
      const user = await createEnrolledUser(t);
      otp.nextStep();
      const inTime = await challengeFor(t, user);
      const tooLate = await challengeFor(t, user);

      t.clock.advance(285);
      expect((await secondStep(inTime, otp.codeAt(user.secret))).status).toBe(200);

      t.clock.advance(16);
      expectProblem(await secondStep(tooLate, otp.codeAt(user.secret)), 401, 'CHALLENGE_INVALID');
    });

    it('refuses a challenge token as a bearer token on /api/v1/me', async () => {
      const user = await createEnrolledUser(t);
      const challenge = await challengeFor(t, user);
      expectProblem(await getMe(t, challenge), 401, 'UNAUTHORIZED');
    });

    it('answers 401 CHALLENGE_INVALID to an access token sent as the challenge', async () => {
      const user = await createEnrolledUser(t);
      expect((await getMe(t, user.tokens.accessToken)).status).toBe(200);
      expectProblem(
        await secondStep(user.tokens.accessToken, otp.freshCode(user.secret)),
        401,
        'CHALLENGE_INVALID',
      );
    });

    it('answers 401 CHALLENGE_INVALID to a challenge issued before the password changed', async () => {
      const user = await createEnrolledUser(t);
      const stale = await challengeFor(t, user);
      const newPassword = `${user.password} renewed`;
      const changed = await t
        .http()
        .put('/api/v1/me/password')
        .set(...bearer(user.tokens.accessToken))
        .send({ currentPassword: user.password, newPassword });
      expect(changed.status).toBe(204);

      expectProblem(await secondStep(stale, otp.freshCode(user.secret)), 401, 'CHALLENGE_INVALID');
      // A sign-in with the new password goes through.
      const fresh = await challengeFor(t, { username: user.username, password: newPassword });
      expect((await secondStep(fresh, otp.freshCode(user.secret))).status).toBe(200);
    });
  });

  describe('recovery codes', () => {
    it('signs in once with a recovery code typed in upper case with spaces, never twice', async () => {
      const user = await createEnrolledUser(t);
      const code = user.recoveryCodes[0];
      const typed = ` ${code.toUpperCase().replace(/-/g, ' ')} `;
      const res = await secondStep(await challengeFor(t, user), typed);
      expect(res.status).toBe(200);
      expect(jwtPayload(res.body.accessToken as string).sub).toBe(user.id);

      const again = await challengeFor(t, user);
      expectProblem(await secondStep(again, code), 401, 'INVALID_TOTP_CODE');
      // Another of the codes still works.
      expect((await secondStep(again, user.recoveryCodes[1])).status).toBe(200);
    });

    it('mails the user that a recovery code was used and how many are left', async () => {
      const user = await createEnrolledUser(t);
      expect((await secondStep(await challengeFor(t, user), user.recoveryCodes[3])).status).toBe(
        200,
      );
      const mail = await mailTo(user.email, RECOVERY_USED_SUBJECT);
      expect(mail.text).toContain(`Hello ${user.username},`);
      expect(mail.text).toContain('You have 9 left.');
      expect(mail.html).toMatch(/You have <strong>9<\/strong> left/);
      expect(mail.raw).not.toContain(user.recoveryCodes[3]);
    });
  });

  describe('throttling wrong codes', () => {
    it('answers 429 TOO_MANY_ATTEMPTS with Retry-After after 5 wrong codes, even to the right one, until the wait is over', async () => {
      const user = await createEnrolledUser(t);
      const bystander = await createEnrolledUser(t);
      const challenge = await challengeFor(t, user);
      otp.nextStep();
      const wrong = otp.wrongCode(user.secret);
      for (let i = 0; i < 5; i++) {
        expectProblem(await secondStep(challenge, wrong), 401, 'INVALID_TOTP_CODE');
      }
      const blocked = await secondStep(challenge, otp.codeAt(user.secret));
      expectProblem(blocked, 429, 'TOO_MANY_ATTEMPTS');
      const wait = retryAfterSeconds(blocked);
      expect(wait).toBeGreaterThan(5);

      // Another user is not slowed down.
      const other = await challengeFor(t, bystander);
      expect((await secondStep(other, otp.codeAt(bystander.secret))).status).toBe(200);

      t.clock.advance(wait - 5);
      expectProblem(await secondStep(challenge, otp.codeAt(user.secret)), 429, 'TOO_MANY_ATTEMPTS');
      t.clock.advance(5);
      expect((await secondStep(challenge, otp.freshCode(user.secret))).status).toBe(200);
    });

    it('counts wrong codes per user across sign-in and turning 2FA off', async () => {
      const user = await createEnrolledUser(t);
      const challenge = await challengeFor(t, user);
      otp.nextStep();
      const wrong = otp.wrongCode(user.secret);
      for (let i = 0; i < 3; i++) {
        expectProblem(await secondStep(challenge, wrong), 401, 'INVALID_TOTP_CODE');
      }
      for (let i = 0; i < 2; i++) {
        expectProblem(
          await disable(user.tokens.accessToken, { currentPassword: user.password, code: wrong }),
          400,
          'INVALID_TOTP_CODE',
        );
      }

      const right = otp.codeAt(user.secret);
      const blocked = await secondStep(challenge, right);
      expectProblem(blocked, 429, 'TOO_MANY_ATTEMPTS');
      const wait = retryAfterSeconds(blocked);
      const blockedOff = await disable(user.tokens.accessToken, {
        currentPassword: user.password,
        code: right,
      });
      expectProblem(blockedOff, 429, 'TOO_MANY_ATTEMPTS');
      retryAfterSeconds(blockedOff);
      expect((await getMe(t, user.tokens.accessToken)).body.twoFactorEnabled).toBe(true);

      t.clock.advance(wait);
      expect((await secondStep(challenge, otp.freshCode(user.secret))).status).toBe(200);
    });
  });

  describe('turning 2FA off in the personal center', () => {
    it('answers 401 INVALID_CREDENTIALS to a wrong password and keeps 2FA on', async () => {
      const user = await createEnrolledUser(t);
      expectProblem(
        await disable(user.tokens.accessToken, {
          currentPassword: `${user.password}x`,
          code: otp.freshCode(user.secret),
        }),
        401,
        'INVALID_CREDENTIALS',
      );
      expect((await getMe(t, user.tokens.accessToken)).body.twoFactorEnabled).toBe(true);
    });

    it('answers 400 INVALID_TOTP_CODE to a wrong code and keeps 2FA on', async () => {
      const user = await createEnrolledUser(t);
      otp.nextStep();
      expectProblem(
        await disable(user.tokens.accessToken, {
          currentPassword: user.password,
          code: otp.wrongCode(user.secret),
        }),
        400,
        'INVALID_TOTP_CODE',
      );
      expect((await getMe(t, user.tokens.accessToken)).body.twoFactorEnabled).toBe(true);
      expect((await passwordLogin(user.username, user.password)).body.twoFactorRequired).toBe(true);
    });

    it('turns 2FA off with the password and a current code: sign-in gives tokens at once and a mail says so', async () => {
      const user = await createEnrolledUser(t);
      const res = await disable(user.tokens.accessToken, {
        currentPassword: user.password,
        code: otp.freshCode(user.secret),
      });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect((await getMe(t, user.tokens.accessToken)).body.twoFactorEnabled).toBe(false);

      const signIn = await passwordLogin(user.username, user.password);
      expect(signIn.status).toBe(200);
      expect(signIn.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        deviceToken: expect.any(String),
      });
      expect(jwtPayload(signIn.body.accessToken as string).amr).toEqual(['pwd']);

      const mail = await mailTo(user.email, DISABLED_SUBJECT);
      expect(mail.text).toContain('was turned off for your account by you');
      // The user may set up an authenticator again.
      expect((await setup(user.tokens.accessToken, user.password)).status).toBe(200);
    });

    it('refuses to turn 2FA off with a code already used to sign in', async () => {
      const user = await createEnrolledUser(t);
      const code = otp.freshCode(user.secret);
      expect((await secondStep(await challengeFor(t, user), code)).status).toBe(200);
      expectProblem(
        await disable(user.tokens.accessToken, { currentPassword: user.password, code }),
        400,
        'INVALID_TOTP_CODE',
      );
      expect((await getMe(t, user.tokens.accessToken)).body.twoFactorEnabled).toBe(true);
    });

    it('turns 2FA off with a recovery code instead of a current code', async () => {
      const user = await createEnrolledUser(t);
      const res = await disable(user.tokens.accessToken, {
        currentPassword: user.password,
        code: user.recoveryCodes[5],
      });
      expect(res.status).toBe(204);
      expect((await getMe(t, user.tokens.accessToken)).body.twoFactorEnabled).toBe(false);
    });

    it('answers 409 TWO_FACTOR_NOT_ENABLED to a user without 2FA, even one halfway through setup', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const body = { currentPassword: user.password, code: '123456' };
      expectProblem(await disable(tokens.accessToken, body), 409, 'TWO_FACTOR_NOT_ENABLED');
      const { secret } = (await setup(tokens.accessToken, user.password)).body as {
        secret: string;
      };
      expectProblem(
        await disable(tokens.accessToken, { ...body, code: otp.freshCode(secret) }),
        409,
        'TWO_FACTOR_NOT_ENABLED',
      );
    });
  });

  describe('admin reset', () => {
    it('removes the authenticator: the user signs in with the password alone and is told by mail', async () => {
      const admin = await createAdmin(t);
      const user = await createEnrolledUser(t);
      const before = await adminGetUser(admin.tokens, user.id);
      expect(before.status).toBe(200);
      expect(before.body.twoFactorEnabled).toBe(true);

      const res = await adminResetTwoFactor(admin.tokens, user.id);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');

      const after = await adminGetUser(admin.tokens, user.id);
      expect(after.body.twoFactorEnabled).toBe(false);
      const signIn = await passwordLogin(user.username, user.password);
      expect(signIn.status).toBe(200);
      expect(signIn.body.accessToken).toEqual(expect.any(String));
      expect(signIn.body).not.toHaveProperty('challengeToken');

      const mail = await mailTo(user.email, DISABLED_SUBJECT);
      expect(mail.text).toContain('was turned off for your account by an administrator');
      expect(mail.html).toContain('by an administrator');
    });

    it('answers 404 USER_NOT_FOUND for an unknown user id', async () => {
      const admin = await createAdmin(t);
      expectProblem(await adminResetTwoFactor(admin.tokens, randomUUID()), 404, 'USER_NOT_FOUND');
    });

    it('answers 403 FORBIDDEN to a user who is not an admin, and leaves 2FA on', async () => {
      const admin = await createAdmin(t);
      const user = await createEnrolledUser(t);
      const other = await createUser(t);
      const otherTokens = await login(t, other.username, other.password);
      expectProblem(await adminResetTwoFactor(otherTokens, user.id), 403, 'FORBIDDEN');
      expectProblem(await adminResetTwoFactor(user.tokens, user.id), 403, 'FORBIDDEN');
      expect((await adminGetUser(admin.tokens, user.id)).body.twoFactorEnabled).toBe(true);
    });
  });

  describe('audit trail', () => {
    it('records enabling, a failed code, a recovery code used and an admin reset for the user', async () => {
      const admin = await createAdmin(t);
      const user = await createEnrolledUser(t);
      const challenge = await challengeFor(t, user);
      expectProblem(
        await secondStep(challenge, otp.wrongCode(user.secret)),
        401,
        'INVALID_TOTP_CODE',
      );
      expect((await secondStep(challenge, user.recoveryCodes[0])).status).toBe(200);
      expect((await adminResetTwoFactor(admin.tokens, user.id)).status).toBe(204);

      const { items, body } = await auditEvents(t, admin.tokens.accessToken, user.id);
      const find = (type: string) => items.find((e) => e.type === type);
      expect(find('two_factor.enabled')).toMatchObject({ actorId: user.id, subjectId: user.id });
      expect(find('two_factor.code_failed')).toMatchObject({ subjectId: user.id });
      expect(find('two_factor.recovery_code_used')).toMatchObject({
        subjectId: user.id,
        details: { remaining: 9 },
      });
      expect(find('two_factor.reset_by_admin')).toMatchObject({
        actorId: admin.id,
        subjectId: user.id,
      });
      const dump = JSON.stringify(body);
      for (const secretText of [user.secret, ...user.recoveryCodes]) {
        expect(dump).not.toContain(secretText);
      }
    });
  });

  describe('secrets at rest', () => {
    it('stores the TOTP secret encrypted, before and after 2FA is turned on', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const { secret } = (await setup(tokens.accessToken, user.password)).body as {
        secret: string;
      };
      const key = base32Decode(secret);
      const stored = async (): Promise<string> => {
        const rows = await db().query<{ secret_sealed: string }[]>(
          'SELECT secret_sealed FROM two_factor_credentials WHERE user_id = $1',
          [user.id],
        );
        expect(rows).toHaveLength(1);
        return rows[0].secret_sealed;
      };
      const expectSealed = (sealed: string) => {
        expect(sealed.length).toBeGreaterThan(0);
        expect(sealed.toUpperCase()).not.toContain(secret);
        for (const encoding of ['hex', 'base64', 'base64url'] as const) {
          expect(sealed).not.toContain(key.toString(encoding).replace(/=+$/, ''));
        }
      };

      expectSealed(await stored());
      expect((await enable(tokens.accessToken, otp.freshCode(secret))).status).toBe(200);
      expectSealed(await stored());
    });

    it('stores recovery codes only as 32-byte hashes', async () => {
      const user = await createEnrolledUser(t);
      const rows = await db().query<{ code_hash: Buffer }[]>(
        'SELECT code_hash FROM recovery_codes WHERE user_id = $1',
        [user.id],
      );
      expect(rows).toHaveLength(10);
      const hashes = rows.map((r) => r.code_hash);
      expect(new Set(hashes.map((h) => h.toString('hex'))).size).toBe(10);
      for (const hash of hashes) {
        expect(Buffer.isBuffer(hash)).toBe(true);
        expect(hash).toHaveLength(32);
      }
      for (const code of user.recoveryCodes) {
        for (const form of [code, code.replace(/-/g, ''), code.toUpperCase()]) {
          for (const hash of hashes) {
            expect(hash.equals(Buffer.from(form))).toBe(false);
            expect(hash.toString('latin1')).not.toContain(form);
          }
        }
      }
    });
  });
});
