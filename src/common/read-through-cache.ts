import { TtlCache } from './ttl-cache.js';

/**
 * A short cache of rows read from the database, for state other requests or instances change
 * (a session's liveness, a user's state):
 *
 * - concurrent misses of a key share one read: under load a whole burst misses at once when an
 *   entry expires, and one query answers it;
 * - `forget` (the key was written, here or on another instance) drops the entry and detaches the
 *   read under way: that read may have begun before the write committed, so its answer goes to
 *   those already waiting for it but is not cached, and the next caller reads again; `set` does
 *   the same but caches what this instance has just written.
 *
 * Time comes from the caller so tests can move it.
 */
export class ReadThroughCache<K, V> {
  private readonly entries: TtlCache<K, V>;
  private readonly reads = new Map<K, Promise<V>>();

  constructor(ttlMs: number, maxEntries: number) {
    this.entries = new TtlCache(ttlMs, maxEntries);
  }

  /**
   * The cached value of `key` when there is one and `usable` accepts it; otherwise the answer of
   * the read under way, or of a new `load()`, cached when it arrives unless forgotten meanwhile.
   */
  get(
    key: K,
    nowMs: number,
    load: () => Promise<V>,
    usable: (value: V) => boolean = () => true,
  ): Promise<V> {
    const hit = this.entries.get(key, nowMs);
    if (hit !== undefined && usable(hit)) {
      return Promise.resolve(hit);
    }
    return this.reads.get(key) ?? this.read(key, nowMs, load);
  }

  /**
   * Caches `value` as what `key` is now (this instance has just written it, and knows), and
   * detaches the read under way as `forget` does.
   */
  set(key: K, value: V, nowMs: number): void {
    this.reads.delete(key);
    this.entries.set(key, value, nowMs);
  }

  /** Drops what is cached of `key` and what the read under way will say. */
  forget(key: K): void {
    this.entries.delete(key);
    this.reads.delete(key);
  }

  /** Forgets every key (notifications may have been missed). */
  clear(): void {
    this.entries.clear();
    this.reads.clear();
  }

  private read(key: K, nowMs: number, load: () => Promise<V>): Promise<V> {
    const read: Promise<V> = load().then(
      (value) => {
        if (this.reads.get(key) === read) {
          this.reads.delete(key);
          this.entries.set(key, value, nowMs);
        }
        return value;
      },
      (error: unknown) => {
        if (this.reads.get(key) === read) {
          this.reads.delete(key);
        }
        throw error;
      },
    );
    this.reads.set(key, read);
    return read;
  }
}
