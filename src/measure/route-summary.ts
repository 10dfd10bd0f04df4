import type { RunResult, SegmentResult } from '../model/run-result.js';
import { mergeSegments } from './merge.js';

/** A coarse view of a run: one row per route (all cohorts), plus the overall row. */
export interface RouteSummary {
  route: string;
  count: number;
  errors: number;
  serverErrors: number;
  mismatches: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function row(route: string, s: SegmentResult): RouteSummary {
  return {
    route,
    count: s.count,
    errors: s.errors,
    serverErrors: s.serverErrors,
    mismatches: s.mismatches,
    p50: s.p50,
    p95: s.p95,
    p99: s.p99,
    max: s.max,
  };
}

/**
 * The overall figures and the routes (merged over cohorts) sorted by p99,
 * slowest first. Histograms are merged, not averaged.
 */
export function summarizeRoutes(result: RunResult): { overall: RouteSummary; routes: RouteSummary[] } {
  const byRoute = new Map<string, SegmentResult[]>();
  for (const s of result.segments) byRoute.set(s.route, [...(byRoute.get(s.route) ?? []), s]);
  const routes = [...byRoute].map(([route, parts]) => row(route, parts.length === 1 ? parts[0]! : mergeSegments(route, route, {}, parts)));
  routes.sort((a, b) => b.p99 - a.p99 || a.route.localeCompare(b.route));
  const overall =
    result.segments.length === 0
      ? row('overall', mergeSegments('overall', 'overall', {}, []))
      : row('overall', mergeSegments('overall', 'overall', {}, result.segments));
  return { overall, routes };
}
