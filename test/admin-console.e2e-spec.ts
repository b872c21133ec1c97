import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { auditEvents, queryAuditEvents } from './helpers/audit.js';
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
import { HttpBrowser } from './helpers/pages.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { enableTwoFactor } from './helpers/totp.js';

describe('admin console', () => {
  let t: TestApp;
  let admin: TestUser & { tokens: TokenPair };
  let browser: HttpBrowser;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await createAdmin(t);
    browser = new HttpBrowser(t);
    const res = await browser.signIn(admin);
    expect(res.status).toBe(303);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The admin API's view of a user (as the admin). */
  async function apiUser(id: string): Promise<Response> {
    return t
      .http()
      .get(`/api/v1/admin/users/${id}`)
      .set(...bearer(admin.tokens.accessToken));
  }

  /** The newest audit event of this type about `userId`. */
  async function lastEvent(userId: string, type: string) {
    const { items } = await auditEvents(t, admin.tokens.accessToken, userId);
    return items.find((e) => e.type === type);
  }

  describe('who may open it', () => {
    it('sends an anonymous visitor to sign in, and back to the page after signing in', async () => {
      const visitor = new HttpBrowser(t);
      const res = await visitor.get('/admin/users?search=a&page=1');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/login?next=%2Fadmin%2Fusers%3Fsearch%3Da%26page%3D1');
      const form = await visitor.get(res.headers.location);
      expect(form.text).toContain('name="next" value="/admin/users?search&#x3D;a&amp;page&#x3D;1"');
      const signedIn = await visitor.post('/login', {
        username: admin.username,
        password: admin.password,
        next: '/admin/users?search=a&page=1',
      });
      expect(signedIn.status).toBe(303);
      expect(signedIn.headers.location).toBe('/admin/users?search=a&page=1');
      const page = await visitor.get('/admin/users?search=a&page=1');
      expect(page.status).toBe(200);
      expect(page.text).toContain('<h1>Users</h1>');
    });

    it('keeps the way back through the two-factor step', async () => {
      const other = await createAdmin(t);
      await enableTwoFactor(t, other);
      const visitor = new HttpBrowser(t);
      const res = await visitor.signIn(other, '/admin/audit');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/login/two-factor?next=%2Fadmin%2Faudit');
      const step = await visitor.get(res.headers.location);
      expect(step.text).toContain('name="next" value="/admin/audit"');
    });

    it('never sends a browser to another site after signing in', async () => {
      const user = await createUser(t);
      for (const next of ['//evil.example/admin', 'https://evil.example/', '/\\evil.example']) {
        const visitor = new HttpBrowser(t);
        const res = await visitor.signIn(user, next);
        expect(res.status).toBe(303);
        expect(res.headers.location).toBe('/account');
      }
    });

    it('shows a signed-in user who is not an admin a 403 page, on every page and form, and records it', async () => {
      const user = await createUser(t);
      const visitor = new HttpBrowser(t);
      await visitor.signIn(user);
      for (const path of [
        '/admin',
        '/admin/users',
        '/admin/audit',
        '/admin/clients',
        `/admin/users/${user.id}`,
      ]) {
        const res = await visitor.get(path);
        expect(res.status).toBe(403);
        expect(res.text).toContain('This page is for administrators');
      }
      await visitor.get('/account');
      const username = uniqueName();
      const res = await visitor.post('/admin/users', {
        username,
        password: strongPassword(),
        roles: 'admin',
      });
      expect(res.status).toBe(403);
      const search = await t
        .http()
        .get('/api/v1/admin/users')
        .query({ search: username })
        .set(...bearer(admin.tokens.accessToken));
      expect(search.body.total).toBe(0);
      const event = await lastEvent(user.id, 'access.forbidden');
      expect(event).toMatchObject({
        actorId: user.id,
        details: { method: 'POST', route: '/admin/users' },
      });
    });

    it('sends an admin with a temporary password to change it first', async () => {
      const temp = await createUser(t, { roles: ['admin'], temporaryPassword: true });
      const visitor = new HttpBrowser(t);
      await visitor.signIn(temp);
      const res = await visitor.get('/admin/users');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/account/password');
      await visitor.get('/account/password');
      const post = await visitor.post('/admin/users', {
        username: uniqueName(),
        password: strongPassword(),
      });
      expect(post.status).toBe(303);
      expect(post.headers.location).toBe('/account/password');
    });

    it('refuses a form without the CSRF token of the browser session, and changes nothing', async () => {
      const username = uniqueName();
      const res = await browser.post('/admin/users', {
        _csrf: 'forged',
        username,
        password: strongPassword(),
      });
      expect(res.status).toBe(403);
      expect(res.text).toContain('This form has expired');
      const user = await createUser(t);
      const disable = await browser.post(`/admin/users/${user.id}/disable`, { _csrf: '' });
      expect(disable.status).toBe(403);
      expect((await apiUser(user.id)).body.disabled).toBe(false);
    });

    it("serves the console with the pages' CSP and no-store", async () => {
      const res = await browser.get('/admin/users');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['content-security-policy']).toContain("form-action 'self'");
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).not.toMatch(/<script/i);
    });
  });

  describe('in Simplified Chinese', () => {
    it('speaks the language of ?lang=, remembered for the next pages, also on its 403 page', async () => {
      const page = await browser.get('/admin/users?lang=zh-CN');
      expect(page.status).toBe(200);
      expect(page.text).toContain('<html lang="zh-CN">');
      expect(page.text).toContain('<h1>用户</h1>');
      expect(page.text).toContain('创建用户');
      const next = await browser.get('/admin/clients');
      expect(next.text).toContain('<h1>OpenID Connect 客户端</h1>');
      await browser.get('/admin/users?lang=en');
      const user = await createUser(t);
      const visitor = new HttpBrowser(t);
      await visitor.signIn(user);
      const refused = await visitor.get('/admin/users?lang=zh-CN');
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('此页面仅供管理员使用');
    });
  });

  describe('users', () => {
    it('creates a user, showing each broken password rule first', async () => {
      await browser.get('/admin/users/new');
      const username = uniqueName('new');
      const bad = await browser.post('/admin/users', {
        username,
        password: 'short',
        temporaryPassword: '1',
      });
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('The password must be at least');
      expect(bad.text).toMatch(/<li class="broken">At least \d+ characters/);
      expect(bad.text).toContain(`value="${username}"`);
      const password = strongPassword();
      const res = await browser.post('/admin/users', {
        username,
        password,
        email: `${username}@example.com`,
        emailVerified: '1',
        roles: 'auditor, support',
        temporaryPassword: '1',
      });
      expect(res.status).toBe(303);
      const id = /^\/admin\/users\/([0-9a-f-]{36})\?done=created$/.exec(
        res.headers.location,
      )?.[1] as string;
      expect(id).toBeDefined();
      const user = (await apiUser(id)).body;
      expect(user).toMatchObject({
        username,
        email: `${username}@example.com`,
        emailVerified: true,
        roles: ['auditor', 'support'],
        mustChangePassword: true,
      });
      expect(await lastEvent(id, 'user.created')).toMatchObject({ actorId: admin.id });
      const page = await browser.get(res.headers.location);
      expect(page.text).toContain('The user was created.');
      expect(page.text).toContain('temporary password');
    });

    it('says which field is wrong, escapes what was typed, and writes nothing', async () => {
      const evil = '<script>alert(1)</script>';
      const res = await browser.post('/admin/users', {
        username: evil,
        password: strongPassword(),
        email: 'not an address',
      });
      expect(res.status).toBe(400);
      expect(res.text).toContain('The username must be 3-64 letters');
      expect(res.text).not.toContain(evil);
      expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      const taken = await browser.post('/admin/users', {
        username: admin.username,
        password: strongPassword(),
      });
      expect(taken.status).toBe(409);
      expect(taken.text).toMatch(/username-error[\s\S]*Another user already has this username/);
      const search = await browser.get(`/admin/users?search=${encodeURIComponent(evil)}`);
      expect(search.status).toBe(200);
      expect(search.text).not.toContain(evil);
    });

    it('lists users with search and paging, and refuses bad paging parameters with a message', async () => {
      const prefix = uniqueName('page');
      const created: TestUser[] = [];
      for (let i = 0; i < 3; i++) {
        created.push(await createUser(t, { username: `${prefix}-${i}` }));
      }
      const first = await browser.get(`/admin/users?search=${prefix}&pageSize=2`);
      expect(first.status).toBe(200);
      expect(first.text).toContain(created[0].username);
      expect(first.text).toContain(created[1].username);
      expect(first.text).not.toContain(created[2].username);
      expect(first.text).toContain('Page 1 of 2 · 3 in all');
      expect(first.text).toContain(
        `href="/admin/users?search&#x3D;${prefix}&amp;pageSize&#x3D;2&amp;page&#x3D;2" rel="next"`,
      );
      const second = await browser.get(`/admin/users?search=${prefix}&pageSize=2&page=2`);
      expect(second.text).toContain(created[2].username);
      for (const path of ['/admin/users?done=constructor', '/admin/clients?done=__proto__']) {
        expect((await browser.get(path)).status).toBe(200);
      }
      for (const query of ['page=0', 'page=abc', 'pageSize=1000', 'page=1&page=2']) {
        const bad = await browser.get(`/admin/users?${query}`);
        expect(bad.status).toBe(400);
        expect(bad.text).toMatch(/role="alert"[^>]*>The page (number|size)/);
      }
    });

    it('changes email and roles, audited as the acting admin', async () => {
      const user = await createUser(t);
      await browser.get(`/admin/users/${user.id}`);
      const email = `${uniqueName()}@example.org`;
      const res = await browser.post(`/admin/users/${user.id}`, {
        email,
        emailVerified: '1',
        roles: 'support',
      });
      expect(res.status).toBe(303);
      expect((await apiUser(user.id)).body).toMatchObject({ email, roles: ['support'] });
      expect(await lastEvent(user.id, 'user.updated')).toMatchObject({
        actorId: admin.id,
        details: { fields: ['email', 'roles'], roles: { from: [], to: ['support'] } },
      });
      const bad = await browser.post(`/admin/users/${user.id}`, {
        email: admin.email ?? '',
        roles: 'Bad Role!',
      });
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('Each role must be');
      expect((await apiUser(user.id)).body).toMatchObject({ email, roles: ['support'] });
    });

    it("sets a user's language on the create form and clears it on their page", async () => {
      const form = await browser.get('/admin/users/new');
      expect(form.text).toMatch(
        /<select id="locale" name="locale"[^>]*>\s*<option value="" selected>Not chosen \(follows the browser\)<\/option>/,
      );
      expect(form.text).toContain('<option value="zh-CN" lang="zh-CN">简体中文</option>');
      const username = uniqueName('lang');
      const res = await browser.post('/admin/users', {
        username,
        password: strongPassword(),
        locale: 'zh-CN',
      });
      expect(res.status).toBe(303);
      const id = /^\/admin\/users\/([0-9a-f-]{36})\?done=created$/.exec(
        res.headers.location,
      )?.[1] as string;
      expect((await apiUser(id)).body).toMatchObject({ username, locale: 'zh-CN' });
      const page = await browser.get(`/admin/users/${id}`);
      expect(page.text).toMatch(/id="user-locale"><span lang="zh-CN">简体中文<\/span>/);
      expect(page.text).toContain('<option value="zh-CN" lang="zh-CN" selected>简体中文</option>');

      const cleared = await browser.post(`/admin/users/${id}`, {
        email: '',
        roles: '',
        locale: '',
      });
      expect(cleared.status).toBe(303);
      expect((await apiUser(id)).body.locale).toBeNull();
      expect(await lastEvent(id, 'user.updated')).toMatchObject({
        actorId: admin.id,
        details: { fields: ['locale'], locale: { from: 'zh-CN', to: null } },
      });
      const after = await browser.get(`/admin/users/${id}`);
      expect(after.text).toContain('Not chosen: follows the browser');
      expect(after.text).toMatch(/<option value="" selected>/);
    });

    it('refuses a language that is not one of the choices, next to the field, and changes nothing', async () => {
      const user = await createUser(t, { locale: 'en' });
      await browser.get(`/admin/users/${user.id}`);
      const before = (await apiUser(user.id)).body;
      expect(before.locale).toBe('en');
      for (const locale of ['xx', '<b>zh</b>']) {
        const bad = await browser.post(`/admin/users/${user.id}`, {
          email: before.email ?? '',
          roles: 'support',
          locale,
        });
        expect(bad.status).toBe(400);
        expect(bad.text).toMatch(
          /id="locale-error">\s*<li>The language must be one of: en, zh-CN \(or null\)\.<\/li>/,
        );
        expect(bad.text).not.toContain('<b>zh</b>');
      }
      expect((await apiUser(user.id)).body).toEqual(before);
      const username = uniqueName('lang');
      const refused = await browser.post('/admin/users', {
        username,
        password: strongPassword(),
        locale: 'xx',
      });
      expect(refused.status).toBe(400);
      expect(refused.text).toContain('id="locale-error"');
      expect(refused.text).toContain(`value="${username}"`);
      const search = await t
        .http()
        .get('/api/v1/admin/users')
        .query({ search: username })
        .set(...bearer(admin.tokens.accessToken));
      expect(search.body.total).toBe(0);
      const zh = await browser.post(`/admin/users/${user.id}?lang=zh-CN`, {
        email: before.email ?? '',
        roles: '',
        locale: 'xx',
      });
      expect(zh.status).toBe(400);
      expect(zh.text).toMatch(/id="locale-error">\s*<li>[^<]+<\/li>/);
      await browser.get('/admin/users?lang=en');
      expect((await apiUser(user.id)).body).toEqual(before);
    });

    it('disables a user (their sessions end) and enables them again', async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      await browser.get(`/admin/users/${user.id}`);
      const res = await browser.post(`/admin/users/${user.id}/disable`);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`/admin/users/${user.id}?done=disabled`);
      expect((await getMe(t, tokens.accessToken)).status).toBe(401);
      expect(await lastEvent(user.id, 'user.disabled')).toMatchObject({ actorId: admin.id });
      const enabled = await browser.post(`/admin/users/${user.id}/enable`);
      expect(enabled.status).toBe(303);
      expect((await apiUser(user.id)).body.disabled).toBe(false);
      expect(await lastEvent(user.id, 'user.enabled')).toMatchObject({ actorId: admin.id });
    });

    it('refuses what would lock the admin out, as the API does', async () => {
      await browser.get(`/admin/users/${admin.id}`);
      const disable = await browser.post(`/admin/users/${admin.id}/disable`);
      expect(disable.status).toBe(409);
      expect(disable.text).toContain('You cannot disable your own account');
      const demote = await browser.post(`/admin/users/${admin.id}`, {
        email: admin.email ?? '',
        roles: 'support',
      });
      expect(demote.status).toBe(409);
      expect(demote.text).toContain('remove your own admin role');
      const remove = await browser.post(`/admin/users/${admin.id}/delete`);
      expect(remove.status).toBe(409);
      expect(remove.text).toContain('You cannot delete your own account');
      expect((await apiUser(admin.id)).body).toMatchObject({ disabled: false, roles: ['admin'] });
    });

    it("sets a new password after showing the broken rules, ending the user's sessions", async () => {
      const user = await createUser(t);
      const tokens = await login(t, user.username, user.password);
      await browser.get(`/admin/users/${user.id}`);
      const bad = await browser.post(`/admin/users/${user.id}/password`, {
        password: user.username,
        temporary: '1',
      });
      expect(bad.status).toBe(400);
      expect(bad.text).toMatch(/<li class="broken">Must not contain your username/);
      const password = strongPassword();
      const res = await browser.post(`/admin/users/${user.id}/password`, {
        password,
        temporary: '1',
      });
      expect(res.status).toBe(303);
      expect((await getMe(t, tokens.accessToken)).status).toBe(401);
      const again = await login(t, user.username, password);
      expect((await getMe(t, again.accessToken)).body.mustChangePassword).toBe(true);
      expect(await lastEvent(user.id, 'user.password_reset_by_admin')).toMatchObject({
        actorId: admin.id,
        details: { temporary: true },
      });
    });

    it("resets a user's two-factor authentication", async () => {
      const user = await createUser(t);
      await enableTwoFactor(t, user);
      const page = await browser.get(`/admin/users/${user.id}`);
      expect(page.text).toContain('Reset two-factor authentication');
      const res = await browser.post(`/admin/users/${user.id}/two-factor/reset`);
      expect(res.status).toBe(303);
      expect((await apiUser(user.id)).body.twoFactorEnabled).toBe(false);
      expect(await lastEvent(user.id, 'two_factor.reset_by_admin')).toMatchObject({
        actorId: admin.id,
      });
    });

    it('deletes a user after a confirmation step', async () => {
      const user = await createUser(t);
      const confirm = await browser.get(`/admin/users/${user.id}/delete`);
      expect(confirm.status).toBe(200);
      expect(confirm.text).toContain(`Delete ${user.username}?`);
      expect((await apiUser(user.id)).status).toBe(200);
      const res = await browser.post(`/admin/users/${user.id}/delete`);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/admin/users?done=deleted');
      expect((await apiUser(user.id)).status).toBe(404);
      expect(await lastEvent(user.id, 'user.deleted')).toMatchObject({ actorId: admin.id });
      const gone = await browser.get(`/admin/users/${user.id}`);
      expect(gone.status).toBe(404);
      expect((await browser.get('/admin/users/not-a-uuid')).status).toBe(404);
    });

    it("shows the user's audit events on their page", async () => {
      const user = await createUser(t);
      const page = await browser.get(`/admin/users/${user.id}`);
      expect(page.text).toContain('<code>user.created</code>');
      expect(page.text).toContain(`href="/admin/audit?user=${user.id}"`);
    });
  });

  describe('audit trail', () => {
    it('filters by user and event type, newest first, and pages', async () => {
      const user = await createUser(t);
      await browser.get(`/admin/users/${user.id}`);
      await browser.post(`/admin/users/${user.id}/disable`);
      await browser.post(`/admin/users/${user.id}/enable`);
      const all = await browser.get(`/admin/audit?user=${user.username}`);
      expect(all.status).toBe(200);
      const order = [...all.text.matchAll(/<code>(user\.[a-z_]+)<\/code>/g)].map((m) => m[1]);
      expect(order).toEqual(['user.enabled', 'user.disabled', 'user.created']);
      const typed = await browser.get(`/admin/audit?user=${user.id}&type=user.disabled`);
      expect([...typed.text.matchAll(/<code>(user\.[a-z_]+)<\/code>/g)].map((m) => m[1])).toEqual([
        'user.disabled',
      ]);
      expect(typed.text).toMatch(/<option value="user.disabled" selected>/);
      const paged = await browser.get(`/admin/audit?user=${user.id}&pageSize=1&page=2`);
      expect(paged.text).toContain('Page 2 of 3');
      expect(paged.text).toContain('<code>user.disabled</code>');
      const unknown = await browser.get('/admin/audit?user=nobody-by-this-name');
      expect(unknown.status).toBe(404);
      expect(unknown.text).toContain('There is no user with the username or email');
      const bad = await browser.get('/admin/audit?type=DROP%20TABLE&page=-1');
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('role="alert"');
    });
  });

  describe('OpenID Connect clients', () => {
    it('registers a client and shows its secret once', async () => {
      await browser.get('/admin/clients/new');
      const name = `<script>alert("${uniqueName()}")</script>`;
      const bad = await browser.post('/admin/clients', {
        name,
        redirectUris: 'http://evil.example/cb',
      });
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('Each of the redirect URIs must be an absolute https URL');
      const res = await browser.post('/admin/clients', {
        name,
        redirectUris: 'https://app.example.com/cb\r\nhttps://app.example.com/cb2',
      });
      expect(res.status).toBe(201);
      expect(res.text).not.toContain(name);
      const clientId = /id="client-id">([\w-]+)</.exec(res.text)?.[1] as string;
      const secret = /id="client-secret" class="secret">([\w-]+)</.exec(res.text)?.[1] as string;
      expect(secret.length).toBeGreaterThan(20);
      const introspect = await t
        .http()
        .post('/api/v1/auth/introspect')
        .auth(clientId, secret)
        .send({ token: 'x' });
      expect(introspect.status).toBe(200);
      const list = await browser.get('/admin/clients');
      expect(list.text).toContain(clientId);
      expect(list.text).not.toContain(secret);
      expect(list.text).not.toContain(name);
      const page = await browser.get(`/admin/clients/${clientId}`);
      expect(page.text).not.toContain(secret);
      const events = await queryAuditEvents(t, admin.tokens.accessToken, {
        type: 'oidc_client.created',
        pageSize: 100,
      });
      expect(events.body.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            actorId: admin.id,
            details: expect.objectContaining({ clientId }),
          }),
        ]),
      );
    });

    it('edits redirect URIs, makes a new secret and deletes the client', async () => {
      const created = await t
        .http()
        .post('/api/v1/admin/clients')
        .set(...bearer(admin.tokens.accessToken))
        .send({ name: 'Wiki', redirectUris: ['https://wiki.example.com/cb'] });
      const clientId = created.body.clientId as string;
      await browser.get(`/admin/clients/${clientId}`);
      const bad = await browser.post(`/admin/clients/${clientId}`, {
        name: 'Wiki',
        redirectUris: 'https://wiki.example.com/cb#frag',
      });
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('https://wiki.example.com/cb#frag');
      const res = await browser.post(`/admin/clients/${clientId}`, {
        name: 'Wiki',
        redirectUris: 'https://wiki.example.com/callback',
      });
      expect(res.status).toBe(303);
      const api = () =>
        t
          .http()
          .get(`/api/v1/admin/clients/${clientId}`)
          .set(...bearer(admin.tokens.accessToken));
      expect((await api()).body.redirectUris).toEqual(['https://wiki.example.com/callback']);
      const rotated = await browser.post(`/admin/clients/${clientId}/secret`);
      expect(rotated.status).toBe(200);
      const secret = /id="client-secret" class="secret">([\w-]+)</.exec(
        rotated.text,
      )?.[1] as string;
      const introspectWith = (s: string) =>
        t.http().post('/api/v1/auth/introspect').auth(clientId, s).send({ token: 'x' });
      expect((await introspectWith(secret)).status).toBe(200);
      expect((await introspectWith(created.body.clientSecret as string)).status).toBe(401);
      const confirm = await browser.get(`/admin/clients/${clientId}/delete`);
      expect(confirm.text).toContain('Delete Wiki?');
      const deleted = await browser.post(`/admin/clients/${clientId}/delete`);
      expect(deleted.status).toBe(303);
      expect((await api()).status).toBe(404);
      const types = (
        await queryAuditEvents(t, admin.tokens.accessToken, { userId: admin.id, pageSize: 100 })
      ).body.items
        .filter((e: { details: { clientId?: string } }) => e.details.clientId === clientId)
        .map((e: { type: string }) => e.type);
      expect(types).toEqual([
        'oidc_client.deleted',
        'oidc_client.secret_rotated',
        'oidc_client.updated',
        'oidc_client.created',
      ]);
      expect((await browser.get(`/admin/clients/${clientId}`)).status).toBe(404);
    });
  });
});
