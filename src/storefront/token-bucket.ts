/**
 * Token-bucket rate limiting: a bucket holds up to `capacity` tokens and
 * refills continuously at `refillPerSec`; a request takes one token or is
 * rejected. {@link KeyedTokenBuckets} keeps one bucket per client key.
 */

/** Options of a token bucket. */
export interface TokenBucketOptions {
  capacity: number;
  refillPerSec: number;
  now?: () => number;
}

/** One bucket; starts full. */
export class TokenBucket {
  private available: number;
  private last: number;
  private readonly now: () => number;

  constructor(private readonly opts: TokenBucketOptions) {
    if (!(opts.capacity >= 1)) throw new RangeError(`capacity must be at least 1 (got ${opts.capacity})`);
    if (!(opts.refillPerSec > 0)) throw new RangeError(`refillPerSec must be positive (got ${opts.refillPerSec})`);
    this.now = opts.now ?? Date.now;
    this.available = opts.capacity;
    this.last = this.now();
  }

  /** Tokens available now (fractional). */
  tokens(): number {
    this.refill();
    return this.available;
  }

  /** Takes `n` tokens if there are enough; false (and nothing taken) otherwise. */
  tryTake(n = 1): boolean {
    this.refill();
    if (this.available < n) return false;
    this.available -= n;
    return true;
  }

  /** ms until one token is available (0 if one is now). */
  retryAfterMs(): number {
    this.refill();
    return this.available >= 1 ? 0 : Math.ceil(((1 - this.available) / this.opts.refillPerSec) * 1000);
  }

  private refill(): void {
    const t = this.now();
    const elapsedMs = t - this.last;
    if (elapsedMs > 0) {
      this.available = Math.min(this.opts.capacity, this.available + (elapsedMs / 1000) * this.opts.refillPerSec);
      this.last = t;
    }
  }
}

/** One bucket per key (client), keeping at most `maxKeys` (least recently used dropped). */
export class KeyedTokenBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly opts: TokenBucketOptions & { maxKeys: number }) {}

  /** Takes one token from `key`'s bucket; false when that client is over its rate. */
  tryTake(key: string): boolean {
    return this.bucket(key).tryTake(1);
  }

  /** ms until `key` may try again. */
  retryAfterMs(key: string): number {
    return this.bucket(key).retryAfterMs();
  }

  private bucket(key: string): TokenBucket {
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key);
    } else {
      b = new TokenBucket(this.opts);
      if (this.buckets.size >= this.opts.maxKeys) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    this.buckets.set(key, b);
    return b;
  }
}
