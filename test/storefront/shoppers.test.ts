import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/model/errors.js';
import { planShopper, runShoppers, startStorefront } from '../../src/storefront/index.js';
import { USER_AGENTS } from '../../src/storefront/shoppers/cohorts.js';
import { CookieJar } from '../../src/storefront/shoppers/cookie-jar.js';
import { arrivalTimesMs } from '../../src/storefront/shoppers/run-shoppers.js';

describe('shopper plans', () => {
  it('are the same for the same seed and differ for another seed', () => {
    const a = Array.from({ length: 200 }, (_, i) => planShopper(9, i));
    const b = Array.from({ length: 200 }, (_, i) => planShopper(9, i));
    const c = Array.from({ length: 200 }, (_, i) => planShopper(10, i));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('have the same arrival schedule for the same seed (open-loop Poisson at the rate)', () => {
    const a = arrivalTimesMs(4, 20, 60_000);
    expect(arrivalTimesMs(4, 20, 60_000)).toEqual(a);
    expect(arrivalTimesMs(5, 20, 60_000)).not.toEqual(a);
    expect(a.length).toBeGreaterThan(1100); // ~1200 expected
    expect(a.length).toBeLessThan(1300);
    expect(a.every((t, i) => i === 0 || t > a[i - 1]!)).toBe(true);
  });

  it('mix cohorts like the case studies: ~60% mobile, ~35% desktop, ~5% bots, ~30% signed in, several regions', () => {
    const plans = Array.from({ length: 4000 }, (_, i) => planShopper(1, i));
    const share = (f: (p: (typeof plans)[number]) => boolean) => plans.filter(f).length / plans.length;
    expect(share((p) => p.device === 'mobile')).toBeCloseTo(0.6, 1);
    expect(share((p) => p.device === 'desktop')).toBeCloseTo(0.35, 1);
    expect(share((p) => p.device === 'bot')).toBeCloseTo(0.05, 1);
    const humans = plans.filter((p) => p.device !== 'bot');
    expect(humans.filter((p) => p.signedIn).length / humans.length).toBeCloseTo(0.3, 1);
    expect(new Set(plans.map((p) => p.region)).size).toBeGreaterThanOrEqual(4);
    for (const p of plans) expect(USER_AGENTS[p.device]).toContain(p.userAgent);
  });

  it('follow the funnel, with a few percent checking out and hot products dominating', () => {
    const plans = Array.from({ length: 4000 }, (_, i) => planShopper(1, i));
    const humans = plans.filter((p) => p.device !== 'bot');
    expect(humans.every((p) => p.steps[0]!.kind === 'home')).toBe(true);
    const checkouts = plans.filter((p) => p.steps.some((s) => s.kind === 'checkout')).length / plans.length;
    expect(checkouts).toBeGreaterThan(0.02);
    expect(checkouts).toBeLessThan(0.08);
    expect(plans.filter((p) => p.device === 'bot').every((p) => !p.steps.some((s) => s.kind === 'checkout' || s.kind === 'login'))).toBe(true);
    const views = humans.flatMap((p) => p.steps.flatMap((s) => (s.kind === 'product' ? [s.productId] : [])));
    expect(views.filter((id) => id <= 10).length / views.length).toBeGreaterThan(0.4);
    for (const p of plans) {
      const idx = (k: string) => p.steps.findIndex((s) => s.kind === k);
      if (idx('checkout') >= 0) expect(idx('checkout')).toBeGreaterThan(idx('create-cart'));
      expect(p.steps.every((s) => s.thinkMs >= 0)).toBe(true);
    }
  });

  it('raise conversion with checkoutShare and keep think times lognormal around the median', () => {
    const plans = Array.from({ length: 2000 }, (_, i) => planShopper(2, i, { checkoutShare: 0.5, thinkMs: 100 }));
    const share = plans.filter((p) => p.steps.some((s) => s.kind === 'checkout')).length / plans.length;
    expect(share).toBeCloseTo(0.5 * 0.95, 1);
    const thinks = plans.filter((p) => p.device !== 'bot').flatMap((p) => p.steps.slice(1).map((s) => s.thinkMs)).sort((a, b) => a - b);
    const median = thinks[Math.floor(thinks.length / 2)]!;
    expect(median).toBeGreaterThan(85);
    expect(median).toBeLessThan(115);
  });
});

describe('cookie jar', () => {
  it('keeps cookies from Set-Cookie and sends them back; Max-Age=0 deletes', () => {
    const jar = new CookieJar();
    expect(jar.header()).toBeUndefined();
    jar.store(['vid=abc; Path=/; HttpOnly', 'session=s1; Path=/']);
    expect(jar.header()).toBe('vid=abc; session=s1');
    jar.store('session=; Max-Age=0');
    expect(jar.header()).toBe('vid=abc');
  });
});

describe('runShoppers', () => {
  it('drives the storefront: cohorts in headers, cookies kept, orders placed, bounded by duration', async () => {
    const store = await startStorefront({ port: 0, profile: 'tuned', seed: 3, paymentProvider: { medianMs: 20, slowShare: 0, baseErrorRate: 0 } });
    try {
      const progress: number[] = [];
      const summary = await runShoppers({
        target: store.url, shoppersPerSecond: 20, durationMs: 2500, seed: 5, checkoutShare: 0.5, thinkMs: 20,
        onProgress: (s) => progress.push(s.requests),
      });
      expect(summary.shoppers).toBe(arrivalTimesMs(5, 20, 2500).length);
      expect(summary.requests).toBeGreaterThan(summary.shoppers);
      expect(summary.orders).toBeGreaterThan(0);
      expect(summary.byStatus['error']).toBeUndefined(); // no transport errors
      // 5xx can only come from checkout (a payment timeout when the machine stalls); every other route answered.
      for (const [route, r] of Object.entries(summary.byRoute)) if (route !== 'POST /checkout') expect(r.errors).toBe(0);
      expect(summary.byRoute['GET /']!.requests).toBeGreaterThan(0);
      expect(summary.byRoute['POST /checkout']!.requests).toBeGreaterThanOrEqual(summary.orders);
      expect(summary.byStatus['201']).toBeGreaterThan(0);
      expect(summary.elapsedMs).toBeLessThan(2500 + 5000 + 1000); // duration + grace, at most
      expect(progress.length).toBeGreaterThan(0);
      const metrics = await (await fetch(`${store.url}/metrics`)).text();
      expect(metrics).toMatch(/storefront_requests_total\{route="POST \/login",status="200"\} [1-9]/);
      expect(metrics).toMatch(/storefront_orders_total [1-9]/);
    } finally {
      await store.close();
    }
  });

  it('sends real user agents, x-region and the cookies the server set', async () => {
    const seen: Array<{ ua: string; region: string; cookie: string; url: string }> = [];
    const server = createServer((req, res) => {
      seen.push({ ua: String(req.headers['user-agent']), region: String(req.headers['x-region']), cookie: String(req.headers.cookie ?? ''), url: req.url ?? '' });
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'vid=v1; Path=/' });
      res.end(req.url === '/cart' ? '{"cartId":"c1"}' : '{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      await runShoppers({ target: `http://127.0.0.1:${port}`, shoppersPerSecond: 10, durationMs: 1500, seed: 1, thinkMs: 10 });
      expect(seen.length).toBeGreaterThan(5);
      expect(seen.every((r) => r.region.length > 0 && /Mozilla\/5\.0/.test(r.ua))).toBe(true);
      expect(seen.some((r) => r.cookie.includes('vid=v1'))).toBe(true); // later requests of a session carry it
    } finally {
      server.close();
    }
  });

  it('counts transport errors (status 0) instead of throwing when nothing listens', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const summary = await runShoppers({ target: `http://127.0.0.1:${port}`, shoppersPerSecond: 5, durationMs: 800, seed: 1, thinkMs: 10 });
    expect(summary.requests).toBeGreaterThan(0);
    expect(summary.byStatus['error']).toBe(summary.requests);
    expect(summary.errors).toBe(summary.requests);
  });

  it('with arrivalMs, shoppers arrive only in that window and every one finishes before durationMs', async () => {
    const store = await startStorefront({ port: 0, profile: 'tuned', seed: 3, paymentProvider: { medianMs: 20, slowShare: 0, baseErrorRate: 0 } });
    try {
      const summary = await runShoppers({
        target: store.url, shoppersPerSecond: 10, durationMs: 60_000, arrivalMs: 1000, seed: 2, checkoutShare: 0.5, thinkMs: 10,
      });
      expect(summary.shoppers).toBe(arrivalTimesMs(2, 10, 1000).length);
      expect(summary.shoppers).toBeGreaterThan(0);
      expect(summary.completedShoppers).toBe(summary.shoppers); // nobody cut short by the end of the run
    } finally {
      await store.close();
    }
  });

  it.each([
    [{ target: 'not a url' }, '--target'],
    [{ target: 'ftp://x' }, '--target'],
    [{ shoppersPerSecond: 0 }, '--shoppers-per-second'],
    [{ durationMs: -1 }, '--duration'],
    [{ seed: 1.5 }, '--seed'],
    [{ arrivalMs: 200 }, '--arrive-for'],
  ])('rejects bad options %j with a usage error', async (bad, flag) => {
    const opts = { target: 'http://127.0.0.1:9', shoppersPerSecond: 1, durationMs: 100, seed: 1, ...bad };
    await expect(runShoppers(opts)).rejects.toThrow(UsageError);
    await expect(runShoppers(opts)).rejects.toThrow(flag);
  });
});
