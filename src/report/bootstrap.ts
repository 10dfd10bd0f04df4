import { seededRandom } from '../model/seeded-random.js';
import { bucketValueUs } from '../measure/window-buckets.js';
import type { WindowCounts } from '../model/run-result.js';

/**
 * Block bootstrap over time windows. A run's windows are the blocks:
 * requests inside one window share whatever the target was doing then, so
 * resampling windows (not requests) keeps that dependence. Each resample
 * draws as many windows (blocks) as the run has, with replacement, and reads
 * percentiles off the sum of their log-bucket counts (`measure/window-buckets`,
 * ~2.2% wide). Seeded, so a report is reproducible.
 */

/** Most blocks a run is resampled in: longer runs join consecutive windows into one block. */
export const MAX_BLOCKS = 100;

/**
 * A run's windows as blocks of cumulative bucket counts, for fast resampling:
 * the count of requests at or under bucket `minBucket + i` in block `b` is
 * `cum[i * blocks + b]` (blocks adjacent in memory), so a resample's
 * cumulative count at `i` is a weighted sum over blocks, and a percentile is
 * a binary search over `i`.
 */
export interface WindowTable {
  minBucket: number;
  width: number;
  blocks: number;
  counts: Float64Array;
  errors: Float64Array;
  cum: Float64Array;
}

/**
 * Builds the table of a row's windows. Empty windows are dropped (they hold no
 * latency and no errors); runs of more than {@link MAX_BLOCKS} windows are
 * cut into that many blocks of consecutive windows (longer blocks also keep
 * more of the time dependence).
 */
export function windowTable(windows: WindowCounts[], maxBlocks = MAX_BLOCKS): WindowTable {
  return windowTableOf([windows], maxBlocks);
}

/**
 * Like {@link windowTable} for a row merged from several segments: windows
 * of equal index `t` are summed straight into the table, so no merged window
 * list is ever built.
 */
export function windowTableOf(lists: WindowCounts[][], maxBlocks = MAX_BLOCKS): WindowTable {
  const ts = new Set<number>();
  let minBucket = Infinity;
  let maxBucket = -Infinity;
  for (const list of lists) {
    for (const w of list) {
      if (w.count <= 0) continue;
      ts.add(w.t);
      for (const [b] of w.lat) {
        if (b < minBucket) minBucket = b;
        if (b > maxBucket) maxBucket = b;
      }
    }
  }
  if (!Number.isFinite(minBucket)) minBucket = maxBucket = 0;
  const order = [...ts].sort((a, b) => a - b);
  const per = Math.max(1, Math.ceil(order.length / maxBlocks));
  const blockOf = new Map<number, number>();
  order.forEach((t, i) => blockOf.set(t, Math.floor(i / per)));
  const blocks = Math.ceil(order.length / per);
  const width = maxBucket - minBucket + 1;
  const t: WindowTable = {
    minBucket,
    width,
    blocks,
    counts: new Float64Array(blocks),
    errors: new Float64Array(blocks),
    cum: new Float64Array(blocks * width),
  };
  for (const list of lists) {
    for (const w of list) {
      if (w.count <= 0) continue;
      const b = blockOf.get(w.t)!;
      t.counts[b]! += w.count;
      t.errors[b]! += w.errors + (w.serverErrors ?? 0);
      for (const [bucket, c] of w.lat) t.cum[(bucket - minBucket) * blocks + b]! += c;
    }
  }
  for (let i = 1; i < width; i++) {
    for (let b = 0; b < blocks; b++) t.cum[i * blocks + b]! += t.cum[(i - 1) * blocks + b]!;
  }
  return t;
}

/** Number of blocks (non-empty windows, or groups of them) in a table. */
export function windowCount(t: WindowTable): number {
  return t.blocks;
}

/**
 * µs value at percentile `p` (0–100) of the blocks weighted by `weights`
 * (all 1 when null), with HdrHistogram's rank rule
 * (rank = max(1, round(p/100 × total))); NaN when empty. `from` is a bucket
 * index known to be at or below the answer (0 when unknown).
 */
export function tablePercentile(t: WindowTable, weights: Float64Array | null, total: number, p: number, from = 0): number {
  return bucketValueUs(t.minBucket + percentileIndex(t, weights, null, weights === null ? t.blocks : 0, total, p, from));
}

/**
 * Index (into the bucket axis) of percentile `p`. With `nz` (the blocks of
 * non-zero weight, `n` of them) only those blocks are summed.
 */
function percentileIndex(t: WindowTable, weights: Float64Array | null, nz: Int32Array | null, n: number, total: number, p: number, from: number): number {
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

function weighted(xs: Float64Array, weights: Float64Array | null): number {
  let s = 0;
  for (let b = 0; b < xs.length; b++) s += (weights === null ? 1 : weights[b]!) * xs[b]!;
  return s;
}

/** Interval of one figure's cand − base delta, and the point estimate on the same (bucketed) scale. */
export interface BootInterval {
  point: number;
  lo: number;
  hi: number;
}

/** Results of {@link bootstrapDeltas}: one interval per requested percentile, one for error rate (% points). */
export interface BootResult {
  percentiles: BootInterval[];
  errorPct: BootInterval;
}

/**
 * Bootstraps cand − base deltas of the given percentiles (µs) and of the
 * error share (% points). Both tables must be non-empty. `confidence` 0.95
 * gives the 2.5th and 97.5th percentiles of the resampled deltas.
 */
export function bootstrapDeltas(
  base: WindowTable,
  cand: WindowTable,
  options: { percentiles: number[]; resamples: number; seed: number; confidence: number },
): BootResult {
  const ps = options.percentiles;
  const B = options.resamples;
  const deltas = ps.map(() => new Float64Array(B));
  const errDeltas = new Float64Array(B);
  const random = seededRandom(options.seed);
  const wb = new Float64Array(base.blocks);
  const wc = new Float64Array(cand.blocks);
  const nzb = new Int32Array(base.blocks);
  const nzc = new Int32Array(cand.blocks);
  const pointLat: number[] = [];
  const nb0 = weighted(base.counts, null);
  const nc0 = weighted(cand.counts, null);
  let fb = 0;
  let fc = 0;
  for (let i = 0; i < ps.length; i++) {
    // Percentiles ascend, so each search starts where the previous ended.
    fb = percentileIndex(base, null, null, base.blocks, nb0, ps[i]!, fb);
    fc = percentileIndex(cand, null, null, cand.blocks, nc0, ps[i]!, fc);
    pointLat.push(bucketValueUs(cand.minBucket + fc) - bucketValueUs(base.minBucket + fb));
  }
  const pointErr = share(nc0, weighted(cand.errors, null)) - share(nb0, weighted(base.errors, null));
  for (let r = 0; r < B; r++) {
    const kb = draw(wb, nzb, random);
    const kc = draw(wc, nzc, random);
    const nb = weighted(base.counts, wb);
    const nc = weighted(cand.counts, wc);
    fb = 0;
    fc = 0;
    for (let i = 0; i < ps.length; i++) {
      fb = percentileIndex(base, wb, nzb, kb, nb, ps[i]!, fb);
      fc = percentileIndex(cand, wc, nzc, kc, nc, ps[i]!, fc);
      deltas[i]![r] = bucketValueUs(cand.minBucket + fc) - bucketValueUs(base.minBucket + fb);
    }
    errDeltas[r] = share(nc, weighted(cand.errors, wc)) - share(nb, weighted(base.errors, wb));
  }
  const alpha = 1 - options.confidence;
  const interval = (xs: Float64Array, pt: number): BootInterval => {
    xs.sort();
    const lo = xs[Math.min(B - 1, Math.floor((alpha / 2) * B))]!;
    const hi = xs[Math.max(0, Math.ceil((1 - alpha / 2) * B) - 1)]!;
    return { point: pt, lo, hi };
  };
  return {
    percentiles: deltas.map((xs, i) => interval(xs, pointLat[i]!)),
    errorPct: interval(errDeltas, pointErr),
  };
}

function share(count: number, errors: number): number {
  return count > 0 ? (errors / count) * 100 : 0;
}

/** Multiplicities of one resample with replacement (n draws over n blocks); lists the drawn blocks in `nz`, returns how many. */
function draw(weights: Float64Array, nz: Int32Array, random: () => number): number {
  const n = weights.length;
  weights.fill(0);
  for (let i = 0; i < n; i++) weights[Math.floor(random() * n)]! += 1;
  let k = 0;
  for (let b = 0; b < n; b++) if (weights[b]! > 0) nz[k++] = b;
  return k;
}
