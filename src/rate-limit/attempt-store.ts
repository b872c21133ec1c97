import { type BackoffPolicy, waitAfter } from './backoff-policy.js';

/** Attempts counted for one key: how many, and when the last one was counted (ms). */
export interface AttemptRecord {
  failures: number;
  lastFailureAt: number;
}

/** One counter an attempt is counted against, and the policy that turns its count into waiting. */
export interface LimitedKey {
  key: string;
  policy: BackoffPolicy;
}

/**
 * What `reserve` did: counted the attempt against every key (with each key's last-attempt time
 * from before, so a refund can put it back), or counted nothing because a key must still wait.
 */
export type ReserveResult =
  { granted: true; previous: (number | null)[] } | { granted: false; waitMs: number };

/**
 * Where attempt counters live: this process, or Redis when several instances share them.
 *
 * An attempt is counted before it is checked: `reserve` checks the keys and counts the attempt
 * in one atomic step, so parallel attempts can never all pass the check before the first is
 * counted. A success (or an attempt that was never checked) is taken back with `refund` or
 * `clear`.
 */
export interface AttemptStore {
  /**
   * Atomically: when no key must wait, counts one attempt against every key and answers
   * granted; otherwise changes nothing and says how long to wait.
   */
  reserve(keys: LimitedKey[], nowMs: number): Promise<ReserveResult>;
  /**
   * Takes back one attempt that `reserve` counted at `reservedAt`; `previous` is the key's last
   * attempt before it, restored when no attempt was counted since.
   */
  refund(key: string, reservedAt: number, previous: number | null): Promise<void>;
  get(key: string): Promise<AttemptRecord | null>;
  clear(key: string): Promise<void>;
  /** True the first time a key is claimed within `ttlMs`, false afterwards (single-use tokens). */
  claimOnce(key: string, nowMs: number, ttlMs: number): Promise<boolean>;
  /** Whether claimOnce already took the key (and it has not expired). */
  isClaimed(key: string): Promise<boolean>;
  close(): Promise<void>;
}

interface MemoryRecord extends AttemptRecord {
  policy: BackoffPolicy;
}

function forgetAt(record: MemoryRecord): number {
  return record.lastFailureAt + record.policy.forgetAfterMs;
}

function waitOf(record: MemoryRecord, nowMs: number): number {
  return waitAfter(record.policy, record.failures, record.lastFailureAt, nowMs);
}

/**
 * Counters in this process. Every method does its work synchronously (the promise only wraps
 * the result), so a reserve's check and count are one step that nothing can interleave with.
 *
 * The store holds at most `maxKeys` counters, so that nobody can exhaust the memory with made-up
 * usernames or addresses. When it is full, what cannot matter goes first: expired counters, then
 * counters that do not make anyone wait, fewest attempts and soonest forgotten first. A counter
 * that makes someone wait is never evicted (that would let its attacker go on): when only those
 * are left, a new key's attempt is refused until one of them stops blocking. So filling the store
 * never flushes a victim's counter before the attacker's own.
 */
export class MemoryAttemptStore implements AttemptStore {
  private readonly records = new Map<string, MemoryRecord>();
  private readonly claims = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly maxKeys = 100_000,
  ) {}

  reserve(keys: LimitedKey[], nowMs: number): Promise<ReserveResult> {
    let waitMs = 0;
    let newKeys = 0;
    for (const { key } of keys) {
      const record = this.live(key, nowMs);
      if (record) {
        waitMs = Math.max(waitMs, waitOf(record, nowMs));
      } else {
        newKeys += 1;
      }
    }
    if (waitMs === 0 && newKeys > 0) {
      waitMs = this.makeRoom(newKeys, nowMs);
    }
    if (waitMs > 0) {
      return Promise.resolve({ granted: false, waitMs });
    }
    const previous = keys.map(({ key, policy }) => {
      const record = this.records.get(key);
      this.records.set(key, {
        failures: (record?.failures ?? 0) + 1,
        lastFailureAt: nowMs,
        policy,
      });
      return record ? record.lastFailureAt : null;
    });
    return Promise.resolve({ granted: true, previous });
  }

  refund(key: string, reservedAt: number, previous: number | null): Promise<void> {
    const record = this.live(key, this.now());
    if (record) {
      if (record.failures <= 1) {
        this.records.delete(key);
      } else {
        record.failures -= 1;
        if (previous !== null && record.lastFailureAt === reservedAt) {
          record.lastFailureAt = previous;
        }
      }
    }
    return Promise.resolve();
  }

  get(key: string): Promise<AttemptRecord | null> {
    const record = this.live(key, this.now());
    return Promise.resolve(
      record ? { failures: record.failures, lastFailureAt: record.lastFailureAt } : null,
    );
  }

  clear(key: string): Promise<void> {
    this.records.delete(key);
    return Promise.resolve();
  }

  isClaimed(key: string): Promise<boolean> {
    return Promise.resolve(this.liveClaim(key, this.now()));
  }

  claimOnce(key: string, nowMs: number, ttlMs: number): Promise<boolean> {
    if (this.liveClaim(key, nowMs)) {
      return Promise.resolve(false);
    }
    if (this.claims.size >= this.maxKeys) {
      for (const [k, expiresAt] of this.claims) {
        if (expiresAt <= nowMs) {
          this.claims.delete(k);
        }
      }
    }
    // A live claim is never evicted (its token could be used again): when every one is live,
    // nothing more is claimed until some expire.
    if (this.claims.size >= this.maxKeys) {
      return Promise.resolve(false);
    }
    this.claims.set(key, nowMs + ttlMs);
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** How many counters are held (for tests of the bound). */
  get size(): number {
    return this.records.size;
  }

  private live(key: string, nowMs: number): MemoryRecord | undefined {
    const record = this.records.get(key);
    if (record && forgetAt(record) <= nowMs) {
      this.records.delete(key);
      return undefined;
    }
    return record;
  }

  private liveClaim(key: string, nowMs: number): boolean {
    const expiresAt = this.claims.get(key);
    if (expiresAt !== undefined && expiresAt <= nowMs) {
      this.claims.delete(key);
      return false;
    }
    return expiresAt !== undefined;
  }

  /**
   * Makes room for `needed` new counters; returns 0 when it did, or how long (ms) until a
   * counter stops blocking when every counter left blocks someone.
   */
  private makeRoom(needed: number, nowMs: number): number {
    if (this.records.size + needed <= this.maxKeys) {
      return 0;
    }
    for (const [key, record] of this.records) {
      if (forgetAt(record) <= nowMs) {
        this.records.delete(key);
      }
    }
    if (this.records.size + needed <= this.maxKeys) {
      return 0;
    }
    // A little more than needed, so that a full store is not searched for every new key.
    const target = this.maxKeys - Math.max(needed, Math.ceil(this.maxKeys / 100));
    const evictable = [...this.records].filter(([, record]) => waitOf(record, nowMs) === 0);
    evictable.sort(([, a], [, b]) => a.failures - b.failures || forgetAt(a) - forgetAt(b));
    for (const [key] of evictable) {
      if (this.records.size <= target) {
        break;
      }
      this.records.delete(key);
    }
    if (this.records.size + needed <= this.maxKeys) {
      return 0;
    }
    let soonest = Number.POSITIVE_INFINITY;
    for (const record of this.records.values()) {
      soonest = Math.min(soonest, waitOf(record, nowMs));
    }
    return Math.max(1, soonest);
  }
}
