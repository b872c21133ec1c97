import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, createAdmin, createUser } from './helpers/factories.js';
import {
  HttpBrowser,
  jwtPart,
  registerClient,
  relyingParty,
  signInThrough,
} from './helpers/oidc.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/** Several instances exist only with a shared PostgreSQL; the embedded database has one. */
const onPostgres = process.env.PORTCULLIS_TEST_DB ? describe : describe.skip;

/** A load balancer in front of the instances: each request goes to the next one. */
function roundRobin(apps: TestApp[]): TestApp {
  let next = 0;
  return {
    ...apps[0],
    get url() {
      return apps[next++ % apps.length].url;
    },
  };
}

onPostgres('OpenID Connect on two instances sharing one database', () => {
  let a: TestApp;
  let b: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp();
    adminToken = (await createAdmin(a)).tokens.accessToken;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('signs a user in with every request of the flow on the other instance than the last', async () => {
    const both = roundRobin([a, b]);
    const registered = await registerClient(a, adminToken);
    const user = await createUser(a);
    const browser = new HttpBrowser(both);
    const { tokens } = await signInThrough(browser, await relyingParty(both, registered), user, {
      scope: 'openid offline_access',
      prompt: 'consent',
    });
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(tokens.refresh_token).toBeTruthy();
  });

  it('signs ID tokens with the new key on the other instance within a second of a rotation', async () => {
    const registered = await registerClient(a, adminToken);
    const user = await createUser(a);
    const onB = new HttpBrowser(b);
    const rpOnB = await relyingParty(b, registered);
    await signInThrough(onB, rpOnB, user);
    const rotated = await a
      .http()
      .post('/api/v1/admin/signing-keys/rotate')
      .set(...bearer(adminToken));
    expect(rotated.status).toBe(201);
    const since = performance.now();
    let kid: unknown;
    do {
      const { tokens } = await signInThrough(onB, rpOnB, user);
      kid = jwtPart(tokens.id_token!, 0).kid;
    } while (kid !== rotated.body.kid && performance.now() - since < 5_000);
    expect(kid).toBe(rotated.body.kid);
    expect(performance.now() - since).toBeLessThan(1_000);
  });
});
