import { randomBytes } from 'node:crypto';
import { expect } from '@jest/globals';
import { ADMIN_PASSWORD, ADMIN_USERNAME, type TestApp } from './test-app.js';

/** A JSON object, as a response body or a JWT part. */
export type Json = Record<string, unknown>;

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
}

export interface TestUser {
  id: string;
  username: string;
  password: string;
  email: string | null;
}

/** A username no other test (or test file sharing the database) will pick. */
export function uniqueName(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A password that passes the default policy and is unique to this call. */
export function strongPassword(): string {
  return `Tr0ub4dor & ${randomBytes(6).toString('hex')}`;
}

export async function login(t: TestApp, username: string, password: string): Promise<TokenPair> {
  const res = await t.http().post('/api/v1/auth/login').send({ username, password });
  expect(res.status).toBe(200);
  return res.body as TokenPair;
}

export function loginAsBootstrapAdmin(t: TestApp): Promise<TokenPair> {
  return login(t, ADMIN_USERNAME, ADMIN_PASSWORD);
}

/**
 * Creates a user through the admin API, as an admin would. By default the password is not
 * temporary, so the user can call every endpoint right after signing in.
 */
export async function createUser(
  t: TestApp,
  options: {
    roles?: string[];
    email?: string | null;
    temporaryPassword?: boolean;
    username?: string;
    locale?: 'en' | 'zh-CN';
  } = {},
): Promise<TestUser> {
  const admin = await loginAsBootstrapAdmin(t);
  const username = options.username ?? uniqueName();
  const password = strongPassword();
  const email = options.email === undefined ? `${username}@example.com` : options.email;
  const res = await t
    .http()
    .post('/api/v1/admin/users')
    .set('authorization', `Bearer ${admin.accessToken}`)
    .send({
      username,
      password,
      ...(email ? { email } : {}),
      roles: options.roles ?? [],
      temporaryPassword: options.temporaryPassword ?? false,
      ...(options.locale ? { locale: options.locale } : {}),
    });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, username, password, email };
}

/** A fresh admin of the test's own, so tests never change the shared bootstrap admin. */
export async function createAdmin(t: TestApp): Promise<TestUser & { tokens: TokenPair }> {
  const user = await createUser(t, { roles: ['admin'] });
  return { ...user, tokens: await login(t, user.username, user.password) };
}

export function bearer(token: string): [string, string] {
  return ['authorization', `Bearer ${token}`];
}

/** GET /api/v1/me with this bearer token. */
export function getMe(t: TestApp, accessToken: string) {
  return t
    .http()
    .get('/api/v1/me')
    .set(...bearer(accessToken));
}
