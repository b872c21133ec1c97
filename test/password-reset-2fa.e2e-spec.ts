import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { createUser, strongPassword, uniqueName } from './helpers/factories.js';
import { jwtPayload } from './helpers/jwt.js';
import {
  RECOVERY_USED_SUBJECT,
  resetClient,
  RESET_SUBJECT,
  retryAfterSeconds,
} from './helpers/reset-flow.js';
import type { SmtpSink } from './helpers/smtp-sink.js';
import { createTestAppWithMail, type TestAppWithMail } from './helpers/test-app.js';
import { authenticator, createEnrolledUser, type EnrolledUser } from './helpers/totp.js';
import { expectProblem } from './helpers/problem.js';

describe('forgot password and two-factor authentication', () => {
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

  const passwordLogin = (username: string, password: string) =>
    t.http().post('/api/v1/auth/login').send({ username, password });
  const secondStep = (challengeToken: string, code: string) =>
    t.http().post('/api/v1/auth/login/two-factor').send({ challengeToken, code });

  /** Opens a fresh reset link for a user with 2FA and checks the session says so. */
  async function startResetWith2fa(user: EnrolledUser): Promise<string> {
    const { token } = await reset.requestLink(user.username, user.email);
    const opened = await reset.open(token);
    expect(opened.status).toBe(201);
    expect(opened.body).toEqual({
      resetToken: expect.any(String),
      expiresIn: 600,
      twoFactorConfigured: true,
    });
    return opened.body.resetToken as string;
  }

  describe('a user with 2FA', () => {
    it('proves the existing authenticator, cannot enrol a new one, and the code used cannot be replayed at sign-in', async () => {
      const user = await createEnrolledUser(t);
      const resetToken = await startResetWith2fa(user);

      expectProblem(await reset.setup(resetToken), 409, 'TWO_FACTOR_ALREADY_CONFIGURED');
      expectProblem(await reset.password(resetToken, strongPassword()), 403, 'TWO_FACTOR_REQUIRED');

      const code = otp.freshCode(user.secret);
      const verified = await reset.verify(resetToken, code);
      expect(verified.status).toBe(200);
      // Nothing new to show: no recovery codes.
      expect(verified.body).toEqual({ stage: 'TWO_FACTOR_VERIFIED' });

      const newPassword = strongPassword();
      const done = await reset.password(resetToken, newPassword);
      expect(done.status).toBe(200);
      expect(jwtPayload(done.body.accessToken as string)).toMatchObject({
        sub: user.id,
        amr: ['pwd', 'otp'],
      });

      // Same step, same code: refused at sign-in, while a newer code of the same authenticator works.
      const signIn = await passwordLogin(user.username, newPassword);
      expect(signIn.status).toBe(200);
      expect(signIn.body.twoFactorRequired).toBe(true);
      const challenge = signIn.body.challengeToken as string;
      expectProblem(await secondStep(challenge, code), 401, 'INVALID_TOTP_CODE');
      expect((await secondStep(challenge, otp.freshCode(user.secret))).status).toBe(200);
    });

    it('refuses in the reset a code already used to sign in', async () => {
      const user = await createEnrolledUser(t);
      const code = otp.freshCode(user.secret);
      const signIn = await passwordLogin(user.username, user.password);
      expect((await secondStep(signIn.body.challengeToken as string, code)).status).toBe(200);

      const resetToken = await startResetWith2fa(user);
      expectProblem(await reset.verify(resetToken, code), 400, 'INVALID_TOTP_CODE');
      expect((await reset.verify(resetToken, otp.freshCode(user.secret))).status).toBe(200);
    });

    it('accepts a recovery code instead of a TOTP code, once, and mails that one was used', async () => {
      const user = await createEnrolledUser(t);
      const resetToken = await startResetWith2fa(user);
      const recoveryCode = user.recoveryCodes[0];

      const verified = await reset.verify(resetToken, recoveryCode);
      expect(verified.status).toBe(200);
      expect(verified.body).toEqual({ stage: 'TWO_FACTOR_VERIFIED' });

      const mail = await reset.nthMailTo(user.email, RECOVERY_USED_SUBJECT, 1);
      expect(mail.text).toContain('used to reset your password');
      expect(mail.text).toContain('You have 9 left.');
      expect(mail.raw).not.toContain(recoveryCode);

      const newPassword = strongPassword();
      expect((await reset.password(resetToken, newPassword)).status).toBe(200);

      // The recovery code is spent.
      const signIn = await passwordLogin(user.username, newPassword);
      const challenge = signIn.body.challengeToken as string;
      expectProblem(await secondStep(challenge, recoveryCode), 401, 'INVALID_TOTP_CODE');
      expect((await secondStep(challenge, user.recoveryCodes[1])).status).toBe(200);
    });
  });

  describe('wrong codes', () => {
    it('ends the reset session at the 5th wrong code: even the right code then gets 401 RESET_SESSION_INVALID', async () => {
      const user = await createEnrolledUser(t);
      const resetToken = await startResetWith2fa(user);
      otp.nextStep();
      const wrong = otp.wrongCode(user.secret);
      // The per-user throttle allows 5 free failures, so all five are answered as wrong codes.
      for (let i = 1; i <= 5; i++) {
        const res = await reset.verify(resetToken, wrong);
        expectProblem(res, 400, 'INVALID_TOTP_CODE');
      }

      expectProblem(
        await reset.verify(resetToken, otp.codeAt(user.secret)),
        401,
        'RESET_SESSION_INVALID',
      );
      expectProblem(
        await reset.password(resetToken, strongPassword()),
        401,
        'RESET_SESSION_INVALID',
      );
      const [row] = await t.app
        .get(DataSource)
        .query<{ failed_codes: number; finish_reason: string | null }[]>(
          'SELECT failed_codes, finish_reason FROM password_reset_sessions WHERE user_id = $1',
          [user.id],
        );
      expect(row).toEqual({ failed_codes: 5, finish_reason: 'too_many_codes' });
    });

    it('keeps counting wrong codes against the user in a new reset: 429 TOO_MANY_ATTEMPTS until Retry-After has passed', async () => {
      const user = await createEnrolledUser(t);
      const first = await startResetWith2fa(user);
      otp.nextStep();
      const wrong = otp.wrongCode(user.secret);
      for (let i = 0; i < 5; i++) {
        expectProblem(await reset.verify(first, wrong), 400, 'INVALID_TOTP_CODE');
      }

      const second = await startResetWith2fa(user);
      const blocked = await reset.verify(second, otp.codeAt(user.secret));
      expectProblem(blocked, 429, 'TOO_MANY_ATTEMPTS');
      const wait = retryAfterSeconds(blocked);
      expect(wait).toBeGreaterThan(0);
      // The same count applies at sign-in.
      const signIn = await passwordLogin(user.username, user.password);
      expectProblem(
        await secondStep(signIn.body.challengeToken as string, otp.codeAt(user.secret)),
        429,
        'TOO_MANY_ATTEMPTS',
      );

      t.clock.advance(wait);
      // The blocked attempts did not end the new reset session.
      expect((await reset.verify(second, otp.freshCode(user.secret))).status).toBe(200);
      expect((await reset.password(second, strongPassword())).status).toBe(200);
    });

    it('also ends the session after 5 wrong codes while enrolling a new authenticator', async () => {
      const user = await createUser(t);
      const resetToken = await reset.startReset(user);
      const setup = await reset.setup(resetToken);
      expect(setup.status).toBe(200);
      const secret = setup.body.secret as string;
      otp.nextStep();
      const wrong = otp.wrongCode(secret);
      for (let i = 0; i < 5; i++) {
        expectProblem(await reset.verify(resetToken, wrong), 400, 'INVALID_TOTP_CODE');
      }
      expectProblem(
        await reset.verify(resetToken, otp.codeAt(secret)),
        401,
        'RESET_SESSION_INVALID',
      );
      // Nothing was enrolled.
      const signIn = await passwordLogin(user.username, user.password);
      expect(signIn.status).toBe(200);
      expect(signIn.body.accessToken).toEqual(expect.any(String));
    });
  });
});

describe('throttling reset requests (behind a trusted proxy)', () => {
  let t: TestAppWithMail;
  let sink: SmtpSink;
  let reset: ReturnType<typeof resetClient>;

  beforeAll(async () => {
    t = await createTestAppWithMail({ TRUST_PROXY: 'true' });
    sink = t.sink;
    reset = resetClient(t, sink);
  });
  afterAll(async () => {
    await t?.close();
  });

  const from = (address: string) => ({ 'X-Forwarded-For': address });
  const linksOf = async (userId: string): Promise<number> => {
    const rows = await t.app
      .get(DataSource)
      .query('SELECT id FROM password_reset_links WHERE user_id = $1', [userId]);
    return (rows as unknown[]).length;
  };

  it('answers the 6th request for one identifier within the hour with 429 TOO_MANY_ATTEMPTS, whatever the address', async () => {
    const user = await createUser(t);
    const other = await createUser(t);
    for (let i = 1; i <= 5; i++) {
      expect((await reset.request(user.username, from(`203.0.113.${i}`))).status).toBe(202);
    }
    await reset.nthMailTo(user.email as string, RESET_SUBJECT, 5);
    const blocked = await reset.request(user.username, from('203.0.113.6'));
    expectProblem(blocked, 429, 'TOO_MANY_ATTEMPTS');
    const wait = retryAfterSeconds(blocked);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(3600);
    expect(await linksOf(user.id)).toBe(5);

    // Another identifier from the same address is not held up.
    expect((await reset.request(other.username, from('203.0.113.6'))).status).toBe(202);

    t.clock.advance(wait);
    const { token } = await reset.requestLink(
      user.username,
      user.email as string,
      from('203.0.113.7'),
    );
    expect((await reset.open(token)).status).toBe(201);
    expect(await linksOf(user.id)).toBe(6);
  });

  it('answers the 31st request from one client address within the hour with 429, whatever the identifiers', async () => {
    const user = await createUser(t);
    const address = '198.51.100.7';
    for (let i = 0; i < 30; i++) {
      const res = await reset.request(uniqueName('nobody'), from(address));
      expectProblem(res, 404, 'USER_NOT_FOUND');
    }
    const blocked = await reset.request(user.username, from(address));
    expectProblem(blocked, 429, 'TOO_MANY_ATTEMPTS');
    expect(retryAfterSeconds(blocked)).toBeGreaterThan(0);
    expect(await linksOf(user.id)).toBe(0);

    // The same user from another address gets the link.
    const { mail } = await reset.requestLink(
      user.username,
      user.email as string,
      from('198.51.100.8'),
    );
    expect(mail.subject).toBe(RESET_SUBJECT);
    expect(await linksOf(user.id)).toBe(1);
  });
});
