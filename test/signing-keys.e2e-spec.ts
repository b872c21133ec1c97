import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { queryAuditEvents } from './helpers/audit.js';
import {
  bearer,
  createAdmin,
  createUser,
  getMe,
  login,
  type TestUser,
  type TokenPair,
} from './helpers/factories.js';
import { decodeJwt, type PublishedJwk, verifiesWithKeys } from './helpers/jwt.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { expectProblem } from './helpers/problem.js';

interface KeyView {
  kid: string;
  createdAt: string;
  retiredAt: string | null;
  published: boolean;
}

describe('signing keys: rotation without a token that stops verifying', () => {
  let t: TestApp;
  let admin: TestUser & { tokens: TokenPair };

  beforeAll(async () => {
    t = await createTestApp();
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const jwks = async (): Promise<PublishedJwk[]> =>
    (await t.http().get('/.well-known/jwks.json')).body.keys as PublishedJwk[];
  const list = async (): Promise<KeyView[]> => {
    const res = await t
      .http()
      .get('/api/v1/admin/signing-keys')
      .set(...bearer(admin.tokens.accessToken));
    expect(res.status).toBe(200);
    return res.body as KeyView[];
  };
  const rotate = () =>
    t
      .http()
      .post('/api/v1/admin/signing-keys/rotate')
      .set(...bearer(admin.tokens.accessToken));

  it('signs new tokens with the new key at once and keeps the old one published while its tokens live', async () => {
    const user = await createUser(t);
    const before = await login(t, user.username, user.password);
    const oldKid = decodeJwt(before.accessToken).header.kid as string;
    expect((await list()).find((k) => k.retiredAt === null)?.kid).toBe(oldKid);

    const rotated = await rotate();
    expect(rotated.status).toBe(201);
    const newKid = rotated.body.kid as string;
    expect(newKid).not.toBe(oldKid);

    const after = await login(t, user.username, user.password);
    expect(decodeJwt(after.accessToken).header.kid).toBe(newKid);
    // Another application with nothing but the JWKS verifies both tokens.
    const keys = await jwks();
    // (On a shared test database other tests' retired keys may still be published too.)
    expect(keys.map((k) => k.kid)).toEqual(expect.arrayContaining([newKid, oldKid]));
    expect(verifiesWithKeys(before.accessToken, keys)).toBe(true);
    expect(verifiesWithKeys(after.accessToken, keys)).toBe(true);
    expect((await getMe(t, before.accessToken)).status).toBe(200);

    const views = await list();
    expect(views.find((k) => k.kid === newKid)).toMatchObject({ retiredAt: null, published: true });
    expect(views.find((k) => k.kid === oldKid)).toMatchObject({
      retiredAt: expect.any(String),
      published: true,
    });
    // This admin's rotation (on a shared test database other tests' rotations are listed too,
    // some dated by their own test clocks).
    const rotations = await queryAuditEvents(t, admin.tokens.accessToken, {
      type: 'signing_key.rotated',
      userId: admin.id,
      pageSize: 100,
    });
    const ours = (rotations.body.items as { actorId: string; details: { kid: string } }[]).filter(
      (e) => e.details.kid === newKid,
    );
    expect(ours).toEqual([
      expect.objectContaining({
        actorId: admin.id,
        details: { kid: newKid, previousKid: oldKid, automatic: false },
      }),
    ]);
    // The private halves never leave the service.
    expect(JSON.stringify(views)).not.toMatch(/PRIVATE|"d"/);
  });

  it('stops publishing a retired key once every access token it signed has expired', async () => {
    const [oldest] = (await list()).filter((k) => k.retiredAt === null);
    expect((await rotate()).status).toBe(201);
    expect((await jwks()).map((k) => k.kid)).toContain(oldest.kid);
    // Access tokens live 15 minutes (plus a minute for verifiers' clocks).
    t.clock.advance(17 * 60);
    admin.tokens = await login(t, admin.username, admin.password);
    const newest = await rotate();
    expect(newest.status).toBe(201);
    const published = (await jwks()).map((k) => k.kid);
    expect(published).not.toContain(oldest.kid);
    expect(published).toContain(newest.body.kid);
    expect((await list()).find((k) => k.kid === oldest.kid)?.published).toBe(false);
  });

  it('is for admins only', async () => {
    const user = await createUser(t);
    const tokens = await login(t, user.username, user.password);
    expectProblem(
      await t
        .http()
        .post('/api/v1/admin/signing-keys/rotate')
        .set(...bearer(tokens.accessToken)),
      403,
      'FORBIDDEN',
    );
    expectProblem(await t.http().get('/api/v1/admin/signing-keys'), 401, 'UNAUTHORIZED');
  });
});

describe('SIGNING_KEY_ROTATION', () => {
  it('rotates by itself once the key is older than the setting', async () => {
    const t = await createTestApp({ SIGNING_KEY_ROTATION: '2s' });
    try {
      // A key made now (on a shared test database the active one may come from another test).
      const admin = await createAdmin(t);
      const rotated = await t
        .http()
        .post('/api/v1/admin/signing-keys/rotate')
        .set(...bearer(admin.tokens.accessToken));
      expect(rotated.status).toBe(201);
      const user = await createUser(t);
      const first = decodeJwt((await login(t, user.username, user.password)).accessToken).header
        .kid;
      expect(first).toBe(rotated.body.kid);
      let kid = first;
      const deadline = Date.now() + 10_000;
      while (kid === first && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        kid = decodeJwt((await login(t, user.username, user.password)).accessToken).header.kid;
      }
      expect(kid).not.toBe(first);
    } finally {
      await t.close();
    }
  });

  it('with a key from JWT_PRIVATE_KEY, refuses to rotate it: it is managed outside', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const t = await createTestApp({
      JWT_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
    try {
      const admin = await createAdmin(t);
      expectProblem(
        await t
          .http()
          .post('/api/v1/admin/signing-keys/rotate')
          .set(...bearer(admin.tokens.accessToken)),
        409,
        'SIGNING_KEY_EXTERNAL',
      );
    } finally {
      await t.close();
    }
  });
});
