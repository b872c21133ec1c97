import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { DataSource } from 'typeorm';
import { queryAuditEvents } from './helpers/audit.js';
import { bearer, createAdmin, createUser, login, type Json } from './helpers/factories.js';
import {
  CALLBACK,
  HttpBrowser,
  oauthError,
  registerClient,
  relyingParty,
  signInThrough,
} from './helpers/oidc.js';
import { expectProblem } from './helpers/problem.js';
import { OidcStore } from '../src/oidc/oidc-store.service.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

function basic(id: string, secret: string): [string, string] {
  return ['authorization', `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`];
}

describe('OpenID Connect clients, managed by admins', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof createAdmin>>;
  let adminToken: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await createAdmin(t);
    adminToken = admin.tokens.accessToken;
  });
  afterAll(async () => {
    await t.close();
  });

  const api = () => ({
    create: (body: Json) =>
      t
        .http()
        .post('/api/v1/admin/clients')
        .set(...bearer(adminToken))
        .send(body),
    get: (id: string) =>
      t
        .http()
        .get(`/api/v1/admin/clients/${id}`)
        .set(...bearer(adminToken)),
  });

  it('registers a confidential client whose secret is shown once and kept only as a hash', async () => {
    const res = await api().create({
      name: 'Wiki',
      redirectUris: ['https://wiki.example.com/callback'],
    });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const { clientId, clientSecret } = res.body as { clientId: string; clientSecret: string };
    expect(clientSecret).toMatch(/^[\w-]{43}$/);
    expect(res.body).toMatchObject({
      name: 'Wiki',
      redirectUris: ['https://wiki.example.com/callback'],
      postLogoutRedirectUris: [],
      public: false,
      firstParty: false,
    });
    const shown = await api().get(clientId);
    expect(shown.status).toBe(200);
    expect(JSON.stringify(shown.body)).not.toContain(clientSecret);
    expect(shown.body.clientSecret).toBeUndefined();
    const listed = await t
      .http()
      .get('/api/v1/admin/clients')
      .set(...bearer(adminToken));
    expect(listed.status).toBe(200);
    expect((listed.body.items as Json[]).map((c) => c.clientId)).toContain(clientId);
    expect(JSON.stringify(listed.body)).not.toContain(clientSecret);
    const rows: { secret_hash: string }[] = await t.app
      .get(DataSource)
      .query('SELECT secret_hash FROM oidc_clients WHERE id = $1', [clientId]);
    expect(rows[0].secret_hash).toBeTruthy();
    expect(rows[0].secret_hash).not.toContain(clientSecret);
    const events = await queryAuditEvents(t, adminToken, {
      userId: admin.id,
      type: 'oidc_client.created',
    });
    expect(events.body.items[0].details).toMatchObject({ clientId, name: 'Wiki', public: false });
    expect(JSON.stringify(events.body)).not.toContain(clientSecret);
  });

  it('registers a public client without a secret, and refuses it a new one', async () => {
    const res = await api().create({
      name: 'SPA',
      redirectUris: ['http://localhost:5173/callback'],
      public: true,
    });
    expect(res.status).toBe(201);
    expect(res.body.clientSecret).toBeUndefined();
    const secret = await t
      .http()
      .post(`/api/v1/admin/clients/${res.body.clientId}/secret`)
      .set(...bearer(adminToken));
    expectProblem(secret, 409, 'CLIENT_IS_PUBLIC');
  });

  it('refuses bad registrations with the offending fields listed', async () => {
    const cases: [Json, string][] = [
      [{ name: 'x', redirectUris: [] }, 'redirectUris'],
      [{ name: 'x', redirectUris: ['http://app.example.com/cb'] }, 'redirectUris'],
      [{ name: 'x', redirectUris: ['https://app.example.com/cb#frag'] }, 'redirectUris'],
      [{ name: 'x', redirectUris: ['not a url'] }, 'redirectUris'],
      [{ name: '', redirectUris: ['https://app.example.com/cb'] }, 'name'],
      [{ name: 'x', redirectUris: ['https://a.example/cb'], secret: 's' }, 'secret'],
      [
        { name: 'x', redirectUris: ['https://a.example/cb'], postLogoutRedirectUris: ['ftp://a'] },
        'postLogoutRedirectUris',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await api().create(body);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect((res.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
    }
  });

  it('answers 404 CLIENT_NOT_FOUND for an unknown client, and 403 to a non-admin', async () => {
    expectProblem(await api().get('no-such-client'), 404, 'CLIENT_NOT_FOUND');
    const user = await createUser(t);
    const tokens = await login(t, user.username, user.password);
    const res = await t
      .http()
      .get('/api/v1/admin/clients')
      .set(...bearer(tokens.accessToken));
    expectProblem(res, 403, 'FORBIDDEN');
    expectProblem(await t.http().get('/api/v1/admin/clients'), 401, 'UNAUTHORIZED');
  });

  it('changes a client: new redirect URIs are matched exactly from then on', async () => {
    const registered = await registerClient(t, adminToken);
    const res = await t
      .http()
      .patch(`/api/v1/admin/clients/${registered.clientId}`)
      .set(...bearer(adminToken))
      .send({ name: 'Wiki 2', redirectUris: ['http://127.0.0.1:9/new-callback'] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'Wiki 2',
      redirectUris: ['http://127.0.0.1:9/new-callback'],
    });
    const rp = await relyingParty(t, registered);
    const old = client.buildAuthorizationUrl(rp, {
      redirect_uri: CALLBACK,
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const answer = await new HttpBrowser(t).get(old.href);
    expect(answer.status).toBe(400);
    expect(answer.location).toBeNull();
    const publicFlag = await t
      .http()
      .patch(`/api/v1/admin/clients/${registered.clientId}`)
      .set(...bearer(adminToken))
      .send({ public: true });
    expectProblem(publicFlag, 400, 'VALIDATION_FAILED');
    const events = await queryAuditEvents(t, adminToken, {
      userId: admin.id,
      type: 'oidc_client.updated',
    });
    expect(events.body.items[0].details).toMatchObject({
      clientId: registered.clientId,
      changes: { name: { from: 'Wiki', to: 'Wiki 2' } },
    });
  });

  it('gives a new secret: the old one stops working at the token endpoint', async () => {
    const registered = await registerClient(t, adminToken);
    const user = await createUser(t);
    const rp = await relyingParty(t, registered);
    await signInThrough(new HttpBrowser(t), rp, user);
    const res = await t
      .http()
      .post(`/api/v1/admin/clients/${registered.clientId}/secret`)
      .set(...bearer(adminToken));
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.clientSecret).not.toBe(registered.clientSecret);
    const browser = new HttpBrowser(t);
    expect(await oauthError(signInThrough(browser, rp, user))).toBe('invalid_client');
    const renewed = await relyingParty(t, { ...registered, clientSecret: res.body.clientSecret });
    const { tokens } = await signInThrough(browser, renewed, user);
    expect(tokens.claims()?.sub).toBe(user.id);
  });

  it('deletes a client: its tokens stop working at once', async () => {
    const registered = await registerClient(t, adminToken);
    const user = await createUser(t);
    const rp = await relyingParty(t, registered);
    const { tokens } = await signInThrough(new HttpBrowser(t), rp, user, {
      scope: 'openid offline_access',
      prompt: 'consent',
    });
    const res = await t
      .http()
      .delete(`/api/v1/admin/clients/${registered.clientId}`)
      .set(...bearer(adminToken));
    expect(res.status).toBe(204);
    expectProblem(await api().get(registered.clientId), 404, 'CLIENT_NOT_FOUND');
    expect(await oauthError(client.refreshTokenGrant(rp, tokens.refresh_token!))).toBe(
      'invalid_client',
    );
    const rows: unknown[] = await t.app
      .get(DataSource)
      .query(`SELECT 1 FROM oidc_payloads WHERE payload->>'clientId' = $1`, [registered.clientId]);
    expect(rows).toHaveLength(0);
  });

  it('lets a confidential client introspect access tokens with its own credentials', async () => {
    const registered = await registerClient(t, adminToken);
    const spa = await registerClient(t, adminToken, { name: 'SPA', public: true });
    const user = await createUser(t);
    const tokens = await login(t, user.username, user.password);
    const ok = await t
      .http()
      .post('/api/v1/auth/introspect')
      .set(...basic(registered.clientId, registered.clientSecret!))
      .send({ token: tokens.accessToken });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ active: true, sub: user.id });
    for (const [id, secret] of [
      [registered.clientId, 'wrong'],
      [spa.clientId, ''],
      ['unknown', 'secret'],
    ]) {
      const refused = await t
        .http()
        .post('/api/v1/auth/introspect')
        .set(...basic(id, secret))
        .send({ token: tokens.accessToken });
      expectProblem(refused, 401, 'UNAUTHORIZED');
    }
    // Admins keep introspecting with their access token; other users do not.
    const asAdmin = await t
      .http()
      .post('/api/v1/auth/introspect')
      .set(...bearer(adminToken))
      .send({ token: tokens.accessToken });
    expect(asAdmin.body.active).toBe(true);
    const asUser = await t
      .http()
      .post('/api/v1/auth/introspect')
      .set(...bearer(tokens.accessToken))
      .send({ token: tokens.accessToken });
    expectProblem(asUser, 403, 'FORBIDDEN');
    // Basic credentials open nothing else.
    const elsewhere = await t
      .http()
      .get('/api/v1/admin/clients')
      .set(...basic(registered.clientId, registered.clientSecret!));
    expectProblem(elsewhere, 401, 'UNAUTHORIZED');
  });

  it('deletes expired provider artifacts when it cleans up, and keeps live ones', async () => {
    const store = t.app.get(OidcStore);
    await store.upsert('AccessToken', 'expired-artifact', { grantId: 'g' }, -60);
    await store.upsert('AccessToken', 'live-artifact', { grantId: 'g' }, 600);
    expect(await store.find('AccessToken', 'expired-artifact')).toBeUndefined();
    await store.cleanUp();
    const rows: { id: string }[] = await t.app
      .get(DataSource)
      .query(`SELECT id FROM oidc_payloads WHERE id IN ('expired-artifact', 'live-artifact')`);
    expect(rows.map((r) => r.id)).toEqual(['live-artifact']);
  });
});

describe('OpenID Connect behind a proxy, on https', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ PUBLIC_URL: 'https://id.example.test', TRUST_PROXY: 'true' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('builds every link from PUBLIC_URL, sets Secure cookies and sees the client address the proxy gives', async () => {
    const discovery = await t.http().get('/.well-known/openid-configuration');
    expect(discovery.body.issuer).toBe('https://id.example.test');
    expect(discovery.body.token_endpoint).toBe('https://id.example.test/oidc/token');
    const admin = await createAdmin(t);
    const registered = await registerClient(t, admin.tokens.accessToken);
    const rp = await relyingParty(t, registered);
    const user = await createUser(t);
    const browser = new HttpBrowser(t, { 'x-forwarded-for': '203.0.113.7' });
    const { tokens } = await signInThrough(browser, rp, user);
    expect(tokens.claims()?.iss).toBe('https://id.example.test');
    const cookies = browser.setCookies.filter((c) =>
      /^(portcullis_oidc\w*|portcullis_session)=/.test(c),
    );
    expect(cookies.length).toBeGreaterThanOrEqual(3);
    for (const cookie of cookies) {
      expect(cookie).toMatch(/; secure/i);
      expect(cookie).toMatch(/; httponly/i);
    }
    const events = await queryAuditEvents(t, admin.tokens.accessToken, {
      userId: user.id,
      type: 'login.succeeded',
    });
    expect(events.body.items[0].clientIp).toBe('203.0.113.7');
  });
});
