import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront } from '../../src/storefront/index.js';
import type { RunningStorefront } from '../../src/storefront/index.js';
import { CALM_PROVIDER, call, cartWith, metric } from './helpers.js';

describe.each(['naive', 'tuned'] as const)('storefront endpoints (%s)', (profile) => {
  let s: RunningStorefront;
  beforeAll(async () => {
    s = await startStorefront({ port: 0, profile, seed: 11, paymentProvider: CALM_PROVIDER });
  });
  afterAll(async () => {
    await s.close();
  });

  it('GET / lists categories and featured products with prices, and sets a visitor cookie', async () => {
    const r = await call(s, 'GET', '/');
    expect(r.status).toBe(200);
    expect(r.body.categories.length).toBeGreaterThanOrEqual(20);
    expect(r.body.featured.length).toBeGreaterThan(5);
    expect(r.body.featured[0]).toMatchObject({ id: 1, sku: 'SKU-000001' });
    expect(r.body.featured[0].priceCents).toBeGreaterThan(0);
    expect(r.headers.get('set-cookie')).toMatch(/^vid=[\w-]+; Path=\//);
  });

  it('GET /products pages by category; unknown category 404, bad page 400', async () => {
    const r = await call(s, 'GET', '/products?category=shoes&page=2&size=5');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ page: 2, size: 5 });
    expect(r.body.products).toHaveLength(5);
    expect(r.body.products.every((p: { category: string }) => p.category === 'shoes')).toBe(true);
    expect((await call(s, 'GET', '/products?category=spaceships')).status).toBe(404);
    const bad = await call(s, 'GET', '/products?page=zero');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('page');
  });

  it(`GET /products page size: default 20, ${profile === 'tuned' ? 'capped at 48' : 'unbounded'}`, async () => {
    expect((await call(s, 'GET', '/products')).body.products).toHaveLength(20);
    const big = await call(s, 'GET', '/products?size=500');
    expect(big.body.products).toHaveLength(profile === 'tuned' ? 48 : 500);
  });

  it('GET /products/:id shows a product with stock and related products; 404 unknown, 400 not a number', async () => {
    const r = await call(s, 'GET', '/products/42');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: 42, sku: 'SKU-000042' });
    expect(r.body.related).toHaveLength(4);
    expect(typeof r.body.stock).toBe('number');
    expect((await call(s, 'GET', '/products/999999')).status).toBe(404);
    expect((await call(s, 'GET', '/products/abc')).body.error).toMatchObject({ code: 'bad_request' });
  });

  it('GET /search finds products by words; q is required', async () => {
    const r = await call(s, 'GET', '/search?q=cotton%20navy');
    expect(r.status).toBe(200);
    expect(r.body.total).toBeGreaterThan(0);
    expect(r.body.products.every((p: { name: string }) => p.name.includes('cotton') && p.name.includes('navy'))).toBe(true);
    expect((await call(s, 'GET', '/search')).status).toBe(400);
    expect((await call(s, 'GET', `/search?q=${'x'.repeat(101)}`)).status).toBe(400);
  });

  it('cart: create, add, view, remove; bad input 400, unknown ids 404, too many 400', async () => {
    const created = await call(s, 'POST', '/cart');
    expect(created.status).toBe(201);
    const id = created.body.cartId as string;
    const added = await call(s, 'POST', `/cart/${id}/items`, { productId: 10, qty: 2 });
    expect(added.status).toBe(200);
    expect(added.body.lines).toEqual([expect.objectContaining({ productId: 10, qty: 2 })]);
    expect(added.body.totalCents).toBe(added.body.lines[0].unitCents * 2);
    await call(s, 'POST', `/cart/${id}/items`, { productId: 11 });
    const view = await call(s, 'GET', `/cart/${id}`);
    expect(view.body.lines.map((l: { productId: number }) => l.productId)).toEqual([10, 11]);
    const removed = await call(s, 'DELETE', `/cart/${id}/items/11`);
    expect(removed.body.lines).toHaveLength(1);

    expect((await call(s, 'DELETE', `/cart/${id}/items/11`)).status).toBe(404);
    expect((await call(s, 'GET', '/cart/no-such-cart')).status).toBe(404);
    expect((await call(s, 'POST', '/cart/no-such-cart/items', { productId: 1 })).status).toBe(404);
    expect((await call(s, 'POST', `/cart/${id}/items`, { productId: 999_999 })).status).toBe(404);
    expect((await call(s, 'POST', `/cart/${id}/items`, { productId: 'ten' })).status).toBe(400);
    expect((await call(s, 'POST', `/cart/${id}/items`, { productId: 10, qty: 0 })).status).toBe(400);
    expect((await call(s, 'POST', `/cart/${id}/items`, '{not json')).body.error.message).toContain('not valid JSON');
    expect((await call(s, 'POST', `/cart/${id}/items`, [1, 2])).status).toBe(400);

    // At most 20 of one product per cart (2 are in already).
    const tooMany = await call(s, 'POST', `/cart/${id}/items`, { productId: 10, qty: 19 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toContain('at most 20');
  });

  it('409 for adding a product that is out of stock', async () => {
    // Find a product the seed left at zero stock (about 2% of them).
    let soldOutId = 0;
    for (let page = 1; page <= 20 && soldOutId === 0; page++) {
      const r = await call(s, 'GET', `/products?page=${page}&size=48`);
      soldOutId = r.body.products.find((p: { inStock: boolean }) => !p.inStock)?.id ?? 0;
    }
    expect(soldOutId).toBeGreaterThan(0);
    const id = (await call(s, 'POST', '/cart')).body.cartId;
    const r = await call(s, 'POST', `/cart/${id}/items`, { productId: soldOutId });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('sold_out');
  });

  it('checkout creates an order; GET /orders/:id shows it; bad input 400; unknown cart/order 404; checked-out cart 409', async () => {
    const cartId = await cartWith(s, [[20, 1], [21, 2]]);
    const r = await call(s, 'POST', '/checkout', { cartId, payment: { token: 'tok_visa' } }, { 'idempotency-key': `ok-${profile}` });
    expect(r.status).toBe(201);
    expect(r.body.status).toBe('paid');
    const order = await call(s, 'GET', `/orders/${r.body.orderId}`);
    expect(order.status).toBe(200);
    expect(order.body).toMatchObject({ orderId: r.body.orderId, cartId, totalCents: r.body.totalCents });
    expect(order.body.lines).toHaveLength(2);
    expect((await call(s, 'GET', `/cart/${cartId}`)).body.status).toBe('checked_out');
    expect((await call(s, 'POST', '/checkout', { cartId, payment: { token: 'tok_visa' } })).status).toBe(409);
    expect((await call(s, 'POST', `/cart/${cartId}/items`, { productId: 22 })).status).toBe(409);

    expect((await call(s, 'POST', '/checkout', { payment: { token: 'tok_visa' } })).status).toBe(400);
    expect((await call(s, 'POST', '/checkout', { cartId })).status).toBe(400);
    expect((await call(s, 'POST', '/checkout', { cartId, payment: { token: 'tok_visa' } }, { 'idempotency-key': 'bad key with spaces' })).status).toBe(400);
    expect((await call(s, 'POST', '/checkout', { cartId: 'nope', payment: { token: 'tok_visa' } })).status).toBe(404);
    const empty = (await call(s, 'POST', '/cart')).body.cartId;
    expect((await call(s, 'POST', '/checkout', { cartId: empty, payment: { token: 'tok_visa' } })).status).toBe(400);
    expect((await call(s, 'GET', '/orders/nope')).status).toBe(404);
  });

  it('checkout with a declined card answers 402 and leaves stock and cart as they were', async () => {
    const before = (await call(s, 'GET', '/products/30')).body.stock;
    const cartId = await cartWith(s, [[30, 1]]);
    const r = await call(s, 'POST', '/checkout', { cartId, payment: { token: 'tok_decline' } });
    expect(r.status).toBe(402);
    expect((await call(s, 'GET', '/products/30')).body.stock).toBe(before);
    expect((await call(s, 'GET', `/cart/${cartId}`)).body.status).toBe('open');
  });

  it('checkout of a sold-out product answers 409', async () => {
    const stock = (await call(s, 'GET', '/products/7')).body.stock as number;
    const a = await cartWith(s, [[7, Math.min(20, stock)]]);
    const b = await cartWith(s, [[7, 1]]);
    let left = stock;
    // Drain product 7 through checkouts of up to 20 at a time.
    let cart = a;
    while (left > 0) {
      const r = await call(s, 'POST', '/checkout', { cartId: cart, payment: { token: 'tok_visa' } });
      expect(r.status).toBe(201);
      left -= Math.min(20, left);
      if (left > 0) cart = await cartWith(s, [[7, Math.min(20, left)]]);
    }
    const r = await call(s, 'POST', '/checkout', { cartId: b, payment: { token: 'tok_visa' } });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('sold_out');
  });

  it('POST /login sets a session cookie; bad credentials shape 400', async () => {
    const r = await call(s, 'POST', '/login', { email: 'ada@example.com', password: 'x' });
    expect(r.status).toBe(200);
    expect(r.body.user.email).toBe('ada@example.com');
    expect(r.headers.getSetCookie().some((c) => c.startsWith('auth_session='))).toBe(true);
    expect((await call(s, 'POST', '/login', { email: 'not-an-address', password: 'x' })).status).toBe(400);
    expect((await call(s, 'POST', '/login', { email: 'ada@example.com' })).status).toBe(400);
  });

  it('GET /healthz, unknown routes 404, wrong methods 405 with Allow', async () => {
    expect((await call(s, 'GET', '/healthz')).body).toEqual({ status: 'ok', profile });
    expect((await call(s, 'GET', '/nowhere')).status).toBe(404);
    const r = await call(s, 'PUT', '/cart');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
  });

  it('GET /metrics speaks Prometheus text with per-route counts, latency histograms and the reasons', async () => {
    await call(s, 'GET', '/products/5');
    const r = await call(s, 'GET', '/metrics');
    expect(r.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = r.body as string;
    expect(text).toMatch(/storefront_requests_total\{route="GET \/products\/:id",status="200"\} \d+/);
    expect(text).toMatch(/storefront_request_duration_seconds_bucket\{route="GET \/products\/:id",le="0.1"\} \d+/);
    expect(text).toContain(`storefront_profile_info{profile="${profile}"} 1`);
    for (const name of ['db_queries_total', 'db_queries_per_request', 'cache_lookups_total', 'inventory_lock_waits_total',
      'payment_calls_total', 'payment_retries_total', 'payment_failures_total', 'rejected_requests_total']) {
      expect(text).toContain(`# TYPE storefront_${name}`);
    }
    expect(text.includes('storefront_circuit_breaker_state 0')).toBe(profile === 'tuned');
  });

  it('counts more queries per product page in naive (N+1) than tuned (batched, cached)', async () => {
    const before = await metric(s, 'storefront_db_queries_total{route="GET /products/:id"}');
    await call(s, 'GET', '/products/77');
    await call(s, 'GET', '/products/77');
    const used = (await metric(s, 'storefront_db_queries_total{route="GET /products/:id"}')) - before;
    if (profile === 'naive') expect(used).toBeGreaterThan(40);
    else expect(used).toBeLessThanOrEqual(3);
  });
});
