import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from '@jest/globals';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) {
  console.warn(
    `SKIPPED: browser tests need Debian's Chromium at ${CHROMIUM} (apt-get install -y chromium)`,
  );
}

/**
 * Debian's Chromium, headless, with a fresh profile and no background network traffic.
 * `hostRules`: Chromium's --host-resolver-rules, e.g. to reach PUBLIC_URL's host on a test port.
 */
export async function launchChromium(hostRules?: string): Promise<{
  browser: Browser;
  context: BrowserContext;
  close: () => Promise<void>;
}> {
  const profile = mkdtempSync(join(tmpdir(), 'portcullis-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...(hostRules ? [`--host-resolver-rules=${hostRules}`] : []),
    ],
  });
  return {
    browser: context.browser() as Browser,
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** `describe` when Chromium is installed; otherwise the suite is skipped, its title saying why. */
export function describeInChromium(title: string, body: () => void): void {
  if (HAS_CHROMIUM) {
    describe(title, body);
  } else {
    describe.skip(`${title} — SKIPPED: ${CHROMIUM} is not installed`, body);
  }
}

/** Set SCREENSHOTS=1 to refresh docs/screenshots from the browser tests. */
const SCREENSHOT_DIR = process.env.SCREENSHOTS ? join(process.cwd(), 'docs', 'screenshots') : null;

/** With SCREENSHOTS=1, saves the page as docs/screenshots/`name`-desktop.png and -phone.png. */
export async function shoot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOT_DIR) {
    return;
  }
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** A fresh tab with no cookies. */
export async function freshPage(context: BrowserContext): Promise<Page> {
  await context.clearCookies();
  return context.newPage();
}

/** Fills in and submits the English login form the page shows. */
export async function submitLogin(
  page: Page,
  user: { username: string; password: string },
): Promise<void> {
  await page.getByLabel('Username or email').fill(user.username);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs `user` in on a fresh tab at `${url}/login`; expects to land on `${url}${landing}`. */
export async function signedInPage(
  context: BrowserContext,
  url: string,
  user: { username: string; password: string },
  landing = '/account',
): Promise<Page> {
  const page = await freshPage(context);
  await page.goto(`${url}/login`);
  await submitLogin(page, user);
  expect(page.url()).toBe(`${url}${landing}`);
  return page;
}
