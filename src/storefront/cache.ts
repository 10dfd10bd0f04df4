/**
 * An in-memory TTL cache with request coalescing (single-flight): while one
 * load for a key is in flight, every other miss for that key waits for the
 * same promise instead of starting its own load. TTLs are staggered by a
 * seeded jitter so keys warmed together do not expire together.
 */
import type { Rng } from './rng.js';

/** What a lookup turned out to be; fed to metrics. */
export type CacheEvent = 'hit' | 'miss' | 'coalesced' | 'bypass';

/** Options of {@link TtlCache}. */
export interface TtlCacheOptions {
  /** Time to live of an entry, in ms. */
  ttlMs: number;
  /** Extra random share of the TTL (0.2 = up to +20%), to stagger expiry. */
  ttlJitter?: number;
  /** Entries kept at most; the oldest inserted go first. */
  maxEntries: number;
  /** Clock in ms (tests pass a fake). */
  now?: () => number;
  rng?: Rng;
  /** When it returns false the cache is "down": every lookup loads (no storing, no coalescing). */
  enabled?: () => boolean;
  onEvent?: (event: CacheEvent) => void;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/** TTL cache with single-flight loads; see the module comment. */
export class TtlCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly inFlight = new Map<string, Promise<V>>();
  private readonly opts: TtlCacheOptions;
  private readonly now: () => number;

  constructor(options: TtlCacheOptions) {
    if (!(options.ttlMs > 0)) throw new RangeError(`ttlMs must be positive (got ${options.ttlMs})`);
    if (!(options.maxEntries > 0)) throw new RangeError(`maxEntries must be positive (got ${options.maxEntries})`);
    this.opts = options;
    this.now = options.now ?? Date.now;
  }

  /** Entries currently stored (expired ones included until touched). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached value for `key`, or the result of `loader` (stored for the TTL).
   * Concurrent misses for one key share one `loader` call. A loader that
   * throws stores nothing, and every waiter gets the error.
   */
  async get(key: string, loader: () => V | Promise<V>): Promise<V> {
    if (this.opts.enabled && !this.opts.enabled()) {
      this.opts.onEvent?.('bypass');
      return loader();
    }
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.now()) {
      this.opts.onEvent?.('hit');
      return entry.value;
    }
    const pending = this.inFlight.get(key);
    if (pending) {
      this.opts.onEvent?.('coalesced');
      return pending;
    }
    this.opts.onEvent?.('miss');
    const load = (async () => {
      try {
        const value = await loader();
        this.store(key, value);
        return value;
      } finally {
        this.inFlight.delete(key);
      }
    })();
    this.inFlight.set(key, load);
    return load;
  }

  /** Drops one key (targeted invalidation, e.g. after its stock changed). */
  invalidate(key: string): void {
    this.entries.delete(key);
  }

  /** Drops everything. */
  clear(): void {
    this.entries.clear();
  }

  private store(key: string, value: V): void {
    const jitter = this.opts.ttlJitter && this.opts.rng ? this.opts.rng.next() * this.opts.ttlJitter : 0;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.opts.ttlMs * (1 + jitter) });
    while (this.entries.size > this.opts.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
