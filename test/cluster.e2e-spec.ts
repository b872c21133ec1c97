import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import pg from 'pg';
import {
  bearer,
  createAdmin,
  createUser,
  getMe,
  login,
  type TestUser,
  type TokenPair,
} from './helpers/factories.js';
import { requestEmailChange } from './helpers/email.js';
import { decodeJwt } from './helpers/jwt.js';
import { ClusterEvents } from '../src/cluster/cluster-events.service.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { enableTwoFactor } from './helpers/totp.js';

/** Several instances exist only with a shared PostgreSQL; the embedded database has one. */
const onPostgres = process.env.PORTCULLIS_TEST_DB ? describe : describe.skip;

/** The contract: every instance refuses a revoked session within this long. */
const PROPAGATION_LIMIT_MS = 1_000;

const logout = (t: TestApp, refreshToken: string) =>
  t.http().post('/api/v1/auth/logout').send({ refreshToken });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Milliseconds until `t` answers /me with 401, polled every 20 ms (gives up after 5 s). */
async function msUntilRefused(t: TestApp, accessToken: string, since: number): Promise<number> {
  for (;;) {
    const res = await getMe(t, accessToken);
    const elapsed = performance.now() - since;
    if (res.status === 401 || elapsed > 5_000) {
      expect(res.status).toBe(401);
      return elapsed;
    }
    expect(res.status).toBe(200);
    await sleep(20);
  }
}

/**
 * Milliseconds until `t` answers /me with a profile holding `expected`, polled every 20 ms
 * (gives up after 3 s).
 */
async function msUntilShown(
  t: TestApp,
  accessToken: string,
  since: number,
  expected: Record<string, unknown>,
): Promise<number> {
  for (;;) {
    const res = await getMe(t, accessToken);
    expect(res.status).toBe(200);
    const elapsed = performance.now() - since;
    if (expect.objectContaining(expected).asymmetricMatch(res.body) || elapsed > 3_000) {
      expect(res.body).toMatchObject(expected);
      return elapsed;
    }
    await sleep(20);
  }
}

/** A user signed in on `a` whose session `b` has already seen live (and cached). */
async function liveOn(a: TestApp, b: TestApp): Promise<{ user: TestUser; tokens: TokenPair }> {
  const user = await createUser(a);
  const tokens = await login(a, user.username, user.password);
  expect((await getMe(a, tokens.accessToken)).status).toBe(200);
  expect((await getMe(b, tokens.accessToken)).status).toBe(200);
  return { user, tokens };
}

onPostgres('two instances on one database', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: TestUser & { tokens: TokenPair };

  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp();
    admin = await createAdmin(a);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  /** A signed-in user whose session instance B has already seen live (and cached). */
  const liveOnBoth = () => liveOn(a, b);

  it('a logout on one instance is refused by the other within a second', async () => {
    const { tokens } = await liveOnBoth();
    const since = performance.now();
    const out = await logout(a, tokens.refreshToken);
    expect(out.status).toBe(204);
    expect(await msUntilRefused(b, tokens.accessToken, since)).toBeLessThan(PROPAGATION_LIMIT_MS);
  });

  it("an admin's disable on one instance is refused by the other within a second", async () => {
    const { user, tokens } = await liveOnBoth();
    const since = performance.now();
    const res = await a
      .http()
      .patch(`/api/v1/admin/users/${user.id}`)
      .set(...bearer(admin.tokens.accessToken))
      .send({ disabled: true });
    expect(res.status).toBe(200);
    expect(await msUntilRefused(b, tokens.accessToken, since)).toBeLessThan(PROPAGATION_LIMIT_MS);
  });

  it("the user's own changes on one instance show in /me on the other within a second", async () => {
    const { user, tokens } = await liveOnBoth();
    let since = performance.now();
    const set = await a
      .http()
      .patch('/api/v1/me')
      .set(...bearer(tokens.accessToken))
      .send({ locale: 'zh-CN' });
    expect(set.status).toBe(200);
    expect(await msUntilShown(b, tokens.accessToken, since, { locale: 'zh-CN' })).toBeLessThan(
      PROPAGATION_LIMIT_MS,
    );

    const email = `moved-${user.username}@example.com`;
    since = performance.now();
    const asked = await requestEmailChange(a, tokens.accessToken, email, user.password);
    expect(asked.status).toBe(202);
    expect(await msUntilShown(b, tokens.accessToken, since, { pendingEmail: email })).toBeLessThan(
      PROPAGATION_LIMIT_MS,
    );
  });

  it("an admin's reset of a user's 2FA on one instance shows in /me on the other within a second", async () => {
    const user = await createUser(a);
    const { tokens } = await enableTwoFactor(a, user);
    expect((await getMe(b, tokens.accessToken)).body.twoFactorEnabled).toBe(true);
    const since = performance.now();
    const reset = await a
      .http()
      .delete(`/api/v1/admin/users/${user.id}/two-factor`)
      .set(...bearer(admin.tokens.accessToken));
    expect(reset.status).toBe(204);
    expect(
      await msUntilShown(b, tokens.accessToken, since, { twoFactorEnabled: false }),
    ).toBeLessThan(PROPAGATION_LIMIT_MS);
  });

  it('a key rotated on one instance signs on the other within a second, and both publish it', async () => {
    const user = await createUser(a);
    const kidOn = async (t: TestApp): Promise<string> =>
      decodeJwt((await login(t, user.username, user.password)).accessToken).header.kid as string;
    const oldKid = await kidOn(b);
    const since = performance.now();
    const rotated = await a
      .http()
      .post('/api/v1/admin/signing-keys/rotate')
      .set(...bearer(admin.tokens.accessToken));
    expect(rotated.status).toBe(201);
    let kid = oldKid;
    while (kid !== rotated.body.kid && performance.now() - since < 5_000) {
      kid = await kidOn(b);
    }
    expect(kid).toBe(rotated.body.kid);
    expect(performance.now() - since).toBeLessThan(PROPAGATION_LIMIT_MS);
    const published = (await b.http().get('/.well-known/jwks.json')).body.keys as { kid: string }[];
    expect(published.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, kid]));
  });

  it('an instance that lost its listening connection reconnects, drops what it cached, and hears again', async () => {
    const first = await liveOnBoth();
    const second = await liveOnBoth();
    // Cut every instance's listening connection, as a database failover or a proxy would.
    const db = new pg.Client({ connectionString: process.env.PORTCULLIS_TEST_DB });
    await db.connect();
    try {
      const { rowCount } = await db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = 'portcullis-cluster-events' AND datname = current_database()`,
      );
      expect(rowCount).toBeGreaterThanOrEqual(2);
    } finally {
      await db.end();
    }
    // Revoked while B cannot hear it: B still refuses it once it has listened again.
    const since = performance.now();
    const out = await logout(a, first.tokens.refreshToken);
    expect(out.status).toBe(204);
    expect(await msUntilRefused(b, first.tokens.accessToken, since)).toBeLessThan(5_000);
    // And it hears the next change as fast as before.
    await sleep(1_500);
    const again = performance.now();
    const out2 = await logout(a, second.tokens.refreshToken);
    expect(out2.status).toBe(204);
    expect(await msUntilRefused(b, second.tokens.accessToken, again)).toBeLessThan(
      PROPAGATION_LIMIT_MS,
    );
  });
});

/**
 * A TCP relay to the test database that can
 * - stop letting new connections through, while those already open (an instance's pool) go on
 *   working: the instance behind it cannot listen again;
 * - silence the listening connections open now (those that introduced themselves as
 *   `portcullis-cluster-events`): what the database sends them is held back, and nothing closes,
 *   as when a network or a proxy drops a connection without a word.
 */
interface Relay {
  url: string;
  refuseNew: (refuse: boolean) => void;
  silenceListeners: () => void;
  close: () => Promise<void>;
}

async function startRelay(databaseUrl: string): Promise<Relay> {
  const target = new URL(databaseUrl);
  const sockets = new Set<net.Socket>();
  /** The database's side of each listening connection, and its instance's side. */
  const listeners = new Map<net.Socket, net.Socket>();
  let refusing = false;
  const server = net.createServer((inbound) => {
    if (refusing) {
      inbound.destroy();
      return;
    }
    const outbound = net.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
    // The startup message, the client's first packet, names the application.
    inbound.once('data', (first: Buffer) => {
      if (first.includes('portcullis-cluster-events')) {
        listeners.set(outbound, inbound);
        outbound.on('close', () => listeners.delete(outbound));
      }
    });
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    refuseNew: (refuse) => {
      refusing = refuse;
    },
    silenceListeners: () => {
      for (const [outbound, inbound] of listeners) {
        outbound.unpipe(inbound);
        outbound.pause();
      }
    },
    close: async () => {
      for (const socket of sockets) {
        socket.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

onPostgres('an instance that cannot listen to the others', () => {
  let a: TestApp;
  let b: TestApp;
  let relay: Relay;
  let admin: TestUser & { tokens: TokenPair };

  beforeAll(async () => {
    relay = await startRelay(process.env.PORTCULLIS_TEST_DB as string);
    a = await createTestApp();
    b = await createTestApp({ DATABASE_URL: relay.url });
    admin = await createAdmin(a);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await relay?.close();
  });

  const adminList = (t: TestApp, accessToken: string) =>
    t
      .http()
      .get('/api/v1/admin/users')
      .set(...bearer(accessToken));

  it('answers from the database, not from what it cached, until it listens again', async () => {
    const demoted = await createAdmin(a);
    const user = await createUser(a);
    const signedIn = await login(a, user.username, user.password);
    // B has just cached both: the admin's role and the user's live session.
    expect((await adminList(b, demoted.tokens.accessToken)).status).toBe(200);
    expect((await getMe(b, signedIn.accessToken)).status).toBe(200);

    // B's listening connection is cut and cannot come back (its pool still works).
    relay.refuseNew(true);
    const db = new pg.Client({ connectionString: process.env.PORTCULLIS_TEST_DB });
    await db.connect();
    try {
      await db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = 'portcullis-cluster-events' AND datname = current_database()`,
      );
    } finally {
      await db.end();
    }
    const cluster = b.app.get(ClusterEvents);
    while (cluster.listening) {
      await sleep(10);
    }

    // Changes on A that B cannot hear of: B's next answers follow them all the same.
    const patched = await a
      .http()
      .patch(`/api/v1/admin/users/${demoted.id}`)
      .set(...bearer(admin.tokens.accessToken))
      .send({ roles: [] });
    expect(patched.status).toBe(200);
    expect((await adminList(b, demoted.tokens.accessToken)).status).toBe(403);
    const out = await logout(a, signedIn.refreshToken);
    expect(out.status).toBe(204);
    expect((await getMe(b, signedIn.accessToken)).status).toBe(401);

    // Once B listens again, it hears the next change as fast as before.
    relay.refuseNew(false);
    const since = performance.now();
    while (!cluster.listening && performance.now() - since < 5_000) {
      await sleep(20);
    }
    expect(cluster.listening).toBe(true);
  });
});

onPostgres('an instance whose listening connection goes silent', () => {
  let a: TestApp;
  let b: TestApp;
  let relay: Relay;

  beforeAll(async () => {
    relay = await startRelay(process.env.PORTCULLIS_TEST_DB as string);
    a = await createTestApp();
    b = await createTestApp({ DATABASE_URL: relay.url });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await relay?.close();
  });

  it('refuses a revocation it never hears of within a second, and notices the silence within seconds', async () => {
    const cluster = b.app.get(ClusterEvents);
    let resyncs = 0;
    cluster.onResync(() => (resyncs += 1));
    const { tokens } = await liveOn(a, b);

    // B's listening connection stays open but delivers nothing more: A's notification is lost.
    relay.silenceListeners();
    const since = performance.now();
    const out = await logout(a, tokens.refreshToken);
    expect(out.status).toBe(204);
    expect(await msUntilRefused(b, tokens.accessToken, since)).toBeLessThan(PROPAGATION_LIMIT_MS);

    // B's probe of that connection goes unanswered: B drops it, forgets what it cached, and
    // listens again on a new connection (and forgets again, for what it missed meanwhile).
    const deadline = performance.now() + 10_000;
    while (resyncs < 2 && performance.now() < deadline) {
      await sleep(50);
    }
    expect(resyncs).toBe(2);
    expect(cluster.listening).toBe(true);
  });
});
