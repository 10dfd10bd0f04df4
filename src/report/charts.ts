import { bucketValueUs } from '../measure/window-buckets.js';
import type { RunResult, WindowCounts } from '../model/run-result.js';
import { mergeWindows } from '../measure/merge.js';
import { decodeSegments, groupSegments } from './views.js';

/**
 * The figures behind the HTML charts, computed here so the renderer only
 * draws: percentile curves (HdrHistogram style, x = 1/(1 − p) on a log
 * scale) per route, and throughput and P99 per time window.
 */

/** One point of a percentile curve. */
export interface CurvePoint {
  /** Percentile, 0–100. */
  pct: number;
  /** 1 / (1 − pct/100): 1 at P0, 100 at P99, 10,000 at P99.99. */
  x: number;
  us: number;
}

/** One time window of a run. */
export interface TimePoint {
  tSec: number;
  /** Requests per second in the window. */
  rps: number;
  /** P99 of the window (from its log buckets), null when it held fewer than {@link MIN_WINDOW_P99} requests. */
  p99Us: number | null;
}

/** Chart figures of one run. */
export interface RunCharts {
  label: string;
  /** Curves keyed `all` and by route. */
  curves: Record<string, CurvePoint[]>;
  timeline: TimePoint[];
}

/** Chart figures of a report: the routes to draw (busiest first) and each run's figures. */
export interface ChartData {
  routes: string[];
  runs: RunCharts[];
}

/** Fewest requests in a window for its P99 to be drawn. */
export const MIN_WINDOW_P99 = 20;

/** Percentile curve of a histogram: points from P0 to the highest percentile the sample supports, then the max. */
export function percentileCurve(h: { totalCount: number; maxValue: number; getValueAtPercentile(p: number): number }): CurvePoint[] {
  const n = h.totalCount;
  if (n === 0) return [];
  const points: CurvePoint[] = [];
  for (let k = 0; k <= 80; k++) {
    const x = 10 ** (k / 20); // 20 points per decade up to 10^4 (P99.99)
    if (x > n) break;
    const pct = 100 * (1 - 1 / x);
    points.push({ pct, x, us: h.getValueAtPercentile(pct) });
  }
  // The curve ends at the slowest request, drawn at x = n (or at P99.99 for bigger samples).
  const xMax = Math.min(n, 10_000);
  const last = points[points.length - 1];
  if (last && last.x >= xMax) last.us = Math.max(last.us, h.maxValue);
  else points.push({ pct: 100 * (1 - 1 / xMax), x: xMax, us: h.maxValue });
  return points;
}

/** P99 (µs) of one window's sparse buckets, same rank rule as HdrHistogram. */
export function windowP99(w: WindowCounts): number | null {
  if (w.count < MIN_WINDOW_P99) return null;
  const total = w.lat.reduce((a, [, c]) => a + c, 0);
  const rank = Math.max(1, Math.floor(0.99 * total + 0.5));
  let cum = 0;
  for (const [b, c] of w.lat) {
    cum += c;
    if (cum >= rank) return bucketValueUs(b);
  }
  return null;
}

/** Throughput and P99 per window, gaps filled with zero-traffic windows. */
export function timeline(windows: WindowCounts[], windowUs: number): TimePoint[] {
  const sec = windowUs / 1e6;
  const byT = new Map(windows.map((w) => [w.t, w]));
  const last = windows.reduce((a, w) => Math.max(a, w.t), -1);
  const points: TimePoint[] = [];
  for (let t = 0; t <= last; t++) {
    const w = byT.get(t);
    points.push({ tSec: (t + 1) * sec, rps: w ? w.count / sec : 0, p99Us: w ? windowP99(w) : null });
  }
  return points;
}

/** Chart figures of runs (one for show, baseline and candidate for diff); routes limited to the busiest `maxRoutes`. */
export function chartData(runs: RunResult[], maxRoutes = 12): ChartData {
  const volume = new Map<string, number>();
  const charts = runs.map((run): RunCharts => {
    const decoded = decodeSegments(run);
    const curves: Record<string, CurvePoint[]> = {};
    const [overall] = groupSegments(decoded, { name: 'overall', byRoute: false, dimensions: [] });
    if (overall) curves['all'] = percentileCurve(overall.response);
    for (const g of groupSegments(decoded, { name: 'route', byRoute: true, dimensions: [] })) {
      curves[g.route!] = percentileCurve(g.response);
      volume.set(g.route!, (volume.get(g.route!) ?? 0) + g.count);
    }
    return { label: run.label, curves, timeline: overall ? timeline(mergeWindows(overall.windowLists), run.plan.windowUs) : [] };
  });
  const routes = [...volume.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, maxRoutes).map(([r]) => r);
  return { routes, runs: charts };
}
