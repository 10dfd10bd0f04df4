import { seededRandom } from '../model/seeded-random.js';
import { BUCKETS_PER_OCTAVE, bucketValueUs } from '../measure/window-buckets.js';
import type { WindowCounts } from '../model/run-result.js';

/**
 * Block bootstrap over time windows. A run's windows are cut into blocks of
 * consecutive windows: requests inside one block share whatever the target
 * was doing then, so resampling blocks (not requests) keeps that dependence.
 * Each resample draws as many blocks as a run has, with replacement, and
 * reads percentiles off the sum of their log-bucket counts
 * (`measure/window-buckets`, ~2.2% wide), interpolated within the bucket
 * (see {@link interpolatedLog}). Seeded, so a report is reproducible.
 */

/** Most blocks a run is cut into: longer runs get longer blocks. */
export const MAX_BLOCKS = 100;

/** Fewest blocks for a plain percentile interval; fewer get a small-sample widening (see {@link widening}). */
export const MIN_BLOCKS = 20;

/** Fewest blocks a run needs for any interval at all. */
export const MIN_JUDGED_BLOCKS = 5;

/**
 * How a run's time axis is cut into blocks. Block length is the larger of
 * what the traffic's own autocorrelation needs (the first lag at which the
 * windows' mean log latency is no longer correlated, see {@link acfLength})
 * and what keeps the run at {@link MAX_BLOCKS} blocks.
 */
export interface BlockAxis {
  /** Block index of each window index `t` that has traffic. */
  blockOf: Map<number, number>;
  blocks: number;
  /** Windows per block (the last block may hold fewer). */
  length: number;
  /** Windows with traffic. */
  windows: number;
  /** Block length the autocorrelation asked for, in windows. */
  acfLength: number;
}

/** Window lists of one run (one list per segment), summed by window into a level series for the autocorrelation. */
export function blockAxis(lists: readonly WindowCounts[][], maxBlocks = MAX_BLOCKS): BlockAxis {
  const sum = new Map<number, { n: number; s: number }>();
  for (const list of lists) {
    for (const w of list) {
      if (w.count <= 0) continue;
      let a = sum.get(w.t);
      if (!a) sum.set(w.t, (a = { n: 0, s: 0 }));
      for (const [b, c] of w.lat) {
        a.n += c;
        a.s += b * c;
      }
    }
  }
  const order = [...sum.keys()].sort((a, b) => a - b);
  const series = order.map((t) => {
    const a = sum.get(t)!;
    return a.n > 0 ? a.s / a.n : 0;
  });
  const n = order.length;
  const fromAcf = acfLength(series);
  const length = Math.max(1, fromAcf, Math.ceil(n / maxBlocks));
  const blockOf = new Map<number, number>();
  order.forEach((t, i) => blockOf.set(t, Math.floor(i / length)));
  return { blockOf, blocks: Math.ceil(n / length), length, windows: n, acfLength: fromAcf };
}

/**
 * Block length, in windows, that the autocorrelation of `series` asks for:
 * the first lag whose sample autocorrelation falls below 2/√n (the usual
 * bound for "no correlation left"), at most n/8 so that a run whose latency
 * drifts from start to end still gets eight blocks.
 */
export function acfLength(series: readonly number[]): number {
  const n = series.length;
  if (n < 4) return 1;
  let mean = 0;
  for (const x of series) mean += x;
  mean /= n;
  let v = 0;
  for (const x of series) v += (x - mean) ** 2;
  if (v === 0) return 1;
  const bound = 2 / Math.sqrt(n);
  const cap = Math.max(1, Math.floor(n / 8));
  for (let lag = 1; lag <= cap; lag++) {
    let c = 0;
    for (let i = 0; i + lag < n; i++) c += (series[i]! - mean) * (series[i + lag]! - mean);
    if (c / v < bound) return lag;
  }
  return cap;
}

/**
 * Factor by which a bootstrap interval from `blocks` blocks is widened: the
 * bootstrap of a mean from n blocks is too narrow by √((n−1)/n) and a
 * normal quantile where Student's t with n−1 degrees of freedom belongs.
 * 1 from {@link MIN_BLOCKS} blocks on (the run is long enough).
 */
export function widening(blocks: number, confidence: number): number {
  if (blocks >= MIN_BLOCKS) return 1;
  const p = 1 - (1 - confidence) / 2;
  return (tQuantile(p, blocks - 1) / normalQuantile(p)) * Math.sqrt(blocks / (blocks - 1));
}

/** Inverse of the standard normal CDF (Abramowitz & Stegun 26.2.23, |error| < 4.5e-4), for 0.5 ≤ p < 1. */
export function normalQuantile(p: number): number {
  const t = Math.sqrt(-2 * Math.log(1 - p));
  return t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
}

/**
 * Quantile of Student's t with `df` degrees of freedom, for 0.5 ≤ p < 1:
 * exact for 1 and 2, the Cornish–Fisher expansion from the normal quantile
 * beyond (within 1% from 3 on).
 */
export function tQuantile(p: number, df: number): number {
  if (df <= 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const z = normalQuantile(p);
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3)
  );
}

/**
 * One side's windows as blocks of cumulative bucket counts, for fast
 * resampling: the count of requests at or under bucket `minBucket + i` in
 * block `b` is `cum[i * blocks + b]` (blocks adjacent in memory), so a
 * resample's cumulative count at `i` is a weighted sum over blocks, and a
 * percentile is a binary search over `i`.
 */
export interface WindowTable {
  minBucket: number;
  width: number;
  blocks: number;
  counts: Float64Array;
  errors: Float64Array;
  cum: Float64Array;
}

/** The windows of one run going into a table: the row's segment windows, the run's axis, and where its blocks start. */
export interface TablePart {
  lists: readonly WindowCounts[][];
  axis: BlockAxis;
  offset: number;
}

/**
 * Builds the table of one row on one side (one run, or a baseline set: one
 * part per run, blocks laid end to end). Windows of equal index `t` in a
 * run land in the same block, so no merged window list is ever built.
 */
export function tableOf(parts: readonly TablePart[], blocks: number): WindowTable {
  let minBucket = Infinity;
  let maxBucket = -Infinity;
  for (const part of parts) {
    for (const list of part.lists) {
      for (const w of list) {
        if (w.count <= 0) continue;
        for (const [b] of w.lat) {
          if (b < minBucket) minBucket = b;
          if (b > maxBucket) maxBucket = b;
        }
      }
    }
  }
  if (!Number.isFinite(minBucket)) minBucket = maxBucket = 0;
  const width = maxBucket - minBucket + 1;
  const t: WindowTable = {
    minBucket,
    width,
    blocks,
    counts: new Float64Array(blocks),
    errors: new Float64Array(blocks),
    cum: new Float64Array(blocks * width),
  };
  for (const part of parts) {
    for (const list of part.lists) {
      for (const w of list) {
        if (w.count <= 0) continue;
        const b = part.offset + part.axis.blockOf.get(w.t)!;
        t.counts[b]! += w.count;
        t.errors[b]! += w.errors + (w.serverErrors ?? 0);
        for (const [bucket, c] of w.lat) t.cum[(bucket - minBucket) * blocks + b]! += c;
      }
    }
  }
  for (let i = 1; i < width; i++) {
    for (let b = 0; b < blocks; b++) t.cum[i * blocks + b]! += t.cum[(i - 1) * blocks + b]!;
  }
  return t;
}

/** Table of one run's windows (one list per segment) on its own axis. */
export function windowTable(windows: WindowCounts[], maxBlocks = MAX_BLOCKS): WindowTable {
  const axis = blockAxis([windows], maxBlocks);
  return tableOf([{ lists: [windows], axis, offset: 0 }], axis.blocks);
}

/**
 * µs value at percentile `p` (0–100) of the blocks weighted by `weights`
 * (all 1 when null), with HdrHistogram's rank rule
 * (rank = max(1, round(p/100 × total))); NaN when empty.
 */
export function tablePercentile(t: WindowTable, weights: Float64Array | null, total: number, p: number): number {
  return bucketValueUs(t.minBucket + percentileIndex(t, weights, null, weights === null ? t.blocks : 0, total, p, 0));
}

/**
 * Index (into the bucket axis) of percentile `p`. With `nz` (the blocks of
 * non-zero weight, `n` of them) only those blocks are summed. `from` is an
 * index known to be at or below the answer (0 when unknown).
 */
export function percentileIndex(t: WindowTable, weights: Float64Array | null, nz: Int32Array | null, n: number, total: number, p: number, from: number): number {
  if (total <= 0) return NaN;
  const rank = Math.max(1, Math.floor((p / 100) * total + 0.5));
  const blocks = t.blocks;
  const cum = t.cum;
  let lo = from;
  let hi = t.width - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const row = mid * blocks;
    let c = 0;
    if (nz === null) {
      for (let b = 0; b < blocks; b++) c += (weights === null ? 1 : weights[b]!) * cum[row + b]!;
    } else {
      for (let k = 0; k < n; k++) {
        const b = nz[k]!;
        c += weights![b]! * cum[row + b]!;
      }
    }
    if (c >= rank) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Sum of `xs` weighted by `weights` (all 1 when null). */
export function weighted(xs: Float64Array, weights: Float64Array | null): number {
  let s = 0;
  for (let b = 0; b < xs.length; b++) s += (weights === null ? 1 : weights[b]!) * xs[b]!;
  return s;
}

/** A side's blocks by run: run `i` owns blocks `offset .. offset + blocks - 1`. */
export interface Stratum {
  offset: number;
  blocks: number;
}

/** A resample's block multiplicities and the blocks drawn at least once. */
export interface Draw {
  weights: Float64Array;
  nz: Int32Array;
  n: number;
}

/** An empty draw over `blocks` blocks. */
export function newDraw(blocks: number): Draw {
  return { weights: new Float64Array(blocks), nz: new Int32Array(blocks), n: 0 };
}

/**
 * Draws one resample with replacement within each stratum (each run of a
 * baseline set keeps its number of blocks, so a noisy run cannot crowd out
 * a quiet one) and lists the drawn blocks.
 */
export function drawStrata(d: Draw, strata: readonly Stratum[], random: () => number): void {
  d.weights.fill(0);
  for (const s of strata) {
    for (let i = 0; i < s.blocks; i++) d.weights[s.offset + Math.floor(random() * s.blocks)]! += 1;
  }
  let k = 0;
  for (let b = 0; b < d.weights.length; b++) if (d.weights[b]! > 0) d.nz[k++] = b;
  d.n = k;
}

/** The seeded generator of a diff's resamples. */
export function resampler(seed: number): () => number {
  return seededRandom(seed);
}

/** µs at percentile `p` of a table under a draw (`from`: a bucket index at or below the answer). */
export function drawnIndex(t: WindowTable, d: Draw, total: number, p: number, from: number): number {
  return percentileIndex(t, d.weights, d.nz, d.n, total, p, from);
}

/** Interval of one figure's cand − base delta, and the point estimate on the same (bucketed) scale. */
export interface BootInterval {
  point: number;
  lo: number;
  hi: number;
}

/** The `alpha/2` and `1 − alpha/2` quantiles of `xs` (sorted in place). */
export function quantileInterval(xs: Float64Array, confidence: number, point: number): BootInterval {
  const B = xs.length;
  const alpha = 1 - confidence;
  xs.sort();
  const lo = xs[Math.min(B - 1, Math.floor((alpha / 2) * B))]!;
  const hi = xs[Math.max(0, Math.ceil((1 - alpha / 2) * B) - 1)]!;
  return { point, lo, hi };
}

/** Requests at or under bucket index `i` of the blocks weighted by `weights` (all 1 when null; `nz`/`n` as in {@link percentileIndex}). */
function cumAt(t: WindowTable, weights: Float64Array | null, nz: Int32Array | null, n: number, i: number): number {
  if (i < 0) return 0;
  const row = i * t.blocks;
  let c = 0;
  if (nz === null) {
    for (let b = 0; b < t.blocks; b++) c += (weights === null ? 1 : weights[b]!) * t.cum[row + b]!;
  } else {
    for (let k = 0; k < n; k++) {
      const b = nz[k]!;
      c += weights![b]! * t.cum[row + b]!;
    }
  }
  return c;
}

/**
 * ln(µs) at percentile `p` of the blocks weighted by `weights`, read off
 * bucket index `i` (from {@link percentileIndex}) by interpolating the rank
 * within the bucket on the log scale: the rank's position among the
 * bucket's requests places it between the bucket's edges. Without it every
 * resampled percentile lands on a bucket's middle, and an interval of a few
 * percent comes out in whole 2.2% steps (one bucket either way widens it by
 * a bucket); with it the resampled figure moves smoothly with the draw.
 */
export function interpolatedLog(t: WindowTable, weights: Float64Array | null, nz: Int32Array | null, n: number, total: number, p: number, i: number): number {
  const rank = Math.max(1, Math.floor((p / 100) * total + 0.5));
  const below = cumAt(t, weights, nz, n, i - 1);
  const inBucket = cumAt(t, weights, nz, n, i) - below;
  const frac = inBucket > 0 ? Math.min(1, Math.max(0, (rank - below - 0.5) / inBucket)) : 0.5;
  return ((t.minBucket + i + frac) / BUCKETS_PER_OCTAVE) * Math.LN2;
}

/** Bucket value of an index on a table's axis. */
export function indexUs(t: WindowTable, i: number): number {
  return bucketValueUs(t.minBucket + i);
}
