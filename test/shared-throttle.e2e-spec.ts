import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { describeWithRedis, REDIS_URL } from './helpers/redis.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { expectProblem } from './helpers/problem.js';

/**
 * REDIS_URL: failed-attempt counters live in Redis, so every instance sees the same ones. The
 * instances run one after the other here (Passport's strategies are process-wide, so two apps in
 * one process would share one); Redis is the one this machine runs, as in CI.
 */
const describeRedis = await describeWithRedis('the REDIS_URL suite');

function failedLogin(t: TestApp, ip: string) {
  return t
    .http()
    .post('/api/v1/auth/login')
    .set('x-forwarded-for', ip)
    .send({ username: `nobody-${randomBytes(4).toString('hex')}`, password: 'wrong password' });
}

describeRedis('throttling shared through Redis (REDIS_URL)', () => {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const ip = `203.0.113.${1 + (randomBytes(1)[0] % 250)}`;
  let t: TestApp | undefined;

  beforeAll(async () => {
    await redis.connect();
    await redis.del(`portcullis:attempts:client:${ip}`);
  });
  afterAll(async () => {
    await t?.close();
    await redis.del(`portcullis:attempts:client:${ip}`);
    await redis.quit();
  });

  it('keeps the failures of one instance in Redis, where the next instance finds them', async () => {
    t = await createTestApp({ REDIS_URL, TRUST_PROXY: 'true' });
    for (let i = 0; i < 20; i += 1) {
      expect((await failedLogin(t, ip)).status).toBe(401);
    }
    expect(await redis.hget(`portcullis:attempts:client:${ip}`, 'failures')).toBe('20');
    await t.close();

    t = await createTestApp({ REDIS_URL, TRUST_PROXY: 'true' });
    const res = await failedLogin(t, ip);
    expectProblem(res, 429, 'TOO_MANY_ATTEMPTS');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});
