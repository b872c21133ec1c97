import type { Redis } from 'ioredis';

/** Failed attempts seen for one key: how many, and when the last one happened (ms). */
export interface AttemptRecord {
  failures: number;
  lastFailureAt: number;
}

/** Where failure counters live: this process, or Redis when several instances share them. */
export interface AttemptStore {
  get(key: string): Promise<AttemptRecord | null>;
  /** Adds one failure; the record is forgotten `forgetAfterMs` after its last failure. */
  addFailure(key: string, nowMs: number, forgetAfterMs: number): Promise<AttemptRecord>;
  clear(key: string): Promise<void>;
  /** True the first time a key is claimed within `ttlMs`, false afterwards (single-use tokens). */
  claimOnce(key: string, nowMs: number, ttlMs: number): Promise<boolean>;
  /** Whether claimOnce already took the key (and it has not expired). */
  isClaimed(key: string): Promise<boolean>;
  close(): Promise<void>;
}

export class MemoryAttemptStore implements AttemptStore {
  private readonly records = new Map<string, AttemptRecord & { forgetAt: number }>();

  constructor(
    private readonly now: () => number,
    private readonly maxKeys = 100_000,
  ) {}

  get(key: string): Promise<AttemptRecord | null> {
    const record = this.records.get(key);
    if (record && record.forgetAt <= this.now()) {
      this.records.delete(key);
      return Promise.resolve(null);
    }
    return Promise.resolve(
      record ? { failures: record.failures, lastFailureAt: record.lastFailureAt } : null,
    );
  }

  async addFailure(key: string, nowMs: number, forgetAfterMs: number): Promise<AttemptRecord> {
    const previous = await this.get(key);
    const next = { failures: (previous?.failures ?? 0) + 1, lastFailureAt: nowMs };
    this.records.delete(key);
    if (this.records.size >= this.maxKeys) {
      const oldest = this.records.keys().next();
      if (!oldest.done) {
        this.records.delete(oldest.value);
      }
    }
    this.records.set(key, { ...next, forgetAt: nowMs + forgetAfterMs });
    return next;
  }

  clear(key: string): Promise<void> {
    this.records.delete(key);
    return Promise.resolve();
  }

  async isClaimed(key: string): Promise<boolean> {
    return (await this.get(`once:${key}`)) !== null;
  }

  async claimOnce(key: string, nowMs: number, ttlMs: number): Promise<boolean> {
    if (await this.isClaimed(key)) {
      return false;
    }
    await this.addFailure(`once:${key}`, nowMs, ttlMs);
    return true;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class RedisAttemptStore implements AttemptStore {
  constructor(private readonly redis: Redis) {}

  async get(key: string): Promise<AttemptRecord | null> {
    const [failures, last] = await this.redis.hmget(this.k(key), 'failures', 'last');
    return failures && last ? { failures: Number(failures), lastFailureAt: Number(last) } : null;
  }

  async addFailure(key: string, nowMs: number, forgetAfterMs: number): Promise<AttemptRecord> {
    const results = await this.redis
      .multi()
      .hincrby(this.k(key), 'failures', 1)
      .hset(this.k(key), 'last', String(nowMs))
      .pexpire(this.k(key), forgetAfterMs)
      .exec();
    const failures = Number(results?.[0]?.[1] ?? 1);
    return { failures, lastFailureAt: nowMs };
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
    return `portcullis:attempts:${key}`;
  }
}
