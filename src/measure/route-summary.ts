import type { RunResult, SegmentResult } from '../model/run-result.js';
import { createHistogram, decodeHistogram, percentilesOf, type Histogram } from './histogram.js';

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

interface RouteAcc {
  route: string;
  count: number;
  errors: number;
  serverErrors: number;
  mismatches: number;
  max: number;
  response: Histogram | null;
}

function accumulate(acc: RouteAcc, s: Pick<SegmentResult, 'count' | 'errors' | 'serverErrors' | 'mismatches' | 'max'>, response: Histogram | null): void {
  acc.count += s.count;
  acc.errors += s.errors;
  acc.serverErrors += s.serverErrors;
  acc.mismatches += s.mismatches;
  if (s.max > acc.max) acc.max = s.max;
  if (response === null) return;
  if (acc.response === null) acc.response = response;
  else acc.response.add(response);
}

function row(acc: RouteAcc): RouteSummary {
  const p = acc.response === null ? percentilesOf(createHistogram({ wasm: false })) : percentilesOf(acc.response);
  return {
    route: acc.route,
    count: acc.count,
    errors: acc.errors,
    serverErrors: acc.serverErrors,
    mismatches: acc.mismatches,
    p50: p.p50,
    p95: p.p95,
    p99: p.p99,
    max: acc.max,
  };
}

const empty = (route: string): RouteAcc => ({ route, count: 0, errors: 0, serverErrors: 0, mismatches: 0, max: 0, response: null });

/**
 * The overall figures and the routes (merged over cohorts) sorted by p99,
 * slowest first. Histograms are merged, not averaged. Only the response-time
 * histograms are read, each segment's once (decoding one takes about a
 * millisecond; the replay prints this table at the end of every run).
 */
export function summarizeRoutes(result: RunResult): { overall: RouteSummary; routes: RouteSummary[] } {
  const byRoute = new Map<string, RouteAcc>();
  for (const s of result.segments) {
    let acc = byRoute.get(s.route);
    if (acc === undefined) byRoute.set(s.route, (acc = empty(s.route)));
    accumulate(acc, s, s.histograms.response === '' ? null : decodeHistogram(s.histograms.response));
  }
  const overall = empty('overall');
  for (const acc of byRoute.values()) {
    // the overall sum gets its own histogram: adding into a route's would change that route's figures
    if (acc.response !== null && overall.response === null) overall.response = createHistogram({ wasm: false });
    accumulate(overall, acc, acc.response);
  }
  const routes = [...byRoute.values()].map(row);
  routes.sort((a, b) => b.p99 - a.p99 || a.route.localeCompare(b.route));
  return { overall: row(overall), routes };
}
