/**
 * A per-attempt timeout that follows the dependency's observed latency:
 * `factor` × the `quantile` of the last `window` latencies, clamped to
 * [minMs, maxMs]. A short fixed timeout cuts the tail of a provider that is
 * fast but sometimes stalls (a retry gets a fresh, fast answer); following
 * the observations keeps checkout working when the provider is slow for
 * everyone, instead of timing every call out.
 */

/** Options of {@link AdaptiveTimeout} (ms). */
export interface AdaptiveTimeoutOptions {
  minMs: number;
  maxMs: number;
  /** Multiplier on the quantile (default 2). */
  factor?: number;
  /** Which quantile of recent latencies (default 0.9). */
  quantile?: number;
  /** How many recent latencies to keep (default 50). */
  window?: number;
  /** Observations needed before adapting; until then the timeout is `minMs` (default 5). */
  minSamples?: number;
}

/** Adaptive timeout; see the module comment. */
export class AdaptiveTimeout {
  private readonly samples: number[] = [];
  private next = 0;
  private readonly opts: Required<AdaptiveTimeoutOptions>;

  constructor(options: AdaptiveTimeoutOptions) {
    if (!(options.minMs > 0 && options.maxMs >= options.minMs)) throw new RangeError('need 0 < minMs <= maxMs');
    this.opts = { factor: 2, quantile: 0.9, window: 50, minSamples: 5, ...options };
  }

  /** Records how long one call took to be answered (including calls the caller stopped waiting for). */
  observe(latencyMs: number): void {
    if (this.samples.length < this.opts.window) this.samples.push(latencyMs);
    else this.samples[this.next] = latencyMs;
    this.next = (this.next + 1) % this.opts.window;
  }

  /** The timeout to use for the next attempt, in ms. */
  currentMs(): number {
    if (this.samples.length < this.opts.minSamples) return this.opts.minMs;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const q = sorted[Math.min(sorted.length - 1, Math.ceil(this.opts.quantile * sorted.length) - 1)]!;
    return Math.min(this.opts.maxMs, Math.max(this.opts.minMs, Math.round(q * this.opts.factor)));
  }
}
