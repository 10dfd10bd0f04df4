import { InputError } from '../model/errors.js';
import type { RunResult } from '../model/run-result.js';
import { fnv1a } from '../model/seeded-random.js';
import { bootstrapDeltas, windowCount, windowTableOf, type BootInterval } from './bootstrap.js';
import { compareRows, runInfo, summarizeGroup } from './summary.js';
import {
  PERCENTILE_OF,
  type Comparison,
  type Delta,
  type DeltaName,
  type DiffOptions,
  type DiffRow,
  type DiffView,
  type RowSummary,
} from './types.js';
import { cohortDimensions, decodeSegments, groupSegments, viewSpecs, type MergedGroup } from './views.js';

/** Defaults of `report diff`: 5% and 1 ms floors, 1,000 resamples, 95% intervals. */
export const DEFAULT_DIFF_OPTIONS: DiffOptions = {
  minRelPct: 5,
  minAbsUs: 1_000,
  minAbsErrorPts: 0.1,
  resamples: 1_000,
  seed: 1,
  confidence: 0.95,
};

/** Fewest non-empty time windows each run needs before a delta gets an interval (fewer blocks make it too narrow). */
export const MIN_WINDOWS = 10;

/** Options of {@link compareRuns}. */
export interface CompareOptions extends Partial<DiffOptions> {
  by?: string;
  top?: number;
  /** Compare runs of different recordings anyway. */
  force?: boolean;
}

const LATENCY: Array<'p50' | 'p95' | 'p99'> = ['p50', 'p95', 'p99'];

/**
 * `report diff`: the views of both runs matched row by row, each P50/P95/P99
 * and error-share delta with a block-bootstrap interval and a verdict.
 * Throws InputError when the runs replayed different recordings, unless `force`.
 */
export function compareRuns(base: RunResult, cand: RunResult, options: CompareOptions = {}): Comparison {
  const opts: DiffOptions = { ...DEFAULT_DIFF_OPTIONS, ...definedOnly(options) };
  const differentRecordings = base.recording.digest !== cand.recording.digest;
  if (differentRecordings && !options.force) {
    throw new InputError(
      `Failed to compare runs: they replayed different recordings (${short(base.recording.digest)} vs ${short(cand.recording.digest)})`,
      { hint: 'compare runs of the same recording, or pass --force if you know why they differ' },
    );
  }
  const db = decodeSegments(base);
  const dc = decodeSegments(cand);
  const views: DiffView[] = viewSpecs(options.by, cohortDimensions(base, cand)).map((spec) => {
    const gb = new Map(groupSegments(db, spec).map((g) => [g.key, g]));
    const gc = new Map(groupSegments(dc, spec).map((g) => [g.key, g]));
    const keys = [...new Set([...gb.keys(), ...gc.keys()])];
    const rows = keys.map((k) => diffRow(gb.get(k) ?? null, gc.get(k) ?? null, base.durationUs, cand.durationUs, opts));
    rows.sort(compareDiffRows);
    const top = options.top ?? rows.length;
    return { name: spec.name, rows: rows.slice(0, top), omitted: Math.max(0, rows.length - top) };
  });
  return { base: runInfo(base), cand: runInfo(cand), differentRecordings, options: opts, views };
}

function definedOnly(o: Partial<DiffOptions>): Partial<DiffOptions> {
  const out: Partial<DiffOptions> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k in DEFAULT_DIFF_OPTIONS) (out as Record<string, unknown>)[k] = v;
  return out;
}

function short(digest: string): string {
  return digest.slice(0, 12);
}

const RANK: Record<string, number> = { regression: 0, improvement: 1, unchanged: 2, insufficient: 3 };

/**
 * Regressions first, then improvements (each by the largest called relative
 * latency change, then the largest called error-share change), then the rest
 * by slowest P99.
 */
function compareDiffRows(a: DiffRow, b: DiffRow): number {
  const worst = (r: DiffRow): number => Math.min(...Object.values(r.deltas).map((d) => RANK[d.verdict]!));
  const wa = worst(a);
  const wb = worst(b);
  if (wa !== wb) return wa - wb;
  if (wa <= 1) {
    // Largest called change first (a figure without a verdict does not count).
    const called = (d: Delta): boolean => d.verdict === 'regression' || d.verdict === 'improvement';
    const size = (r: DiffRow): number => Math.max(0, ...(['p50', 'p95', 'p99'] as const).map((n) => (called(r.deltas[n]) ? Math.abs(r.deltas[n].relPct ?? 0) : 0)));
    const errs = (r: DiffRow): number => (called(r.deltas.errors) ? Math.abs(r.deltas.errors.abs ?? 0) : 0);
    const d = size(b) - size(a) || errs(b) - errs(a);
    if (d !== 0) return d;
  }
  const ra = a.cand ?? a.base;
  const rb = b.cand ?? b.base;
  return compareRows('p99')(ra!, rb!);
}

/** One matched row: summaries and the four deltas. */
export function diffRow(
  gb: MergedGroup | null,
  gc: MergedGroup | null,
  baseDurationUs: number,
  candDurationUs: number,
  opts: DiffOptions,
): DiffRow {
  const any = (gc ?? gb)!;
  const base = gb ? summarizeGroup(gb, baseDurationUs) : null;
  const cand = gc ? summarizeGroup(gc, candDurationUs) : null;
  const deltas = {} as Record<DeltaName, Delta>;
  const missing = !base || !cand ? (base ? 'only in the baseline' : 'only in the candidate') : null;
  const tb = gb ? windowTableOf(gb.windowLists) : null;
  const tc = gc ? windowTableOf(gc.windowLists) : null;
  const fewWindows =
    tb && tc && Math.min(windowCount(tb), windowCount(tc)) < MIN_WINDOWS
      ? `fewer than ${MIN_WINDOWS} time windows with traffic`
      : null;
  const boot =
    tb && tc && !missing && !fewWindows
      ? bootstrapDeltas(tb, tc, {
          percentiles: LATENCY.map((p) => PERCENTILE_OF[p]),
          resamples: opts.resamples,
          seed: (opts.seed ^ fnv1a(any.key)) >>> 0,
          confidence: opts.confidence,
        })
      : null;
  LATENCY.forEach((p, i) => {
    const b = base?.percentiles[p];
    const c = cand?.percentiles[p];
    const note = missing ?? (!b?.enough || !c?.enough ? tooFew(p, base, cand) : fewWindows);
    deltas[p] = judge(b?.us ?? null, c?.us ?? null, note, boot?.percentiles[i] ?? null, opts.minAbsUs, opts.minRelPct);
  });
  // Windows carry failures and (since run.json gained `serverErrors` per
  // window) 5xx; a run written before that cannot carry the error share, so
  // its interval falls back to the two-proportion normal interval (which
  // ignores time dependence).
  const windowed = (g: MergedGroup | null): boolean =>
    !g ||
    g.windowLists.reduce((a, list) => a + list.reduce((x, w) => x + w.errors + (w.serverErrors ?? 0), 0), 0) ===
      g.errors + g.serverErrors;
  let errBoot = boot?.errorPct ?? null;
  let errNote: string | null = missing ?? fewWindows;
  if (boot && base && cand && (!windowed(gb) || !windowed(gc))) {
    errBoot = proportionInterval(base.failed, base.requests, cand.failed, cand.requests, opts.confidence);
    errNote = null;
  }
  deltas.errors = judge(base?.errorPct ?? null, cand?.errorPct ?? null, errNote, errBoot, opts.minAbsErrorPts, opts.minRelPct);
  return { key: any.key, label: any.label, route: any.route, cohort: any.cohort, base, cand, deltas };
}

function tooFew(p: 'p50' | 'p95' | 'p99', base: RowSummary | null, cand: RowSummary | null): string {
  const n = Math.min(base?.requests ?? 0, cand?.requests ?? 0);
  return `too few samples for ${p.toUpperCase()} (n=${n})`;
}

/**
 * The verdict on one delta: a regression or improvement when the interval
 * excludes zero and its near end is past both the absolute and the relative
 * floor. The interval comes from bucketed windows; it is
 * shifted by (exact delta − bucketed delta) so that it sits around the exact
 * figure rather than the ~2%-coarse bucketed one.
 */
export function judge(
  base: number | null,
  cand: number | null,
  note: string | null,
  boot: BootInterval | null,
  minAbs: number,
  minRelPct: number,
): Delta {
  const abs = base !== null && cand !== null ? cand - base : null;
  const relPct = abs !== null && base !== null && base !== 0 ? (abs / base) * 100 : null;
  if (abs === null || note !== null || boot === null) {
    return { base, cand, abs, relPct, ci: null, significant: false, clearsFloors: false, verdict: 'insufficient', ...(note ? { note } : {}) };
  }
  const shift = abs - boot.point;
  const ci: [number, number] = [boot.lo + shift, boot.hi + shift];
  const significant = (abs > 0 && ci[0] > 0) || (abs < 0 && ci[1] < 0);
  // The whole interval must clear the floors, not just the point: "with 95%
  // confidence the change is larger than both floors". Judging only the point
  // calls ~5% of noise-level deltas changes, and a diff judges hundreds.
  const near = abs > 0 ? ci[0] : -ci[1];
  const clearsFloors = near >= minAbs && (base === 0 || (near / Math.abs(base!)) * 100 >= minRelPct);
  const verdict = significant && clearsFloors ? (abs > 0 ? 'regression' : 'improvement') : 'unchanged';
  return { base, cand, abs, relPct, ci, significant, clearsFloors, verdict };
}

/** Normal-approximation interval of the difference of two shares, in % points. */
export function proportionInterval(failedB: number, nB: number, failedC: number, nC: number, confidence: number): BootInterval {
  const pb = nB > 0 ? failedB / nB : 0;
  const pc = nC > 0 ? failedC / nC : 0;
  const se = Math.sqrt((nB > 0 ? (pb * (1 - pb)) / nB : 0) + (nC > 0 ? (pc * (1 - pc)) / nC : 0));
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const d = (pc - pb) * 100;
  return { point: d, lo: d - z * se * 100, hi: d + z * se * 100 };
}

/** Inverse of the standard normal CDF (Abramowitz & Stegun 26.2.23, |error| < 4.5e-4), for 0.5 ≤ p < 1. */
export function normalQuantile(p: number): number {
  const t = Math.sqrt(-2 * Math.log(1 - p));
  return t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
}
