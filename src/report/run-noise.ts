import type { DeltaName } from './types.js';

/**
 * Run-to-run noise: how much a whole replay's figures move between two runs
 * of the same recording against the same, unchanged target (the machine,
 * its neighbours, the time of day). The block bootstrap sees only the noise
 * within a run; these terms add the noise between runs.
 *
 * With a baseline set (two or more runs) the spread between its runs is
 * measured per row. With a single baseline it cannot be, and the diff
 * assumes the figures below, as the log-scale standard deviation of one
 * run's figure around the target's true one:
 *
 * - `shared`: the part every route shares (a run-wide shift), which is what
 *   a row judged on its total change (the overall row) carries;
 * - `own`: what is left of a route's change once the run-wide shift is
 *   taken out, which is what a route row judged on its own change carries.
 *
 * Calibrated from real replays on a 2-core machine: see docs/report.md,
 * "Run-to-run noise", and `bench/diff-verdicts.mjs`.
 */
export const ASSUMED_RUN_NOISE: Record<'shared' | 'own', Record<Exclude<DeltaName, 'errors'>, number>> = {
  shared: { p50: 0.05, p95: 0.06, p99: 0.08 },
  own: { p50: 0.015, p95: 0.03, p99: 0.05 },
};

/** Sample variance (n − 1 in the denominator); 0 for fewer than two values. */
export function sampleVariance(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  let m = 0;
  for (const x of xs) m += x;
  m /= n;
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return s / (n - 1);
}

/** Median of `xs` (mean of the middle two for an even count); NaN when empty. Does not modify `xs`. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
