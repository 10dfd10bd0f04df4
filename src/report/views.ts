import { createHistogram, decodeHistogram, type Histogram } from '../measure/histogram.js';
import { UsageError } from '../model/errors.js';
import type { RunResult, SegmentResult, WindowCounts } from '../model/run-result.js';
import type { Cohort } from '../model/session.js';
import type { ViewSpec } from './types.js';

/**
 * Coarser views of a run (overall, per route, per cohort attribute) as merges
 * of its route × cohort segments: histograms decoded and added, counts
 * summed, time windows summed window by window.
 */

/** A segment with its histograms decoded once (decoding costs milliseconds). */
export interface DecodedSegment {
  segment: SegmentResult;
  response: Histogram;
  sendLag: Histogram;
}

/** A group of segments merged into one row's raw material. */
export interface MergedGroup {
  key: string;
  label: string;
  route: string | null;
  cohort: Cohort;
  count: number;
  errors: number;
  serverErrors: number;
  mismatches: number;
  response: Histogram;
  sendLag: Histogram;
  /** The parts' time windows, one list per segment (sum them with measure's `mergeWindows`, or lay them on a block axis with `report/bootstrap`'s `tableOf`). */
  windowLists: WindowCounts[][];
}

/** Decodes every segment's response and send-lag histograms. */
export function decodeSegments(run: RunResult): DecodedSegment[] {
  return run.segments.map((segment) => ({
    segment,
    response: decodeHistogram(segment.histograms.response),
    sendLag: decodeHistogram(segment.histograms.sendLag),
  }));
}

/** Cohort attribute names used by any segment of the runs, sorted. */
export function cohortDimensions(...runs: RunResult[]): string[] {
  const names = new Set<string>();
  for (const run of runs) for (const s of run.segments) for (const n of Object.keys(s.cohort)) names.add(n);
  return [...names].sort();
}

const OVERALL: ViewSpec = { name: 'overall', byRoute: false, dimensions: [] };
const BY_ROUTE: ViewSpec = { name: 'route', byRoute: true, dimensions: [] };
const BY_SEGMENT: ViewSpec = { name: 'route × cohort', byRoute: true, dimensions: '*' };

/**
 * The views to show. Without `by`: overall, per route, one per cohort
 * attribute, route × cohort. With `by` (`route`, `cohort`, `route,cohort`,
 * an attribute such as `device`, or `route,device`): overall plus that view
 * (`cohort` alone gives one view per attribute). Throws UsageError on an
 * unknown attribute.
 */
export function viewSpecs(by: string | undefined, dimensions: string[]): ViewSpec[] {
  if (by === undefined) {
    return [OVERALL, BY_ROUTE, ...dimensions.map((d) => dimensionView(d)), BY_SEGMENT];
  }
  const parts = by
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new UsageError(`--by must name route, cohort or a cohort attribute (got "${by}")`);
  const byRoute = parts.includes('route');
  const rest = parts.filter((p) => p !== 'route');
  for (const p of rest) {
    if (p !== 'cohort' && !dimensions.includes(p)) {
      const known = ['route', 'cohort', ...dimensions].join(', ');
      throw new UsageError(`--by must name route, cohort or a cohort attribute (got "${p}"; this run has: ${known})`);
    }
  }
  if (rest.includes('cohort')) {
    if (byRoute) return [OVERALL, BY_SEGMENT];
    return [OVERALL, ...dimensions.map((d) => dimensionView(d))];
  }
  if (rest.length === 0) return [OVERALL, BY_ROUTE];
  const name = [...(byRoute ? ['route'] : []), ...rest].join(' × ');
  return [OVERALL, { name, byRoute, dimensions: rest }];
}

function dimensionView(d: string): ViewSpec {
  return { name: d, byRoute: false, dimensions: [d] };
}

/** The part of `cohort` a view groups by; a missing attribute reads `(none)`. */
function projectCohort(cohort: Cohort, dims: string[] | '*'): Cohort {
  if (dims === '*') return { ...cohort };
  const out: Cohort = {};
  for (const d of dims) out[d] = cohort[d] ?? '(none)';
  return out;
}

/** Row key of a route and projected cohort: `all`, `route=GET /x`, `route=GET /x|device=mobile`. */
export function rowKey(route: string | null, cohort: Cohort): string {
  const parts: string[] = [];
  if (route !== null) parts.push(`route=${route}`);
  for (const n of Object.keys(cohort).sort()) parts.push(`${n}=${cohort[n]}`);
  return parts.length === 0 ? 'all' : parts.join('|');
}

/** Row label for people: `all`, `GET /x`, `GET /x · device=mobile, region=eu`. */
export function rowLabel(route: string | null, cohort: Cohort): string {
  const attrs = Object.keys(cohort)
    .sort()
    .map((n) => `${n}=${cohort[n]}`)
    .join(', ');
  if (route === null) return attrs === '' ? 'all' : attrs;
  return attrs === '' ? route : `${route} · ${attrs}`;
}

/** Groups a run's decoded segments by a view and merges each group. */
export function groupSegments(decoded: DecodedSegment[], spec: ViewSpec): MergedGroup[] {
  const groups = new Map<string, { route: string | null; cohort: Cohort; parts: DecodedSegment[] }>();
  for (const d of decoded) {
    const route = spec.byRoute ? d.segment.route : null;
    const cohort = projectCohort(d.segment.cohort, spec.dimensions);
    const key = rowKey(route, cohort);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { route, cohort, parts: [] }));
    g.parts.push(d);
  }
  if (groups.size === 0 && spec.dimensions !== '*' && spec.dimensions.length === 0 && !spec.byRoute) {
    groups.set('all', { route: null, cohort: {}, parts: [] });
  }
  return [...groups.entries()].map(([key, g]) => mergeGroup(key, g.route, g.cohort, g.parts));
}

/** Merges the given segments into one group (the parts' histograms are left untouched). */
export function mergeGroup(key: string, route: string | null, cohort: Cohort, parts: DecodedSegment[]): MergedGroup {
  const group: MergedGroup = {
    key,
    label: rowLabel(route, cohort),
    route,
    cohort,
    count: 0,
    errors: 0,
    serverErrors: 0,
    mismatches: 0,
    response: parts.length === 1 ? parts[0]!.response : addAll(parts.map((p) => p.response)),
    sendLag: parts.length === 1 ? parts[0]!.sendLag : addAll(parts.map((p) => p.sendLag)),
    windowLists: parts.map((p) => p.segment.windows),
  };
  for (const p of parts) {
    group.count += p.segment.count;
    group.errors += p.segment.errors;
    group.serverErrors += p.segment.serverErrors;
    group.mismatches += p.segment.mismatches;
  }
  return group;
}

/**
 * One group from the same row in several runs (a baseline set): histograms
 * added (the parts left untouched), counts summed, window lists kept per
 * part.
 */
export function poolGroups(groups: MergedGroup[]): MergedGroup {
  if (groups.length === 1) return groups[0]!;
  const out: MergedGroup = {
    ...groups[0]!,
    count: 0, errors: 0, serverErrors: 0, mismatches: 0,
    response: addAll(groups.map((g) => g.response)),
    sendLag: addAll(groups.map((g) => g.sendLag)),
    windowLists: groups.flatMap((g) => g.windowLists),
  };
  for (const g of groups) {
    out.count += g.count;
    out.errors += g.errors;
    out.serverErrors += g.serverErrors;
    out.mismatches += g.mismatches;
  }
  return out;
}

function addAll(hists: Histogram[]): Histogram {
  const sum = createHistogram({ wasm: false });
  for (const h of hists) sum.add(h);
  return sum;
}

