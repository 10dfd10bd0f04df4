import type { Cohort } from '../model/session.js';

/**
 * The values `report/` computes and its renderers format. Renderers compute
 * no statistics: everything they print is in these types.
 */

/** Percentiles the report prints, as keys of {@link RowSummary.percentiles}. */
export type PercentileName = 'p50' | 'p95' | 'p99' | 'p999';

/** The percentile (0–100) each name stands for. */
export const PERCENTILE_OF: Record<PercentileName, number> = { p50: 50, p95: 95, p99: 99, p999: 99.9 };

/**
 * Fewest samples a segment needs before a percentile is printed as a number:
 * roughly ten samples beyond the percentile for the tails (P99 needs 1,000,
 * so its figure rests on ~10 slower requests), a handful for the median.
 */
export const MIN_SAMPLES: Record<PercentileName, number> = { p50: 5, p95: 100, p99: 1_000, p999: 10_000 };

/** One percentile of one row: its value, and whether there were enough samples to trust it. */
export interface PercentileFigure {
  /** µs, or null when the row has no samples at all. */
  us: number | null;
  /** True when the row had at least `MIN_SAMPLES` for this percentile. */
  enough: boolean;
}

/** One row of a view: a merge of the segments that share the view's grouping key. */
export interface RowSummary {
  /** Stable key: `route=GET /x|device=mobile`, `all` for the overall row. */
  key: string;
  /** Human label: `GET /x · device=mobile`. */
  label: string;
  /** Route of the row, or null when the view does not group by route. */
  route: string | null;
  /** Cohort attributes the row is grouped by (only those of the view). */
  cohort: Cohort;
  requests: number;
  /** Requests per second over the run's duration. */
  ratePerSec: number;
  /** Failed requests: no response (status 0) plus 5xx. */
  failed: number;
  /** `failed / requests` × 100. */
  errorPct: number;
  /** Status class differs from the recording, × 100 / requests. */
  mismatchPct: number;
  percentiles: Record<PercentileName, PercentileFigure>;
  maxUs: number;
  /** P99 of send lag (sent − intended), µs: the generator's own lateness. */
  sendLagP99Us: number;
}

/** How a view groups segments: `route`, `cohort` (all attributes) or attribute names. */
export interface ViewSpec {
  /** Display name: `overall`, `route`, `device`, `route × cohort`. */
  name: string;
  byRoute: boolean;
  /** Cohort attribute names to group by; `'*'` means the whole cohort. */
  dimensions: string[] | '*';
}

/** One table of a run summary. */
export interface ViewSummary {
  name: string;
  rows: RowSummary[];
  /** Rows left out by `--top`. */
  omitted: number;
}

/** What a run was: the header of every report. */
export interface RunInfo {
  label: string;
  target: string;
  startedAt: string;
  durationUs: number;
  recordingDigest: string;
  scale: number;
  valid: boolean;
  invalidReasons: string[];
  sendLagP99Us: number;
  unsent: number;
  mergedFrom: number | null;
}

/** `report show`: one run, several views. */
export interface RunSummary {
  run: RunInfo;
  views: ViewSummary[];
}

/** Verdict on one delta between baseline and candidate. */
export type Verdict = 'regression' | 'improvement' | 'unchanged' | 'insufficient';

/** A baseline → candidate change of one figure, with its bootstrap interval. */
export interface Delta {
  /** Baseline and candidate values (µs for percentiles, % for error rate); null when absent. */
  base: number | null;
  cand: number | null;
  /** cand − base. */
  abs: number | null;
  /** (cand − base) / base × 100, or null when base is 0 or absent. */
  relPct: number | null;
  /** 95% interval of `abs`: the noise within runs (block bootstrap) and between runs; null when not computed. */
  ci: [number, number] | null;
  /** The same interval relative to the baseline, % (latency figures only). */
  ciPct?: [number, number] | null;
  /**
   * The row's own change beyond the run-wide shift (the median route's
   * change), with its interval, relative %: rows other than the overall one,
   * when the run has three routes or more with enough samples.
   */
  own?: { relPct: number; ci: [number, number] } | null;
  /** Which change the verdict is on: the total, or the row's own (when the run-wide shift is within run-to-run noise). */
  judged?: 'total' | 'own';
  /** The interval excludes zero. */
  significant: boolean;
  /** The whole interval is past both the relative and the absolute floor (so the change surely is). */
  clearsFloors: boolean;
  verdict: Verdict;
  /** Why the verdict is `insufficient`, or a note. */
  note?: string;
}

/** Figures compared in a diff. */
export type DeltaName = 'p50' | 'p95' | 'p99' | 'errors';

/** One row of a diff view. */
export interface DiffRow {
  key: string;
  label: string;
  route: string | null;
  cohort: Cohort;
  base: RowSummary | null;
  cand: RowSummary | null;
  deltas: Record<DeltaName, Delta>;
}

/** One table of a diff. */
export interface DiffView {
  name: string;
  rows: DiffRow[];
  omitted: number;
}

/** Settings of a diff. */
export interface DiffOptions {
  /** Relative floor, percent (default 5). */
  minRelPct: number;
  /** Absolute floor for latency, µs (default 1000). */
  minAbsUs: number;
  /** Absolute floor for error rate, percentage points (default 0.1). */
  minAbsErrorPts: number;
  resamples: number;
  seed: number;
  /** Confidence level of the intervals (default 0.95). */
  confidence: number;
}

/**
 * Where a diff's noise between runs comes from: `paired` (a paired replay:
 * both sides ran at once, so they share it), `set` (measured on two or more
 * baseline runs), `single` (one baseline: not measured, assumed).
 */
export type NoiseMode = 'paired' | 'set' | 'single';

/** The run-wide shift at one percentile: the median route's change. */
export interface ShiftFigure {
  /** Relative change, %. */
  relPct: number;
  /** Its interval (noise within and between runs), %. */
  ci: [number, number];
  /** Routes it was taken over. */
  routes: number;
  /**
   * The interval holds zero, so the shift may be the environment: route
   * verdicts are on each route's change beyond it. Otherwise it is a real
   * change of every route and stays in their verdicts.
   */
  attributed: boolean;
}

/** `report diff`: baseline run(s) and a candidate, matched views. */
export interface Comparison {
  /** The first baseline run (the only one unless `baselines` holds more). */
  base: RunInfo;
  /** Every baseline run. */
  baselines: RunInfo[];
  cand: RunInfo;
  noise: NoiseMode;
  /** The run-wide shift per percentile, or null when the run has fewer than three routes to take it over. */
  shift: Partial<Record<'p50' | 'p95' | 'p99', ShiftFigure>> | null;
  /** The two runs replayed different recordings (only with `--force`). */
  differentRecordings: boolean;
  options: DiffOptions;
  views: DiffView[];
}
