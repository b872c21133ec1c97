import { describe, expect, it } from '@jest/globals';
import { type LimitedKey, MemoryAttemptStore } from './attempt-store.js';
import type { BackoffPolicy } from './backoff-policy.js';

const policy: BackoffPolicy = {
  freeFailures: 5,
  baseDelayMs: 30_000,
  maxDelayMs: 900_000,
  forgetAfterMs: 3_600_000,
};

const limited = (key: string, p: BackoffPolicy = policy): LimitedKey => ({ key, policy: p });

function storeAt(start = 1_000_000, maxKeys?: number) {
  let now = start;
  const store = new MemoryAttemptStore(() => now, maxKeys);
  return {
    store,
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    /** `n` attempts on `key` at the current time, all counted (they must be granted). */
    async fail(key: string, n: number, p: BackoffPolicy = policy) {
      for (let i = 0; i < n; i++) {
        expect((await store.reserve([limited(key, p)], now)).granted).toBe(true);
      }
    },
  };
}

describe('MemoryAttemptStore', () => {
  describe('reserve', () => {
    it('grants exactly the free attempts to a burst started together', async () => {
      const { store, now } = storeAt();
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store.reserve([limited('account:a')], now())),
      );
      expect(results.filter((r) => r.granted)).toHaveLength(5);
      expect(results.filter((r) => !r.granted)).toHaveLength(45);
      expect(await store.get('account:a')).toEqual({ failures: 5, lastFailureAt: now() });
    });

    it('answers how long to wait, doubling with each further attempt, and counts nothing meanwhile', async () => {
      const t = storeAt();
      await t.fail('k', 5);
      expect(await t.store.reserve([limited('k')], t.now())).toEqual({
        granted: false,
        waitMs: 30_000,
      });
      t.advance(10_000);
      expect(await t.store.reserve([limited('k')], t.now())).toEqual({
        granted: false,
        waitMs: 20_000,
      });
      expect((await t.store.get('k'))?.failures).toBe(5);
      t.advance(20_000);
      await t.fail('k', 1);
      expect(await t.store.reserve([limited('k')], t.now())).toEqual({
        granted: false,
        waitMs: 60_000,
      });
    });

    it('counts an attempt against every key or none: one waiting key holds back the others', async () => {
      const t = storeAt();
      await t.fail('account:a', 5);
      const result = await t.store.reserve([limited('client:x'), limited('account:a')], t.now());
      expect(result.granted).toBe(false);
      expect(await t.store.get('client:x')).toBeNull();

      const both = await t.store.reserve([limited('client:x'), limited('account:b')], t.now());
      expect(both).toEqual({ granted: true, previous: [null, null] });
      expect((await t.store.get('client:x'))?.failures).toBe(1);
      expect((await t.store.get('account:b'))?.failures).toBe(1);
    });

    it('forgets a key once forgetAfterMs has passed since its last attempt', async () => {
      const t = storeAt();
      await t.fail('k', 5);
      t.advance(policy.forgetAfterMs);
      expect(await t.store.get('k')).toBeNull();
      expect((await t.store.reserve([limited('k')], t.now())).granted).toBe(true);
    });
  });

  describe('refund', () => {
    it('takes an attempt back, and its time with it, so a success does not restart a wait', async () => {
      const t = storeAt();
      await t.fail('k', 5);
      const lastFailure = t.now();
      t.advance(30_000);
      const reservedAt = t.now();
      const result = await t.store.reserve([limited('k')], reservedAt);
      expect(result).toEqual({ granted: true, previous: [lastFailure] });
      await t.store.refund('k', reservedAt, lastFailure);
      expect(await t.store.get('k')).toEqual({ failures: 5, lastFailureAt: lastFailure });
      // The wait already served still counts: the next attempt goes through at once.
      expect((await t.store.reserve([limited('k')], t.now())).granted).toBe(true);
    });

    it('removes a key whose only attempt is taken back', async () => {
      const t = storeAt();
      await t.store.reserve([limited('k')], t.now());
      await t.store.refund('k', t.now(), null);
      expect(await t.store.get('k')).toBeNull();
    });

    it('keeps the time of a later attempt counted meanwhile', async () => {
      const t = storeAt();
      const first = t.now();
      await t.store.reserve([limited('k')], first);
      t.advance(1000);
      await t.store.reserve([limited('k')], t.now());
      await t.store.refund('k', first, null);
      expect(await t.store.get('k')).toEqual({ failures: 1, lastFailureAt: t.now() });
    });
  });

  describe('when full', () => {
    it('never holds more than maxKeys counters', async () => {
      const t = storeAt(1_000_000, 100);
      for (let i = 0; i < 1000; i++) {
        await t.store.reserve([limited(`client:${i}`)], t.now());
      }
      expect(t.store.size).toBeLessThanOrEqual(100);
    });

    it('drops expired counters first, even those with more attempts', async () => {
      const t = storeAt(1_000_000, 100);
      for (let i = 0; i < 99; i++) {
        await t.fail(`old:${i}`, 4);
      }
      t.advance(1000);
      await t.fail('account:victim', 1);
      // The old counters are forgotten by now; the victim's is not.
      t.advance(policy.forgetAfterMs - 500);
      await t.fail('new:0', 1);
      expect((await t.store.get('account:victim'))?.failures).toBe(1);
      expect(t.store.size).toBe(2);
    });

    it("cannot be flushed of a victim's counter with made-up keys: fewest attempts go first", async () => {
      const t = storeAt(1_000_000, 100);
      await t.fail('account:victim', 4);
      for (let i = 0; i < 5000; i++) {
        await t.store.reserve([limited(`unknown-login:${i}`)], t.now());
      }
      expect((await t.store.get('account:victim'))?.failures).toBe(4);
      expect(t.store.size).toBeLessThanOrEqual(100);
    });

    it('among counters with as many attempts, drops the one forgotten soonest', async () => {
      const t = storeAt(1_000_000, 2);
      await t.fail('a', 2);
      t.advance(1000);
      await t.fail('b', 2);
      await t.fail('c', 1);
      expect(await t.store.get('a')).toBeNull();
      expect((await t.store.get('b'))?.failures).toBe(2);
    });

    it('never drops a counter that makes someone wait: a new key is refused instead, until one stops blocking', async () => {
      const t = storeAt(1_000_000, 10);
      for (let i = 0; i < 10; i++) {
        await t.fail(`account:${i}`, 5);
      }
      const refused = await t.store.reserve([limited('account:new')], t.now());
      expect(refused).toEqual({ granted: false, waitMs: 30_000 });
      for (let i = 0; i < 10; i++) {
        expect((await t.store.get(`account:${i}`))?.failures).toBe(5);
      }
      // A key already counted is not held up by the full store.
      t.advance(30_000);
      expect((await t.store.reserve([limited('account:3')], t.now())).granted).toBe(true);
      // Once counters stop blocking, they make room again.
      expect((await t.store.reserve([limited('account:new')], t.now())).granted).toBe(true);
      expect((await t.store.get('account:3'))?.failures).toBe(6);
    });
  });

  describe('claimOnce', () => {
    it('claims a key once until it expires', async () => {
      const t = storeAt();
      expect(await t.store.claimOnce('challenge:1', t.now(), 1000)).toBe(true);
      expect(await t.store.claimOnce('challenge:1', t.now(), 1000)).toBe(false);
      expect(await t.store.isClaimed('challenge:1')).toBe(true);
      t.advance(1000);
      expect(await t.store.isClaimed('challenge:1')).toBe(false);
    });

    it('never drops a live claim to make room', async () => {
      const t = storeAt(1_000_000, 3);
      for (let i = 0; i < 3; i++) {
        expect(await t.store.claimOnce(`c:${i}`, t.now(), 1000)).toBe(true);
      }
      expect(await t.store.claimOnce('c:new', t.now(), 1000)).toBe(false);
      expect(await t.store.isClaimed('c:0')).toBe(true);
      t.advance(1000);
      expect(await t.store.claimOnce('c:new', t.now(), 1000)).toBe(true);
    });
  });
});
