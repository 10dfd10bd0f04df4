import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, fullJitterDelayMs } from '../../src/storefront/backoff.js';
import { TtlCache } from '../../src/storefront/cache.js';
import type { CacheEvent } from '../../src/storefront/cache.js';
import { CircuitBreaker } from '../../src/storefront/circuit-breaker.js';
import type { BreakerState } from '../../src/storefront/circuit-breaker.js';
import { IdempotencyConflict, IdempotencyGuard } from '../../src/storefront/idempotency.js';
import { KeyedMutex } from '../../src/storefront/keyed-mutex.js';
import { createRng } from '../../src/storefront/rng.js';
import { KeyedTokenBuckets, TokenBucket } from '../../src/storefront/token-bucket.js';

function fakeClock(start = 1_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('TtlCache', () => {
  it('makes one load for N concurrent misses of one key (coalescing)', async () => {
    const events: CacheEvent[] = [];
    const cache = new TtlCache<string>({ ttlMs: 1000, maxEntries: 10, onEvent: (e) => events.push(e) });
    const gate = deferred<string>();
    let loads = 0;
    const loader = () => {
      loads += 1;
      return gate.promise;
    };
    const all = Promise.all(Array.from({ length: 25 }, () => cache.get('k', loader)));
    gate.resolve('value');
    expect(await all).toEqual(Array(25).fill('value'));
    expect(loads).toBe(1);
    expect(events.filter((e) => e === 'miss')).toHaveLength(1);
    expect(events.filter((e) => e === 'coalesced')).toHaveLength(24);
  });

  it('serves hits until the TTL passes, then loads again', async () => {
    const clock = fakeClock();
    const cache = new TtlCache<number>({ ttlMs: 100, maxEntries: 10, now: clock.now });
    let loads = 0;
    const loader = () => ++loads;
    expect(await cache.get('a', loader)).toBe(1);
    clock.advance(99);
    expect(await cache.get('a', loader)).toBe(1);
    clock.advance(2);
    expect(await cache.get('a', loader)).toBe(2);
  });

  it('stores nothing when the loader fails, and every waiter gets the error', async () => {
    const cache = new TtlCache<number>({ ttlMs: 100, maxEntries: 10 });
    const gate = deferred<number>();
    const a = cache.get('a', () => gate.promise);
    const b = cache.get('a', () => 7);
    gate.reject(new Error('db down'));
    await expect(a).rejects.toThrow('db down');
    await expect(b).rejects.toThrow('db down');
    expect(await cache.get('a', () => 8)).toBe(8);
  });

  it('bypasses storage and coalescing while disabled (cache-down)', async () => {
    let up = false;
    const events: CacheEvent[] = [];
    const cache = new TtlCache<number>({ ttlMs: 1000, maxEntries: 10, enabled: () => up, onEvent: (e) => events.push(e) });
    let loads = 0;
    await Promise.all([cache.get('a', () => ++loads), cache.get('a', () => ++loads)]);
    expect(loads).toBe(2);
    expect(cache.size).toBe(0);
    expect(events).toEqual(['bypass', 'bypass']);
    up = true;
    await cache.get('a', () => ++loads);
    await cache.get('a', () => ++loads);
    expect(loads).toBe(3);
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const cache = new TtlCache<number>({ ttlMs: 1000, maxEntries: 2 });
    await cache.get('a', () => 1);
    await cache.get('b', () => 2);
    await cache.get('c', () => 3);
    expect(cache.size).toBe(2);
    expect(await cache.get('a', () => 10)).toBe(10);
  });

  it('drops one key on invalidate', async () => {
    const cache = new TtlCache<number>({ ttlMs: 1000, maxEntries: 10 });
    await cache.get('a', () => 1);
    cache.invalidate('a');
    expect(await cache.get('a', () => 2)).toBe(2);
  });
});

describe('CircuitBreaker', () => {
  const make = (clock: ReturnType<typeof fakeClock>, log: string[]) =>
    new CircuitBreaker({
      failureThreshold: 3, windowSize: 5, openMs: 1000, now: clock.now,
      onStateChange: (from: BreakerState, to: BreakerState) => log.push(`${from}->${to}`),
    });

  it('opens after the threshold of failures in the window and refuses calls while open', () => {
    const clock = fakeClock();
    const log: string[] = [];
    const b = make(clock, log);
    for (let i = 0; i < 2; i++) {
      expect(b.tryAcquire()).toBe(true);
      b.onFailure();
    }
    expect(b.state).toBe('closed');
    b.onSuccess();
    b.onFailure();
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    expect(b.retryAfterMs()).toBe(1000);
    expect(log).toEqual(['closed->open']);
  });

  it('half-opens after openMs, lets one probe through, and closes on its success', () => {
    const clock = fakeClock();
    const log: string[] = [];
    const b = make(clock, log);
    for (let i = 0; i < 3; i++) b.onFailure();
    clock.advance(999);
    expect(b.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(b.state).toBe('half-open');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // only one probe at a time
    b.onSuccess();
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
    expect(log).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('opens again when the half-open probe fails', () => {
    const clock = fakeClock();
    const log: string[] = [];
    const b = make(clock, log);
    for (let i = 0; i < 3; i++) b.onFailure();
    clock.advance(1000);
    expect(b.tryAcquire()).toBe(true);
    b.onFailure();
    expect(b.state).toBe('open');
    expect(b.retryAfterMs()).toBe(1000);
    expect(log).toEqual(['closed->open', 'open->half-open', 'half-open->open']);
  });

  it('forgets failures that slid out of the window', () => {
    const b = new CircuitBreaker({ failureThreshold: 2, windowSize: 3, openMs: 10 });
    b.onFailure();
    b.onSuccess();
    b.onSuccess();
    b.onSuccess();
    b.onFailure();
    expect(b.state).toBe('closed');
  });

  it('rejects a threshold larger than the window', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 6, windowSize: 5, openMs: 10 })).toThrow(RangeError);
  });
});

describe('TokenBucket', () => {
  it('allows a burst of capacity, then refills at the rate', () => {
    const clock = fakeClock();
    const b = new TokenBucket({ capacity: 3, refillPerSec: 2, now: clock.now });
    expect([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()]).toEqual([true, true, true, false]);
    expect(b.retryAfterMs()).toBe(500);
    clock.advance(499);
    expect(b.tryTake()).toBe(false);
    clock.advance(1);
    expect(b.tryTake()).toBe(true);
    clock.advance(10_000);
    expect(b.tokens()).toBe(3); // never above capacity
  });

  it('keeps one bucket per key', () => {
    const clock = fakeClock();
    const buckets = new KeyedTokenBuckets({ capacity: 1, refillPerSec: 1, maxKeys: 10, now: clock.now });
    expect(buckets.tryTake('alice')).toBe(true);
    expect(buckets.tryTake('alice')).toBe(false);
    expect(buckets.tryTake('bob')).toBe(true);
  });

  it('rejects a zero rate', () => {
    expect(() => new TokenBucket({ capacity: 1, refillPerSec: 0 })).toThrow(RangeError);
  });
});

describe('backoff with full jitter', () => {
  const policy = { baseMs: 50, capMs: 400 };

  it('doubles the ceiling per attempt up to the cap', () => {
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffCeilingMs(a, policy))).toEqual([50, 100, 200, 400, 400, 400]);
  });

  it('draws every delay in [0, ceiling) and spreads them over the whole range', () => {
    const rng = createRng(42);
    for (const attempt of [0, 1, 2, 3]) {
      const ceiling = backoffCeilingMs(attempt, policy);
      const delays = Array.from({ length: 2000 }, () => fullJitterDelayMs(attempt, policy, rng));
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...delays)).toBeLessThan(ceiling);
      expect(Math.min(...delays)).toBeLessThan(ceiling * 0.05);
      expect(Math.max(...delays)).toBeGreaterThan(ceiling * 0.95);
    }
  });
});

describe('IdempotencyGuard', () => {
  const guard = () => new IdempotencyGuard<{ status: number }>({ ttlMs: 60_000, maxEntries: 100, keep: (r) => r.status < 500 });

  it('runs once for concurrent requests with the same key; the others replay the result', async () => {
    const g = guard();
    const gate = deferred<{ status: number }>();
    let runs = 0;
    const fn = () => {
      runs += 1;
      return gate.promise;
    };
    const calls = Array.from({ length: 5 }, () => g.run('k1', 'cart-1', fn));
    gate.resolve({ status: 201 });
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    expect(results.filter((r) => r.replayed)).toHaveLength(4);
    expect(results.every((r) => r.result.status === 201)).toBe(true);
  });

  it('replays a finished result to a later retry', async () => {
    const g = guard();
    let runs = 0;
    await g.run('k1', 'f', async () => ({ status: 201 + runs++ }));
    const again = await g.run('k1', 'f', async () => ({ status: 201 + runs++ }));
    expect(again).toEqual({ result: { status: 201 }, replayed: true });
    expect(runs).toBe(1);
  });

  it('forgets a finished result after its TTL', async () => {
    const clock = fakeClock();
    const g = new IdempotencyGuard<{ status: number }>({ ttlMs: 5000, maxEntries: 100, keep: () => true, now: clock.now });
    await g.run('k', 'f', async () => ({ status: 201 }));
    clock.advance(4999);
    expect((await g.run('k', 'f', async () => ({ status: 202 }))).replayed).toBe(true);
    clock.advance(2);
    expect(await g.run('k', 'f', async () => ({ status: 203 }))).toEqual({ result: { status: 203 }, replayed: false });
  });

  it('refuses a key reused for a different request', async () => {
    const g = guard();
    await g.run('k1', 'cart-1', async () => ({ status: 201 }));
    await expect(g.run('k1', 'cart-2', async () => ({ status: 201 }))).rejects.toBeInstanceOf(IdempotencyConflict);
  });

  it('frees the key after an error or a result not worth keeping (5xx)', async () => {
    const g = guard();
    await expect(g.run('k1', 'f', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect((await g.run('k1', 'f', async () => ({ status: 503 }))).replayed).toBe(false);
    expect((await g.run('k1', 'f', async () => ({ status: 201 }))).replayed).toBe(false);
    expect((await g.run('k1', 'f', async () => ({ status: 500 }))).replayed).toBe(true);
  });
});

describe('KeyedMutex', () => {
  it('serialises holders of one key in arrival order and reports the wait', async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    const first = await m.acquire(['sku-1']);
    expect(first.contended).toBe(0);
    const second = m.acquire(['sku-1']).then((h) => {
      order.push('second');
      return h;
    });
    const third = m.acquire(['sku-1']).then((h) => {
      order.push('third');
      h.release();
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([]);
    expect(m.waiting).toBe(2);
    first.release();
    const h2 = await second;
    expect(h2.contended).toBe(1);
    expect(order).toEqual(['second']);
    h2.release();
    await third;
    expect(order).toEqual(['second', 'third']);
    expect(m.activeKeys).toBe(0);
  });

  it('takes several keys in sorted order, so opposite orders cannot deadlock', async () => {
    const m = new KeyedMutex();
    const runs = await Promise.all([
      m.acquire(['b', 'a']).then(async (h) => { await new Promise((r) => setTimeout(r, 2)); h.release(); return 1; }),
      m.acquire(['a', 'b']).then(async (h) => { await new Promise((r) => setTimeout(r, 2)); h.release(); return 2; }),
    ]);
    expect(runs).toEqual([1, 2]);
    expect(m.activeKeys).toBe(0);
  });

  it('lets other keys through while one is held', async () => {
    const m = new KeyedMutex();
    const held = await m.acquire(['a']);
    const other = await m.acquire(['b']);
    expect(other.contended).toBe(0);
    held.release();
    other.release();
    held.release(); // releasing twice is harmless
    expect(m.activeKeys).toBe(0);
  });
});
