/**
 * How the storefront calls the payment provider. Naive: up to 3 immediate
 * retries, no timeout, no breaker (a slow provider holds the checkout as long
 * as it likes; a failing one gets 4× the calls). Tuned: a per-checkout time
 * budget, a per-attempt timeout, retries with exponential backoff and full
 * jitter inside that budget, and a circuit breaker that refuses at once while
 * the provider is known to be down.
 */
import type { BackoffPolicy } from './backoff.js';
import { fullJitterDelayMs } from './backoff.js';
import type { BreakerState } from './circuit-breaker.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { AdaptiveTimeout } from './adaptive-timeout.js';
import type { ChargeRequest, PaymentProvider } from './payment-provider.js';
import { PaymentError } from './payment-provider.js';
import type { Rng } from './rng.js';
import type { StorefrontMetrics } from './storefront-metrics.js';

/** The result of paying for one checkout. */
export type PaymentOutcome =
  | { ok: true; chargeId: string }
  | { ok: false; reason: 'declined' | 'failed' | 'timeout' | 'breaker_open'; retryAfterMs: number };

/** Pays for checkouts. */
export interface PaymentClient {
  pay(req: ChargeRequest): Promise<PaymentOutcome>;
  /** 0 closed, 1 open, 2 half-open; null when there is no breaker. */
  breakerState(): number | null;
}

const STATE_CODE: Record<BreakerState, number> = { closed: 0, open: 1, 'half-open': 2 };

async function attempt(provider: PaymentProvider, req: ChargeRequest, metrics: StorefrontMetrics, onAnswered?: (ms: number) => void): Promise<string> {
  const start = performance.now();
  try {
    const id = await provider.charge(req);
    metrics.paymentCalls.inc({ outcome: 'ok' });
    return id;
  } catch (e) {
    metrics.paymentCalls.inc({ outcome: e instanceof PaymentError && e.reason === 'declined' ? 'declined' : 'error' });
    throw e;
  } finally {
    const ms = performance.now() - start;
    metrics.paymentSeconds.observe(ms / 1000);
    onAnswered?.(ms);
  }
}

/** Naive client: 1 call + 3 immediate retries on any retryable error, waiting as long as it takes. */
export function createNaivePaymentClient(provider: PaymentProvider, metrics: StorefrontMetrics): PaymentClient {
  return {
    breakerState: () => null,
    async pay(req) {
      for (let i = 0; i <= 3; i++) {
        if (i > 0) metrics.paymentRetries.inc();
        try {
          return { ok: true, chargeId: await attempt(provider, req, metrics) };
        } catch (e) {
          if (e instanceof PaymentError && e.reason === 'declined') return { ok: false, reason: 'declined', retryAfterMs: 0 };
        }
      }
      return { ok: false, reason: 'failed', retryAfterMs: 0 };
    },
  };
}

/** Tuning of the tuned client (ms). */
export interface TunedPaymentOptions {
  budgetMs: number;
  /** Per-attempt timeout: at least this… */
  attemptTimeoutMs: number;
  /** …at most this, following 2 × the p90 of recent provider latencies in between. */
  maxAttemptTimeoutMs: number;
  maxAttempts: number;
  backoff: BackoffPolicy;
  breaker: { failureThreshold: number; windowSize: number; openMs: number };
}

/**
 * Defaults: 3 s budget, 350 ms–2.5 s per attempt (adaptive), 3 attempts, backoff 50–400 ms, breaker 10
 * failures of the last 20 calls → open 2 s (a provider failing now and then retries through; one that
 * is down trips it).
 */
export const TUNED_PAYMENT_DEFAULTS: TunedPaymentOptions = {
  budgetMs: 3000,
  attemptTimeoutMs: 350,
  maxAttemptTimeoutMs: 2500,
  maxAttempts: 3,
  backoff: { baseMs: 50, capMs: 400 },
  breaker: { failureThreshold: 10, windowSize: 20, openMs: 2000 },
};

const TIMED_OUT = Symbol('timeout');

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Tuned client: budget, adaptive per-attempt timeout, backoff with full jitter, circuit breaker. */
export function createTunedPaymentClient(
  provider: PaymentProvider, metrics: StorefrontMetrics, rng: Rng, options: TunedPaymentOptions = TUNED_PAYMENT_DEFAULTS,
): PaymentClient {
  const breaker = new CircuitBreaker({
    ...options.breaker,
    onStateChange: (from, to) => metrics.breakerTransitions.inc({ from, to }),
  });
  const timeout = new AdaptiveTimeout({ minMs: options.attemptTimeoutMs, maxMs: options.maxAttemptTimeoutMs });
  const answered = (ms: number) => timeout.observe(ms);
  return {
    breakerState: () => STATE_CODE[breaker.state],
    async pay(req) {
      const deadline = performance.now() + options.budgetMs;
      let lastReason: 'failed' | 'timeout' = 'failed';
      for (let i = 0; i < options.maxAttempts; i++) {
        if (!breaker.tryAcquire()) return { ok: false, reason: 'breaker_open', retryAfterMs: breaker.retryAfterMs() };
        if (i > 0) metrics.paymentRetries.inc();
        const remaining = deadline - performance.now();
        const call = attempt(provider, req, metrics, answered);
        const limitMs = timeout.currentMs();
        metrics.paymentTimeout.set(limitMs / 1000);
        call.catch(() => undefined); // a timed-out call may still fail later; nobody waits for it
        try {
          const result = await withTimeout(call, Math.min(limitMs, Math.max(1, remaining)));
          if (result === TIMED_OUT) {
            metrics.paymentCalls.inc({ outcome: 'timeout' });
            breaker.onFailure();
            lastReason = 'timeout';
          } else {
            breaker.onSuccess();
            return { ok: true, chargeId: result };
          }
        } catch (e) {
          if (e instanceof PaymentError && e.reason === 'declined') {
            breaker.onSuccess(); // the provider answered: it is up
            return { ok: false, reason: 'declined', retryAfterMs: 0 };
          }
          breaker.onFailure();
          lastReason = 'failed';
        }
        const pause = fullJitterDelayMs(i, options.backoff, rng);
        if (i + 1 >= options.maxAttempts || performance.now() + pause >= deadline) break;
        await sleep(pause);
      }
      return { ok: false, reason: lastReason, retryAfterMs: 1000 };
    },
  };
}
