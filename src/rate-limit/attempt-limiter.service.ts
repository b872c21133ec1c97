import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { Clock } from '../common/clock.js';
import { type AttemptStore } from './attempt-store.js';
import { type BackoffPolicy, waitAfter } from './backoff-policy.js';

export const ATTEMPT_STORE = Symbol('ATTEMPT_STORE');

export interface LimitedKey {
  key: string;
  policy: BackoffPolicy;
}

/**
 * Throttles failed attempts (passwords, codes, reset requests) per key with exponential backoff.
 * Only failures count; callers clear an account's record on success where that is safe.
 */
@Injectable()
export class AttemptLimiter implements OnApplicationShutdown {
  constructor(
    @Inject(ATTEMPT_STORE) private readonly store: AttemptStore,
    private readonly clock: Clock,
  ) {}

  /** Throws 429 TOO_MANY_ATTEMPTS with Retry-After when any key must still wait. */
  async assertAllowed(keys: LimitedKey[]): Promise<void> {
    const nowMs = this.clock.now().getTime();
    const records = await Promise.all(keys.map((k) => this.store.get(k.key)));
    const waitMs = Math.max(
      0,
      ...records.map((r, i) =>
        r ? waitAfter(keys[i].policy, r.failures, r.lastFailureAt, nowMs) : 0,
      ),
    );
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new AppError(
        'TOO_MANY_ATTEMPTS',
        `Too many failed attempts. Try again in ${seconds} seconds.`,
        { headers: { 'Retry-After': String(seconds) } },
      );
    }
  }

  async recordFailure(keys: LimitedKey[]): Promise<void> {
    const nowMs = this.clock.now().getTime();
    await Promise.all(keys.map((k) => this.store.addFailure(k.key, nowMs, k.policy.forgetAfterMs)));
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
