import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

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
