import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response, Test } from 'supertest';
import {
  bearer,
  createAdmin,
  createUser,
  getMe,
  login,
  strongPassword,
  type TestUser,
  type TokenPair,
  uniqueName,
} from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { expectProblem } from './helpers/problem.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

function fieldsOf(res: Response): string[] {
  return ((res.body.errors ?? []) as { field: string }[]).map((e) => e.field);
}

function rulesOf(res: Response): string[] {
  return ((res.body.errors ?? []) as { rule?: string }[]).map((e) => e.rule ?? '').sort();
}

describe('admin user management', () => {
  let t: TestApp;
  let admin: TestUser & { tokens: TokenPair };

  const asAdmin = () => bearer(admin.tokens.accessToken);
  const createAsAdmin = (body: Record<string, unknown>) =>
    t
      .http()
      .post('/api/v1/admin/users')
      .set(...asAdmin())
      .send(body);
  const getUser = (id: string) =>
    t
      .http()
      .get(`/api/v1/admin/users/${id}`)
      .set(...asAdmin());
  const patchUser = (id: string, body: Record<string, unknown>) =>
    t
      .http()
      .patch(`/api/v1/admin/users/${id}`)
      .set(...asAdmin())
      .send(body);
  const setPassword = (id: string, body: Record<string, unknown>) =>
    t
      .http()
      .put(`/api/v1/admin/users/${id}/password`)
      .set(...asAdmin())
      .send(body);
  const search = (query: Record<string, string | number>) =>
    t
      .http()
      .get('/api/v1/admin/users')
      .query(query)
      .set(...asAdmin());

  beforeAll(async () => {
    t = await createTestApp();
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('POST /api/v1/admin/users', () => {
    it('creates a user whose password is temporary by default, without any hash in the answer', async () => {
      const username = uniqueName('new');
      const password = strongPassword();
      const res = await createAsAdmin({
        username,
        password,
        email: `${username}@example.com`,
        roles: ['auditor'],
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(UUID),
        username,
        email: `${username}@example.com`,
        emailVerified: true,
        pendingEmail: null,
        roles: ['auditor'],
        locale: null,
        disabled: false,
        twoFactorEnabled: false,
        mustChangePassword: true,
        createdAt: expect.stringMatching(ISO_UTC),
        updatedAt: expect.stringMatching(ISO_UTC),
        passwordChangedAt: expect.stringMatching(ISO_UTC),
      });
      expect(JSON.stringify(res.body)).not.toMatch(/hash|secret|\$argon2/i);
      expect(JSON.stringify(res.body)).not.toContain(password);

      // The temporary password lets them in, but only to change it.
      const tokens = await login(t, username, password);
      const blocked = await t
        .http()
        .put('/api/v1/me/email')
        .set(...bearer(tokens.accessToken))
        .send({ email: `${username}.new@example.com`, currentPassword: password });
      expectProblem(blocked, 403, 'PASSWORD_CHANGE_REQUIRED');
    });

    it('creates a user without an email or roles', async () => {
      const username = uniqueName('bare');
      const res = await createAsAdmin({ username, password: strongPassword() });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        username,
        email: null,
        emailVerified: false,
        pendingEmail: null,
        roles: [],
        mustChangePassword: true,
      });
    });

    it('creates a user who may use every endpoint at once when temporaryPassword is false', async () => {
      const username = uniqueName('ready');
      const password = strongPassword();
      const res = await createAsAdmin({ username, password, temporaryPassword: false });
      expect(res.status).toBe(201);
      expect(res.body.mustChangePassword).toBe(false);
      const tokens = await login(t, username, password);
      const changed = await t
        .http()
        .put('/api/v1/me/email')
        .set(...bearer(tokens.accessToken))
        .send({ email: `${username}@example.com`, currentPassword: password });
      expect(changed.status).toBe(202);
    });

    it('answers 409 USERNAME_TAKEN to a username that differs only in case', async () => {
      const base = uniqueName('case');
      const first = await createAsAdmin({ username: `Alice-${base}`, password: strongPassword() });
      expect(first.status).toBe(201);
      const second = await createAsAdmin({ username: `alice-${base}`, password: strongPassword() });
      expectProblem(second, 409, 'USERNAME_TAKEN');
    });

    it('answers 409 EMAIL_TAKEN to an email that differs only in case', async () => {
      const base = uniqueName('mail');
      const first = await createAsAdmin({
        username: uniqueName(),
        password: strongPassword(),
        email: `${base}@example.com`,
      });
      expect(first.status).toBe(201);
      const second = await createAsAdmin({
        username: uniqueName(),
        password: strongPassword(),
        email: `${base.toUpperCase()}@Example.COM`,
      });
      expectProblem(second, 409, 'EMAIL_TAKEN');
    });

    it('answers 400 PASSWORD_POLICY_VIOLATION naming every broken rule of the password', async () => {
      // Six characters and it contains the username: two rules broken at once.
      const res = await createAsAdmin({ username: 'kim', password: 'kim-42' });
      expectProblem(res, 400, 'PASSWORD_POLICY_VIOLATION');
      expect(res.body.errors).toEqual(
        expect.arrayContaining([
          { field: 'password', rule: 'minLength', message: expect.any(String) },
          { field: 'password', rule: 'notUsername', message: expect.any(String) },
        ]),
      );
      expect(rulesOf(res)).toEqual(['minLength', 'notUsername']);
    });

    it.each([
      ['a common password', 'password123', undefined, 'notCommon'],
      ["the email's local part", 'my jenkins-leeroy day', 'Leeroy@example.com', 'notEmail'],
      [
        'more than 128 characters',
        'quiet harbour '.repeat(10).slice(0, 129),
        undefined,
        'maxLength',
      ],
      ['the name of the service', 'my Portcullis door key', undefined, 'notContextWord'],
      ['one character repeated', 'x'.repeat(64), undefined, 'notRepetitive'],
      ['a run of consecutive letters', 'abcdefghijklmnop', undefined, 'notRepetitive'],
    ])('rejects a password that is %s', async (_, password, email, rule) => {
      const res = await createAsAdmin({
        username: uniqueName('policy'),
        password,
        ...(email ? { email } : {}),
      });
      expectProblem(res, 400, 'PASSWORD_POLICY_VIOLATION');
      expect(rulesOf(res)).toEqual([rule]);
    });

    it.each(['a', 'has space', 'x@y', 'u'.repeat(65)])(
      'answers 400 VALIDATION_FAILED to the username %p',
      async (username) => {
        const res = await createAsAdmin({ username, password: strongPassword() });
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(res)).toEqual(['username']);
      },
    );

    it('answers 400 VALIDATION_FAILED to a malformed email', async () => {
      const res = await createAsAdmin({
        username: uniqueName(),
        password: strongPassword(),
        email: 'not-an-address',
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['email']);
    });

    it('answers 400 VALIDATION_FAILED listing an unknown field', async () => {
      const res = await createAsAdmin({
        username: uniqueName(),
        password: strongPassword(),
        isSuperuser: true,
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors).toEqual([
        expect.objectContaining({ field: 'isSuperuser', rule: 'whitelistValidation' }),
      ]);
    });

    it.each([[['Admin']], [['has space']], ['admin'], [[42]]])(
      'answers 400 VALIDATION_FAILED to the roles %p',
      async (roles) => {
        const res = await createAsAdmin({
          username: uniqueName(),
          password: strongPassword(),
          roles,
        });
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(res)).toContain('roles');
        expect(new Set(fieldsOf(res))).toEqual(new Set(['roles']));
      },
    );

    it('answers 409 USERNAME_TAKEN to the loser of two concurrent creates', async () => {
      const base = uniqueName('race');
      const [a, b] = await Promise.all([
        createAsAdmin({ username: `RACE-${base}`, password: strongPassword() }),
        createAsAdmin({ username: `race-${base}`, password: strongPassword() }),
      ]);
      expect([a.status, b.status].sort()).toEqual([201, 409]);
      const loser = a.status === 409 ? a : b;
      expectProblem(loser, 409, 'USERNAME_TAKEN');
      const list = await search({ search: base });
      expect(list.status).toBe(200);
      expect(list.body.total).toBe(1);
    });

    it('answers 409 EMAIL_TAKEN to the loser of two concurrent creates with one email', async () => {
      const base = uniqueName('erace');
      const [a, b] = await Promise.all([
        createAsAdmin({
          username: uniqueName(),
          password: strongPassword(),
          email: `${base}@example.com`,
        }),
        createAsAdmin({
          username: uniqueName(),
          password: strongPassword(),
          email: `${base.toUpperCase()}@example.com`,
        }),
      ]);
      expect([a.status, b.status].sort()).toEqual([201, 409]);
      expectProblem(a.status === 409 ? a : b, 409, 'EMAIL_TAKEN');
      const list = await search({ search: base });
      expect(list.body.total).toBe(1);
    });
  });

  describe('GET /api/v1/admin/users', () => {
    it('searches usernames and emails case-insensitively', async () => {
      const prefix = uniqueName('find');
      const byName = await createUser(t, { username: `${prefix}-a`, email: null });
      const byEmail = await createUser(t, { email: `${prefix}-b@example.com` });
      await createUser(t); // matches neither
      const res = await search({ search: prefix.toUpperCase() });
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(2);
      expect((res.body.items as { id: string }[]).map((u) => u.id).sort()).toEqual(
        [byName.id, byEmail.id].sort(),
      );
      expect(JSON.stringify(res.body)).not.toMatch(/hash|\$argon2/i);
    });

    it("treats '%' and '_' in the search as literal characters", async () => {
      const prefix = uniqueName('lit');
      const underscore = await createUser(t, { username: `${prefix}_x` });
      await createUser(t, { username: `${prefix}ax` });
      const withUnderscore = await search({ search: `${prefix}_` });
      expect(withUnderscore.body.total).toBe(1);
      expect(withUnderscore.body.items[0].id).toBe(underscore.id);
      const withPercent = await search({ search: `${prefix}%x` });
      expect(withPercent.status).toBe(200);
      expect(withPercent.body).toMatchObject({ total: 0, items: [] });
    });

    it('pages through the matches with page and pageSize', async () => {
      const prefix = uniqueName('page');
      const created: string[] = [];
      for (const suffix of ['a', 'b', 'c']) {
        created.push((await createUser(t, { username: `${prefix}-${suffix}` })).id);
      }
      const first = await search({ search: prefix, page: 1, pageSize: 2 });
      const second = await search({ search: prefix, page: 2, pageSize: 2 });
      const third = await search({ search: prefix, page: 3, pageSize: 2 });
      expect(first.body).toMatchObject({ total: 3, page: 1, pageSize: 2 });
      expect(first.body.items).toHaveLength(2);
      expect(second.body).toMatchObject({ total: 3, page: 2, pageSize: 2 });
      expect(second.body.items).toHaveLength(1);
      expect(third.body).toMatchObject({ total: 3, page: 3, items: [] });
      const seen = [...first.body.items, ...second.body.items].map((u: { id: string }) => u.id);
      expect(seen).toEqual(created);
    });

    it('uses 20 items per page by default', async () => {
      const res = await search({});
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ page: 1, pageSize: 20 });
      expect(res.body.items.length).toBeLessThanOrEqual(20);
      expect(res.body.total).toBeGreaterThanOrEqual(2);
    });

    it.each([
      ['pageSize', 101],
      ['pageSize', 0],
      ['page', 0],
      ['page', 'two'],
    ])('answers 400 VALIDATION_FAILED to %s=%p', async (name, value) => {
      const res = await search({ [name]: value });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toContain(name);
    });
  });

  describe('GET /api/v1/admin/users/:id', () => {
    it('shows one user', async () => {
      const user = await createUser(t, { roles: ['auditor'] });
      const res = await getUser(user.id);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: user.id,
        username: user.username,
        email: user.email,
        roles: ['auditor'],
        disabled: false,
        mustChangePassword: false,
      });
      expect(JSON.stringify(res.body)).not.toMatch(/hash|\$argon2/i);
    });

    it.each([randomUUID(), 'not-a-uuid', '1'])(
      'answers 404 USER_NOT_FOUND to the id %p',
      async (id) => {
        expectProblem(await getUser(id), 404, 'USER_NOT_FOUND');
      },
    );
  });

  describe('PATCH /api/v1/admin/users/:id', () => {
    it('changes the email and the roles', async () => {
      const user = await createUser(t);
      const email = `${uniqueName('changed')}@example.com`;
      const res = await patchUser(user.id, { email, roles: ['auditor', 'support'] });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: user.id, email, roles: ['auditor', 'support'] });
      expect((await getUser(user.id)).body).toMatchObject({ email, roles: ['auditor', 'support'] });
    });

    it('disables a user, which ends their sessions and refuses their sign-in, until re-enabled', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);

      const disabled = await patchUser(user.id, { disabled: true });
      expect(disabled.status).toBe(200);
      expect(disabled.body.disabled).toBe(true);
      expectProblem(await getMe(t, tokens.accessToken), 401, 'UNAUTHORIZED');
      const refused = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ username: user.username, password: user.password });
      expectProblem(refused, 403, 'ACCOUNT_DISABLED');

      const enabled = await patchUser(user.id, { disabled: false });
      expect(enabled.status).toBe(200);
      expect(enabled.body.disabled).toBe(false);
      const again = await login(t, user.username, user.password);
      expect((await getMe(t, again.accessToken)).status).toBe(200);
    });

    it('answers 409 EMAIL_TAKEN when the email belongs to another user', async () => {
      const owner = await createUser(t);
      const other = await createUser(t);
      const res = await patchUser(other.id, { email: owner.email!.toUpperCase() });
      expectProblem(res, 409, 'EMAIL_TAKEN');
      expect((await getUser(other.id)).body.email).toBe(other.email);
    });

    it('unbinds the email with null, freeing the address for someone else', async () => {
      const user = await createUser(t);
      const res = await patchUser(user.id, { email: null });
      expect(res.status).toBe(200);
      expect(res.body.email).toBeNull();
      expect((await getUser(user.id)).body.email).toBeNull();
      const other = await createUser(t);
      expect((await patchUser(other.id, { email: user.email })).status).toBe(200);
    });

    it('answers 400 VALIDATION_FAILED to a malformed email or an unknown field', async () => {
      const user = await createUser(t);
      const res = await patchUser(user.id, { email: 'nope', username: 'renamed' });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res).sort()).toEqual(['email', 'username']);
    });

    it('answers 404 USER_NOT_FOUND for an unknown user', async () => {
      expectProblem(await patchUser(randomUUID(), { roles: [] }), 404, 'USER_NOT_FOUND');
    });

    it('answers 409 SELF_LOCKOUT when an admin disables their own account', async () => {
      const res = await patchUser(admin.id, { disabled: true });
      expectProblem(res, 409, 'SELF_LOCKOUT');
      expect((await getUser(admin.id)).body.disabled).toBe(false);
    });

    it('answers 409 SELF_LOCKOUT when an admin removes their own admin role', async () => {
      const res = await patchUser(admin.id, { roles: ['auditor'] });
      expectProblem(res, 409, 'SELF_LOCKOUT');
      expect((await getUser(admin.id)).body.roles).toEqual(['admin']);
    });

    it('lets an admin add a role to themselves while keeping admin', async () => {
      const res = await patchUser(admin.id, { roles: ['admin', 'auditor'] });
      expect(res.status).toBe(200);
      expect(res.body.roles).toEqual(['admin', 'auditor']);
      expect((await patchUser(admin.id, { roles: ['admin'] })).status).toBe(200);
    });
  });

  describe('DELETE /api/v1/admin/users/:id', () => {
    it('deletes a user: 204, then 404, and their token and password stop working', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      const res = await t
        .http()
        .delete(`/api/v1/admin/users/${user.id}`)
        .set(...asAdmin());
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expectProblem(await getUser(user.id), 404, 'USER_NOT_FOUND');
      const again = await t
        .http()
        .delete(`/api/v1/admin/users/${user.id}`)
        .set(...asAdmin());
      expectProblem(again, 404, 'USER_NOT_FOUND');
      expectProblem(await getMe(t, tokens.accessToken), 401, 'UNAUTHORIZED');
      const signIn = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ username: user.username, password: user.password });
      expectProblem(signIn, 401, 'INVALID_CREDENTIALS');
    });

    it('answers 409 SELF_LOCKOUT when an admin deletes their own account', async () => {
      const res = await t
        .http()
        .delete(`/api/v1/admin/users/${admin.id}`)
        .set(...asAdmin());
      expectProblem(res, 409, 'SELF_LOCKOUT');
      expect((await getUser(admin.id)).status).toBe(200);
    });
  });

  describe('PUT /api/v1/admin/users/:id/password', () => {
    it("sets a temporary password and ends the user's sessions", async () => {
      const user = await createUser(t);
      const before = await login(t, user.username, user.password);
      const password = strongPassword();

      const res = await setPassword(user.id, { password });
      expect(res.status).toBe(204);
      expectProblem(await getMe(t, before.accessToken), 401, 'UNAUTHORIZED');
      const refresh = await t
        .http()
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: before.refreshToken });
      expectProblem(refresh, 401, 'INVALID_REFRESH_TOKEN');
      const oldPassword = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ username: user.username, password: user.password });
      expectProblem(oldPassword, 401, 'INVALID_CREDENTIALS');

      const after = await login(t, user.username, password);
      const profile = await getMe(t, after.accessToken);
      expect(profile.status).toBe(200);
      expect(profile.body.mustChangePassword).toBe(true);
      const blocked = await t
        .http()
        .put('/api/v1/me/email')
        .set(...bearer(after.accessToken))
        .send({ email: `${uniqueName()}@example.com`, currentPassword: password });
      expectProblem(blocked, 403, 'PASSWORD_CHANGE_REQUIRED');
    });

    it('sets a password the user keeps when temporary is false', async () => {
      const user = await createUser(t);
      const password = strongPassword();
      expect((await setPassword(user.id, { password, temporary: false })).status).toBe(204);
      const tokens = await login(t, user.username, password);
      expect((await getMe(t, tokens.accessToken)).body.mustChangePassword).toBe(false);
      const email = `${uniqueName('free')}@example.com`;
      const changed = await t
        .http()
        .put('/api/v1/me/email')
        .set(...bearer(tokens.accessToken))
        .send({ email, currentPassword: password });
      expect(changed.status).toBe(202);
      expect(changed.body.pendingEmail).toBe(email);
    });

    it('answers 400 PASSWORD_POLICY_VIOLATION to a password that breaks the policy', async () => {
      const user = await createUser(t);
      // The factory's email is <username>@example.com: both personal-data rules are broken.
      const res = await setPassword(user.id, { password: `${user.username}!2024` });
      expectProblem(res, 400, 'PASSWORD_POLICY_VIOLATION');
      expect(res.body.errors).toEqual([
        { field: 'password', rule: 'notUsername', message: expect.any(String) },
        { field: 'password', rule: 'notEmail', message: expect.any(String) },
      ]);
      // Nothing changed: the old password still signs in.
      await login(t, user.username, user.password);
    });

    it("refuses any of the user's last 3 passwords with rule notRecent, and accepts an older one", async () => {
      const user = await createUser(t);
      const [p1, p2, p3] = [strongPassword(), strongPassword(), strongPassword()];
      for (const password of [p1, p2, p3]) {
        t.clock.advance(1);
        expect((await setPassword(user.id, { password, temporary: false })).status).toBe(204);
      }
      for (const password of [p1, p2, p3]) {
        const res = await setPassword(user.id, { password });
        expectProblem(res, 400, 'PASSWORD_POLICY_VIOLATION');
        expect(rulesOf(res)).toEqual(['notRecent']);
      }
      // The password the user was created with is now four passwords back.
      t.clock.advance(1);
      expect(
        (await setPassword(user.id, { password: user.password, temporary: false })).status,
      ).toBe(204);
      await login(t, user.username, user.password);
    });

    it('answers 404 USER_NOT_FOUND for an unknown user', async () => {
      const res = await setPassword(randomUUID(), { password: strongPassword() });
      expectProblem(res, 404, 'USER_NOT_FOUND');
    });

    it('answers 400 VALIDATION_FAILED to a non-boolean temporary flag', async () => {
      const user = await createUser(t);
      const res = await setPassword(user.id, { password: strongPassword(), temporary: 'no' });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['temporary']);
    });
  });

  describe('access control', () => {
    const routes = (id: string): [Method, string, Record<string, unknown> | undefined][] => [
      ['post', '/api/v1/admin/users', { username: uniqueName(), password: strongPassword() }],
      ['get', '/api/v1/admin/users', undefined],
      ['get', `/api/v1/admin/users/${id}`, undefined],
      ['patch', `/api/v1/admin/users/${id}`, { disabled: true }],
      ['delete', `/api/v1/admin/users/${id}`, undefined],
      ['put', `/api/v1/admin/users/${id}/password`, { password: strongPassword() }],
      ['get', '/api/v1/admin/audit-events', undefined],
    ];
    const call = (method: Method, path: string, body?: Record<string, unknown>): Test => {
      const http = t.http();
      const req =
        method === 'get'
          ? http.get(path)
          : method === 'post'
            ? http.post(path)
            : method === 'patch'
              ? http.patch(path)
              : method === 'put'
                ? http.put(path)
                : http.delete(path);
      return body ? req.send(body) : req;
    };

    it('answers 403 FORBIDDEN to a signed-in user without the admin role on every admin route', async () => {
      const user = await createUser(t, { roles: ['auditor'] });
      const victim = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      for (const [method, path, body] of routes(victim.id)) {
        const res = await call(method, path, body).set(...bearer(tokens.accessToken));
        expect({ route: `${method} ${path}`, status: res.status, code: res.body.code }).toEqual({
          route: `${method} ${path}`,
          status: 403,
          code: 'FORBIDDEN',
        });
      }
      const untouched = await getUser(victim.id);
      expect(untouched.body).toMatchObject({ disabled: false, mustChangePassword: false });
      await login(t, victim.username, victim.password);
      // Every refusal is in the audit trail, under the user who tried.
      const audit = await t
        .http()
        .get('/api/v1/admin/audit-events')
        .query({ userId: user.id, type: 'access.forbidden', pageSize: 100 })
        .set(...asAdmin());
      expect(audit.body.total).toBe(routes(victim.id).length);
      expect(audit.body.items[0]).toMatchObject({
        actorId: user.id,
        details: { route: expect.stringMatching(/^\/api\/v1\/admin\//), roles: ['admin'] },
      });
    });

    it('answers 401 UNAUTHORIZED on every admin route without a valid token', async () => {
      const victim = await createUser(t);
      for (const token of [undefined, 'not-a-jwt']) {
        for (const [method, path, body] of routes(victim.id)) {
          const req = call(method, path, body);
          const res = await (token ? req.set(...bearer(token)) : req);
          expect({ route: `${method} ${path}`, status: res.status, code: res.body.code }).toEqual({
            route: `${method} ${path}`,
            status: 401,
            code: 'UNAUTHORIZED',
          });
        }
      }
      expect((await getUser(victim.id)).body.disabled).toBe(false);
    });
  });

  describe('GET /api/v1/admin/audit-events', () => {
    it('records what admins did to a user, with the actor, client address and time', async () => {
      const created = await createAsAdmin({
        username: uniqueName('audited'),
        password: strongPassword(),
        temporaryPassword: false,
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      t.clock.advance(1);
      expect((await patchUser(id, { email: `${uniqueName('aud')}@example.com` })).status).toBe(200);
      t.clock.advance(1);
      expect((await patchUser(id, { disabled: true })).status).toBe(200);
      t.clock.advance(1);
      expect((await setPassword(id, { password: strongPassword() })).status).toBe(204);
      t.clock.advance(1);
      const deleted = await t
        .http()
        .delete(`/api/v1/admin/users/${id}`)
        .set(...asAdmin());
      expect(deleted.status).toBe(204);

      const res = await t
        .http()
        .get('/api/v1/admin/audit-events')
        .query({ userId: id })
        .set(...asAdmin());
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total: 5, page: 1, pageSize: 20 });
      const items = res.body.items as Record<string, unknown>[];
      // Newest first.
      expect(items.map((e) => e.type)).toEqual([
        'user.deleted',
        'user.password_reset_by_admin',
        'user.disabled',
        'user.updated',
        'user.created',
      ]);
      for (const event of items) {
        expect(event).toMatchObject({
          id: expect.stringMatching(UUID),
          actorId: admin.id,
          subjectId: id,
          clientIp: '127.0.0.1',
          occurredAt: expect.stringMatching(ISO_UTC),
        });
      }
      expect(JSON.stringify(items)).not.toMatch(/hash|\$argon2/i);

      const onlyDeleted = await t
        .http()
        .get('/api/v1/admin/audit-events')
        .query({ userId: id, type: 'user.deleted' })
        .set(...asAdmin());
      expect(onlyDeleted.body.total).toBe(1);
      expect(onlyDeleted.body.items[0]).toMatchObject({ type: 'user.deleted', subjectId: id });
    });

    it('records only what an update changed, with old and new roles and disabled flag', async () => {
      const user = await createUser(t, { roles: ['editor'] });
      const events = async () =>
        (
          await t
            .http()
            .get('/api/v1/admin/audit-events')
            .query({ userId: user.id })
            .set(...asAdmin())
        ).body.items as { type: string; details: Record<string, unknown> }[];
      const before = (await events()).length;
      // The same values again: nothing changes, nothing is recorded.
      const same = await patchUser(user.id, { roles: ['editor'], email: user.email });
      expect(same.status).toBe(200);
      expect((await events()).length).toBe(before);
      expect((await patchUser(user.id, { roles: ['editor', 'auditor'] })).status).toBe(200);
      expect(
        (await patchUser(user.id, { disabled: true, roles: ['editor', 'auditor'] })).status,
      ).toBe(200);
      const [disabled, updated] = await events();
      expect(updated).toMatchObject({
        type: 'user.updated',
        details: { fields: ['roles'], roles: { from: ['editor'], to: ['editor', 'auditor'] } },
      });
      expect(updated.details).not.toHaveProperty('disabled');
      expect(disabled).toMatchObject({
        type: 'user.disabled',
        details: { fields: ['disabled'], disabled: { from: false, to: true } },
      });
    });

    it('filters events by type alone', async () => {
      await createUser(t);
      const res = await t
        .http()
        .get('/api/v1/admin/audit-events')
        .query({ type: 'user.created', pageSize: 100 })
        .set(...asAdmin());
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeGreaterThan(0);
      expect(new Set(res.body.items.map((e: { type: string }) => e.type))).toEqual(
        new Set(['user.created']),
      );
    });

    it('answers 400 VALIDATION_FAILED to a userId that is not a uuid', async () => {
      const res = await t
        .http()
        .get('/api/v1/admin/audit-events')
        .query({ userId: 'bob' })
        .set(...asAdmin());
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['userId']);
    });
  });
});
