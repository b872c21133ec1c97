import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createUser, getMe, login } from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('a newcomer signs in', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('signs in a user created by the admin and shows their profile', async () => {
    const user = await createUser(t);
    const tokens = await login(t, user.username, user.password);
    const me = await getMe(t, tokens.accessToken);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      id: user.id,
      username: user.username,
      email: user.email,
      mustChangePassword: false,
    });
  });

  it('answers readiness once migrations are applied', async () => {
    const res = await t.http().get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: { database: 'up', migrations: 'applied' } });
  });
});
