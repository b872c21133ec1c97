import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { requestConfirmation } from './helpers/email.js';
import {
  bearer,
  createUser,
  getMe,
  login,
  strongPassword,
  uniqueName,
} from './helpers/factories.js';
import type { SmtpSink } from './helpers/smtp-sink.js';
import { createTestApp, createTestAppWithMail, type TestAppWithMail } from './helpers/test-app.js';
import { totp } from './helpers/totp.js';
import { cookiesOf, csrfOf, postForm, setCookie, signInWithForm } from './helpers/pages.js';
import { expectProblem } from './helpers/problem.js';

describe('hosted pages over HTTP', () => {
  let t: TestAppWithMail;
  let smtp: SmtpSink;

  beforeAll(async () => {
    t = await createTestAppWithMail();
    smtp = t.sink;
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves the login page with a strict CSP and an HttpOnly SameSite=Lax cookie', async () => {
    const res = await t.http().get('/login');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['content-security-policy']).toContain("script-src 'none'");
    expect(res.text).toContain('href="/forgot-password"');
    const cookie = setCookie(res, 'portcullis_session') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    expect(res.text).not.toMatch(/<script/i);
  });

  it('serves its stylesheet itself', async () => {
    const res = await t.http().get('/assets/app.css');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/css/);
  });

  it('refuses a form without the CSRF token of the browser session', async () => {
    const user = await createUser(t);
    const form = await t.http().get('/login');
    const res = await postForm(t, '/login', cookiesOf(form), {
      _csrf: 'forged',
      username: user.username,
      password: user.password,
    });
    expect(res.status).toBe(403);
    expect(setCookie(res, 'portcullis_session')).toBeUndefined();
  });

  it("keeps this browser's device token in an HttpOnly cookie, which lets its owner in during a lockout", async () => {
    const user = await createUser(t);
    const { res: signedIn } = await signInWithForm(t, user);
    const device = setCookie(signedIn, 'portcullis_device') ?? '';
    expect(device).toMatch(/HttpOnly/);
    expect(device).toMatch(/SameSite=Lax/);
    expect(device).toMatch(/Path=\/login/);
    // A stranger locks the account (through the API, without the browser's cookie).
    for (let i = 0; i < 5; i++) {
      await t
        .http()
        .post('/api/v1/auth/login')
        .send({ username: user.username, password: 'a stranger guesses' });
    }
    const locked = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: user.password });
    expect(locked.status).toBe(429);
    // The owner's browser still signs in.
    const again = await t.http().get('/login');
    const owner = await postForm(t, '/login', [...cookiesOf(again), device.split(';')[0]], {
      _csrf: csrfOf(again),
      username: user.username,
      password: user.password,
    });
    expect(owner.status).toBe(303);
    expect(owner.headers.location).toBe('/account');
  });

  it('shows a wrong password in words and signs in with the right one', async () => {
    const user = await createUser(t);
    const form = await t.http().get('/login');
    const wrong = await postForm(t, '/login', cookiesOf(form), {
      _csrf: csrfOf(form),
      username: user.username,
      password: 'nope',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('The username or password is not correct.');
    const { res, cookies } = await signInWithForm(t, user);
    expect(res.headers.location).toBe('/account');
    const account = await t.http().get('/account').set('Cookie', cookies);
    expect(account.status).toBe(200);
    expect(account.text).toContain(user.username);
  });

  it('sends the code step back to the password form when no password was checked', async () => {
    const form = await t.http().get('/login');
    const cookies = cookiesOf(form);
    const page = await t.http().get('/login/two-factor').set('Cookie', cookies);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login');
    const post = await postForm(t, '/login/two-factor', cookies, {
      _csrf: csrfOf(form),
      code: '123456',
    });
    expect(post.status).toBe(303);
    expect(post.headers.location).toBe('/login');
  });

  it('signs the browser out at once when its session is revoked elsewhere', async () => {
    const user = await createUser(t);
    const { res, cookies } = await signInWithForm(t, user);
    expect(res.headers.location).toBe('/account');
    const api = await login(t, user.username, user.password);
    const change = await t
      .http()
      .put('/api/v1/me/password')
      .set(...bearer(api.accessToken))
      .send({ currentPassword: user.password, newPassword: strongPassword() });
    expect(change.status).toBe(204);
    const account = await t.http().get('/account').set('Cookie', cookies);
    expect(account.status).toBe(303);
    expect(account.headers.location).toBe('/login');
  });

  it('never uses a reset link up on GET, and sends no referrer from it', async () => {
    const user = await createUser(t);
    const form = await t.http().get('/forgot-password');
    const sent = await postForm(t, '/forgot-password', cookiesOf(form), {
      _csrf: csrfOf(form),
      identifier: user.username,
    });
    expect(sent.status).toBe(200);
    expect(sent.text).toContain('valid for 5 minutes');
    const mail = await smtp.waitForMail((m) => m.to.includes(user.email as string));
    const link = new URL(/https?:\/\/\S+\/reset-password\?token=[\w-]+/.exec(mail.text)?.[0] ?? '');
    const path = `${link.pathname}${link.search}`;
    for (let i = 0; i < 2; i += 1) {
      const page = await t.http().get(path);
      expect(page.status).toBe(200);
      expect(page.headers['referrer-policy']).toBe('no-referrer');
    }
    const page = await t.http().get(path);
    const opened = await postForm(t, '/reset-password', cookiesOf(page), {
      _csrf: csrfOf(page),
      token: link.searchParams.get('token'),
    });
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/reset-password/two-factor');
    const reset = setCookie(opened, 'portcullis_reset') ?? '';
    expect(reset).toMatch(/Path=\/reset-password/);
    expect(reset).toMatch(/HttpOnly/);
  });

  it('asks a user who has 2FA for a code (or a recovery code) and never for a new authenticator', async () => {
    const user = await createUser(t);
    const api = await login(t, user.username, user.password);
    const setup = await t
      .http()
      .post('/api/v1/me/two-factor/setup')
      .set(...bearer(api.accessToken))
      .send({ currentPassword: user.password });
    const enable = await t
      .http()
      .post('/api/v1/me/two-factor/enable')
      .set(...bearer(api.accessToken))
      .send({ code: totp(setup.body.secret as string, t.clock.nowSeconds()) });
    expect(enable.status).toBe(200);
    const form = await t.http().get('/forgot-password');
    await postForm(t, '/forgot-password', cookiesOf(form), {
      _csrf: csrfOf(form),
      identifier: user.username,
    });
    const mail = await smtp.waitForMail(
      (m) => m.to.includes(user.email as string) && m.text.includes('/reset-password?token='),
    );
    const link = new URL(/https?:\/\/\S+\/reset-password\?token=[\w-]+/.exec(mail.text)?.[0] ?? '');
    const page = await t.http().get(`${link.pathname}${link.search}`);
    const opened = await postForm(t, '/reset-password', cookiesOf(page), {
      _csrf: csrfOf(page),
      token: link.searchParams.get('token'),
    });
    const cookies = [...cookiesOf(page), ...cookiesOf(opened)];
    const step = await t.http().get('/reset-password/two-factor').set('Cookie', cookies);
    expect(step.status).toBe(200);
    expect(step.text).toContain('Authentication code');
    expect(step.text).toContain('href="/reset-password/two-factor?recovery=1"');
    expect(step.text).not.toContain('QR code');
    const recovery = await t
      .http()
      .get('/reset-password/two-factor?recovery=1')
      .set('Cookie', cookies);
    expect(recovery.text).toContain('Recovery code');
    // The password step stays closed until the code is proven.
    const early = await t.http().get('/reset-password/password').set('Cookie', cookies);
    expect(early.status).toBe(303);
    expect(early.headers.location).toBe('/reset-password/two-factor');
  });

  it('shows a page for an invalid link that offers a new one', async () => {
    const page = await t.http().get('/reset-password?token=not-a-real-token');
    const res = await postForm(t, '/reset-password', cookiesOf(page), {
      _csrf: csrfOf(page),
      token: 'not-a-real-token',
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('This reset link is not valid');
    expect(res.text).toContain('href="/forgot-password"');
  });

  it('confirms an email address only through the form of its page, with the CSRF token', async () => {
    const user = await createUser(t);
    const { accessToken } = await login(t, user.username, user.password);
    const email = `${uniqueName('paged')}@example.org`;
    const { token } = await requestConfirmation(t, smtp, accessToken, email, user.password);

    const page = await t.http().get(`/verify-email?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');
    const confirm = (csrf: string) =>
      postForm(t, '/verify-email', cookiesOf(page), { _csrf: csrf, token });

    expect((await confirm('forged')).status).toBe(403);
    expect((await getMe(t, accessToken)).body).toMatchObject({
      email: user.email,
      pendingEmail: email,
    });

    const done = await confirm(csrfOf(page));
    expect(done.status).toBe(200);
    expect(done.text).toContain('Your email address is confirmed');
    expect(done.text).toContain(email);
    expect((await getMe(t, accessToken)).body).toMatchObject({ email, emailVerified: true });

    const again = await confirm(csrfOf(page));
    expect(again.status).toBe(410);
    expect(again.text).toContain('This confirmation link was already used');
    const bare = await t.http().get('/verify-email');
    expect(bare.status).toBe(400);
    expect(bare.text).toContain('This confirmation link is not valid');
  });

  it('still answers a form body on the JSON API with 415', async () => {
    const res = await t
      .http()
      .post('/api/v1/auth/login')
      .type('form')
      .send({ username: 'a', password: 'b' });
    expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('hosted pages behind https', () => {
  it('marks the session cookie Secure when PUBLIC_URL is https', async () => {
    const t = await createTestApp({ PUBLIC_URL: 'https://id.example.com' });
    try {
      const res = await t.http().get('/login');
      expect(setCookie(res, 'portcullis_session')).toMatch(/; Secure/);
    } finally {
      await t.close();
    }
  });
});
