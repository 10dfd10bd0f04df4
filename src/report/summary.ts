import type { RunResult } from '../model/run-result.js';
import { UsageError } from '../model/errors.js';
import {
  MIN_SAMPLES,
  PERCENTILE_OF,
  type PercentileFigure,
  type PercentileName,
  type RowSummary,
  type RunInfo,
  type RunSummary,
  type ViewSummary,
} from './types.js';
import { cohortDimensions, decodeSegments, groupSegments, viewSpecs, type MergedGroup } from './views.js';

/** How rows of a view are ordered. */
export type SortKey = 'p99' | 'errors' | 'requests' | 'name';

/** Options of {@link summarizeRun}. */
export interface SummaryOptions {
  /** `--by`: see `viewSpecs`. */
  by?: string;
  /** Rows per view (all when absent). */
  top?: number;
  sort?: SortKey;
}

/** The header facts of a run. */
export function runInfo(run: RunResult): RunInfo {
  return {
    label: run.label,
    target: run.target,
    startedAt: run.startedAt,
    durationUs: run.durationUs,
    recordingDigest: run.recording.digest,
    scale: run.plan.scale,
    valid: run.valid,
    invalidReasons: [...run.invalidReasons],
    sendLagP99Us: run.totals.sendLagP99Us,
    unsent: run.totals.unsent,
    mergedFrom: run.mergedFrom ?? null,
  };
}

/** Figures of one merged group: percentiles with their sample sufficiency, rates, error shares. */
export function summarizeGroup(g: MergedGroup, durationUs: number): RowSummary {
  const n = g.response.totalCount;
  const pct = (name: PercentileName): PercentileFigure => ({
    us: n === 0 ? null : g.response.getValueAtPercentile(PERCENTILE_OF[name]),
    enough: n >= MIN_SAMPLES[name],
  });
  const failed = g.errors + g.serverErrors;
  return {
    key: g.key,
    label: g.label,
    route: g.route,
    cohort: g.cohort,
    requests: g.count,
    ratePerSec: durationUs > 0 ? g.count / (durationUs / 1e6) : 0,
    failed,
    errorPct: g.count > 0 ? (failed / g.count) * 100 : 0,
    mismatchPct: g.count > 0 ? (g.mismatches / g.count) * 100 : 0,
    percentiles: { p50: pct('p50'), p95: pct('p95'), p99: pct('p99'), p999: pct('p999') },
    maxUs: n === 0 ? 0 : g.response.maxValue,
    sendLagP99Us: g.sendLag.totalCount === 0 ? 0 : g.sendLag.getValueAtPercentile(99),
  };
}

/**
 * Sort order: slowest P99 first (even when the row has too few samples to
 * print it: a slow row must not hide at the bottom), ties by error share;
 * `errors` puts the highest error share first; `requests` the busiest;
 * `name` alphabetical.
 */
export function compareRows(sort: SortKey): (a: RowSummary, b: RowSummary) => number {
  return (a, b) => {
    if (sort === 'name') return a.label.localeCompare(b.label);
    if (sort === 'requests') return b.requests - a.requests || a.label.localeCompare(b.label);
    if (sort === 'errors' && b.errorPct !== a.errorPct) return b.errorPct - a.errorPct;
    const va = a.percentiles.p99.us ?? 0;
    const vb = b.percentiles.p99.us ?? 0;
    return vb - va || b.errorPct - a.errorPct || a.label.localeCompare(b.label);
  };
}

/** Parses `--sort`; UsageError otherwise. */
export function parseSort(text: string): SortKey {
  if (text === 'p99' || text === 'errors' || text === 'requests' || text === 'name') return text;
  throw new UsageError(`--sort must be one of p99, errors, requests, name (got "${text}")`);
}

/** `report show`: the run's views (see `viewSpecs`), rows sorted and cut to `top`. */
export function summarizeRun(run: RunResult, options: SummaryOptions = {}): RunSummary {
  const decoded = decodeSegments(run);
  const specs = viewSpecs(options.by, cohortDimensions(run));
  const views: ViewSummary[] = specs.map((spec) => {
    const rows = groupSegments(decoded, spec)
      .map((g) => summarizeGroup(g, run.durationUs))
      .sort(compareRows(options.sort ?? 'p99'));
    const top = options.top ?? rows.length;
    return { name: spec.name, rows: rows.slice(0, top), omitted: Math.max(0, rows.length - top) };
  });
  return { run: runInfo(run), views };
}

/** The overall row and the per-route rows of a run. */
export interface RouteRows {
  overall: RowSummary;
  /** One row per route (merged over cohorts), slowest P99 first. */
  routes: RowSummary[];
}

/**
 * The rows of `report show --by route`: the overall row and every route's.
 * Replay's closing table, its `--json` and the demo's headline are built from
 * these, so they print what `report show` prints for the same run.json. Each
 * segment's histograms are decoded once.
 */
export function routeRows(run: RunResult): RouteRows {
  const [overall, route] = summarizeRun(run, { by: 'route' }).views;
  return { overall: overall!.rows[0]!, routes: route!.rows };
}
