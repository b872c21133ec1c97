import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { BrowserContext, Page } from 'playwright-core';
import { CONFIRM_EMAIL_SUBJECT, confirmationLinkIn, mailsTo } from '../helpers/email.js';
import { createUser, strongPassword, type TestUser, uniqueName } from '../helpers/factories.js';
import type { SmtpSink } from '../helpers/smtp-sink.js';
import { createTestAppWithMail, type TestAppWithMail } from '../helpers/test-app.js';
import { totp } from '../helpers/totp.js';
import {
  describeInChromium,
  freshPage,
  launchChromium,
  shoot,
  signedInPage,
  submitLogin,
} from './browser.js';

describeInChromium('hosted pages in Chromium', () => {
  let t: TestAppWithMail;
  let smtp: SmtpSink;
  let context: BrowserContext;
  let close: () => Promise<void>;

  beforeAll(async () => {
    t = await createTestAppWithMail({ TOTP_ISSUER: 'Acme Corp' });
    smtp = t.sink;
    ({ context, close } = await launchChromium());
  });
  afterAll(async () => {
    await close?.();
    await t?.close();
  });

  /** Asks for the email change on the account page. */
  async function askForEmail(page: Page, user: TestUser, email: string): Promise<void> {
    await page.getByLabel('New email address').fill(email);
    await page.locator('#email-password').fill(user.password);
    await page.getByRole('button', { name: 'Send the confirmation link' }).click();
    await page.waitForURL(`${t.url}/account?done=email-sent`);
    expect(await page.locator('.notice').textContent()).toContain('Check your mail');
  }

  /** The current code of the authenticator whose key the page shows (grouped by 4). */
  async function codeFromPage(page: Page): Promise<string> {
    const secret = (await page.locator('#secret').textContent()) ?? '';
    return totp(secret.replace(/\s/g, ''), t.clock.nowSeconds());
  }

  it('resets a forgotten password from the form to the account page, signed in', async () => {
    const user = await createUser(t);
    const page = await freshPage(context);
    await page.goto(`${t.url}/login`);
    await shoot(page, 'login');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Username or email').fill(user.username);
    await shoot(page, 'forgot-password');
    await page.getByRole('button', { name: 'Send the reset link' }).click();
    expect(await page.locator('h1').textContent()).toBe('Check your mail');
    expect(await page.locator('.notice').textContent()).toContain('valid for 5 minutes');
    await shoot(page, 'forgot-password-sent');

    const mail = await smtp.waitForMail((m) => m.to.includes(user.email as string));
    const link = /https?:\/\/\S+\/reset-password\?token=[\w-]+/.exec(mail.text)?.[0] as string;
    const path = new URL(link).pathname + new URL(link).search;
    const response = await page.goto(`${t.url}${path}`);
    expect(response?.headers()['referrer-policy']).toBe('no-referrer');
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    await shoot(page, 'reset-continue');
    await page.getByRole('button', { name: 'Continue' }).click();

    expect(page.url()).toBe(`${t.url}/reset-password/two-factor`);
    expect(await page.locator('img[alt^="QR code for Acme Corp"]').count()).toBe(1);
    const groups = ((await page.locator('#secret').textContent()) ?? '').trim().split(' ');
    expect(groups.every((g) => g.length <= 4)).toBe(true);
    await shoot(page, 'reset-authenticator');
    await page.getByLabel('Code from the app').fill(await codeFromPage(page));
    await page.getByRole('button', { name: 'Verify' }).click();

    expect(await page.locator('h1').textContent()).toBe('Choose a new password');
    expect(await page.locator('.code-list li').count()).toBeGreaterThan(0);
    expect(await page.locator('.rules li').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('At least 8 characters')]),
    );
    await page.getByLabel('New password').fill('Zq9#xv');
    await page.getByRole('button', { name: 'Save and sign in' }).click();
    const field = page.getByLabel('New password');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await field.getAttribute('aria-describedby')) ?? '';
    expect(await page.locator(`#${describedBy}`).textContent()).toContain('at least 8 characters');
    expect(await page.locator('.rules li.broken').count()).toBe(1);
    await shoot(page, 'reset-new-password');

    const newPassword = strongPassword();
    await page.getByLabel('New password').fill(newPassword);
    await page.getByRole('button', { name: 'Save and sign in' }).click();
    expect(page.url()).toBe(`${t.url}/account?done=password-reset`);
    expect(await page.locator('#profile-username').textContent()).toBe(user.username);
    expect(await page.locator('#profile-2fa').textContent()).toBe('On');
    await shoot(page, 'account');
    // On a phone, the header may take two lines, but its name and button never break inside.
    await page.setViewportSize({ width: 390, height: 844 });
    // One line of the header's text is well under 40 px high; a word broken in two is not.
    const heightOf = async (selector: string) =>
      (await page.locator(selector).boundingBox())?.height ?? Infinity;
    expect(await heightOf('.top button')).toBeLessThan(40);
    expect(await heightOf('.top .who')).toBeLessThan(40);
    expect(await heightOf('.top .brand')).toBeLessThan(40);
    await page.setViewportSize({ width: 1280, height: 800 });
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'portcullis_session');
    expect(session).toEqual(expect.objectContaining({ httpOnly: true, sameSite: 'Lax' }));
    expect(cookies.find((c) => c.name === 'portcullis_reset')).toBeUndefined();

    // The link is single-use.
    await page.goto(`${t.url}${path}`);
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await page.locator('h1').textContent()).toBe('This reset link was already used');
    await page.close();
  });

  it('changes the email on the account page, confirms it from the mailed link and shows it bound', async () => {
    const user = await createUser(t);
    const page = await signedInPage(context, t.url, user);
    const email = `${uniqueName('moved')}@example.org`;
    await askForEmail(page, user, email);
    // Waiting for confirmation: the old address is still the account's.
    expect(await page.locator('#pending-email-address').textContent()).toBe(email);
    expect(await page.locator('#profile-email').textContent()).toBe(user.email);
    await shoot(page, 'account-email-pending');

    // The first mail is lost: send the link again; only the newest link works. (Waiting for
    // the first mail keeps the two in order: the outbox does not promise an order.)
    await smtp.waitForMail(() => mailsTo(smtp, email, CONFIRM_EMAIL_SUBJECT).length >= 1);
    await page.getByRole('button', { name: 'Resend the link' }).click();
    await page.waitForURL(`${t.url}/account?done=email-resent`);
    await smtp.waitForMail(() => mailsTo(smtp, email, CONFIRM_EMAIL_SUBJECT).length >= 2);
    const [older, newer] = mailsTo(smtp, email, CONFIRM_EMAIL_SUBJECT).map(
      (m) => new URL(confirmationLinkIn(m).link),
    );

    const response = await page.goto(`${t.url}${newer.pathname}${newer.search}`);
    expect(response?.headers()['referrer-policy']).toBe('no-referrer');
    expect(await page.locator('h1').textContent()).toBe('Confirm your email address');
    await shoot(page, 'verify-email');
    await page.getByRole('button', { name: 'Confirm my email address' }).click();
    // The answer is a page at the same address: wait for its heading.
    await page.getByRole('heading', { name: 'Your email address is confirmed' }).waitFor();
    expect(await page.locator('#verified-email').textContent()).toBe(email);
    await shoot(page, 'verify-email-done');
    await page.getByRole('link', { name: 'Go to your account' }).click();
    await page.waitForURL(`${t.url}/account`);
    expect(await page.locator('#profile-email').textContent()).toBe(email);
    expect(await page.locator('#pending-email').count()).toBe(0);

    // The older link was replaced by the newer one.
    await page.goto(`${t.url}${older.pathname}${older.search}`);
    await page.getByRole('button', { name: 'Confirm my email address' }).click();
    await page.getByRole('heading', { name: 'This confirmation link is not valid' }).waitFor();
    await page.close();
  });

  it('cancels an email change waiting for confirmation', async () => {
    const user = await createUser(t);
    const page = await signedInPage(context, t.url, user);
    await askForEmail(page, user, `${uniqueName('typo')}@example.org`);
    await page.getByRole('button', { name: 'Cancel the change' }).click();
    await page.waitForURL(`${t.url}/account?done=email-cancelled`);
    expect(await page.locator('.notice').textContent()).toContain('cancelled');
    expect(await page.locator('#pending-email').count()).toBe(0);
    expect(await page.locator('#profile-email').textContent()).toBe(user.email);
    await page.close();
  });

  it('signs in with two-factor authentication and signs out', async () => {
    const user = await createUser(t);
    const page = await signedInPage(context, t.url, user);
    // Turn 2FA on from the account page: a wrong password first, then the right one.
    await page.locator('#setup-password').fill(`${user.password}x`);
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    expect(await page.locator('#setup-password-error').textContent()).toContain('not correct');
    await page.locator('#setup-password').fill(user.password);
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await shoot(page, 'account-two-factor-setup');
    await page.getByLabel('Code from the app').fill('000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    expect(await page.locator('#code-error').textContent()).toContain('not valid');
    await page.getByLabel('Code from the app').fill(await codeFromPage(page));
    await page.getByRole('button', { name: 'Turn on' }).click();
    expect(await page.locator('h1').textContent()).toBe('Two-factor authentication is on');
    await shoot(page, 'account-recovery-codes');
    // Two columns of five, read top to bottom; both columns start at the same height.
    const codes = page.locator('.code-list li');
    expect(await codes.count()).toBe(10);
    const [first, sixth] = [await codes.nth(0).boundingBox(), await codes.nth(5).boundingBox()];
    expect(sixth?.y).toBe(first?.y);
    expect(sixth?.x).toBeGreaterThan(first?.x ?? Infinity);
    const secretSource = await page.locator('.code-list li').first().textContent();
    expect(secretSource).toBeTruthy();
    await page.getByRole('link', { name: /back to my account/ }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(page.url()).toBe(`${t.url}/login?done=signed-out`);

    // Sign in again: the code step comes after the password.
    await submitLogin(page, user);
    expect(page.url()).toBe(`${t.url}/login/two-factor`);
    await shoot(page, 'login-two-factor');
    await page.getByRole('link', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(secretSource?.trim() ?? '');
    await page.getByRole('button', { name: 'Verify' }).click();
    expect(page.url()).toBe(`${t.url}/account`);
    expect(await page.locator('#profile-2fa').textContent()).toBe('On');
    await page.close();
  });

  it('changes the password and sends a temporary-password user there first', async () => {
    const user = await createUser(t, { temporaryPassword: true });
    const page = await signedInPage(context, t.url, user, '/account/password');
    expect(await page.locator('.alert').textContent()).toContain('temporary');
    await page.getByLabel('Current password').fill('not my password');
    await page.getByLabel('New password').fill(strongPassword());
    await page.getByRole('button', { name: 'Change password' }).click();
    expect(await page.locator('#currentPassword-error').textContent()).toContain(
      'current password is not correct',
    );
    await shoot(page, 'account-password');
    await page.getByLabel('Current password').fill(user.password);
    await page.getByLabel('New password').fill(strongPassword());
    await page.getByRole('button', { name: 'Change password' }).click();
    expect(page.url()).toBe(`${t.url}/account?done=password`);
    expect(await page.locator('.notice').textContent()).toContain('password was changed');
    await page.close();
  });

  it('explains an expired link and offers a new one', async () => {
    const user = await createUser(t);
    const page = await freshPage(context);
    await page.goto(`${t.url}/forgot-password`);
    await page.getByLabel('Username or email').fill(user.username);
    await page.getByRole('button', { name: 'Send the reset link' }).click();
    const mail = await smtp.waitForMail((m) => m.to.includes(user.email as string));
    const link = new URL(
      /https?:\/\/\S+\/reset-password\?token=[\w-]+/.exec(mail.text)?.[0] as string,
    );
    t.clock.advance(6 * 60);
    await page.goto(`${t.url}${link.pathname}${link.search}`);
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await page.locator('h1').textContent()).toBe('This reset link has expired');
    expect(await page.getByRole('link', { name: 'Request a new link' }).count()).toBe(1);
    await shoot(page, 'reset-link-expired');
    await page.close();
  });

  it('shows the outcomes of the forgot-password form in words', async () => {
    const noMail = await createUser(t, { email: null });
    const page = await freshPage(context);
    await page.goto(`${t.url}/forgot-password`);
    await page.getByLabel('Username or email').fill('nobody-here-at-all');
    await page.getByRole('button', { name: 'Send the reset link' }).click();
    expect(await page.locator('#identifier-error').textContent()).toContain('Incorrect username');
    await page.getByLabel('Username or email').fill(noMail.username);
    await page.getByRole('button', { name: 'Send the reset link' }).click();
    expect(await page.locator('#identifier-error').textContent()).toContain(
      'contact the administrator',
    );
    await shoot(page, 'forgot-password-no-email');
    await page.close();
  });
});
