import { describe, expect, it } from '@jest/globals';
import { TtlCache } from './ttl-cache.js';

describe('TtlCache', () => {
  it('answers within the time-to-live and forgets after it', () => {
    const cache = new TtlCache<string, number>(2000, 10);
    cache.set('a', 1, 1000);
    expect(cache.get('a', 2999)).toBe(1);
    expect(cache.get('a', 3000)).toBeUndefined();
  });

  it('drops the oldest entry when full', () => {
    const cache = new TtlCache<string, number>(10_000, 2);
    cache.set('a', 1, 0);
    cache.set('b', 2, 0);
    cache.set('c', 3, 0);
    expect(cache.get('a', 1)).toBeUndefined();
    expect(cache.get('b', 1)).toBe(2);
    expect(cache.get('c', 1)).toBe(3);
  });

  it('treats a re-set entry as the newest', () => {
    const cache = new TtlCache<string, number>(10_000, 2);
    cache.set('a', 1, 0);
    cache.set('b', 2, 0);
    cache.set('a', 10, 0);
    cache.set('c', 3, 0);
    expect(cache.get('a', 1)).toBe(10);
    expect(cache.get('b', 1)).toBeUndefined();
  });

  it('forgets a deleted entry at once', () => {
    const cache = new TtlCache<string, number>(10_000, 2);
    cache.set('a', 1, 0);
    cache.delete('a');
    expect(cache.get('a', 1)).toBeUndefined();
  });
});
