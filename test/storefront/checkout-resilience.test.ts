import { afterEach, describe, expect, it } from 'vitest';
import { startStorefront } from '../../src/storefront/index.js';
import type { RunningStorefront } from '../../src/storefront/index.js';
import { CALM_PROVIDER, call, cartWith, metric, stockOf } from './helpers.js';

let running: RunningStorefront[] = [];
async function start(profile: 'naive' | 'tuned', faults: string[] = [], realisticProvider = false): Promise<RunningStorefront> {
  const s = await startStorefront({ port: 0, profile, seed: 21, faults, ...(realisticProvider ? {} : { paymentProvider: CALM_PROVIDER }) });
  running.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(running.map((s) => s.close()));
  running = [];
});

describe.each(['naive', 'tuned'] as const)('concurrent checkouts of a hot SKU (%s)', (profile) => {
  it('sell exactly the stock and never drive inventory negative', async () => {
    const s = await start(profile);
    const stock = await stockOf(s, 3); // a limited flash-sale product: 20..60
    const shoppers = stock + 15;
    const carts = await Promise.all(Array.from({ length: shoppers }, () => cartWith(s, [[3, 1]])));
    const results = await Promise.all(carts.map((cartId, i) =>
      call(s, 'POST', '/checkout', { cartId, payment: { token: 'tok_visa' } }, { 'idempotency-key': `hot-${i}` })));
    const statuses = results.map((r) => r.status);
    const sold = statuses.filter((x) => x === 201).length;
    const left = await stockOf(s, 3);
    expect(left).toBeGreaterThanOrEqual(0);
    expect(sold).toBeGreaterThan(0);
    expect(sold).toBe(stock - left); // every order reserved exactly its unit, nothing else did
    expect(await metric(s, 'storefront_orders_total')).toBe(sold);
    // The rest were refused as sold out, or (tuned, shedding a provider overloaded by 60+ concurrent
    // charges) failed fast with their reservation released.
    expect(statuses.every((x) => x === 201 || x === 409 || x >= 500)).toBe(true);
    if (left > 0) expect(statuses.filter((x) => x >= 500).length).toBeGreaterThanOrEqual(left);
    else expect(statuses.filter((x) => x === 409).length).toBeGreaterThan(0);
  });
});

describe('idempotent checkout (tuned)', () => {
  it('reserves once when the same request is retried while the first is in flight and after it is done', async () => {
    const s = await start('tuned');
    const before = await stockOf(s, 5);
    const cartId = await cartWith(s, [[5, 2]]);
    const req = () => call(s, 'POST', '/checkout', { cartId, payment: { token: 'tok_visa' } }, { 'idempotency-key': 'retry-me' });
    const [a, b] = await Promise.all([req(), req()]);
    const c = await req();
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    expect(new Set([a.body.orderId, b.body.orderId, c.body.orderId]).size).toBe(1);
    expect([a, b, c].filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(2);
    expect(await stockOf(s, 5)).toBe(before - 2);
    expect(await metric(s, 'storefront_orders_total')).toBe(1);
    expect(await metric(s, 'storefront_idempotent_replays_total')).toBe(2);
  });

  it('refuses a key reused for another cart (422) and a second checkout of the same cart without a key (409)', async () => {
    const s = await start('tuned');
    const one = await cartWith(s, [[1, 1]]);
    const two = await cartWith(s, [[2, 1]]);
    expect((await call(s, 'POST', '/checkout', { cartId: one, payment: { token: 'tok_visa' } }, { 'idempotency-key': 'k' })).status).toBe(201);
    const conflict = await call(s, 'POST', '/checkout', { cartId: two, payment: { token: 'tok_visa' } }, { 'idempotency-key': 'k' });
    expect(conflict.status).toBe(422);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
    const three = await cartWith(s, [[4, 1]]);
    const [x, y] = await Promise.all([1, 2].map(() => call(s, 'POST', '/checkout', { cartId: three, payment: { token: 'tok_visa' } })));
    expect([x!.status, y!.status].sort()).toEqual([201, 409]);
  });
});

describe('naive checkout under retries (the failure the tuned profile fixes)', () => {
  it('reserves twice when a client retries the same checkout while the first is still in flight', async () => {
    const s = await start('naive', [], true); // ~120 ms payments: the retry lands while the first holds the lock
    const before = await stockOf(s, 9);
    const cartId = await cartWith(s, [[9, 1]]);
    const req = () => call(s, 'POST', '/checkout', { cartId, payment: { token: 'tok_visa' } }, { 'idempotency-key': 'retry-me' });
    const [a, b] = await Promise.all([req(), req()]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.orderId).not.toBe(b.body.orderId);
    expect(await stockOf(s, 9)).toBe(before - 2);
    expect(await metric(s, 'storefront_inventory_lock_waits_total')).toBeGreaterThanOrEqual(1);
  });

  it('calls a failing payment provider 4 times per checkout (3 immediate retries)', async () => {
    const s = await start('naive', ['payment-errors=100%']);
    const cartId = await cartWith(s, [[1, 1]]);
    const r = await call(s, 'POST', '/checkout', { cartId, payment: { token: 'tok_visa' } });
    expect(r.status).toBe(502);
    expect(await metric(s, 'storefront_payment_calls_total{outcome="error"}')).toBe(4);
    expect(await metric(s, 'storefront_payment_retries_total')).toBe(3);
    expect((await call(s, 'GET', '/metrics')).body).not.toMatch(/^storefront_circuit_breaker_state \d/m);
  });
});

describe('payment circuit breaker (tuned)', () => {
  it('opens on provider failures and then answers 503 fast without calling it; closes again once it recovers', async () => {
    const s = await start('tuned', ['payment-errors=100%']);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const cartId = await cartWith(s, [[20 + i, 1]]);
      statuses.push((await call(s, 'POST', '/checkout', { cartId, payment: { token: 'tok_visa' } })).status);
    }
    // 3 attempts per checkout, the breaker opens at 10 failures of 20: the fourth checkout trips it.
    expect(statuses).toEqual([502, 502, 502, 503, 503]);
    expect(await metric(s, 'storefront_circuit_breaker_state')).toBe(1);
    const calls = await metric(s, 'storefront_payment_calls_total{outcome="error"}');
    expect(calls).toBe(10);
    const cartId = await cartWith(s, [[30, 1]]);
    const stock = await stockOf(s, 30);
    const refused = await call(s, 'POST', '/checkout', { cartId, payment: { token: 'tok_visa' } });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('payment_unavailable');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await metric(s, 'storefront_payment_calls_total{outcome="error"}')).toBe(calls); // not called while open
    expect(await stockOf(s, 30)).toBe(stock); // the reservation was released
    expect(await metric(s, 'storefront_rejected_requests_total{reason="breaker_open"}')).toBeGreaterThanOrEqual(3);

    expect((await call(s, 'POST', '/admin/faults', { faults: [] })).body).toEqual({ faults: [] });
    await new Promise((r) => setTimeout(r, 2100)); // the breaker's open period
    expect(await metric(s, 'storefront_circuit_breaker_state')).toBe(2); // half-open
    const ok = await call(s, 'POST', '/checkout', { cartId, payment: { token: 'tok_visa' } });
    expect(ok.status).toBe(201);
    expect(await metric(s, 'storefront_circuit_breaker_state')).toBe(0);
  });
});

describe('search rate limit (tuned)', () => {
  it('lets a burst of 10 searches per visitor through, then answers 429 with Retry-After', async () => {
    const s = await start('tuned');
    const cookie = { cookie: 'vid=visitor-a' };
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await call(s, 'GET', '/search?q=wool', undefined, cookie)).status);
    expect(statuses.slice(0, 10).every((x) => x === 200)).toBe(true);
    const limited = await call(s, 'GET', '/search?q=wool', undefined, cookie);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect((await call(s, 'GET', '/search?q=wool', undefined, { cookie: 'vid=visitor-b' })).status).toBe(200);
    expect(await metric(s, 'storefront_rejected_requests_total{reason="rate_limited"}')).toBeGreaterThanOrEqual(2);
  });

  it('naive has no limiter', async () => {
    const s = await start('naive');
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await call(s, 'GET', '/search?q=wool%20sage', undefined, { cookie: 'vid=v' })).status);
    expect(statuses.every((x) => x === 200)).toBe(true);
  });
});

describe('faults at run time', () => {
  it('POST /admin/faults sets and clears faults; bad specs 400; /metrics lists them', async () => {
    const s = await start('tuned', ['payment-latency=5ms']);
    expect((await call(s, 'GET', '/admin/faults')).body).toEqual({ faults: ['payment-latency=5ms'] });
    const set = await call(s, 'POST', '/admin/faults', { faults: ['cache-down', 'db-slow=1ms'] });
    expect(set.body).toEqual({ faults: ['cache-down', 'db-slow=1ms'] });
    expect((await call(s, 'GET', '/metrics')).body).toContain('storefront_fault_active{fault="cache-down"} 1');
    await call(s, 'GET', '/products/1');
    await call(s, 'GET', '/products/1');
    expect(await metric(s, 'storefront_cache_lookups_total{cache="catalogue",result="bypass"}')).toBe(2);
    const bad = await call(s, 'POST', '/admin/faults', { faults: ['disk-on-fire'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('disk-on-fire');
    expect((await call(s, 'POST', '/admin/faults', { faults: 'cache-down' })).status).toBe(400);
    expect((await call(s, 'POST', '/admin/faults', { faults: [] })).body).toEqual({ faults: [] });
  });

  it('tuned cache coalesces and hits on repeated product pages', async () => {
    const s = await start('tuned');
    await Promise.all(Array.from({ length: 5 }, () => call(s, 'GET', '/products/123')));
    const miss = await metric(s, 'storefront_cache_lookups_total{cache="catalogue",result="miss"}');
    const hit = await metric(s, 'storefront_cache_lookups_total{cache="catalogue",result="hit"}');
    expect(miss).toBe(1);
    expect(hit).toBe(4);
  });
});
