import type { Redis } from 'ioredis';
import type { AttemptRecord, AttemptStore, LimitedKey, ReserveResult } from './attempt-store.js';

// The store shared by several instances; MemoryAttemptStore (attempt-store.ts) is the one for a
// single instance. Both count with the arithmetic of `waitAfter` (backoff-policy.ts).

/**
 * KEYS: the counters. ARGV[1]: now (ms); then for each key its policy: free attempts, first
 * delay, longest delay, forget after (ms). The same arithmetic as `waitAfter`.
 * Returns {1, previous last attempt of each key ('' for none)} when counted, {0, wait ms} when not.
 */
const RESERVE_SCRIPT = `
local now = tonumber(ARGV[1])
local wait = 0
local previous = {}
for i = 1, #KEYS do
  local o = 1 + (i - 1) * 4
  local record = redis.call('HMGET', KEYS[i], 'failures', 'last')
  local failures = tonumber(record[1]) or 0
  local last = tonumber(record[2])
  previous[i] = record[2] or ''
  local excess = failures - tonumber(ARGV[o + 1])
  if last and excess >= 0 then
    local delay = math.min(tonumber(ARGV[o + 3]), tonumber(ARGV[o + 2]) * 2 ^ math.min(excess, 30))
    wait = math.max(wait, last + delay - now)
  end
end
if wait > 0 then
  return {0, tostring(wait)}
end
for i = 1, #KEYS do
  local o = 1 + (i - 1) * 4
  redis.call('HINCRBY', KEYS[i], 'failures', 1)
  redis.call('HSET', KEYS[i], 'last', ARGV[1])
  redis.call('PEXPIRE', KEYS[i], ARGV[o + 4])
end
return {1, unpack(previous)}
`;

/** KEYS[1]: the counter. ARGV[1]: when the attempt was counted; ARGV[2]: the last one before it. */
const REFUND_SCRIPT = `
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures'))
if not failures then
  return 0
end
if failures <= 1 then
  redis.call('DEL', KEYS[1])
  return 1
end
redis.call('HINCRBY', KEYS[1], 'failures', -1)
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'last') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'last', ARGV[2])
end
return 1
`;

interface AttemptScripts {
  attemptReserve(numberOfKeys: number, ...args: (string | number)[]): Promise<string[]>;
  attemptRefund(key: string, reservedAt: string, previous: string): Promise<number>;
}

/**
 * Counters in Redis, shared by every instance. A reserve is one Lua script, which Redis runs
 * atomically: no other command runs between its check and its count. (On a Redis Cluster the
 * keys of one reserve would need one hash slot; Portcullis connects to a single Redis.)
 */
export class RedisAttemptStore implements AttemptStore {
  private readonly scripts: AttemptScripts;

  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'portcullis:',
  ) {
    redis.defineCommand('attemptReserve', { lua: RESERVE_SCRIPT });
    redis.defineCommand('attemptRefund', { numberOfKeys: 1, lua: REFUND_SCRIPT });
    this.scripts = redis as unknown as AttemptScripts;
  }

  async reserve(keys: LimitedKey[], nowMs: number): Promise<ReserveResult> {
    const policies = keys.flatMap(({ policy }) => [
      policy.freeFailures,
      policy.baseDelayMs,
      policy.maxDelayMs,
      policy.forgetAfterMs,
    ]);
    const [granted, ...rest] = await this.scripts.attemptReserve(
      keys.length,
      ...keys.map(({ key }) => this.k(key)),
      nowMs,
      ...policies,
    );
    if (Number(granted) !== 1) {
      return { granted: false, waitMs: Math.ceil(Number(rest[0])) };
    }
    return { granted: true, previous: rest.map((p) => (p === '' ? null : Number(p))) };
  }

  async refund(key: string, reservedAt: number, previous: number | null): Promise<void> {
    await this.scripts.attemptRefund(
      this.k(key),
      String(reservedAt),
      previous === null ? '' : String(previous),
    );
  }

  async get(key: string): Promise<AttemptRecord | null> {
    const [failures, last] = await this.redis.hmget(this.k(key), 'failures', 'last');
    return failures && last ? { failures: Number(failures), lastFailureAt: Number(last) } : null;
  }

  async clear(key: string): Promise<void> {
    await this.redis.del(this.k(key));
  }

  async isClaimed(key: string): Promise<boolean> {
    return (await this.redis.exists(this.k(`once:${key}`))) === 1;
  }

  async claimOnce(key: string, _nowMs: number, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.k(`once:${key}`), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }

  private k(key: string): string {
    return `${this.prefix}attempts:${key}`;
  }
}
