import { writeFileSync, renameSync, rmSync } from 'node:fs';
import { InputError, messageOf } from '../model/errors.js';
import { headerValue, type Exchange } from '../model/exchange.js';
import { segmentKey } from '../model/segment.js';
import type { Cohort, Session } from '../model/session.js';
import type { RecordingReader } from '../store/recording-reader.js';
import { bodyAsText } from './body-text.js';

/** One request as the k6 script replays it. */
export interface K6Request {
  /** Method. */
  m: string;
  /** Path and query, appended to BASE_URL. */
  u: string;
  /** Route template, used as the k6 `name` tag so URLs group by route. */
  r: string;
  /** Headers (host, content-length, cookies and redacted values dropped). */
  h: Record<string, string>;
  /** Body text (base64 when `b64`), or null. */
  b: string | null;
  b64?: true;
  /** Think time before this request: recorded start minus the previous response's end, ms (≥ 0). */
  t: number;
}

/** One cohort's sessions, each a list of requests. */
export interface K6Cohort {
  name: string;
  cohort: Cohort;
  sessions: K6Request[][];
}

/** Headers k6 sets itself or that cannot be replayed as recorded. */
const DROP_HEADERS = new Set(['host', 'content-length', 'cookie', 'connection', 'keep-alive', 'transfer-encoding', 'expect']);

/** Turns a recorded session into the requests of a k6 iteration, counting redacted headers dropped. */
export function k6RequestsOf(session: Session, dropped: { redacted: number }): K6Request[] {
  const out: K6Request[] = [];
  let prevEndUs: number | null = null;
  for (const ex of session.exchanges) {
    const h: Record<string, string> = {};
    for (const [name, value] of ex.requestHeaders) {
      if (DROP_HEADERS.has(name) || name.startsWith(':')) continue;
      if (value.startsWith('redacted:')) {
        dropped.redacted++;
        continue;
      }
      h[name] = h[name] === undefined ? value : `${h[name]}, ${value}`;
    }
    const req: K6Request = { m: ex.method, u: ex.target, r: ex.route, h, b: null, t: 0 };
    if (ex.requestBody && ex.requestBody.length > 0) {
      const body = bodyAsText(ex.requestBody, headerValue(ex.requestHeaders, 'content-type'));
      req.b = body.text;
      if (body.base64) req.b64 = true;
    }
    if (prevEndUs !== null) req.t = Math.max(0, Math.round((ex.startOffsetUs - prevEndUs) / 1000));
    prevEndUs = endUsOf(ex, prevEndUs);
    out.push(req);
  }
  return out;
}

function endUsOf(ex: Exchange, prev: number | null): number {
  const end = ex.startOffsetUs + ex.durationUs;
  return prev === null ? end : Math.max(prev, end);
}

/** k6 scenario names allow letters, digits, `_` and `-`. */
function scenarioName(index: number, cohort: Cohort): string {
  const text = segmentKey('', cohort).slice(1).replace(/[^0-9A-Za-z]+/g, '_').replace(/^_|_$/g, '');
  return `cohort_${index + 1}${text ? '_' + text : ''}`.slice(0, 100);
}

/** Groups a recording's sessions by cohort (streamed from the reader; requests kept compact). */
export function k6CohortsOf(reader: RecordingReader, dropped: { redacted: number }): K6Cohort[] {
  const byKey = new Map<string, K6Cohort>();
  for (const session of reader.sessions({ withBodies: true })) {
    const key = segmentKey('', session.cohort);
    let c = byKey.get(key);
    if (!c) {
      c = { name: scenarioName(byKey.size, session.cohort), cohort: session.cohort, sessions: [] };
      byKey.set(key, c);
    }
    c.sessions.push(k6RequestsOf(session, dropped));
  }
  return [...byKey.values()];
}

/**
 * The k6 script for a recording: one `shared-iterations` scenario per
 * cohort, each iteration replaying one recorded session (its requests in
 * order, each after the recorded think time) against `BASE_URL` (default:
 * the recording's upstream). `SCALE` multiplies the iterations, `VUS` caps
 * the VUs per cohort. Data lives in `SharedArray`s, so VUs share one copy.
 */
export function renderK6Script(cohorts: K6Cohort[], info: { source: string; upstream: string | null; toolVersion: string; droppedRedacted: number }): string {
  const data = cohorts.map((c) => `  ${JSON.stringify(c.name)}: new SharedArray(${JSON.stringify(c.name)}, () => ${JSON.stringify(c.sessions)}),`);
  const scenarios = cohorts.map(
    (c) =>
      `    ${JSON.stringify(c.name)}: {\n` +
      `      executor: 'shared-iterations',\n` +
      `      exec: 'replaySession',\n` +
      `      iterations: Math.max(1, Math.round(${c.sessions.length} * SCALE)),\n` +
      `      vus: Math.max(1, Math.min(MAX_VUS, Math.round(${c.sessions.length} * SCALE))),\n` +
      `      maxDuration: MAX_DURATION,\n` +
      `      env: { COHORT: ${JSON.stringify(c.name)} },\n` +
      `      tags: ${JSON.stringify({ cohort: segmentKey('', c.cohort).slice(1) })},\n` +
      `    },`,
  );
  const sessions = cohorts.reduce((n, c) => n + c.sessions.length, 0);
  const requests = cohorts.reduce((n, c) => n + c.sessions.reduce((m, s) => m + s.length, 0), 0);
  return `// k6 script generated by flashback ${info.toolVersion} from a recording (${info.source}):
// ${sessions} sessions, ${requests} requests, ${cohorts.length} cohorts (one shared-iterations scenario each).
// Each iteration replays one recorded session in order, sleeping the recorded think time before each request.
// Cookies come from k6's per-iteration cookie jar; ${info.droppedRedacted} redacted header values were left out.
// Run:  k6 run -e BASE_URL=http://staging:3000 -e SCALE=10 -e VUS=50 script.js
import http from 'k6/http';
import { sleep } from 'k6';
import exec from 'k6/execution';
import { SharedArray } from 'k6/data';
import encoding from 'k6/encoding';

const BASE_URL = (__ENV.BASE_URL || ${JSON.stringify(info.upstream ?? 'http://127.0.0.1:3000')}).replace(/\\/$/, '');
const SCALE = Number(__ENV.SCALE || 1);
const MAX_VUS = Number(__ENV.VUS || 50);
const MAX_DURATION = __ENV.MAX_DURATION || '1h';

const SESSIONS = {
${data.join('\n')}
};

export const options = {
  scenarios: {
${scenarios.join('\n')}
  },
};

export function replaySession() {
  const sessions = SESSIONS[__ENV.COHORT];
  const session = sessions[exec.scenario.iterationInTest % sessions.length];
  for (const r of session) {
    if (r.t > 0) sleep(r.t / 1000);
    const body = r.b === null ? null : r.b64 ? encoding.b64decode(r.b, 'std') : r.b;
    http.request(r.m, BASE_URL + r.u, body, { headers: r.h, redirects: 0, tags: { name: r.r } });
  }
}

export default replaySession;
`;
}

/**
 * Writes the k6 script for a recording to `outPath` (via `<out>.partial`).
 * Throws {@link InputError} when it cannot be written.
 */
export function exportK6(reader: RecordingReader, outPath: string, toolVersion: string): { sessions: number; requests: number; cohorts: number; droppedRedacted: number } {
  const meta = reader.meta();
  const dropped = { redacted: 0 };
  const cohorts = k6CohortsOf(reader, dropped);
  const script = renderK6Script(cohorts, { source: meta.source, upstream: meta.upstream, toolVersion, droppedRedacted: dropped.redacted });
  const partial = `${outPath}.partial`;
  try {
    writeFileSync(partial, script);
    renameSync(partial, outPath);
  } catch (e) {
    rmSync(partial, { force: true });
    throw new InputError(`Failed to write k6 script ${outPath}: ${messageOf(e)}`, { cause: e });
  }
  return {
    sessions: cohorts.reduce((n, c) => n + c.sessions.length, 0),
    requests: cohorts.reduce((n, c) => n + c.sessions.reduce((m, s) => m + s.length, 0), 0),
    cohorts: cohorts.length,
    droppedRedacted: dropped.redacted,
  };
}
