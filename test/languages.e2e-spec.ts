import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { MailOutboxWorker } from '../src/mail/mail-outbox.worker.js';
import { bearer, createAdmin, createUser, getMe, login } from './helpers/factories.js';
import { cookiesOf, csrfOf, postForm, setCookie, signInWithForm } from './helpers/pages.js';
import { expectProblem } from './helpers/problem.js';
import { createTestApp, createTestAppWithMail, type TestAppWithMail } from './helpers/test-app.js';

/** The language a page says it is in, and its main heading. */
function languageOf(res: Response): { lang: string; h1: string } {
  return {
    lang: /<html lang="([^"]+)">/.exec(res.text)?.[1] ?? '',
    h1: /<h1>([^<]*)<\/h1>/.exec(res.text)?.[1] ?? '',
  };
}

describe('languages: pages, /me and mails in en and zh-CN', () => {
  let t: TestAppWithMail;

  beforeAll(async () => {
    t = await createTestAppWithMail();
  });
  afterAll(async () => {
    await t?.close();
  });

  const patchMe = (accessToken: string, body: unknown) =>
    t
      .http()
      .patch('/api/v1/me')
      .set(...bearer(accessToken))
      .send(body as object);

  describe('GET and PATCH /api/v1/me: locale', () => {
    it('shows no language until the user picks one, then the one picked', async () => {
      const user = await createUser(t);
      const { accessToken } = await login(t, user.username, user.password);
      expect((await getMe(t, accessToken)).body.locale).toBeNull();

      const res = await patchMe(accessToken, { locale: 'zh-CN' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: user.id, username: user.username, locale: 'zh-CN' });
      expect((await getMe(t, accessToken)).body.locale).toBe('zh-CN');

      const cleared = await patchMe(accessToken, { locale: null });
      expect(cleared.status).toBe(200);
      expect(cleared.body.locale).toBeNull();
    });

    it('refuses a language it does not speak, a missing one and unknown fields', async () => {
      const user = await createUser(t);
      const { accessToken } = await login(t, user.username, user.password);
      for (const body of [{ locale: 'fr' }, { locale: 'zh-TW' }, { locale: 5 }, {}]) {
        const res = await patchMe(accessToken, body);
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.errors).toEqual([expect.objectContaining({ field: 'locale' })]);
      }
      expectProblem(
        await patchMe(accessToken, { locale: 'en', email: 'x@y.z' }),
        400,
        'VALIDATION_FAILED',
      );
      expect((await getMe(t, accessToken)).body.locale).toBeNull();
    });

    it('answers 401 without a token', async () => {
      expectProblem(await t.http().patch('/api/v1/me').send({ locale: 'en' }), 401, 'UNAUTHORIZED');
    });
  });

  describe('the admin user API: locale', () => {
    it('sets the language on create and patch, shows it, and audits the change', async () => {
      const admin = await createAdmin(t);
      const created = await t
        .http()
        .post('/api/v1/admin/users')
        .set(...bearer(admin.tokens.accessToken))
        .send({ username: `zh-${Date.now()}`, password: 'Tr0ub4dor & locale 1', locale: 'zh-CN' });
      expect(created.status).toBe(201);
      expect(created.body.locale).toBe('zh-CN');

      const patched = await t
        .http()
        .patch(`/api/v1/admin/users/${created.body.id as string}`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ locale: 'en' });
      expect(patched.status).toBe(200);
      expect(patched.body.locale).toBe('en');
      const viewed = await t
        .http()
        .get(`/api/v1/admin/users/${created.body.id as string}`)
        .set(...bearer(admin.tokens.accessToken));
      expect(viewed.body.locale).toBe('en');

      const events = await t
        .http()
        .get(`/api/v1/admin/audit-events?userId=${created.body.id as string}&type=user.updated`)
        .set(...bearer(admin.tokens.accessToken));
      expect(events.body.items[0].details).toEqual({
        fields: ['locale'],
        locale: { from: 'zh-CN', to: 'en' },
      });

      const bad = await t
        .http()
        .patch(`/api/v1/admin/users/${created.body.id as string}`)
        .set(...bearer(admin.tokens.accessToken))
        .send({ locale: 'de' });
      expectProblem(bad, 400, 'VALIDATION_FAILED');
    });
  });

  describe('the language of a page', () => {
    it('is DEFAULT_LOCALE (en) when nothing else decides', async () => {
      const res = await t.http().get('/login');
      expect(languageOf(res)).toEqual({ lang: 'en', h1: 'Sign in' });
      expect(res.text).toContain('<a class="language" href="/login?lang&#x3D;zh-CN" lang="zh-CN"');
    });

    it('follows Accept-Language: zh, zh-CN and zh-Hans are zh-CN; others fall through', async () => {
      for (const header of ['zh', 'zh-CN', 'zh-Hans', 'fr-FR, zh-Hans-CN;q=0.8, en;q=0.5']) {
        const res = await t.http().get('/login').set('Accept-Language', header);
        expect({ header, ...languageOf(res) }).toEqual({ header, lang: 'zh-CN', h1: '登录' });
      }
      for (const header of ['zh-TW', 'fr, de;q=0.9', 'en-GB, zh;q=0.5']) {
        const res = await t.http().get('/login').set('Accept-Language', header);
        expect({ header, ...languageOf(res) }).toEqual({ header, lang: 'en', h1: 'Sign in' });
      }
    });

    it('follows ?lang= over everything, and remembers it in a cookie for the next pages', async () => {
      const res = await t.http().get('/forgot-password?lang=zh-CN').set('Accept-Language', 'en');
      expect(languageOf(res)).toEqual({ lang: 'zh-CN', h1: '忘记密码？' });
      const cookie = setCookie(res, 'portcullis_lang') ?? '';
      expect(cookie).toMatch(/^portcullis_lang=zh-CN;/);
      expect(cookie).toMatch(/Path=\//);
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Lax/);
      expect(cookie).not.toMatch(/Secure/);
      // The switcher keeps the path and the query, with lang set.
      expect(res.text).toContain('href="/forgot-password?lang&#x3D;en"');

      const next = await t.http().get('/login').set('Cookie', ['portcullis_lang=zh-CN']);
      expect(languageOf(next)).toEqual({ lang: 'zh-CN', h1: '登录' });
      const back = await t
        .http()
        .get('/login?lang=en')
        .set('Cookie', ['portcullis_lang=zh-CN'])
        .set('Accept-Language', 'zh');
      expect(languageOf(back)).toEqual({ lang: 'en', h1: 'Sign in' });
      expect(setCookie(back, 'portcullis_lang')).toMatch(/^portcullis_lang=en;/);
    });

    it('ignores a ?lang= it does not speak: the next source decides, no cookie is set', async () => {
      const res = await t.http().get('/login?lang=fr').set('Accept-Language', 'zh-CN');
      expect(languageOf(res).lang).toBe('zh-CN');
      expect(setCookie(res, 'portcullis_lang')).toBeUndefined();
    });

    it("follows the signed-in user's locale over Accept-Language, the cookie over both", async () => {
      const user = await createUser(t);
      const { accessToken } = await login(t, user.username, user.password);
      expect((await patchMe(accessToken, { locale: 'zh-CN' })).status).toBe(200);
      const { cookies } = await signInWithForm(t, user);

      const home = await t
        .http()
        .get('/account')
        .set('Cookie', cookies)
        .set('Accept-Language', 'en');
      expect(languageOf(home)).toEqual({ lang: 'zh-CN', h1: '您的账户' });
      expect(home.text).toContain('<option value="zh-CN" lang="zh-CN" selected>简体中文</option>');

      const picked = await t
        .http()
        .get('/account')
        .set('Cookie', [...cookies, 'portcullis_lang=en'])
        .set('Accept-Language', 'zh');
      expect(languageOf(picked)).toEqual({ lang: 'en', h1: 'Your account' });
    });

    it('saves the language chosen on the account page for the pages and the API', async () => {
      const user = await createUser(t);
      const { cookies } = await signInWithForm(t, user);
      const page = await t.http().get('/account').set('Cookie', cookies);
      const saved = await postForm(t, '/account/language', cookies, {
        _csrf: csrfOf(page),
        locale: 'zh-CN',
      });
      expect(saved.status).toBe(303);
      expect(saved.headers.location).toBe('/account?done=language');
      expect(setCookie(saved, 'portcullis_lang')).toMatch(/^portcullis_lang=zh-CN;/);
      const { accessToken } = await login(t, user.username, user.password);
      expect((await getMe(t, accessToken)).body.locale).toBe('zh-CN');
      const after = await t.http().get('/account?done=language').set('Cookie', cookies);
      expect(after.text).toContain('您的语言设置已保存。');

      const refused = await postForm(t, '/account/language', cookies, { locale: 'en' });
      expect(refused.status).toBe(403);
      expect((await getMe(t, accessToken)).body.locale).toBe('zh-CN');
    });

    it('says errors and durations in Chinese', async () => {
      const zh = ['portcullis_lang=zh-CN'];
      const form = await t.http().get('/login').set('Cookie', zh);
      const wrong = await postForm(t, '/login', [...zh, ...cookiesOf(form)], {
        _csrf: csrfOf(form),
        username: 'nobody-here',
        password: 'wrong password 1',
      });
      expect(wrong.status).toBe(401);
      expect(wrong.text).toContain('用户名或密码不正确。');

      const user = await createUser(t);
      const forgot = await t.http().get('/forgot-password').set('Cookie', zh);
      const sent = await postForm(t, '/forgot-password', [...zh, ...cookiesOf(forgot)], {
        _csrf: csrfOf(forgot),
        identifier: user.username,
      });
      expect(sent.status).toBe(200);
      expect(sent.text).toContain('重置链接已发送到该账户的电子邮件地址，5分钟内有效。');
      expect(sent.text).not.toContain('valid for');

      const empty = await postForm(t, '/forgot-password', [...zh, ...cookiesOf(forgot)], {
        _csrf: csrfOf(forgot),
        identifier: '',
      });
      expect(empty.text).toContain('请填写用户名或电子邮件。');
    });
  });

  describe('mails', () => {
    const RESET_SUBJECT_ZH = '重置您的密码';

    it("go out in the recipient's language", async () => {
      const user = await createUser(t);
      const { accessToken } = await login(t, user.username, user.password);
      await patchMe(accessToken, { locale: 'zh-CN' });
      const res = await t
        .http()
        .post('/api/v1/password-reset/requests')
        .send({ identifier: user.username });
      expect(res.status).toBe(202);
      const mail = await t.sink.waitForMail(
        (m) => m.envelopeTo.includes(user.email ?? '') && m.subject === RESET_SUBJECT_ZH,
      );
      expect(mail.text).toContain(`${user.username}，您好：`);
      expect(mail.text).toContain('链接在5分钟内有效，且只能使用一次。');
      expect(mail.text).toMatch(
        /http:\/\/portcullis\.test\/reset-password\?token=[\w-]+&lang=zh-CN\n/,
      );
      expect(mail.html).toContain('<html lang="zh-CN">');
      expect(mail.html).toContain('>重置我的密码</a>');
      expect(mail.text + mail.html).not.toMatch(/Hello|valid for|Reset my password/);
    });

    it('keep the language they were queued in when the user changes theirs before sending', async () => {
      const worker = t.app.get(MailOutboxWorker);
      // The worker stops polling; the mail waits in the outbox until drained below.
      await worker.onModuleDestroy();
      const user = await createUser(t);
      const { accessToken } = await login(t, user.username, user.password);
      await patchMe(accessToken, { locale: 'zh-CN' });
      expect(
        (await t.http().post('/api/v1/password-reset/requests').send({ identifier: user.username }))
          .status,
      ).toBe(202);
      const [row] = await t.app
        .get(DataSource)
        .query<{ locale: string; status: string }[]>(
          `SELECT locale, status FROM mail_outbox WHERE recipient = $1`,
          [user.email],
        );
      expect(row).toEqual({ locale: 'zh-CN', status: 'pending' });
      await patchMe(accessToken, { locale: 'en' });
      await worker.drain();
      const mail = await t.sink.waitForMail((m) => m.envelopeTo.includes(user.email ?? ''));
      expect(mail.subject).toBe(RESET_SUBJECT_ZH);
      expect(mail.text).toContain('5分钟');
    });
  });
});

// Another app in the same process after the first one closed (two at once share process-wide
// state in the test harness).
describe('DEFAULT_LOCALE', () => {
  it('is DEFAULT_LOCALE=zh-CN when so configured, and DEFAULT_LOCALE is validated', async () => {
    const zh = await createTestApp({ DEFAULT_LOCALE: 'zh-CN' });
    try {
      const res = await zh.http().get('/login');
      expect(languageOf(res)).toEqual({ lang: 'zh-CN', h1: '登录' });
      const en = await zh.http().get('/login').set('Accept-Language', 'en-US');
      expect(languageOf(en).lang).toBe('en');
    } finally {
      await zh.close();
    }
    await expect(createTestApp({ DEFAULT_LOCALE: 'fr' })).rejects.toThrow(
      /DEFAULT_LOCALE must be one of: en, zh-CN/,
    );
  });
});
