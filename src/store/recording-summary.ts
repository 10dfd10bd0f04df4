import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { Cohort } from '../model/session.js';
import { parseCohort, RowDamage } from './damage.js';
import type { RecordingMeta } from './recording-meta.js';

/** Status classes as `inspect` counts them; `err` = no response (the exchange failed). */
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'err';
const CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx', 'err'];

/** One route template's figures. */
export interface RouteSummary {
  route: string;
  exchanges: number;
  status: Record<StatusClass, number>;
  /** Exchanges with a failure (no complete response). */
  failed: number;
  /** Exchanges with a request or response body cut at the capture cap. */
  truncated: number;
  /** Recorded durations (request start to response end), µs; nearest-rank percentiles. */
  meanDurationUs: number;
  p50DurationUs: number;
  p95DurationUs: number;
  maxDurationUs: number;
  /** Full body sizes as seen on the wire, captured or not. */
  requestBytes: number;
  responseBytes: number;
}

/** One cohort's share of the recording. */
export interface CohortSummary {
  /** Attributes sorted by name, `auth=anonymous,device=mobile` (`-` for an empty cohort). */
  key: string;
  cohort: Cohort;
  sessions: number;
  exchanges: number;
}

/** Sessions keyed by one rule. */
export interface SessionRuleSummary {
  /**
   * The rule, as the sessionizer names it: `cookie-set:NAME` (the server set
   * the cookie in the capture), `cookie-request:NAME` (requests already carried
   * it), `header:NAME`, `auth`, `client`, `request` (one session per request),
   * `file` (the imported file's own session keys); null when not recorded.
   */
  rule: string | null;
  sessions: number;
  exchanges: number;
}

/** Everything `flashback inspect` shows about a recording. Plain data; stable JSON shape. */
export interface RecordingSummary {
  path: string;
  fileBytes: number;
  meta: RecordingMeta;
  exchanges: number;
  sessions: number;
  /** First start to last end, µs since the recording start. */
  span: { firstOffsetUs: number; lastOffsetUs: number; durationUs: number };
  status: Record<StatusClass, number>;
  bytes: {
    /** Full body sizes as seen on the wire. */
    requestBodies: number;
    responseBodies: number;
    /** Body bytes actually stored (after the capture cap). */
    storedRequestBodies: number;
    storedResponseBodies: number;
  };
  truncated: { requests: number; responses: number };
  failed: { total: number; byKind: Record<string, number> };
  /** Sorted by exchange count, most first (ties by route). */
  routes: RouteSummary[];
  /** Sorted by session count, most first (ties by key). */
  cohorts: CohortSummary[];
  /**
   * How sessions were keyed, most sessions first (ties by rule); null for a
   * recording written before flashback stored it (`sessions.keyed_by`).
   */
  sessionRules: SessionRuleSummary[] | null;
}

const CLASS_SQL =
  "CASE WHEN status IS NULL OR status < 100 OR status >= 600 THEN 'err' ELSE (status / 100) || 'xx' END";

function emptyStatus(): Record<StatusClass, number> {
  return { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, err: 0 };
}

/** `a=1,b=2` with names sorted; `-` when there are none. */
export function cohortKey(cohort: Cohort): string {
  const names = Object.keys(cohort).sort();
  return names.length === 0 ? '-' : names.map((n) => `${n}=${cohort[n]}`).join(',');
}

/**
 * Checks aggregate rows before they are trusted: in a damaged file a column
 * can hold any type (text, blob, NULL), and sums and maxima follow it.
 */
function checked<T extends object>(rows: T[], text: ReadonlyArray<keyof T>, table: string): T[] {
  for (const r of rows) {
    for (const [k, v] of Object.entries(r) as Array<[keyof T, unknown]>) {
      const ok = text.includes(k) ? typeof v === 'string' : typeof v === 'number' && Number.isFinite(v);
      if (!ok) throw new RowDamage(`${table} holds ${v === null ? 'NULL' : typeof v} where ${String(k)} should be`);
    }
  }
  return rows;
}

/** Every route's recorded durations, sorted ascending (8 bytes per exchange; no body is read). */
function routeDurations(db: Database.Database): Map<string, Float64Array> {
  const lists = new Map<string, number[]>();
  for (const row of db.prepare('SELECT route, duration_us FROM exchanges').raw().iterate() as IterableIterator<[string, number]>) {
    if (typeof row[0] !== 'string' || typeof row[1] !== 'number') throw new RowDamage('exchanges holds a route or duration of the wrong type');
    let l = lists.get(row[0]);
    if (!l) lists.set(row[0], (l = []));
    l.push(row[1]);
  }
  const sorted = new Map<string, Float64Array>();
  for (const [route, l] of lists) sorted.set(route, Float64Array.from(l).sort());
  return sorted;
}

/** Nearest-rank percentile `q` (0..1) of ascending `values`; 0 when empty. */
function nearestRank(values: Float64Array, q: number): number {
  if (values.length === 0) return 0;
  return values[Math.max(0, Math.ceil(q * values.length) - 1)]!;
}

/** Computes a recording's summary with aggregate queries that never read a body. */
export function summarizeRecording(db: Database.Database, path: string, meta: RecordingMeta): RecordingSummary {
  const routes = new Map<string, RouteSummary & { durationSumUs: number }>();
  const status = emptyStatus();
  const rows = checked(db
    .prepare(
      `SELECT route, ${CLASS_SQL} AS cls, count(*) AS n, sum(duration_us) AS dur, max(duration_us) AS maxdur, ` +
        'sum(req_body_bytes) AS reqb, sum(res_body_bytes) AS resb, sum(req_truncated OR res_truncated) AS trunc, ' +
        'sum(error IS NOT NULL) AS failed FROM exchanges GROUP BY route, cls',
    )
    .all() as Array<{ route: string; cls: string; n: number; dur: number; maxdur: number; reqb: number; resb: number; trunc: number; failed: number }>, ['route', 'cls'], 'exchanges');
  for (const r of rows) {
    let s = routes.get(r.route);
    if (!s) {
      s = {
        route: r.route,
        exchanges: 0,
        status: emptyStatus(),
        failed: 0,
        truncated: 0,
        meanDurationUs: 0,
        p50DurationUs: 0,
        p95DurationUs: 0,
        maxDurationUs: 0,
        requestBytes: 0,
        responseBytes: 0,
        durationSumUs: 0,
      };
      routes.set(r.route, s);
    }
    const cls = (CLASSES as readonly string[]).includes(r.cls) ? (r.cls as StatusClass) : 'err';
    s.exchanges += r.n;
    s.status[cls] += r.n;
    status[cls] += r.n;
    s.failed += r.failed;
    s.truncated += r.trunc;
    s.durationSumUs += r.dur;
    s.maxDurationUs = Math.max(s.maxDurationUs, r.maxdur);
    s.requestBytes += r.reqb;
    s.responseBytes += r.resb;
  }
  const durations = routeDurations(db);
  const routeList: RouteSummary[] = [...routes.values()]
    .map(({ durationSumUs, ...s }) => {
      const d = durations.get(s.route) ?? new Float64Array(0);
      return {
        ...s,
        meanDurationUs: s.exchanges ? Math.round(durationSumUs / s.exchanges) : 0,
        p50DurationUs: nearestRank(d, 0.5),
        p95DurationUs: nearestRank(d, 0.95),
      };
    })
    .sort((a, b) => b.exchanges - a.exchanges || (a.route < b.route ? -1 : a.route > b.route ? 1 : 0));

  const totals = checked([db
    .prepare(
      'SELECT count(*) AS n, coalesce(sum(req_body_bytes), 0) AS reqb, coalesce(sum(res_body_bytes), 0) AS resb, ' +
        'coalesce(sum(length(req_body)), 0) AS sreqb, coalesce(sum(length(res_body)), 0) AS sresb, ' +
        'coalesce(sum(req_truncated), 0) AS treq, coalesce(sum(res_truncated), 0) AS tres FROM exchanges',
    )
    .get() as { n: number; reqb: number; resb: number; sreqb: number; sresb: number; treq: number; tres: number }], [], 'exchanges')[0]!;

  const byKind: Record<string, number> = {};
  let failedTotal = 0;
  for (const r of checked(db.prepare('SELECT error, count(*) AS n FROM exchanges WHERE error IS NOT NULL GROUP BY error ORDER BY error').all() as Array<{ error: string; n: number }>, ['error'], 'exchanges')) {
    byKind[r.error] = r.n;
    failedTotal += r.n;
  }

  const cohorts = new Map<string, CohortSummary>();
  for (const r of checked(db.prepare('SELECT cohort, count(*) AS n, sum(exchange_count) AS ex FROM sessions GROUP BY cohort').all() as Array<{ cohort: string; n: number; ex: number }>, ['cohort'], 'sessions')) {
    const cohort = parseCohort(r.cohort, 'sessions.cohort');
    const key = cohortKey(cohort);
    const c = cohorts.get(key) ?? { key, cohort: Object.fromEntries(Object.keys(cohort).sort().map((k) => [k, cohort[k]!])), sessions: 0, exchanges: 0 };
    c.sessions += r.n;
    c.exchanges += r.ex;
    cohorts.set(key, c);
  }
  const span = checked([db
    .prepare('SELECT count(*) AS n, coalesce(min(start_us), 0) AS first, coalesce(max(end_us), 0) AS last FROM sessions')
    .get() as { n: number; first: number; last: number }], [], 'sessions')[0]!;

  return {
    path,
    fileBytes: statSync(path).size,
    meta,
    exchanges: totals.n,
    sessions: span.n,
    span: { firstOffsetUs: span.first, lastOffsetUs: span.last, durationUs: span.last - span.first },
    status,
    bytes: { requestBodies: totals.reqb, responseBodies: totals.resb, storedRequestBodies: totals.sreqb, storedResponseBodies: totals.sresb },
    truncated: { requests: totals.treq, responses: totals.tres },
    failed: { total: failedTotal, byKind },
    routes: routeList,
    cohorts: [...cohorts.values()].sort((a, b) => b.sessions - a.sessions || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    sessionRules: sessionRules(db),
  };
}

/** Sessions per keying rule, or null when the file has no `keyed_by` column (written before it existed). */
function sessionRules(db: Database.Database): SessionRuleSummary[] | null {
  const has = db.prepare("SELECT 1 FROM pragma_table_info('sessions') WHERE name = 'keyed_by'").get();
  if (has === undefined) return null;
  const rows = db
    .prepare('SELECT keyed_by AS rule, count(*) AS n, coalesce(sum(exchange_count), 0) AS ex FROM sessions GROUP BY keyed_by')
    .all() as Array<{ rule: string | null; n: number; ex: number }>;
  return rows
    .map((r) => ({ rule: r.rule, sessions: r.n, exchanges: r.ex }))
    .sort((a, b) => b.sessions - a.sessions || String(a.rule).localeCompare(String(b.rule)));
}
