import type { ErrorKind } from './exchange.js';

/**
 * One replayed request's outcome, as `replay/` hands it to `measure/`.
 * Times are µs since the run's start (monotonic clock).
 *
 * - response time = doneUs − intendedUs (the headline figure: includes any
 *   queueing or lateness of the generator),
 * - service time  = doneUs − sentUs,
 * - send lag      = sentUs − intendedUs.
 */
export interface Sample {
  /** Segment key from `segmentKey(route, cohort)`. */
  segment: string;
  intendedUs: number;
  sentUs: number;
  doneUs: number;
  /** HTTP status, or 0 when the request failed without one. */
  status: number;
  error: ErrorKind | null;
  /** Response bytes received (headers excluded). */
  bytes: number;
  /** Status the recording had for this request (null when it had none). */
  recordedStatus: number | null;
}

/** `2xx`, `4xx`, … for a status; `err` for 0. */
export function statusClass(status: number): '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'err' {
  if (status >= 100 && status < 200) return '1xx';
  if (status >= 200 && status < 300) return '2xx';
  if (status >= 300 && status < 400) return '3xx';
  if (status >= 400 && status < 500) return '4xx';
  if (status >= 500 && status < 600) return '5xx';
  return 'err';
}
