import type { ErrorKind } from '../model/exchange.js';
import type { SegmentResult } from '../model/run-result.js';
import { decodeHistogram, type Histogram } from './histogram.js';

/** Run-wide figures that are sums over segments (plus the run-wide send-lag P99). */
export interface SegmentTotals {
  requests: number;
  errors: number;
  serverErrors: number;
  mismatches: number;
  bytes: number;
  /** P99 of the segments' send-lag histograms added together, µs (0 when empty). */
  sendLagP99Us: number;
  byErrorKind: Partial<Record<ErrorKind, number>>;
}

/**
 * Sums `segments` into run-wide figures. The one place a run's totals are
 * derived from its segments (a replay, its worker shares, a merge of shards).
 */
export function segmentTotals(segments: readonly SegmentResult[]): SegmentTotals {
  const t: SegmentTotals = { requests: 0, errors: 0, serverErrors: 0, mismatches: 0, bytes: 0, sendLagP99Us: 0, byErrorKind: {} };
  let sendLag: Histogram | null = null;
  for (const s of segments) {
    t.requests += s.count;
    t.errors += s.errors;
    t.serverErrors += s.serverErrors;
    t.mismatches += s.mismatches;
    t.bytes += s.bytes;
    for (const [k, v] of Object.entries(s.byErrorKind) as Array<[ErrorKind, number]>) t.byErrorKind[k] = (t.byErrorKind[k] ?? 0) + v;
    const h = decodeHistogram(s.histograms.sendLag);
    if (sendLag === null) sendLag = h;
    else sendLag.add(h);
  }
  if (sendLag !== null && sendLag.totalCount > 0) t.sendLagP99Us = sendLag.getValueAtPercentile(99);
  return t;
}
