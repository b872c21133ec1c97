import { expect } from '@jest/globals';
import * as client from 'openid-client';
import { bearer, type Json } from './factories.js';
import type { TestApp } from './test-app.js';

/** Where the relying party of the API tests says it lives (never served: the code is read off the redirect). */
export const CALLBACK = 'http://127.0.0.1:9/callback';
export const AFTER_LOGOUT = 'http://127.0.0.1:9/signed-out';

export interface RegisteredClient {
  clientId: string;
  clientSecret?: string;
  [key: string]: unknown;
}

/** Registers an application through the admin API, as an admin would. */
export async function registerClient(
  t: TestApp,
  adminToken: string,
  body: Json = {},
): Promise<RegisteredClient> {
  const res = await t
    .http()
    .post('/api/v1/admin/clients')
    .set(...bearer(adminToken))
    .send({
      name: 'Wiki',
      redirectUris: [CALLBACK],
      postLogoutRedirectUris: [AFTER_LOGOUT],
      firstParty: true,
      ...body,
    });
  expect(res.status).toBe(201);
  return res.body as RegisteredClient;
}

/**
 * The issuer is PUBLIC_URL (http://portcullis.test); the app listens on a loopback port. Every
 * request to the issuer's host goes to the app instead, as a hosts-file entry would do.
 */
export function toApp(t: TestApp, url: string): string {
  const publicUrl = t.settings.http.publicUrl;
  return url.startsWith(publicUrl) ? `${t.url}${url.slice(publicUrl.length)}` : url;
}

/** An application using openid-client, configured by discovery as applications are. */
export async function relyingParty(
  t: TestApp,
  registered: RegisteredClient,
): Promise<client.Configuration> {
  const viaApp: client.CustomFetch = (url, options) => fetch(toApp(t, url), options);
  const config = await client.discovery(
    new URL(t.settings.http.publicUrl),
    registered.clientId,
    undefined,
    registered.clientSecret ? client.ClientSecretBasic(registered.clientSecret) : client.None(),
    { [client.customFetch]: viaApp, execute: [client.allowInsecureRequests] },
  );
  config[client.customFetch] = viaApp;
  return config;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

export interface Answer {
  status: number;
  /** The Location header, made absolute on the issuer's base when it was a path. */
  location: string | null;
  text: string;
  headers: Headers;
  url: string;
}

/**
 * A browser over HTTP: keeps cookies by path (as a browser sends them), follows our own
 * redirects on request, and stops at any redirect that leaves Portcullis.
 */
export class HttpBrowser {
  cookies: Cookie[] = [];

  /** `headers`: sent with every request (e.g. what a proxy in front would add). */
  constructor(
    private readonly t: TestApp,
    private readonly headers: Record<string, string> = {},
  ) {}

  private get base(): string {
    return this.t.settings.http.publicUrl;
  }

  private cookieHeader(path: string): string {
    return this.cookies
      .filter(
        (c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** The Set-Cookie lines of every answer so far (to check their attributes). */
  readonly setCookies: string[] = [];

  private keep(headers: Headers): void {
    this.setCookies.push(...headers.getSetCookie());
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = attributes.find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      const expired =
        value === '' ||
        attributes.some((a) => /^max-age=0$/i.test(a)) ||
        attributes.some((a) => /^expires=/i.test(a) && new Date(a.slice(8)).getTime() < Date.now());
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path));
      if (!expired) {
        this.cookies.push({ name, value, path });
      }
    }
  }

  /** One request, no redirect followed. `url` is a path or an absolute URL on the issuer. */
  async request(
    method: 'GET' | 'POST',
    url: string,
    form?: Record<string, string>,
  ): Promise<Answer> {
    const absolute = new URL(url, this.base).href;
    const path = new URL(absolute).pathname;
    const headers: Record<string, string> = { ...this.headers };
    const cookie = this.cookieHeader(path);
    if (cookie) {
      headers.cookie = cookie;
    }
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(toApp(this.t, absolute), {
      method,
      headers,
      body: form ? new URLSearchParams(form).toString() : undefined,
      redirect: 'manual',
    });
    this.keep(res.headers);
    const location = res.headers.get('location');
    return {
      status: res.status,
      location: location === null ? null : new URL(location, absolute).href,
      text: await res.text(),
      headers: res.headers,
      url: absolute,
    };
  }

  /** Follows redirects while they stay on Portcullis; answers the page or the way out. */
  async follow(first: Answer): Promise<Answer> {
    let answer = first;
    for (let hops = 0; hops < 20; hops++) {
      if (answer.status < 300 || answer.status >= 400 || !answer.location) {
        return answer;
      }
      if (!answer.location.startsWith(this.base)) {
        return answer;
      }
      answer = await this.request('GET', answer.location);
    }
    throw new Error('too many redirects');
  }

  get(url: string): Promise<Answer> {
    return this.request('GET', url).then((a) => this.follow(a));
  }

  /** Submits the form of `page` whose action starts with `action`, with its CSRF token. */
  async submit(page: Answer, action: string, fields: Record<string, string>): Promise<Answer> {
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    const form = csrf ? { _csrf: csrf, ...fields } : fields;
    return this.follow(await this.request('POST', action, form));
  }
}

/** The part of an authorization request an application makes fresh every time. */
export interface AuthorizationRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

export async function authorizationRequest(
  config: client.Configuration,
  params: Record<string, string> = {},
  options: { pkce?: boolean } = {},
): Promise<AuthorizationRequest> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const pkce: Record<string, string> =
    options.pkce === false
      ? {}
      : {
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid profile email',
    state,
    nonce,
    ...pkce,
    ...params,
  });
  return { url, verifier, state, nonce };
}

/** The interaction page's path (/interaction/<uid>) of a page answer. */
export function interactionPath(page: Answer): string {
  const match = /\/interaction\/[\w-]+/.exec(new URL(page.url).pathname);
  if (!match) {
    throw new Error(`not an interaction page: ${page.url}`);
  }
  return match[0];
}

/** Types the username and password into the sign-in page an authorization led to. */
export async function submitLogin(
  browser: HttpBrowser,
  page: Answer,
  user: { username: string; password: string },
): Promise<Answer> {
  expect(page.status).toBe(200);
  expect(page.text).toContain('name="password"');
  return browser.submit(page, `${interactionPath(page)}/login`, {
    username: user.username,
    password: user.password,
  });
}

/** The application's end: its callback URL must carry a code for this request. */
export function expectCallback(answer: Answer): URL {
  expect(answer.status).toBe(303);
  expect(answer.location?.startsWith(`${CALLBACK}?`)).toBe(true);
  return new URL(answer.location!);
}

/** Exchanges the code as the application does (PKCE, state, nonce and ID token checks). */
export function exchange(
  config: client.Configuration,
  callback: URL,
  request: AuthorizationRequest,
  options: { verifier?: string | null } = {},
) {
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier:
      options.verifier === null ? undefined : (options.verifier ?? request.verifier),
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
  });
}

/** The whole sign-in of a user without 2FA: authorization, sign-in page, back with the tokens. */
export async function signInThrough(
  browser: HttpBrowser,
  config: client.Configuration,
  user: { username: string; password: string },
  params: Record<string, string> = {},
) {
  const request = await authorizationRequest(config, params);
  let answer = await browser.get(request.url.href);
  if (answer.status === 200 && answer.text.includes('name="password"')) {
    answer = await submitLogin(browser, answer, user);
  }
  if (answer.status === 200 && answer.text.includes('/consent"')) {
    answer = await browser.submit(answer, `${interactionPath(answer)}/consent`, {});
  }
  const callback = expectCallback(answer);
  return { request, callback, tokens: await exchange(config, callback, request) };
}

/** The payload of a JWT, read without checking it (the tests check with openid-client). */
export function jwtPart(token: string, part: 0 | 1): Json {
  return JSON.parse(Buffer.from(token.split('.')[part], 'base64url').toString('utf8')) as Json;
}

/** How openid-client reports an OAuth error answer: its `error` code. */
export async function oauthError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const e = error as {
      error?: string;
      code?: string;
      cause?: { error?: string } | { parameters?: { error?: string } }[];
    };
    // A refused bearer token comes back as a WWW-Authenticate challenge.
    const challenge = Array.isArray(e.cause) ? e.cause[0]?.parameters?.error : undefined;
    return (
      e.error ??
      challenge ??
      (e.cause as { error?: string } | undefined)?.error ??
      e.code ??
      String(error)
    );
  }
  throw new Error('expected the call to fail');
}
