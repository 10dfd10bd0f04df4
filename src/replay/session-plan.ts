import picomatch from 'picomatch';
import { HOP_BY_HOP, type Exchange } from '../model/exchange.js';
import { segmentKey } from '../model/segment.js';
import type { RunPlan } from '../model/run-result.js';
import type { Session } from '../model/session.js';
import { findCorrelations, type Source, type Substitution } from './correlation.js';
import { bodyKindOf, mayHoldRedacted, scrubRedactedBody, type BodyKind, type SecretFills } from './redacted-body.js';
import type { ExtraHeader } from './replay-options.js';
import type { WireRequest } from './lean-http/request-head.js';
import { EMPTY, StringPool } from './string-pool.js';

/** Dispatch options undici takes (`Pool.dispatch`), pre-built once per step when nothing varies per clone. */
/**
 * Headers whose value names one user action, not a resource: two copies of a
 * session are two users, so each copy sends its own value (the recorded one
 * with a per-copy suffix; a retry inside one copy keeps the same value).
 * Sending the recorded Idempotency-Key from ten copies would make the target
 * answer nine of them with an instant "duplicate" instead of doing the work.
 */
export const PER_CLONE_HEADERS: ReadonlySet<string> = new Set([
  'idempotency-key',
  'x-idempotency-key',
  'x-request-id',
  'x-correlation-id',
]);

export interface RequestOptions {
  path: string;
  method: string;
  headers: string[];
  body: Buffer | null;
  /**
   * The lean HTTP client's serialized bytes of these options: `null` on
   * options built once per step (the client fills it on first send and reuses
   * it), absent on options built per request (serialized every time).
   */
  wire?: WireRequest | null;
  /**
   * The bytes for a second host line: a paired replay (`--against`) sends
   * the same fixed request to two origins, which would otherwise rebuild
   * `wire` on every send. Absent until a second origin sends it.
   */
  wireAlt?: WireRequest;
}

/** One request of a planned session. Times are replay µs (already divided by speed). */
export interface Step {
  segment: string;
  recordedStatus: number | null;
  /** Offset from the clone's start for a step with no dependency. */
  offsetUs: number;
  /** Index of the step whose response this one waits for, or -1. */
  dep: number;
  /** Gap after the dependency's response. */
  gapUs: number;
  /** Steps waiting for this one's response. */
  dependents: number[];
  /** Ready-made options when the request is the same for every clone; else null. */
  fixed: RequestOptions | null;
  /** The parts a clone fills in when `fixed` is null. */
  path: string;
  method: string;
  /** Headers that never change, flat `[name, value, ...]`. */
  headers: string[];
  /** Headers that may change per clone (substitutions, redacted tokens). */
  varying: Array<[string, string]>;
  /** Recorded cookies, in order. */
  cookies: Array<[string, string]>;
  body: Buffer | null;
  bodyText: string | null;
  substitutions: Substitution[];
  sources: Source[];
  /** The response body is needed (a JSON source). */
  keepBody: boolean;
  /** Redacted query parameters and body values removed at plan time (counted per request sent). */
  droppedRedacted: number;
  /** The body may still hold `redacted:` tokens after substitution: scrub it per clone as this kind. */
  scrubBody: BodyKind | null;
}

/** A recorded session turned into steps, shared by all its clones. */
export interface SessionPlan {
  key: string;
  /** Recorded start of the first kept exchange, µs (the clone starts here, divided by speed). */
  recordedStartUs: number;
  steps: Step[];
  vars: number;
  /** Names of cookies the server set during the recorded session (never sent from the recording). */
  serverCookies: ReadonlySet<string>;
  /** `--secret` values for redacted body fields. */
  secrets: SecretFills;
}

/** Options that shape a session plan: the run plan's view it needs, plus the extra headers. */
export interface SessionPlanOptions extends Pick<RunPlan, 'speed' | 'methods' | 'routes'> {
  headers: ExtraHeader[];
  /** `--secret name=value`: sent for a redacted body field of that name (lower-case keys). */
  secrets?: SecretFills;
  /**
   * Where plans take their shared strings and header lists from (one per
   * run: see {@link StringPool}); without it each plan has its own.
   */
  strings?: StringPool;
}

const NO_COOKIES: ReadonlySet<string> = new Set();
const NO_SECRETS: SecretFills = Object.freeze({});

/** `list`, or the shared empty list when it is empty (plans never modify these lists). */
function orEmpty<T>(list: T[]): T[] {
  return list.length === 0 ? EMPTY : list;
}

/** Headers never replayed as recorded: the target, the body length and the cookie jar fill these. */
const DROP = new Set(['host', 'content-length', 'cookie', ':authority', ':method', ':path', ':scheme']);

/** Builds the exchange filter for `--methods` and `--routes` (glob on the route's path part). */
export function exchangeFilter(methods: string[] | null, routes: string | null): (ex: Exchange) => boolean {
  const methodSet = methods ? new Set(methods) : null;
  const isMatch = routes ? picomatch(routes) : null;
  return (ex) => {
    if (methodSet && !methodSet.has(ex.method.toUpperCase())) return false;
    if (isMatch) {
      const space = ex.route.indexOf(' ');
      const path = space >= 0 ? ex.route.slice(space + 1) : ex.route;
      if (!isMatch(path)) return false;
    }
    return true;
  };
}

function parseCookieHeader(value: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
  }
  return out;
}

/** Drops query parameters whose value is a `redacted:` token; returns the new target and how many went. */
function dropRedactedQuery(target: string): [string, number] {
  const q = target.indexOf('?');
  if (q < 0 || !target.includes('redacted')) return [target, 0];
  const kept: string[] = [];
  let dropped = 0;
  for (const p of target.slice(q + 1).split('&')) {
    const v = p.slice(p.indexOf('=') + 1);
    let dv = v;
    try { dv = decodeURIComponent(v); } catch { /* keep raw */ }
    if (dv.startsWith('redacted:')) dropped++;
    else kept.push(p);
  }
  return [target.slice(0, q) + (kept.length ? '?' + kept.join('&') : ''), dropped];
}

/**
 * Plans one recorded session: keeps the exchanges the filter passes, finds
 * what each request waited for in the recording (the latest earlier request
 * that had completed before it started) and the gap after it, finds the
 * correlations, and pre-builds the request of every step that is the same
 * for all clones. Returns null when no exchange is left.
 */
export function planSession(session: Session, filter: (ex: Exchange) => boolean, options: SessionPlanOptions): SessionPlan | null {
  const kept = session.exchanges.filter(filter);
  if (kept.length === 0) return null;
  const speed = options.speed;
  const pool = options.strings ?? new StringPool();
  const corr = findCorrelations(kept);
  let serverCookies: Set<string> | null = null;
  for (const ex of session.exchanges) {
    for (const [k, v] of ex.responseHeaders) if (k === 'set-cookie') (serverCookies ??= new Set()).add(v.slice(0, v.indexOf('=')).trim());
  }
  const extra = new Set(options.headers.map((h) => h.name));
  const first = kept[0]!.startOffsetUs;
  let maxDurationUs = 0;
  const steps: Step[] = kept.map((ex, j) => {
    // Latest-ending earlier request that had ended before this one started. Scanning back,
    // once start + the longest duration so far cannot beat the best end, nothing earlier can.
    let dep = -1;
    let depEnd = -1;
    for (let i = j - 1; i >= 0; i--) {
      const e = kept[i]!;
      if (e.startOffsetUs + maxDurationUs < depEnd) break;
      const end = e.startOffsetUs + e.durationUs;
      if (end <= ex.startOffsetUs && end > depEnd) {
        dep = i;
        depEnd = end;
      }
    }
    if (ex.durationUs > maxDurationUs) maxDurationUs = ex.durationUs;
    const subs = corr.substitutions[j]!;
    let headers: string[] = [];
    const varying: Array<[string, string]> = [];
    const cookies: Array<[string, string]> = [];
    for (const [name, value] of ex.requestHeaders) {
      if (name === 'cookie') cookies.push(...parseCookieHeader(value));
      if (DROP.has(name) || HOP_BY_HOP.has(name) || extra.has(name)) continue;
      if (value.includes('redacted:') || PER_CLONE_HEADERS.has(name) || subs.some((s) => s.inHeaders.includes(name))) {
        varying.push([name, value]);
      } else headers.push(name, value);
    }
    const sources = corr.sources[j]!;
    const keepBody = sources.some((s) => s.extractor.kind === 'json');
    if (keepBody) {
      // a body we must read is asked for uncompressed
      for (let h = headers.length - 2; h >= 0; h -= 2) if (headers[h] === 'accept-encoding') headers.splice(h, 2);
    }
    for (const h of options.headers) headers.push(h.name, h.value);
    let [path, droppedQuery] = dropRedactedQuery(ex.target);
    let droppedRedacted = droppedQuery;
    let body = ex.requestBody && ex.requestBody.length > 0 ? Buffer.from(ex.requestBody) : null;
    let scrubBody: BodyKind | null = null;
    if (body !== null && mayHoldRedacted(body)) {
      const kind = bodyKindOf(ex.requestHeaders.find(([n]) => n === 'content-type')?.[1] ?? null);
      if (subs.some((s) => s.inBody)) {
        // live values first (per clone), then what is still a token goes
        scrubBody = kind;
      } else {
        const text = body.toString('utf8');
        const scrubbed = scrubRedactedBody(text, kind, options.secrets);
        // filled (--secret) or scrubbed: either way the recorded token must not go out
        if (scrubbed.text !== text) body = Buffer.from(scrubbed.text);
        droppedRedacted += scrubbed.dropped;
      }
    }
    const usesJar = cookies.length > 0 || serverCookies !== null;
    const fixed = !usesJar && varying.length === 0 && subs.length === 0;
    // What plans hold while their clones run, shared between plans where it is the same
    // (strings, header lists, empty lists): most of a plan's memory otherwise.
    const method = pool.string(ex.method);
    path = pool.string(path);
    headers = pool.list(headers);
    return {
      segment: pool.string(segmentKey(ex.route, session.cohort)),
      recordedStatus: ex.status,
      offsetUs: Math.round((ex.startOffsetUs - first) / speed),
      dep,
      gapUs: dep < 0 ? 0 : Math.round((ex.startOffsetUs - depEnd) / speed),
      dependents: EMPTY,
      fixed: fixed ? { path, method, headers, body, wire: null } : null,
      path,
      method,
      headers,
      varying: orEmpty(varying),
      cookies: orEmpty(cookies),
      body,
      bodyText: body && subs.some((s) => s.inBody) ? body.toString('utf8') : null,
      substitutions: orEmpty(subs),
      sources: orEmpty(sources),
      keepBody,
      droppedRedacted,
      scrubBody,
    };
  });
  steps.forEach((s, j) => {
    if (s.dep < 0) return;
    const d = steps[s.dep]!;
    if (d.dependents === EMPTY) d.dependents = [j];
    else d.dependents.push(j);
  });
  return { key: session.key, recordedStartUs: first, steps, vars: corr.vars, serverCookies: serverCookies ?? NO_COOKIES, secrets: options.secrets ?? NO_SECRETS };
}
