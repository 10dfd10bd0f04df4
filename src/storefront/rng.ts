/**
 * Seeded pseudo-random numbers for the storefront's catalogue, the simulated
 * payment provider and the shoppers. Same seed → same sequence, on every
 * platform (pure 32-bit integer arithmetic).
 */

import { seededRandom } from '../model/seeded-random.js';

/** A seeded generator: `next()` is uniform in [0, 1). */
export interface Rng {
  next(): number;
}

/** Mixes a seed and a stream index into a well-spread 32-bit seed (splitmix32-style). */
export function mixSeed(seed: number, stream: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(stream | 0, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x21f0aaad);
  h = Math.imul(h ^ (h >>> 15), 0x735a2d97);
  return (h ^ (h >>> 15)) >>> 0;
}

/** mulberry32: small, fast and good enough for simulation (not for secrets). */
export function createRng(seed: number): Rng {
  return { next: seededRandom(seed) };
}

/** Uniform integer in [lo, hi] (both inclusive). */
export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng.next() * (hi - lo + 1));
}

/** One element of a non-empty array, uniformly. */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng.next() * items.length)]!;
}

/** Standard normal deviate (Box–Muller). */
export function normal(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1]: log stays finite
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Lognormal deviate with the given median and shape `sigma` (heavier tail as sigma grows). */
export function lognormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(rng));
}

/**
 * A Zipf sampler over ranks 1..n with exponent `s`: rank 1 is the most
 * popular. Precomputes the CDF once (O(n)); each draw is a binary search.
 */
export function createZipf(n: number, s: number): (rng: Rng) => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 1; k <= n; k++) {
    total += 1 / Math.pow(k, s);
    cdf[k - 1] = total;
  }
  for (let i = 0; i < n; i++) cdf[i] = cdf[i]! / total;
  return (rng) => {
    const u = rng.next();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}
