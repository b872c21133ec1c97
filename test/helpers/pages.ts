import { expect } from '@jest/globals';
import type { Response } from 'supertest';
import type { TestApp } from './test-app.js';

/** The cookies a response sets, as `name=value` pairs to send back. */
export function cookiesOf(res: Response): string[] {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return (raw ?? []).map((c) => c.split(';')[0]);
}

/** The whole `Set-Cookie` line (with its attributes) a response sends for `name`, if any. */
export function setCookie(res: Response, name: string): string | undefined {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return (raw ?? []).find((c) => c.startsWith(`${name}=`));
}

/** The CSRF token of the form on a page ('' when it has none). */
export function csrfOf(res: Response): string {
  return /name="_csrf" value="([^"]+)"/.exec(res.text)?.[1] ?? '';
}

/** Posts a form as a browser would: url-encoded, with these cookies. */
export function postForm(t: TestApp, path: string, cookies: string[], form: object) {
  return t.http().post(path).set('Cookie', cookies).type('form').send(form);
}

/**
 * Signs in through the login form (GET then POST /login, with that page's cookies and CSRF
 * token) and expects the 303 of a success; returns that answer and the cookies it sets.
 */
export async function signInWithForm(
  t: TestApp,
  user: { username: string; password: string },
): Promise<{ res: Response; cookies: string[] }> {
  const form = await t.http().get('/login');
  const res = await postForm(t, '/login', cookiesOf(form), {
    _csrf: csrfOf(form),
    username: user.username,
    password: user.password,
  });
  expect(res.status).toBe(303);
  return { res, cookies: cookiesOf(res) };
}

/**
 * One browser over HTTP: a cookie jar (a cookie set to expire is dropped) and the CSRF token of
 * the last page read, which every form it posts carries unless the form says otherwise.
 */
export class HttpBrowser {
  private cookies = new Map<string, string>();
  csrf = '';

  constructor(private readonly t: TestApp) {}

  private keep(res: Response): Response {
    const raw = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
    for (const cookie of raw) {
      const [pair] = cookie.split(';');
      const [name, ...value] = pair.split('=');
      if (/Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(cookie)) {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, value.join('='));
      }
    }
    const csrf = /name="_csrf" value="([^"]+)"/.exec(res.text ?? '')?.[1];
    if (csrf) {
      this.csrf = csrf;
    }
    return res;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async get(path: string): Promise<Response> {
    return this.keep(await this.t.http().get(path).set('Cookie', this.cookieHeader()));
  }

  /** Posts a form with this browser's CSRF token unless the form says otherwise. */
  async post(path: string, form: Record<string, string> = {}): Promise<Response> {
    return this.keep(
      await this.t
        .http()
        .post(path)
        .set('Cookie', this.cookieHeader())
        .type('form')
        .send({ _csrf: this.csrf, ...form }),
    );
  }

  /** Signs in through the login form (with `next` when given) and reads the page it lands on. */
  async signIn(user: { username: string; password: string }, next?: string): Promise<Response> {
    await this.get(next ? `/login?next=${encodeURIComponent(next)}` : '/login');
    const res = await this.post('/login', {
      username: user.username,
      password: user.password,
      ...(next ? { next } : {}),
    });
    // Signing in issues a new CSRF token: read it from the page the browser lands on.
    if (res.status === 303) {
      await this.get(res.headers.location);
    }
    return res;
  }
}
