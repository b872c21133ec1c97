import { describe } from '@jest/globals';
import { Redis } from 'ioredis';

/** The machine's Redis (CI starts it; a newcomer's machine may have none). */
export const REDIS_URL = 'redis://127.0.0.1:6379/0';

async function redisAnswers(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * `describe` for a suite that needs Redis. A newcomer's `npm test` needs no services: without
 * Redis the suite says so, loudly, and is skipped. In CI it always runs (and fails without Redis).
 */
export async function describeWithRedis(what: string): Promise<typeof describe> {
  if (process.env.CI === 'true' || (await redisAnswers())) {
    return describe;
  }
  console.warn(`SKIPPED: ${what} needs Redis on 127.0.0.1:6379, which does not answer`);
  return describe.skip as typeof describe;
}
