import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import {
  bearer,
  createAdmin,
  createUser,
  getMe,
  type Json,
  strongPassword,
  uniqueName,
} from './helpers/factories.js';
import {
  AFTER_LOGOUT,
  authorizationRequest,
  CALLBACK,
  exchange,
  expectCallback,
  HttpBrowser,
  interactionPath,
  jwtPart,
  oauthError,
  registerClient,
  relyingParty,
  signInThrough,
  submitLogin,
} from './helpers/oidc.js';
import { resetLinkIn } from './helpers/reset-flow.js';
import type { SmtpSink } from './helpers/smtp-sink.js';
import { createTestAppWithMail, type TestAppWithMail } from './helpers/test-app.js';
import { authenticator, enableTwoFactor } from './helpers/totp.js';
import { expectProblem } from './helpers/problem.js';

describe('OpenID Connect: an application signs its users in through Portcullis', () => {
  let t: TestAppWithMail;
  let smtp: SmtpSink;
  let adminToken: string;
  let firstParty: Awaited<ReturnType<typeof registerClient>>;
  let rp: client.Configuration;

  beforeAll(async () => {
    t = await createTestAppWithMail();
    smtp = t.sink;
    adminToken = (await createAdmin(t)).tokens.accessToken;
    firstParty = await registerClient(t, adminToken);
    rp = await relyingParty(t, firstParty);
  });
  afterAll(async () => {
    await t.close();
  });

  it('publishes discovery at the root, with the issuer, the code flow only, S256 and our JWKS', async () => {
    const res = await t.http().get('/.well-known/openid-configuration');
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBeTruthy();
    const doc = res.body as Json;
    expect(doc.issuer).toBe('http://portcullis.test');
    expect(doc.authorization_endpoint).toBe('http://portcullis.test/oidc/auth');
    expect(doc.end_session_endpoint).toBe('http://portcullis.test/oidc/session/end');
    expect(doc.response_types_supported).toEqual(['code']);
    expect(doc.grant_types_supported).toEqual(['authorization_code', 'refresh_token']);
    expect(doc.code_challenge_methods_supported).toEqual(['S256']);
    expect(doc.id_token_signing_alg_values_supported).toEqual(['ES256']);
    expect(doc.scopes_supported).toEqual(['openid', 'profile', 'email', 'offline_access']);
    // Links come from PUBLIC_URL, never from the Host header a caller sends.
    const spoofed = await t
      .http()
      .get('/.well-known/openid-configuration')
      .set('host', 'evil.example')
      .set('x-forwarded-host', 'evil.example');
    expect(JSON.stringify(spoofed.body)).not.toContain('evil.example');
    const jwksUri = new URL(doc.jwks_uri as string);
    const viaDiscovery = await t.http().get(jwksUri.pathname);
    const ours = await t.http().get('/.well-known/jwks.json');
    expect(viaDiscovery.status).toBe(200);
    expect(viaDiscovery.body).toEqual(ours.body);
    expect(viaDiscovery.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
  });

  it('signs a user in with code + PKCE: a valid ID token with our claims, then userinfo', async () => {
    const user = await createUser(t);
    const browser = new HttpBrowser(t);
    const request = await authorizationRequest(rp);
    const loginPage = await browser.get(request.url.href);
    expect(loginPage.status).toBe(200);
    expect(loginPage.text).toContain('Wiki');
    expect(loginPage.headers.get('content-security-policy')).toContain(
      "form-action 'self' http://127.0.0.1:9",
    );
    expect(loginPage.headers.get('content-security-policy')).toContain("script-src 'none'");
    const callback = expectCallback(await submitLogin(browser, loginPage, user));
    expect(callback.searchParams.get('state')).toBe(request.state);
    // openid-client checks the signature (JWKS), iss, aud, exp, nonce and the PKCE verifier.
    const tokens = await exchange(rp, callback, request);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: 'http://portcullis.test',
      aud: firstParty.clientId,
      sub: user.id,
      nonce: request.nonce,
      preferred_username: user.username,
      email: user.email,
      email_verified: true,
      amr: ['pwd'],
    });
    expect(typeof claims.auth_time).toBe('number');
    const header = jwtPart(tokens.id_token!, 0);
    expect(header.alg).toBe('ES256');
    const jwks = (await t.http().get('/.well-known/jwks.json')).body as { keys: Json[] };
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    expect(tokens.refresh_token).toBeUndefined();
    const info = await client.fetchUserInfo(rp, tokens.access_token, user.id);
    expect(info).toMatchObject({
      sub: user.id,
      preferred_username: user.username,
      email: user.email,
    });
    // The OpenID access token is for userinfo: the API does not take it.
    expectProblem(await getMe(t, tokens.access_token), 401, 'UNAUTHORIZED');
  });

  it('says email_verified: false for an address an admin set without vouching for it', async () => {
    const username = uniqueName();
    const password = strongPassword();
    const created = await t
      .http()
      .post('/api/v1/admin/users')
      .set(...bearer(adminToken))
      .send({
        username,
        password,
        email: `${username}@example.com`,
        emailVerified: false,
        temporaryPassword: false,
      });
    expect(created.status).toBe(201);
    const { tokens } = await signInThrough(new HttpBrowser(t), rp, { username, password });
    expect(tokens.claims()).toMatchObject({
      email: `${username}@example.com`,
      email_verified: false,
    });
    const info = await client.fetchUserInfo(rp, tokens.access_token, created.body.id as string);
    expect(info.email_verified).toBe(false);
  });

  it('signs the same browser in again without the password, then asks again after sign-out', async () => {
    const user = await createUser(t);
    const browser = new HttpBrowser(t);
    await signInThrough(browser, rp, user);
    const again = await authorizationRequest(rp);
    const silent = await browser.get(again.url.href);
    expectCallback(silent);
    // Another first-party application signs in silently too (prompt=none), in the same session.
    const other = await relyingParty(t, await registerClient(t, adminToken, { name: 'Chat' }));
    const none = await authorizationRequest(other, { prompt: 'none' });
    const otherTokens = await exchange(
      other,
      expectCallback(await browser.get(none.url.href)),
      none,
    );
    expect(otherTokens.claims()?.sub).toBe(user.id);
    // Signing out of the hosted pages ends the session the application's sign-in relied on.
    const account = await browser.get('/account');
    expect(account.status).toBe(200);
    await browser.submit(account, '/logout', {});
    const afterSignOut = await browser.get(
      (await authorizationRequest(rp, { prompt: 'none' })).url.href,
    );
    expect(new URL(afterSignOut.location!).searchParams.get('error')).toBe('login_required');
    const third = await browser.get((await authorizationRequest(rp)).url.href);
    expect(third.status).toBe(200);
    expect(third.text).toContain('name="password"');
  });

  it('rotates refresh tokens (offline_access) and ends the grant when a used one comes back', async () => {
    const user = await createUser(t);
    const { tokens } = await signInThrough(new HttpBrowser(t), rp, user, {
      scope: 'openid offline_access',
      prompt: 'consent',
    });
    expect(tokens.refresh_token).toBeTruthy();
    const first = tokens.refresh_token!;
    const next = await client.refreshTokenGrant(rp, first);
    expect(next.refresh_token).toBeTruthy();
    expect(next.refresh_token).not.toBe(first);
    expect(next.claims()?.sub).toBe(user.id);
    // The rotated token again: refused, and the whole grant (so the newest token) with it.
    expect(await oauthError(client.refreshTokenGrant(rp, first))).toBe('invalid_grant');
    expect(await oauthError(client.refreshTokenGrant(rp, next.refresh_token!))).toBe(
      'invalid_grant',
    );
    expect(await oauthError(client.fetchUserInfo(rp, next.access_token, user.id))).toBe(
      'invalid_token',
    );
  });

  it('revokes an access token and a refresh token at the revocation endpoint', async () => {
    const user = await createUser(t);
    const { tokens } = await signInThrough(new HttpBrowser(t), rp, user, {
      scope: 'openid offline_access',
      prompt: 'consent',
    });
    await client.tokenRevocation(rp, tokens.access_token);
    expect(await oauthError(client.fetchUserInfo(rp, tokens.access_token, user.id))).toBe(
      'invalid_token',
    );
    await client.tokenRevocation(rp, tokens.refresh_token!);
    expect(await oauthError(client.refreshTokenGrant(rp, tokens.refresh_token!))).toBe(
      'invalid_grant',
    );
  });

  it('RP-initiated logout ends the Portcullis session and every token issued in it', async () => {
    const user = await createUser(t);
    const browser = new HttpBrowser(t);
    const { tokens } = await signInThrough(browser, rp, user, {
      scope: 'openid offline_access',
      prompt: 'consent',
    });
    expect((await browser.get('/account')).status).toBe(200);
    const logoutUrl = client.buildEndSessionUrl(rp, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: AFTER_LOGOUT,
      state: 'bye',
    });
    const confirm = await browser.get(logoutUrl.href);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('Sign out');
    expect(confirm.headers.get('content-security-policy')).toContain(
      "form-action 'self' http://127.0.0.1:9",
    );
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.text)?.[1] ?? '';
    const done = await browser.request('POST', '/oidc/session/end/confirm', {
      xsrf,
      logout: 'yes',
    });
    expect(done.status).toBe(303);
    expect(done.location).toBe(`${AFTER_LOGOUT}?state=bye`);
    expect(await oauthError(client.refreshTokenGrant(rp, tokens.refresh_token!))).toBe(
      'invalid_grant',
    );
    expect(await oauthError(client.fetchUserInfo(rp, tokens.access_token, user.id))).toBe(
      'invalid_token',
    );
    // The hosted pages are signed out too, and the next authorization asks for the password.
    const account = await browser.request('GET', '/account');
    expect(account.status).toBe(303);
    expect(account.location).toBe('http://portcullis.test/login');
    const next = await browser.get((await authorizationRequest(rp)).url.href);
    expect(next.text).toContain('name="password"');
    const events = await t
      .http()
      .get(`/api/v1/admin/audit-events?userId=${user.id}&type=logout`)
      .set(...bearer(adminToken));
    expect(events.body.total).toBe(1);
  });

  it('asks a user with 2FA for the code, and says so in amr', async () => {
    const user = await createUser(t);
    const { secret } = await enableTwoFactor(t, user);
    const browser = new HttpBrowser(t);
    const request = await authorizationRequest(rp);
    const step = await submitLogin(browser, await browser.get(request.url.href), user);
    expect(step.status).toBe(200);
    expect(step.url).toContain('/two-factor');
    const wrong = await browser.submit(step, `${interactionPath(step)}/two-factor`, {
      code: authenticator(t).wrongCode(secret),
    });
    expect(wrong.status).toBe(401);
    const callback = expectCallback(
      await browser.submit(wrong, `${interactionPath(step)}/two-factor`, {
        code: authenticator(t).freshCode(secret),
      }),
    );
    const tokens = await exchange(rp, callback, request);
    expect(tokens.claims()?.amr).toEqual(['pwd', 'otp']);
  });

  it('makes a user with a temporary password choose one before going back', async () => {
    const user = await createUser(t, { temporaryPassword: true });
    const browser = new HttpBrowser(t);
    const request = await authorizationRequest(rp);
    const change = await submitLogin(browser, await browser.get(request.url.href), user);
    expect(change.status).toBe(200);
    expect(change.url).toContain('/password');
    expect(change.text).toContain('temporary');
    // Nothing reaches the application before the change.
    const again = await browser.get(`${interactionPath(change)}`);
    expect(again.url).toContain('/password');
    const newPassword = `${user.password} renewed`;
    const callback = expectCallback(
      await browser.submit(change, `${interactionPath(change)}/password`, {
        currentPassword: user.password,
        newPassword,
      }),
    );
    const tokens = await exchange(rp, callback, request);
    expect(tokens.claims()?.sub).toBe(user.id);
    const me = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: newPassword });
    expect(me.status).toBe(200);
  });

  it('refuses a disabled user, and ends the grants of a user disabled later', async () => {
    const disabled = await createUser(t);
    const later = await createUser(t);
    const { tokens } = await signInThrough(new HttpBrowser(t), rp, later, {
      scope: 'openid offline_access',
      prompt: 'consent',
    });
    for (const user of [disabled, later]) {
      const res = await t
        .http()
        .patch(`/api/v1/admin/users/${user.id}`)
        .set(...bearer(adminToken))
        .send({ disabled: true });
      expect(res.status).toBe(200);
    }
    const browser = new HttpBrowser(t);
    const refused = await submitLogin(
      browser,
      await browser.get((await authorizationRequest(rp)).url.href),
      disabled,
    );
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('disabled');
    expect(await oauthError(client.refreshTokenGrant(rp, tokens.refresh_token!))).toBe(
      'invalid_grant',
    );
    expect(await oauthError(client.fetchUserInfo(rp, tokens.access_token, later.id))).toBe(
      'invalid_token',
    );
  });

  it('ends the grants of a deleted user', async () => {
    const user = await createUser(t);
    const { tokens } = await signInThrough(new HttpBrowser(t), rp, user, {
      scope: 'openid offline_access',
      prompt: 'consent',
    });
    const res = await t
      .http()
      .delete(`/api/v1/admin/users/${user.id}`)
      .set(...bearer(adminToken));
    expect(res.status).toBe(204);
    expect(await oauthError(client.refreshTokenGrant(rp, tokens.refresh_token!))).toBe(
      'invalid_grant',
    );
  });

  it('sends nothing to a redirect URI that is not registered exactly', async () => {
    const browser = new HttpBrowser(t);
    for (const redirect of [
      'http://127.0.0.1:9/callback/',
      'http://127.0.0.1:9/callback?x=1',
      'http://127.0.0.1:9/other',
      'https://evil.example/callback',
    ]) {
      const request = await authorizationRequest(rp, { redirect_uri: redirect });
      const answer = await browser.get(request.url.href);
      expect(answer.status).toBe(400);
      expect(answer.location).toBeNull();
      expect(answer.text).toContain('redirect_uri');
    }
    // The provider's own error page speaks the browser's language, its title too.
    const request = await authorizationRequest(rp, { redirect_uri: 'https://evil.example/cb' });
    const chinese = await new HttpBrowser(t, { 'accept-language': 'zh-CN' }).get(request.url.href);
    expect(chinese.status).toBe(400);
    expect(chinese.text).toContain('<html lang="zh-CN">');
    expect(chinese.text).toContain('<title>登录失败');
    expect(chinese.text).toContain('应用程序发送了无效的登录请求');
  });

  it('needs the PKCE verifier for a code that was asked for with a challenge, and PKCE from a public client', async () => {
    const user = await createUser(t);
    const browser = new HttpBrowser(t);
    const request = await authorizationRequest(rp);
    const callback = expectCallback(
      await submitLogin(browser, await browser.get(request.url.href), user),
    );
    // Without the verifier (a stolen code): refused, and the code is used up.
    const noVerifier = await fetch(`${t.url}/oidc/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${firstParty.clientId}:${firstParty.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        redirect_uri: CALLBACK,
      }).toString(),
    });
    expect(noVerifier.status).toBe(400);
    expect(((await noVerifier.json()) as Json).error).toBe('invalid_grant');
    expect(noVerifier.headers.get('cache-control')).toBe('no-store');
    // A public client must send a challenge at all.
    const spa = await registerClient(t, adminToken, { name: 'SPA', public: true });
    const spaRp = await relyingParty(t, spa);
    const noChallenge = await authorizationRequest(spaRp, {}, { pkce: false });
    const answer = await browser.get(noChallenge.url.href);
    expect(answer.status).toBe(303);
    const error = new URL(answer.location!);
    expect(`${error.origin}${error.pathname}`).toBe(CALLBACK);
    expect(error.searchParams.get('error')).toBe('invalid_request');
    // With PKCE, the public client signs in (the browser is already signed in).
    const ok = await authorizationRequest(spaRp);
    const tokens = await exchange(spaRp, expectCallback(await browser.get(ok.url.href)), ok);
    expect(tokens.claims()?.sub).toBe(user.id);
  });

  it('asks for consent for a third-party client once per user and scope set', async () => {
    const user = await createUser(t);
    const thirdParty = await registerClient(t, adminToken, { name: 'Photos', firstParty: false });
    const photos = await relyingParty(t, thirdParty);
    const browser = new HttpBrowser(t);
    const first = await authorizationRequest(photos, { scope: 'openid email' });
    const consent = await submitLogin(browser, await browser.get(first.url.href), user);
    expect(consent.status).toBe(200);
    expect(consent.text).toContain('Allow Photos?');
    expect(consent.text).toContain('data-scope="email"');
    const tokens = await exchange(
      photos,
      expectCallback(await browser.submit(consent, `${interactionPath(consent)}/consent`, {})),
      first,
    );
    expect(tokens.claims()?.email).toBe(user.email);
    expect(tokens.claims()?.preferred_username).toBeUndefined();
    // Another browser, the same scopes: no consent page.
    const other = new HttpBrowser(t);
    const same = await authorizationRequest(photos, { scope: 'openid email' });
    expectCallback(await submitLogin(other, await other.get(same.url.href), user));
    // More scopes: asked again.
    const more = await authorizationRequest(photos, { scope: 'openid email profile' });
    const asked = await other.get(more.url.href);
    expect(asked.text).toContain('data-scope="profile"');
    const denied = await other.submit(asked, `${interactionPath(asked)}/abort`, {});
    expect(new URL(denied.location!).searchParams.get('error')).toBe('access_denied');
    const events = await t
      .http()
      .get(`/api/v1/admin/audit-events?userId=${user.id}&type=oidc.consent_granted`)
      .set(...bearer(adminToken));
    expect(events.body.total).toBe(1);
  });

  it('refuses a sign-in form without the CSRF token of the browser', async () => {
    const user = await createUser(t);
    const browser = new HttpBrowser(t);
    const page = await browser.get((await authorizationRequest(rp)).url.href);
    const forged = await browser.request('POST', `${interactionPath(page)}/login`, {
      _csrf: 'forged',
      username: user.username,
      password: user.password,
    });
    expect(forged.status).toBe(403);
    expect(forged.location).toBeNull();
  });

  it('answers a finished or foreign sign-in with the expired page, and a skipped step with its first page', async () => {
    const stranger = new HttpBrowser(t);
    const none = await stranger.get('/interaction/no-such-sign-in');
    expect(none.status).toBe(400);
    expect(none.text).toContain('This sign-in has expired');
    const browser = new HttpBrowser(t);
    const page = await browser.get((await authorizationRequest(rp)).url.href);
    const path = interactionPath(page);
    const other = await browser.get('/interaction/another-sign-in');
    expect(other.status).toBe(400);
    expect(other.text).toContain('This sign-in has expired');
    // Not signed in, no code asked for: each later step sends the browser to the password form.
    for (const step of ['two-factor', 'password']) {
      const skipped = await browser.request('GET', `${path}/${step}`);
      expect(skipped.status).toBe(303);
      expect(skipped.location).toBe(`http://portcullis.test${path}`);
    }
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    for (const step of ['two-factor', 'password', 'consent']) {
      const skipped = await browser.request('POST', `${path}/${step}`, { _csrf: csrf, code: '1' });
      expect(skipped.status).toBe(303);
      expect(skipped.location).toBe(`http://portcullis.test${path}`);
    }
    // A forged form is refused before anything else, even for a sign-in that does not exist.
    const forged = await browser.request('POST', '/interaction/no-such-sign-in/login', {
      _csrf: 'forged',
    });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('This form has expired');
  });

  it('goes back to the application after "Forgot your password?"', async () => {
    const user = await createUser(t);
    const { secret } = await enableTwoFactor(t, user);
    const browser = new HttpBrowser(t);
    const request = await authorizationRequest(rp);
    const loginPage = await browser.get(request.url.href);
    expect(loginPage.text).toContain(`${interactionPath(loginPage)}/forgot`);
    const forgot = await browser.get(`${interactionPath(loginPage)}/forgot`);
    expect(forgot.url).toBe('http://portcullis.test/forgot-password');
    const sent = await browser.submit(forgot, '/forgot-password', { identifier: user.username });
    expect(sent.status).toBe(200);
    const mail = await smtp.waitForMail(
      (m) => m.to.includes(user.email!) && m.text.includes('/reset-password?token='),
    );
    const { link, token } = resetLinkIn(mail);
    const open = await browser.get(new URL(link).pathname + new URL(link).search);
    const step = await browser.submit(open, '/reset-password', { token });
    expect(step.url).toContain('/reset-password/two-factor');
    const passwordPage = await browser.submit(step, '/reset-password/two-factor', {
      code: authenticator(t).freshCode(secret),
    });
    expect(passwordPage.url).toContain('/reset-password/password');
    const back = await browser.submit(passwordPage, '/reset-password/password', {
      newPassword: `${user.password} after reset`,
    });
    const callback = expectCallback(back);
    const tokens = await exchange(rp, callback, request);
    expect(tokens.claims()?.sub).toBe(user.id);
  });

  it('signs new ID tokens with the new key after a rotation; the old ones still verify', async () => {
    const user = await createUser(t);
    const browser = new HttpBrowser(t);
    const before = await signInThrough(browser, rp, user);
    const oldKid = jwtPart(before.tokens.id_token!, 0).kid;
    const rotated = await t
      .http()
      .post('/api/v1/admin/signing-keys/rotate')
      .set(...bearer(adminToken));
    expect(rotated.status).toBe(201);
    const after = await signInThrough(browser, await relyingParty(t, firstParty), user);
    expect(jwtPart(after.tokens.id_token!, 0).kid).toBe(rotated.body.kid);
    expect(rotated.body.kid).not.toBe(oldKid);
    const jwks = (await t.http().get('/oidc/jwks')).body as { keys: Json[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, rotated.body.kid]));
    // The old ID token still verifies with the published keys (as a logout hint, here).
    const logout = await browser.get(
      client.buildEndSessionUrl(rp, { id_token_hint: before.tokens.id_token! }).href,
    );
    expect(logout.status).toBe(200);
    expect(logout.text).toContain('Sign out');
  });
});
