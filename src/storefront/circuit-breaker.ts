/**
 * A circuit breaker with the three classic states. Closed: calls pass, and
 * the outcomes of the last `windowSize` calls are kept; when `failureThreshold`
 * of them failed it opens. Open: calls are refused at once for `openMs`.
 * Half-open: up to `halfOpenMaxCalls` probe calls pass; a probe success closes
 * the breaker, a probe failure opens it again.
 */

/** Breaker state; the metrics gauge encodes it as 0, 1, 2 in this order. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Failures within the window that open the breaker. */
  failureThreshold: number;
  /** How many recent outcomes the closed breaker remembers. */
  windowSize: number;
  /** How long the breaker stays open before letting a probe through, in ms. */
  openMs: number;
  /** Concurrent probe calls allowed while half-open. */
  halfOpenMaxCalls?: number;
  now?: () => number;
  onStateChange?: (from: BreakerState, to: BreakerState) => void;
}

/** Circuit breaker; see the module comment. Call {@link tryAcquire} before a call and report its outcome. */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private outcomes: boolean[] = [];
  private openedAt = 0;
  private probes = 0;
  private readonly opts: Required<Omit<CircuitBreakerOptions, 'onStateChange'>> & Pick<CircuitBreakerOptions, 'onStateChange'>;

  constructor(options: CircuitBreakerOptions) {
    if (!(options.failureThreshold >= 1 && options.failureThreshold <= options.windowSize)) {
      throw new RangeError('failureThreshold must be between 1 and windowSize');
    }
    this.opts = { halfOpenMaxCalls: 1, now: Date.now, ...options };
  }

  /** The state now (an open breaker whose time is up reports half-open). */
  get state(): BreakerState {
    if (this.current === 'open' && this.opts.now() - this.openedAt >= this.opts.openMs) this.transition('half-open');
    return this.current;
  }

  /** ms until an open breaker lets a probe through (0 when not open). */
  retryAfterMs(): number {
    return this.state === 'open' ? Math.max(0, this.openedAt + this.opts.openMs - this.opts.now()) : 0;
  }

  /** True when a call may go ahead now (it then counts as a probe while half-open). */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open') return false;
    if (this.probes >= this.opts.halfOpenMaxCalls) return false;
    this.probes += 1;
    return true;
  }

  /** Reports a successful call. */
  onSuccess(): void {
    if (this.current === 'half-open') {
      this.transition('closed');
      return;
    }
    if (this.current === 'closed') this.remember(true);
  }

  /** Reports a failed call (error or timeout). */
  onFailure(): void {
    if (this.current === 'half-open') {
      this.open();
      return;
    }
    if (this.current !== 'closed') return;
    this.remember(false);
    const failures = this.outcomes.reduce((n, ok) => n + (ok ? 0 : 1), 0);
    if (failures >= this.opts.failureThreshold) this.open();
  }

  private remember(ok: boolean): void {
    this.outcomes.push(ok);
    if (this.outcomes.length > this.opts.windowSize) this.outcomes.shift();
  }

  private open(): void {
    this.openedAt = this.opts.now();
    this.transition('open');
  }

  private transition(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.probes = 0;
    this.outcomes = [];
    this.opts.onStateChange?.(from, to);
  }
}
