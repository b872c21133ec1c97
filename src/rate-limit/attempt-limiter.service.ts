import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { Clock } from '../common/clock.js';
import type { AttemptStore, LimitedKey } from './attempt-store.js';

export type { LimitedKey } from './attempt-store.js';

export const ATTEMPT_STORE = Symbol('ATTEMPT_STORE');

/**
 * One attempt, counted against its keys before it was checked. It stays counted (a failure)
 * unless the caller takes it back: `refund` when it succeeded or was never checked.
 */
export class Reservation {
  private readonly open: Set<string>;

  constructor(
    private readonly store: AttemptStore,
    private readonly keys: LimitedKey[],
    private readonly reservedAt: number,
    private readonly previous: (number | null)[],
  ) {
    this.open = new Set(keys.map((k) => k.key));
  }

  /** The attempt does not count against `only` (every key by default). Each key at most once. */
  async refund(only: LimitedKey[] = this.keys): Promise<void> {
    const wanted = new Set(only.map((k) => k.key));
    const refunds: Promise<void>[] = [];
    this.keys.forEach(({ key }, i) => {
      if (wanted.has(key) && this.open.delete(key)) {
        refunds.push(this.store.refund(key, this.reservedAt, this.previous[i]));
      }
    });
    await Promise.all(refunds);
  }
}

/**
 * Limits attempts (passwords, codes, reset requests) per key with exponential backoff.
 *
 * An attempt is counted before it is checked (`reserve`), in one atomic step with the check, so
 * N parallel attempts never get more than the limit checked: while attempts are being checked
 * they count, and a burst finds the limit reached. Callers take back what should not count
 * (a right password, an attempt refused for another reason) and clear a record on success
 * where the design says so.
 */
@Injectable()
export class AttemptLimiter implements OnApplicationShutdown {
  constructor(
    @Inject(ATTEMPT_STORE) private readonly store: AttemptStore,
    private readonly clock: Clock,
  ) {}

  /**
   * Counts one attempt against every key, or throws 429 TOO_MANY_ATTEMPTS with Retry-After
   * (counting nothing) when any key must still wait.
   */
  async reserve(keys: LimitedKey[]): Promise<Reservation> {
    const nowMs = this.clock.now().getTime();
    const result = await this.store.reserve(keys, nowMs);
    if (!result.granted) {
      const seconds = Math.max(1, Math.ceil(result.waitMs / 1000));
      throw new AppError(
        'TOO_MANY_ATTEMPTS',
        `Too many failed attempts. Try again in ${seconds} seconds.`,
        { headers: { 'Retry-After': String(seconds) } },
      );
    }
    return new Reservation(this.store, keys, nowMs, result.previous);
  }

  /** True only the first time `key` is claimed within `ttlSeconds` (shared across instances with Redis). */
  claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    return this.store.claimOnce(key, this.clock.now().getTime(), ttlSeconds * 1000);
  }

  isClaimed(key: string): Promise<boolean> {
    return this.store.isClaimed(key);
  }

  async clear(key: string): Promise<void> {
    await this.store.clear(key);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
