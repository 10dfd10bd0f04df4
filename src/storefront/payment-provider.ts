/**
 * A simulated external payment provider. It is an outside dependency, so its
 * latency is an async delay drawn from a seeded distribution: mostly a
 * lognormal around `medianMs`, but a share of calls (`slowShare`) hit its slow
 * path (lognormal around `slowMedianMs`) — variable, not failing. What
 * makes it realistic is that it degrades with its own concurrency: every call
 * in flight slows the others (latency × (1 + inFlight / capacity)) and, past
 * its capacity, it starts failing. Calls the storefront gave up on (timeouts)
 * still run to the end and still load it, so aggressive retries amplify.
 * Charges are idempotent by key: a retried charge never charges twice.
 */
import type { FaultState } from './faults.js';
import type { Rng } from './rng.js';
import { lognormal } from './rng.js';

/** Why a charge failed. `declined` is final; the others may be retried. */
export type PaymentFailure = 'declined' | 'error';

/** A failed charge. */
export class PaymentError extends Error {
  constructor(readonly reason: PaymentFailure, message: string) {
    super(message);
  }
}

/** Options of {@link PaymentProvider}. */
export interface PaymentProviderOptions {
  rng: Rng;
  faults: FaultState;
  /** Median latency when idle, in ms. */
  medianMs?: number;
  /** Lognormal shape (tail heaviness). */
  sigma?: number;
  /** Share of calls that take the slow path. */
  slowShare?: number;
  /** Median latency of the slow path, in ms. */
  slowMedianMs?: number;
  /** Concurrent calls it handles before it starts failing. */
  capacity?: number;
  /** Failure probability when idle. */
  baseErrorRate?: number;
}

/** A charge request. `token: 'tok_decline'` is always declined. */
export interface ChargeRequest {
  amountCents: number;
  token: string;
  idempotencyKey: string;
}

/** Simulated provider; see the module comment. */
export class PaymentProvider {
  private active = 0;
  /** Distinct successful charges (a deduplicated retry does not add one). */
  charges = 0;
  private readonly done = new Map<string, string>();
  private readonly opts: Required<PaymentProviderOptions>;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(options: PaymentProviderOptions) {
    this.opts = { medianMs: 120, sigma: 0.35, slowShare: 0.03, slowMedianMs: 1200, capacity: 12, baseErrorRate: 0.01, ...options };
  }

  /** Calls in flight now, including ones the caller stopped waiting for. */
  get inFlight(): number {
    return this.active;
  }

  /** Charges; resolves with the charge id or rejects with {@link PaymentError}. */
  async charge(req: ChargeRequest): Promise<string> {
    const { rng, faults, capacity } = this.opts;
    this.active += 1;
    try {
      const load = this.active / capacity;
      const slow = rng.next() < this.opts.slowShare;
      const baseMs = slow ? lognormal(rng, this.opts.slowMedianMs, 0.5) : lognormal(rng, this.opts.medianMs, this.opts.sigma);
      const latencyMs = baseMs * (1 + load) + faults.paymentLatencyUs / 1000;
      const overload = Math.min(0.6, Math.max(0, (this.active - capacity) / (capacity * 3)));
      const failing = rng.next() < this.opts.baseErrorRate + overload + faults.paymentErrorRate;
      await this.delay(failing ? latencyMs / 2 : latencyMs);
      if (req.token === 'tok_decline') throw new PaymentError('declined', 'card declined');
      if (failing) throw new PaymentError('error', `provider error (${this.active} calls in flight)`);
      const previous = this.done.get(req.idempotencyKey);
      if (previous) return previous;
      this.charges += 1;
      const id = `ch_${this.charges.toString(36).padStart(6, '0')}`;
      this.done.set(req.idempotencyKey, id);
      return id;
    } finally {
      this.active -= 1;
    }
  }

  /** Cancels the pending delays (server shutdown); their calls fail. */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}
