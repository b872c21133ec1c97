import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import type { BrowserContext, Page } from 'playwright-core';
import { createAdmin, createUser } from '../helpers/factories.js';
import { registerClient, relyingParty } from '../helpers/oidc.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { HAS_CHROMIUM, launchChromium } from './browser.js';

const suite = HAS_CHROMIUM ? describe : describe.skip;

/**
 * A tiny application that signs its users in with openid-client, the way docs/integrating.md
 * shows: "Sign in" starts an authorization with PKCE, /callback exchanges the code, "Sign out"
 * is RP-initiated logout.
 */
async function startApplication(
  t: TestApp,
  registered: { clientId: string; clientSecret?: string },
): Promise<{ url: string; server: Server; setConfig: (c: client.Configuration) => void }> {
  let config!: client.Configuration;
  const pending = new Map<string, { verifier: string; nonce: string }>();
  let idToken = '';
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const url = new URL(req.url ?? '/', base);
    const html = (body: string) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>Wiki</title></head><body>${body}</body></html>`);
    };
    const redirect = (to: string) => {
      res.writeHead(302, { location: to });
      res.end();
    };
    void (async () => {
      switch (url.pathname) {
        case '/':
          return html('<h1>Wiki</h1><a href="/login">Sign in</a>');
        case '/login': {
          const verifier = client.randomPKCECodeVerifier();
          const state = client.randomState();
          const nonce = client.randomNonce();
          pending.set(state, { verifier, nonce });
          return redirect(
            client.buildAuthorizationUrl(config, {
              redirect_uri: `${base}/callback`,
              scope: 'openid profile email',
              code_challenge: await client.calculatePKCECodeChallenge(verifier),
              code_challenge_method: 'S256',
              state,
              nonce,
            }).href,
          );
        }
        case '/callback': {
          const state = url.searchParams.get('state') ?? '';
          const checks = pending.get(state);
          pending.delete(state);
          if (!checks) {
            return html(
              `<h1>Sign-in failed</h1><p id="error">${url.searchParams.get('error')}</p>`,
            );
          }
          const tokens = await client.authorizationCodeGrant(config, url, {
            pkceCodeVerifier: checks.verifier,
            expectedState: state,
            expectedNonce: checks.nonce,
          });
          idToken = tokens.id_token ?? '';
          const claims = tokens.claims()!;
          return html(
            `<h1>Welcome</h1><p id="who">Signed in as ${claims.preferred_username as string}</p>` +
              `<p id="amr">${JSON.stringify(claims.amr)}</p><a href="/logout">Sign out</a>`,
          );
        }
        case '/logout':
          return redirect(
            client.buildEndSessionUrl(config, {
              id_token_hint: idToken,
              post_logout_redirect_uri: `${base}/signed-out`,
            }).href,
          );
        case '/signed-out':
          return html('<h1>Signed out of the Wiki</h1><a href="/login">Sign in</a>');
        default:
          res.writeHead(404);
          res.end();
      }
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  void registered;
  return { url, server, setConfig: (c) => (config = c) };
}

suite(
  HAS_CHROMIUM
    ? 'an application signs a user in through Portcullis, in Chromium'
    : 'OpenID Connect in Chromium — SKIPPED: /usr/bin/chromium is not installed',
  () => {
    let t: TestApp;
    let context: BrowserContext;
    let close: () => Promise<void>;
    let app: Awaited<ReturnType<typeof startApplication>>;
    const violations: string[] = [];

    beforeAll(async () => {
      t = await createTestApp();
      const adminToken = (await createAdmin(t)).tokens.accessToken;
      // The application's port must be known to register its redirect URIs.
      app = await startApplication(t, { clientId: '' });
      const registered = await registerClient(t, adminToken, {
        name: 'Wiki',
        firstParty: false,
        redirectUris: [`${app.url}/callback`],
        postLogoutRedirectUris: [`${app.url}/signed-out`],
      });
      app.setConfig(await relyingParty(t, registered));
      // PUBLIC_URL's host (portcullis.test) is the test app, as DNS would make it.
      const { port } = new URL(t.url);
      ({ context, close } = await launchChromium(`MAP portcullis.test 127.0.0.1:${port}`));
    });
    afterAll(async () => {
      await close?.();
      await new Promise((resolve) => app?.server.close(resolve));
      await t?.close();
    });

    function watch(page: Page): Page {
      page.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) {
          violations.push(message.text());
        }
      });
      return page;
    }

    it("goes from the application's Sign in through the hosted pages and back, then signs out", async () => {
      const user = await createUser(t);
      const page = watch(await context.newPage());
      await page.goto(app.url);
      await page.getByRole('link', { name: 'Sign in' }).click();
      // Portcullis's sign-in page, naming the application.
      await page.waitForURL(/portcullis\.test\/interaction\//);
      expect(await page.locator('h1').textContent()).toBe('Sign in');
      expect(await page.locator('.lead').textContent()).toContain('Wiki');
      await page.getByLabel('Username or email').fill(user.username);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      // A third-party application: the user is asked once.
      await page.waitForURL(/portcullis\.test\/interaction\//);
      expect(await page.locator('h1').textContent()).toBe('Allow Wiki?');
      expect(await page.locator('li[data-scope="email"]').count()).toBe(1);
      await page.getByRole('button', { name: 'Allow' }).click();
      // Back in the application, signed in.
      await page.waitForURL(`${app.url}/callback?**`);
      expect(await page.locator('#who').textContent()).toBe(`Signed in as ${user.username}`);
      expect(await page.locator('#amr').textContent()).toBe('["pwd"]');

      // Signing in again: no password, no consent.
      await page.goto(`${app.url}/login`);
      await page.waitForURL(`${app.url}/callback?**`);
      expect(await page.locator('#who').textContent()).toBe(`Signed in as ${user.username}`);

      // Sign out from the application: Portcullis confirms, then sends the user back.
      await page.getByRole('link', { name: 'Sign out' }).click();
      await page.waitForURL(/portcullis\.test\/oidc\/session\/end/);
      expect(await page.locator('h1').textContent()).toBe('Sign out');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${app.url}/signed-out`);
      expect(await page.locator('h1').textContent()).toBe('Signed out of the Wiki');

      // The Portcullis session is over: signing in asks for the password again.
      await page.getByRole('link', { name: 'Sign in' }).click();
      await page.waitForURL(/portcullis\.test\/interaction\//);
      expect(await page.locator('h1').textContent()).toBe('Sign in');
      expect(violations).toEqual([]);
      await page.close();
    });
  },
);
