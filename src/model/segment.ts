import type { Cohort } from './session.js';

/**
 * A segment is route template × cohort: the grain at which latency is
 * measured. Coarser views (per route, per cohort, overall) are merges.
 */
export interface Segment {
  /** `GET /products/:id` */
  route: string;
  cohort: Cohort;
}

/**
 * The one function that builds a segment key, so segments can key a `Map`.
 * Cohort attributes are sorted by name: `GET /cart/:id|auth=anonymous,device=mobile`.
 */
export function segmentKey(route: string, cohort: Cohort): string {
  const names = Object.keys(cohort).sort();
  let key = route + '|';
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (i > 0) key += ',';
    key += n + '=' + cohort[n];
  }
  return key;
}

/** Inverse of {@link segmentKey}. */
export function parseSegmentKey(key: string): Segment {
  const bar = key.lastIndexOf('|');
  const route = bar < 0 ? key : key.slice(0, bar);
  const cohort: Cohort = {};
  const rest = bar < 0 ? '' : key.slice(bar + 1);
  if (rest) {
    for (const part of rest.split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) cohort[part.slice(0, eq)] = part.slice(eq + 1);
    }
  }
  return { route, cohort };
}
