import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { BrowserContext, Page } from 'playwright-core';
import {
  createAdmin,
  createUser,
  strongPassword,
  type TestUser,
  uniqueName,
} from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { enableTwoFactor } from '../helpers/totp.js';
import { describeInChromium, freshPage, launchChromium, shoot, submitLogin } from './browser.js';

describeInChromium('admin console in Chromium', () => {
  let t: TestApp;
  let admin: TestUser;
  let context: BrowserContext;
  let close: () => Promise<void>;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await createAdmin(t);
    ({ context, close } = await launchChromium());
  });
  afterAll(async () => {
    await close?.();
    await t?.close();
  });

  /** A fresh tab with no cookies, signed in as the admin through the console's own redirect. */
  async function adminPage(path = '/admin/users'): Promise<Page> {
    const page = await freshPage(context);
    await page.goto(`${t.url}${path}`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await submitLogin(page, admin);
    expect(page.url()).toBe(`${t.url}${path}`);
    return page;
  }

  it('creates a user (a policy error first), who then signs in and replaces the temporary password', async () => {
    const page = await adminPage();
    await shoot(page, 'admin-users');
    await page.getByRole('link', { name: 'Create user' }).click();
    const username = uniqueName('ada');
    await page.getByLabel('Username', { exact: true }).fill(username);
    await page.getByLabel('Initial password').fill('Zq9#xv');
    await page.getByLabel('Email (optional)').fill(`${username}@example.com`);
    await page.getByLabel('Roles (optional)').fill('support');
    await page.locator('select#locale').selectOption('en');
    expect(await page.getByLabel(/^Temporary password/).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Create user' }).click();

    const field = page.getByLabel('Initial password');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#password-error').textContent()).toContain('at least 8 characters');
    expect(await page.locator('.rules li.broken').count()).toBe(1);
    // What was typed stays, except the password.
    expect(await page.getByLabel('Username', { exact: true }).inputValue()).toBe(username);
    expect(await field.inputValue()).toBe('');
    expect(await page.locator('select#locale').inputValue()).toBe('en');
    await shoot(page, 'admin-user-create-error');

    const initial = strongPassword();
    await field.fill(initial);
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}\?done=created$/);
    expect(await page.locator('.notice').textContent()).toBe('The user was created.');
    expect(await page.locator('#user-name').textContent()).toBe(username);
    expect(await page.locator('#user-state').textContent()).toContain('temporary password');
    expect(await page.locator('#user-locale').textContent()).toBe('English');
    await shoot(page, 'admin-user');
    await page.close();

    const own = await freshPage(context);
    await own.goto(`${t.url}/login`);
    await submitLogin(own, { username, password: initial });
    await own.goto(`${t.url}/account`);
    expect(own.url()).toBe(`${t.url}/account/password`);
    await own.getByLabel('Current password').fill(initial);
    await own.getByLabel('New password').fill(strongPassword());
    await own.getByRole('button', { name: 'Change password' }).click();
    expect(own.url()).toBe(`${t.url}/account?done=password`);
    expect(await own.locator('#profile-username').textContent()).toBe(username);
    // Not an admin: the console is closed to them.
    const refused = await own.goto(`${t.url}/admin/users`);
    expect(refused?.status()).toBe(403);
    await own.close();
  });

  it('disables, enables, resets two-factor authentication and deletes a user', async () => {
    const user = await createUser(t);
    await enableTwoFactor(t, user);
    const page = await adminPage(`/admin/users/${user.id}`);
    expect(await page.locator('#user-2fa').textContent()).toBe('On');

    await page.getByRole('button', { name: 'Disable the user' }).click();
    expect(await page.locator('.notice').textContent()).toContain('The user is disabled');
    expect(await page.locator('#user-state').textContent()).toContain('disabled');
    const refused = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: user.password });
    expect(refused.status).toBe(403);
    await page.getByRole('button', { name: 'Enable the user' }).click();
    expect(await page.locator('#user-state').textContent()).toContain('active');

    await page.getByRole('button', { name: 'Reset two-factor authentication' }).click();
    expect(await page.locator('.notice').textContent()).toContain(
      'Two-factor authentication was reset',
    );
    expect(await page.locator('#user-2fa').textContent()).toBe('Off');

    await page.getByRole('link', { name: 'Delete the user…' }).click();
    expect(await page.locator('h1').textContent()).toBe(`Delete ${user.username}?`);
    await shoot(page, 'admin-user-delete');
    await page.getByRole('button', { name: `Delete ${user.username}` }).click();
    expect(page.url()).toBe(`${t.url}/admin/users?done=deleted`);
    expect(await page.locator('.notice').textContent()).toBe('The user was deleted.');

    await page.goto(`${t.url}/admin/audit?user=${user.id}`);
    const types = await page.locator('table.events td:nth-child(2)').allTextContents();
    // Newest first; the refused sign-in of the disabled user is there too.
    expect(types.slice(0, 5)).toEqual([
      'user.deleted',
      'two_factor.reset_by_admin',
      'user.enabled',
      'login.failed',
      'user.disabled',
    ]);
    await shoot(page, 'admin-audit');
    await page.close();
  });

  it('registers an OpenID Connect client and shows its secret once', async () => {
    const page = await adminPage('/admin/clients');
    await page.getByRole('link', { name: 'Register a client' }).click();
    await page.getByLabel('Name').fill('Team wiki');
    await page
      .getByLabel('Redirect URIs', { exact: true })
      .fill('https://wiki.example.com/callback');
    await page.getByRole('button', { name: 'Register the client' }).click();
    const secret = (await page.locator('#client-secret').textContent()) ?? '';
    expect(secret.length).toBeGreaterThan(20);
    await shoot(page, 'admin-client-secret');
    await page.getByRole('link', { name: 'Done: back to the client' }).click();
    expect(await page.content()).not.toContain(secret);
    await page.goto(`${t.url}/admin/clients`);
    expect(await page.locator('#clients').textContent()).toContain('Team wiki');
    await shoot(page, 'admin-clients');
    await page.goto(`${t.url}/admin/users?lang=zh-CN`);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await page.locator('h1').textContent()).toBe('用户');
    await shoot(page, 'admin-users-zh-CN');
    await page.close();
  });
});
