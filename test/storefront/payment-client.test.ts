import { describe, expect, it } from 'vitest';
import { AdaptiveTimeout } from '../../src/storefront/adaptive-timeout.js';
import { noFaults } from '../../src/storefront/faults.js';
import { createNaivePaymentClient, createTunedPaymentClient } from '../../src/storefront/payment-client.js';
import { PaymentProvider } from '../../src/storefront/payment-provider.js';
import { createRng } from '../../src/storefront/rng.js';
import { createStorefrontMetrics } from '../../src/storefront/storefront-metrics.js';

const metricsFor = () => createStorefrontMetrics({
  profile: 'test', breakerState: () => null, lockWaiters: () => 0, paymentInFlight: () => 0, faults: () => [], inFlightRequests: () => 0,
});

describe('AdaptiveTimeout', () => {
  it('uses the minimum until it has seen enough answers', () => {
    const t = new AdaptiveTimeout({ minMs: 350, maxMs: 2500 });
    for (let i = 0; i < 4; i++) t.observe(1000);
    expect(t.currentMs()).toBe(350);
    t.observe(1000);
    expect(t.currentMs()).toBe(2000);
  });

  it('follows twice the p90 of recent latencies, clamped to [min, max]', () => {
    const t = new AdaptiveTimeout({ minMs: 100, maxMs: 2500, window: 10 });
    for (let i = 1; i <= 10; i++) t.observe(i * 10); // 10..100 ms: p90 = 90
    expect(t.currentMs()).toBe(180);
    for (let i = 0; i < 10; i++) t.observe(5);
    expect(t.currentMs()).toBe(100);
    for (let i = 0; i < 10; i++) t.observe(5000);
    expect(t.currentMs()).toBe(2500);
  });
});

describe('payment clients against the simulated provider', () => {
  it('tuned: keeps paying a provider that is slow for everyone (the timeout adapts instead of failing every call)', async () => {
    const faults = { ...noFaults(), paymentLatencyUs: 600_000 };
    const provider = new PaymentProvider({ rng: createRng(1), faults, medianMs: 10, slowShare: 0, baseErrorRate: 0 });
    const metrics = metricsFor();
    const client = createTunedPaymentClient(provider, metrics, createRng(2));
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const o = await client.pay({ amountCents: 100, token: 'tok_visa', idempotencyKey: `k${i}` });
      outcomes.push(o.ok ? 'ok' : o.reason);
    }
    expect(outcomes[0]).toBe('timeout'); // 350 ms is too short for a 600 ms provider…
    expect(outcomes.slice(2)).toEqual(['ok', 'ok']); // …until it has seen how slow it is
    expect(client.breakerState()).toBe(0);
    await new Promise((r) => setTimeout(r, 700)); // abandoned attempts still reach the provider…
    expect(provider.charges).toBe(4); // …which charges each key once, however many attempts carried it
  });

  it('tuned: a charge retried after a timeout is not charged twice (same idempotency key)', async () => {
    const faults = { ...noFaults(), paymentLatencyUs: 450_000 };
    const provider = new PaymentProvider({ rng: createRng(1), faults, medianMs: 10, slowShare: 0, baseErrorRate: 0 });
    const client = createTunedPaymentClient(provider, metricsFor(), createRng(2));
    await client.pay({ amountCents: 100, token: 'tok_visa', idempotencyKey: 'same' });
    await new Promise((r) => setTimeout(r, 600)); // let abandoned attempts finish at the provider
    expect(provider.charges).toBe(1);
  });

  it('naive: makes 4 calls for a failing provider, immediately, and reports a failure', async () => {
    const faults = { ...noFaults(), paymentErrorRate: 1 };
    const provider = new PaymentProvider({ rng: createRng(1), faults, medianMs: 5, slowShare: 0, baseErrorRate: 0 });
    const metrics = metricsFor();
    const o = await createNaivePaymentClient(provider, metrics).pay({ amountCents: 100, token: 'tok_visa', idempotencyKey: 'k' });
    expect(o).toEqual({ ok: false, reason: 'failed', retryAfterMs: 0 });
    expect(metrics.paymentCalls.get({ outcome: 'error' })).toBe(4);
    expect(metrics.paymentRetries.get()).toBe(3);
  });

  it('both: a declined card is final, not retried', async () => {
    const provider = new PaymentProvider({ rng: createRng(1), faults: noFaults(), medianMs: 5, slowShare: 0, baseErrorRate: 0 });
    for (const make of [createNaivePaymentClient, (p: PaymentProvider, m: ReturnType<typeof metricsFor>) => createTunedPaymentClient(p, m, createRng(3))]) {
      const metrics = metricsFor();
      const o = await make(provider, metrics).pay({ amountCents: 100, token: 'tok_decline', idempotencyKey: 'd' });
      expect(o.ok).toBe(false);
      expect(o.ok === false && o.reason).toBe('declined');
      expect(metrics.paymentRetries.get()).toBe(0);
    }
  });
});
