import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import type { Response } from 'supertest';
import {
  bearer,
  createAdmin,
  createUser,
  getMe,
  login,
  strongPassword,
  type TestUser,
  uniqueName,
} from './helpers/factories.js';
import { bindEmail } from './helpers/email.js';
import type { SmtpSink } from './helpers/smtp-sink.js';
import {
  createTestApp,
  createTestAppWithMail,
  type TestApp,
  type TestAppWithMail,
} from './helpers/test-app.js';
import { expectProblem } from './helpers/problem.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function rulesOf(res: Response): string[] {
  return ((res.body.errors ?? []) as { rule?: string }[]).map((e) => e.rule ?? '').sort();
}

function fieldsOf(res: Response): string[] {
  return ((res.body.errors ?? []) as { field: string }[]).map((e) => e.field);
}

/** Only the columns every version of the outbox has: contexts may be stored encrypted. */
interface OutboxRow {
  template: string;
  recipient: string;
}

describe('the personal center', () => {
  let t: TestAppWithMail;
  let sink: SmtpSink;

  const putEmail = (accessToken: string, body: Record<string, unknown>) =>
    t
      .http()
      .put('/api/v1/me/email')
      .set(...bearer(accessToken))
      .send(body);
  const putPassword = (accessToken: string, body: Record<string, unknown>) =>
    t
      .http()
      .put('/api/v1/me/password')
      .set(...bearer(accessToken))
      .send(body);
  const tryLogin = (username: string, password: string) =>
    t.http().post('/api/v1/auth/login').send({ username, password });

  /** The mails queued for an address, read straight from the outbox table. */
  const outboxFor = (recipient: string): Promise<OutboxRow[]> =>
    t.app
      .get(DataSource)
      .query(
        `SELECT template, recipient FROM mail_outbox WHERE lower(recipient) = lower($1) ORDER BY created_at`,
        [recipient],
      );

  beforeAll(async () => {
    t = await createTestAppWithMail();
    sink = t.sink;
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('GET /api/v1/me', () => {
    it('shows the signed-in user and nothing secret', async () => {
      const user = await createUser(t, { roles: ['auditor'] });
      const tokens = await login(t, user.username, user.password);
      const res = await getMe(t, tokens.accessToken);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: user.id,
        username: user.username,
        email: user.email,
        emailVerified: true,
        pendingEmail: null,
        roles: ['auditor'],
        locale: null,
        twoFactorEnabled: false,
        mustChangePassword: false,
        createdAt: expect.stringMatching(ISO_UTC),
        passwordChangedAt: expect.stringMatching(ISO_UTC),
      });
      expect(JSON.stringify(res.body)).not.toMatch(/hash|secret|\$argon2/i);
      expect(JSON.stringify(res.body)).not.toContain(user.password);
    });

    it('answers 401 UNAUTHORIZED without a token or with a forged one', async () => {
      expectProblem(await t.http().get('/api/v1/me'), 401, 'UNAUTHORIZED');
      expectProblem(await getMe(t, 'eyJhbGciOiJub25lIn0.e30.'), 401, 'UNAUTHORIZED');
    });
  });

  describe('PUT /api/v1/me/email', () => {
    it('mails a confirmation link to the new address and changes nothing else until it is used', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const email = `${uniqueName('moved')}@example.com`;
      const res = await putEmail(tokens.accessToken, { email, currentPassword: user.password });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ pendingEmail: email, expiresIn: 24 * 3600 });
      expect((await getMe(t, tokens.accessToken)).body).toMatchObject({
        email: user.email,
        emailVerified: true,
        pendingEmail: email,
      });
      expect(await outboxFor(email)).toEqual([
        { template: 'email-verification', recipient: email },
      ]);
      // Nobody was told of a change: there was none yet.
      expect(await outboxFor(user.email!)).toEqual([]);
      expectProblem(await tryLogin(email, user.password), 401, 'INVALID_CREDENTIALS');
    });

    it('binds the address once confirmed, answers the profile and tells the previous address', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const email = `${uniqueName('moved')}@example.com`;
      const profile = await bindEmail(t, sink, tokens.accessToken, email, user.password);
      expect(profile).toMatchObject({ id: user.id, username: user.username, email });
      expect(Object.keys(profile).sort()).toEqual(
        [
          'createdAt',
          'email',
          'emailVerified',
          'id',
          'locale',
          'mustChangePassword',
          'passwordChangedAt',
          'pendingEmail',
          'roles',
          'twoFactorEnabled',
          'username',
        ].sort(),
      );
      expect((await getMe(t, tokens.accessToken)).body).toMatchObject({
        email,
        emailVerified: true,
        pendingEmail: null,
      });
      // The new address signs in.
      await login(t, email, user.password);

      expect(await outboxFor(user.email!)).toEqual([
        { template: 'email-changed', recipient: user.email },
      ]);
    });

    it('queues no notice when no email was bound before', async () => {
      const user = await createUser(t, { email: null });
      const tokens = await login(t, user.username, user.password);
      const email = `${uniqueName('first')}@example.com`;
      const profile = await bindEmail(t, sink, tokens.accessToken, email, user.password);
      expect(profile.email).toBe(email);
      // The new address is the only one the user ever had: it got its link, and no notice.
      expect(await outboxFor(email)).toEqual([
        { template: 'email-verification', recipient: email },
      ]);
    });

    it('answers 401 INVALID_CREDENTIALS to a wrong current password and keeps the email', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const res = await putEmail(tokens.accessToken, {
        email: `${uniqueName()}@example.com`,
        currentPassword: `${user.password}x`,
      });
      expectProblem(res, 401, 'INVALID_CREDENTIALS');
      expect((await getMe(t, tokens.accessToken)).body).toMatchObject({
        email: user.email,
        pendingEmail: null,
      });
      expect(await outboxFor(user.email!)).toEqual([]);
    });

    it("answers 409 EMAIL_TAKEN to another user's email, whatever its case", async () => {
      const owner = await createUser(t);
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const res = await putEmail(tokens.accessToken, {
        email: owner.email!.toUpperCase(),
        currentPassword: user.password,
      });
      expectProblem(res, 409, 'EMAIL_TAKEN');
      expect((await getMe(t, tokens.accessToken)).body).toMatchObject({
        email: user.email,
        pendingEmail: null,
      });
      expect(await outboxFor(user.email!)).toEqual([]);
      expect(await outboxFor(owner.email!)).toEqual([]);
    });

    it.each([
      [{ email: 'not an address' }, ['email']],
      [{ email: `${'x'.repeat(250)}@example.com` }, ['email']],
      [{ currentPassword: undefined }, ['currentPassword']],
      [{ extra: true }, ['extra']],
    ])('answers 400 VALIDATION_FAILED to %p', async (override, fields) => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const res = await putEmail(tokens.accessToken, {
        email: `${uniqueName()}@example.com`,
        currentPassword: user.password,
        ...override,
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect([...new Set(fieldsOf(res))]).toEqual(fields);
    });
  });

  describe('PUT /api/v1/me/password', () => {
    it('changes the password and ends every other session, keeping this one', async () => {
      const user = await createUser(t);
      const current = await login(t, user.username, user.password);
      const other = await login(t, user.username, user.password);
      const before = (await getMe(t, current.accessToken)).body.passwordChangedAt as string;
      t.clock.advance(1);
      const newPassword = strongPassword();

      const res = await putPassword(current.accessToken, {
        currentPassword: user.password,
        newPassword,
      });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');

      const profile = await getMe(t, current.accessToken);
      expect(profile.status).toBe(200);
      expect(profile.body.mustChangePassword).toBe(false);
      expect(Date.parse(profile.body.passwordChangedAt)).toBeGreaterThan(Date.parse(before));
      const refreshed = await t
        .http()
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: current.refreshToken });
      expect(refreshed.status).toBe(200);

      expectProblem(await getMe(t, other.accessToken), 401, 'UNAUTHORIZED');
      const otherRefresh = await t
        .http()
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: other.refreshToken });
      expectProblem(otherRefresh, 401, 'INVALID_REFRESH_TOKEN');

      expectProblem(await tryLogin(user.username, user.password), 401, 'INVALID_CREDENTIALS');
      await login(t, user.username, newPassword);
    });

    it('answers 401 INVALID_CREDENTIALS to a wrong current password and keeps the password', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const res = await putPassword(tokens.accessToken, {
        currentPassword: 'not my password at all',
        newPassword: strongPassword(),
      });
      expectProblem(res, 401, 'INVALID_CREDENTIALS');
      expect((await getMe(t, tokens.accessToken)).status).toBe(200);
      await login(t, user.username, user.password);
    });

    describe('applies the password policy', () => {
      let user: TestUser;
      let accessToken: string;
      beforeAll(async () => {
        user = await createUser(t);
        accessToken = (await login(t, user.username, user.password)).accessToken;
      });

      it.each([
        ['a common password', () => 'password123', ['notCommon']],
        [
          'the username',
          () => `my ${user.username.toUpperCase()} pass`,
          ['notEmail', 'notUsername'],
        ],
        ['too short', () => 'k7#q zz', ['minLength']],
        ['seven emoji (seven code points)', () => '🔑🔒🗝🔐🔓🛡🏰', ['minLength']],
        ['129 code points', () => 'quiet harbour '.repeat(10).slice(0, 129), ['maxLength']],
        [
          '129 emoji (129 code points)',
          () => [...'🔑🔒🗝🔐🔓🛡🏰🚪🧱'.repeat(15)].slice(0, 129).join(''),
          ['maxLength'],
        ],
        ['one character repeated', () => 'q'.repeat(40), ['notRepetitive']],
        ['the current password', () => user.password, ['notRecent']],
      ])('answers 400 PASSWORD_POLICY_VIOLATION to %s', async (_, password, rules) => {
        const res = await putPassword(accessToken, {
          currentPassword: user.password,
          newPassword: password(),
        });
        expectProblem(res, 400, 'PASSWORD_POLICY_VIOLATION');
        expect(rulesOf(res)).toEqual(rules);
        expect(new Set(fieldsOf(res))).toEqual(new Set(['newPassword']));
      });

      it('still signs in with the unchanged password', async () => {
        await login(t, user.username, user.password);
      });
    });

    it('accepts a password of eight emoji, which is eight code points', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const newPassword = '🦄🌈🔥🚀🎉🍕🐙🌵';
      const res = await putPassword(tokens.accessToken, {
        currentPassword: user.password,
        newPassword,
      });
      expect(res.status).toBe(204);
      await login(t, user.username, newPassword);
    });

    it('accepts 128 emoji, counting code points and not UTF-16 units', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const newPassword = '🦄🌈🔥🚀🎉🍕🐙🌵'.repeat(16);
      const res = await putPassword(tokens.accessToken, {
        currentPassword: user.password,
        newPassword,
      });
      expect(res.status).toBe(204);
      await login(t, user.username, newPassword);
    });

    it('lets a user with a temporary password see the profile and change the password, then everything else', async () => {
      const user = await createUser(t, { temporaryPassword: true });
      const tokens = await login(t, user.username, user.password);
      const profile = await getMe(t, tokens.accessToken);
      expect(profile.status).toBe(200);
      expect(profile.body.mustChangePassword).toBe(true);
      const email = `${uniqueName('after')}@example.com`;
      expectProblem(
        await putEmail(tokens.accessToken, { email, currentPassword: user.password }),
        403,
        'PASSWORD_CHANGE_REQUIRED',
      );

      const newPassword = strongPassword();
      const res = await putPassword(tokens.accessToken, {
        currentPassword: user.password,
        newPassword,
      });
      expect(res.status).toBe(204);
      expect((await getMe(t, tokens.accessToken)).body.mustChangePassword).toBe(false);
      const changed = await putEmail(tokens.accessToken, { email, currentPassword: newPassword });
      expect(changed.status).toBe(202);
    });
  });

  describe('GET /api/v1/password-policy', () => {
    it('describes the default policy to anyone, signed in or not', async () => {
      const res = await t.http().get('/api/v1/password-policy');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        minLength: 8,
        maxLength: 128,
        historySize: 3,
        rules: [
          { rule: 'minLength', description: expect.stringContaining('8') },
          { rule: 'maxLength', description: expect.stringContaining('128') },
          { rule: 'notUsername', description: expect.any(String) },
          { rule: 'notEmail', description: expect.any(String) },
          { rule: 'notContextWord', description: expect.stringContaining('portcullis') },
          { rule: 'notRepetitive', description: expect.any(String) },
          { rule: 'notCommon', description: expect.any(String) },
          { rule: 'notRecent', description: expect.stringContaining('3') },
        ],
      });
    });
  });
});

describe('a password policy configured with PASSWORD_MIN_LENGTH=12', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ PASSWORD_MIN_LENGTH: '12' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is described with the configured minimum', async () => {
    const res = await t.http().get('/api/v1/password-policy');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ minLength: 12, maxLength: 128, historySize: 3 });
    expect(res.body.rules[0]).toEqual({
      rule: 'minLength',
      description: expect.stringContaining('12'),
    });
  });

  it('refuses an 11-character password and accepts a 12-character one when creating a user', async () => {
    const admin = await createAdmin(t);
    const create = (password: string) =>
      t
        .http()
        .post('/api/v1/admin/users')
        .set(...bearer(admin.tokens.accessToken))
        .send({ username: uniqueName('twelve'), password });
    const short = await create('k7#q zz 9wX');
    expectProblem(short, 400, 'PASSWORD_POLICY_VIOLATION');
    expect(rulesOf(short)).toEqual(['minLength']);
    expect(short.body.errors[0].message).toContain('12');
    expect((await create('k7#q zz 9wX!')).status).toBe(201);
  });
});
