import { describe, expect, it } from '@jest/globals';
import { ReadThroughCache } from './read-through-cache.js';

/** A load whose answer the test releases by hand, counting how often it was started. */
function deferredLoads<V>() {
  const pending: ((value: V) => void)[] = [];
  const failures: ((error: Error) => void)[] = [];
  return {
    load: () =>
      new Promise<V>((resolve, reject) => {
        pending.push(resolve);
        failures.push(reject);
      }),
    started: () => pending.length,
    answer: (i: number, value: V) => pending[i](value),
    fail: (i: number, error: Error) => failures[i](error),
  };
}

describe('ReadThroughCache', () => {
  it('answers from the cache within the time-to-live and reads again after it', async () => {
    const cache = new ReadThroughCache<string, number>(1000, 10);
    let reads = 0;
    const load = () => Promise.resolve(++reads);
    expect(await cache.get('a', 0, load)).toBe(1);
    expect(await cache.get('a', 999, load)).toBe(1);
    expect(await cache.get('a', 1000, load)).toBe(2);
    expect(reads).toBe(2);
  });

  it('gives concurrent misses of a key one read, and other keys their own', async () => {
    const cache = new ReadThroughCache<string, string>(1000, 10);
    const loads = deferredLoads<string>();
    const waiting = Array.from({ length: 5 }, () => cache.get('a', 0, loads.load));
    const other = cache.get('b', 0, loads.load);
    expect(loads.started()).toBe(2);
    loads.answer(0, 'A');
    loads.answer(1, 'B');
    expect(await Promise.all(waiting)).toEqual(['A', 'A', 'A', 'A', 'A']);
    expect(await other).toBe('B');
    expect(await cache.get('a', 1, loads.load)).toBe('A');
    expect(loads.started()).toBe(2);
  });

  it('does not cache a read that a forget overtook, but answers those who waited for it', async () => {
    const cache = new ReadThroughCache<string, string>(1000, 10);
    const loads = deferredLoads<string>();
    const before = cache.get('a', 0, loads.load);
    cache.forget('a'); // the row changed while the read was under way
    const after = cache.get('a', 0, loads.load);
    expect(loads.started()).toBe(2);
    loads.answer(1, 'new');
    loads.answer(0, 'old');
    expect(await before).toBe('old');
    expect(await after).toBe('new');
    expect(await cache.get('a', 1, loads.load)).toBe('new');
    expect(loads.started()).toBe(2);
  });

  it('answers what was set over a read under way, which it does not cache', async () => {
    const cache = new ReadThroughCache<string, string>(1000, 10);
    const loads = deferredLoads<string>();
    const before = cache.get('a', 0, loads.load);
    cache.set('a', 'revoked', 0);
    loads.answer(0, 'live');
    expect(await before).toBe('live');
    expect(await cache.get('a', 1, loads.load)).toBe('revoked');
    expect(loads.started()).toBe(1);
  });

  it('forgets every key and read on clear', async () => {
    const cache = new ReadThroughCache<string, string>(1000, 10);
    const loads = deferredLoads<string>();
    await cache.get('a', 0, () => Promise.resolve('cached'));
    const during = cache.get('b', 0, loads.load);
    cache.clear();
    const next = cache.get('a', 0, loads.load);
    loads.answer(0, 'stale');
    loads.answer(1, 'fresh');
    expect(await during).toBe('stale');
    expect(await next).toBe('fresh');
    expect(await cache.get('b', 1, () => Promise.resolve('read again'))).toBe('read again');
  });

  it('reads again when the cached value is no longer usable', async () => {
    const cache = new ReadThroughCache<string, { until: number }>(10_000, 10);
    let reads = 0;
    const load = () => Promise.resolve({ until: 100 * ++reads });
    const usableAt = (now: number) => (v: { until: number }) => v.until > now;
    expect(await cache.get('a', 0, load, usableAt(0))).toEqual({ until: 100 });
    expect(await cache.get('a', 50, load, usableAt(50))).toEqual({ until: 100 });
    expect(await cache.get('a', 100, load, usableAt(100))).toEqual({ until: 200 });
  });

  it('caches nothing from a failed read, and the next caller reads again', async () => {
    const cache = new ReadThroughCache<string, string>(1000, 10);
    const loads = deferredLoads<string>();
    const first = cache.get('a', 0, loads.load);
    const shared = cache.get('a', 0, loads.load);
    loads.fail(0, new Error('connection terminated'));
    await expect(first).rejects.toThrow('connection terminated');
    await expect(shared).rejects.toThrow('connection terminated');
    const again = cache.get('a', 0, loads.load);
    expect(loads.started()).toBe(2);
    loads.answer(1, 'A');
    expect(await again).toBe('A');
  });
});
