import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { BrowserContext, Page } from 'playwright-core';
import { bearer, createUser, login, strongPassword } from '../helpers/factories.js';
import { createTestAppWithMail, type TestAppWithMail } from '../helpers/test-app.js';
import { totp } from '../helpers/totp.js';
import { describeInChromium, freshPage, launchChromium, shoot } from './browser.js';

describeInChromium('pages in Simplified Chinese in Chromium', () => {
  let t: TestAppWithMail;
  let context: BrowserContext;
  let close: () => Promise<void>;

  beforeAll(async () => {
    t = await createTestAppWithMail();
    ({ context, close } = await launchChromium());
  });
  afterAll(async () => {
    await close?.();
    await t?.close();
  });

  async function heading(page: Page): Promise<string> {
    return ((await page.locator('h1').textContent()) ?? '').trim();
  }

  it('resets a forgotten password in zh-CN, from the mail through TOTP to the account page', async () => {
    const user = await createUser(t);
    const { accessToken } = await login(t, user.username, user.password);
    const chosen = await t
      .http()
      .patch('/api/v1/me')
      .set(...bearer(accessToken))
      .send({ locale: 'zh-CN' });
    expect(chosen.status).toBe(200);

    const page = await freshPage(context);
    // Chromium asks for English (Accept-Language: en-US): the choice is ?lang=, then a cookie.
    await page.goto(`${t.url}/login?lang=zh-CN`);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await heading(page)).toBe('登录');
    await shoot(page, 'zh-CN-login');
    await page.getByRole('link', { name: '忘记密码？' }).click();
    expect(await heading(page)).toBe('忘记密码？');
    await page.getByLabel('用户名或电子邮件').fill(user.username);
    await page.getByRole('button', { name: '发送重置链接' }).click();
    expect(await heading(page)).toBe('请查收邮件');
    expect(await page.locator('.notice').textContent()).toContain('5分钟内有效');
    await shoot(page, 'zh-CN-forgot-password-sent');

    // The mail is in the user's language, and so is the page its link opens: in a browser
    // that has no language cookie, the link itself carries it.
    const mail = await t.sink.waitForMail(
      (m) => m.to.includes(user.email as string) && m.subject === '重置您的密码',
    );
    expect(mail.text).toContain('链接在5分钟内有效');
    const link = /https?:\/\/\S+\/reset-password\?token=[\w-]+&lang=zh-CN/.exec(mail.text)?.[0];
    expect(link).toBeDefined();
    await context.clearCookies();
    const url = new URL(link as string);
    await page.goto(`${t.url}${url.pathname}${url.search}`);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await heading(page)).toBe('重置密码');
    await shoot(page, 'zh-CN-reset-continue');
    await page.getByRole('button', { name: '继续' }).click();

    expect(page.url()).toBe(`${t.url}/reset-password/two-factor`);
    expect(await heading(page)).toBe('设置身份验证器');
    expect(await page.locator('.step').textContent()).toBe('第 1 步，共 2 步');
    await shoot(page, 'zh-CN-reset-authenticator');
    const secret = ((await page.locator('#secret').textContent()) ?? '').replace(/\s/g, '');
    await page.getByLabel('应用中的验证码').fill(totp(secret, t.clock.nowSeconds()));
    await page.getByRole('button', { name: '验证' }).click();

    expect(await heading(page)).toBe('设置新密码');
    expect(await page.locator('.rules li').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('至少 8 个字符')]),
    );
    await page.getByLabel('新密码').fill('Zq9#xv');
    await page.getByRole('button', { name: '保存并登录' }).click();
    expect(await page.locator('#newPassword-error').textContent()).toContain(
      '新密码至少需要 8 个字符。',
    );
    expect(await page.locator('.rules li.broken').first().textContent()).toContain('未满足');
    await shoot(page, 'zh-CN-reset-password-rules');
    await page.getByLabel('新密码').fill(strongPassword());
    await page.getByRole('button', { name: '保存并登录' }).click();

    await page.waitForURL(`${t.url}/account?done=password-reset`);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await heading(page)).toBe('您的账户');
    expect(await page.locator('.notice').textContent()).toBe('您的密码已重置，您已登录。');
    expect(await page.locator('#profile-2fa').textContent()).toBe('已开启');
    expect(await page.locator('#profile-password-changed').textContent()).toMatch(
      /^\d{4}年\d{1,2}月\d{1,2}日$/,
    );
    await shoot(page, 'zh-CN-account');

    // The switcher keeps the page and its query, and the choice sticks.
    await page.getByRole('link', { name: 'English' }).click();
    expect(page.url()).toBe(`${t.url}/account?done=password-reset&lang=en`);
    expect(await heading(page)).toBe('Your account');
    await page.goto(`${t.url}/account`);
    expect(await heading(page)).toBe('Your account');
  });
});
