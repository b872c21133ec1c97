import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import argon2 from 'argon2';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import {
  bearer,
  createAdmin,
  createUser,
  getMe,
  login,
  strongPassword,
  type TestUser,
  type TokenPair,
} from './helpers/factories.js';
import { PasswordHasher } from '../src/password-policy/password-hasher.service.js';
import { SessionsRepository } from '../src/sessions/sessions.repository.js';
import { UsersRepository } from '../src/users/users.repository.js';
import { decodeJwt } from './helpers/jwt.js';
import { expectProblem } from './helpers/problem.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * A read the access-token guard began before a revocation committed, whose answer (the state
 * before) reaches the process after the revocation: the request it serves may pass, but what it
 * read must not be cached over the revocation. The test holds the answer of the repository's real
 * query until the revocation is done, as a slow connection or a busy event loop would.
 */
interface HeldRead {
  /** Resolves once the real query has answered and its answer is being held. */
  reached: Promise<void>;
  release: () => void;
}

function holdNextRead<A extends unknown[], R>(
  repository: object,
  method: string,
  matches: (...args: A) => boolean,
): HeldRead {
  const target = repository as Record<string, (...args: A) => Promise<R>>;
  let reached!: () => void;
  let release!: () => void;
  const reachedP = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const original = target[method].bind(target);
  let armed = true;
  const spy = jest.spyOn(target, method).mockImplementation(async (...args: A) => {
    const answer = await original(...args);
    if (armed && matches(...args)) {
      armed = false;
      spy.mockRestore();
      reached();
      await released;
    }
    return answer;
  });
  return { reached: reachedP, release };
}

describe('a revocation that commits while the guard is reading', () => {
  let t: TestApp;
  let admin: TestUser & { tokens: TokenPair };

  beforeAll(async () => {
    t = await createTestApp();
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Starts a request now (supertest sends on `then`) and gives its answer later. */
  const started = (req: PromiseLike<Response>): Promise<Response> =>
    new Promise((resolve, reject) => {
      void req.then(resolve, reject);
    });

  /** Starts a sign-in with the user's password and holds it once the password was found right. */
  async function signInHeldAfterPasswordCheck(
    user: TestUser,
  ): Promise<{ release: () => void; signIn: Promise<Response> }> {
    const held = holdNextRead(
      t.app.get(PasswordHasher),
      'verify',
      (_hash: unknown, password: unknown) => password === user.password,
    );
    const signIn = started(
      t
        .http()
        .post('/api/v1/auth/login')
        .send({ username: user.username, password: user.password }),
    );
    await held.reached;
    return { release: held.release, signIn };
  }

  /** An admin sets the user's password, as a reset to lock someone out does. */
  async function adminSetsPassword(user: TestUser, password: string, temporary: boolean) {
    const reset = await t
      .http()
      .put(`/api/v1/admin/users/${user.id}/password`)
      .set(...bearer(admin.tokens.accessToken))
      .send({ password, temporary });
    expect(reset.status).toBe(204);
  }

  it('refuses a logged-out session at once, even when a check read it live just before', async () => {
    const user = await createUser(t);
    const tokens = await login(t, user.username, user.password);
    const held = holdNextRead(t.app.get(SessionsRepository), 'liveness', () => true);
    const before = started(getMe(t, tokens.accessToken));
    await held.reached;

    const out = await t
      .http()
      .post('/api/v1/auth/logout')
      .send({ refreshToken: tokens.refreshToken });
    expect(out.status).toBe(204);
    held.release();
    expect((await before).status).toBe(200); // it began before the logout

    expect((await getMe(t, tokens.accessToken)).status).toBe(401);
  });

  it('refuses a removed role at once, even when the guard read the user just before', async () => {
    const user = await createAdmin(t);
    t.clock.advance(3); // nothing cached of the user any more
    const held = holdNextRead(t.app.get(UsersRepository), 'snapshot', (id) => id === user.id);
    const before = started(
      t
        .http()
        .get('/api/v1/admin/users')
        .set(...bearer(user.tokens.accessToken)),
    );
    await held.reached;

    const demoted = await t
      .http()
      .patch(`/api/v1/admin/users/${user.id}`)
      .set(...bearer(admin.tokens.accessToken))
      .send({ roles: [] });
    expect(demoted.status).toBe(200);
    held.release();
    expect((await before).status).toBe(200);

    const after = await t
      .http()
      .get('/api/v1/admin/users')
      .set(...bearer(user.tokens.accessToken));
    expect(after.status).toBe(403);
  });

  it('gives no session to a sign-in with the old password that an admin password reset overtakes', async () => {
    const user = await createUser(t);
    const { release, signIn } = await signInHeldAfterPasswordCheck(user);
    await adminSetsPassword(user, strongPassword(), true);
    release();

    expectProblem(await signIn, 401, 'INVALID_CREDENTIALS');
  });

  it('keeps the new password when a sign-in that upgrades the old hash is overtaken by a reset', async () => {
    const user = await createUser(t);
    // A hash from older argon2 parameters: the next good sign-in replaces it.
    const legacy = await argon2.hash(user.password, { type: argon2.argon2id, memoryCost: 4096 });
    await t.app
      .get(DataSource)
      .query('UPDATE users SET password_hash = $2 WHERE id = $1', [user.id, legacy]);
    const { release, signIn } = await signInHeldAfterPasswordCheck(user);
    const password = strongPassword();
    await adminSetsPassword(user, password, false);
    release();
    expectProblem(await signIn, 401, 'INVALID_CREDENTIALS');

    const old = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: user.password });
    expectProblem(old, 401, 'INVALID_CREDENTIALS');
    expect((await login(t, user.username, password)).accessToken).toEqual(expect.any(String));
  });
});

describe('a burst of requests on one session whose cached answer has expired', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reads the session from the database once, not once per request', async () => {
    const user = await createUser(t);
    const tokens = await login(t, user.username, user.password);
    const { sid } = decodeJwt(tokens.accessToken).payload;
    expect((await getMe(t, tokens.accessToken)).status).toBe(200);
    t.clock.advance(3); // past the cached answer's lifetime
    const reads = jest.spyOn(t.app.get(SessionsRepository), 'liveness');
    try {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => getMe(t, tokens.accessToken)),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
      expect(reads.mock.calls.filter(([id]) => id === sid)).toHaveLength(1);
    } finally {
      reads.mockRestore();
    }
  });
});
