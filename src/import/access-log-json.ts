import type { HeaderList } from '../model/exchange.js';
import { LogLineError, parseClfTimeUs, splitRequestLine, type LogRecord } from './access-log-line.js';
import { parseIsoUs } from './har-entry.js';

type Obj = Record<string, unknown>;

const TIME_FIELDS = ['time', 'timestamp', '@timestamp', 'time_iso8601', 'time_local', 'ts', 'date', 'datetime'];
const METHOD_FIELDS = ['method', 'request_method', 'http_method', 'verb'];
const PATH_FIELDS = ['path', 'uri', 'request_uri', 'url', 'request_url', 'target'];
const STATUS_FIELDS = ['status', 'status_code', 'statusCode', 'response_status', 'code'];
const UA_FIELDS = ['user_agent', 'http_user_agent', 'userAgent', 'user-agent', 'ua', 'agent'];
const CLIENT_FIELDS = ['remote_addr', 'client_ip', 'clientip', 'client_addr', 'remote_ip', 'ip', 'client', 'remoteAddress'];
const XFF_FIELDS = ['http_x_forwarded_for', 'x_forwarded_for', 'x-forwarded-for', 'forwarded_for'];
const REGION_FIELDS = ['x-region', 'x_region', 'http_x_region', 'region'];
const REFERER_FIELDS = ['http_referer', 'referer', 'referrer'];
const HOST_FIELDS = ['host', 'http_host', 'server_name', 'hostname'];
const COOKIE_FIELDS = ['cookie', 'http_cookie', 'cookies', 'request_cookie', 'request_cookies'];
/** Objects of request headers some loggers write (`request_headers`, `req_headers`, `headers`). */
const HEADER_OBJECT_FIELDS = ['request_headers', 'req_headers', 'requestHeaders', 'headers'];

function pick(o: Obj, names: string[]): unknown {
  for (const n of names) {
    const v = o[n];
    if (v !== undefined && v !== null && v !== '' && v !== '-') return v;
  }
  return undefined;
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0]; // Caddy: headers are arrays
  return undefined;
}

/** A logged cookie field as a `Cookie` header: a string as is (Caddy: the first of an array), an object as `a=1; b=2`. */
function cookieText(v: unknown): string | undefined {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const pairs = Object.entries(v as Obj)
      .filter(([, value]) => typeof value === 'string' || typeof value === 'number')
      .map(([name, value]) => `${name}=${String(value)}`);
    return pairs.length > 0 ? pairs.join('; ') : undefined;
  }
  if (Array.isArray(v)) return v.filter((x) => typeof x === 'string').join('; ') || undefined;
  const t = text(v);
  return t === undefined || t.trim() === '' || t === '-' ? undefined : t;
}

/** A time field as µs since the epoch: ISO text, `$time_local` text, or epoch s/ms/µs/ns. */
export function parseTimeValueUs(v: unknown): number {
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v))) {
    const n = Number(v);
    if (n > 1e17) return Math.round(n / 1000); // ns
    if (n > 1e14) return Math.round(n); // µs
    if (n > 1e11) return Math.round(n * 1000); // ms
    return Math.round(n * 1_000_000); // s
  }
  if (typeof v !== 'string') return NaN;
  const clf = parseClfTimeUs(v);
  return Number.isFinite(clf) ? clf : parseIsoUs(v);
}

/** A duration field as µs: `request_time`/Caddy `duration` in s, `*_ms` in ms. */
function durationUsOf(o: Obj, caddy: boolean): number {
  const s = o['request_time'] ?? o['response_time'] ?? (caddy ? o['duration'] : undefined);
  if (s !== undefined && Number.isFinite(Number(s))) return Math.round(Number(s) * 1_000_000);
  const ms = o['duration_ms'] ?? o['response_time_ms'] ?? o['latency_ms'] ?? o['duration'];
  if (ms !== undefined && Number.isFinite(Number(ms))) return Math.round(Number(ms) * 1000);
  return 0;
}

/**
 * Parses one JSON-lines access-log record with the common field names
 * (nginx `log_format … escape=json`, Caddy, app loggers): time from
 * time/timestamp/@timestamp, method and path from method/path/uri/url (or a
 * `request` line), status, user_agent/http_user_agent, remote_addr/client_ip,
 * and an `x-region` field when present. Caddy's nested `request` object is
 * understood. Cookies come from `cookie`/`http_cookie`/`cookies` (a header
 * string, or an object of name → value) or a `Cookie` entry in a
 * `request_headers`/`headers` object. Returns null for a record whose request is not HTTP; throws
 * {@link LogLineError} for a line that is not a JSON object or lacks time
 * or path.
 */
export function parseJsonLine(line: string): LogRecord | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new LogLineError('not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new LogLineError('not a JSON object');
  const top = parsed as Obj;
  const nested = top['request'] !== null && typeof top['request'] === 'object' && !Array.isArray(top['request']);
  const req = nested ? (top['request'] as Obj) : top;
  const lowerHeaders: Obj = {};
  for (const holder of [top, req]) {
    for (const f of HEADER_OBJECT_FIELDS) {
      const h = holder[f];
      if (h === null || typeof h !== 'object' || Array.isArray(h)) continue;
      for (const [k, v] of Object.entries(h as Obj)) lowerHeaders[k.toLowerCase()] ??= v;
    }
  }

  const timeValue = pick(top, TIME_FIELDS) ?? pick(req, TIME_FIELDS);
  if (timeValue === undefined) throw new LogLineError('no time field (time, timestamp, @timestamp)');
  const timeUs = parseTimeValueUs(timeValue);
  if (!Number.isFinite(timeUs)) throw new LogLineError(`bad time "${String(timeValue)}"`);

  let method = text(pick(req, METHOD_FIELDS));
  let target = text(pick(req, PATH_FIELDS));
  if ((!method || !target) && typeof req['request'] === 'string') {
    const split = splitRequestLine(req['request']);
    if (!split) return null;
    method ??= split.method;
    target ??= split.target;
  }
  if (!target) throw new LogLineError('no path field (path, uri, url, request)');
  method = (method ?? 'GET').toUpperCase();
  let host = text(pick(req, HOST_FIELDS)) ?? null;
  if (/^https?:\/\//i.test(target)) {
    const u = new URL(target);
    target = u.pathname + u.search;
    host ??= u.host;
  } else if (!target.startsWith('/') && target !== '*') {
    throw new LogLineError(`bad path "${target.slice(0, 40)}"`);
  }
  const args = text(req['args'] ?? req['query_string']);
  if (args && !target.includes('?')) target += '?' + args;

  const headers: HeaderList = [];
  const ua = text(pick(top, UA_FIELDS) ?? pick(req, UA_FIELDS) ?? lowerHeaders['user-agent']);
  if (ua) headers.push(['user-agent', ua]);
  const referer = text(pick(top, REFERER_FIELDS) ?? lowerHeaders['referer']);
  if (referer) headers.push(['referer', referer]);
  const xff = text(pick(top, XFF_FIELDS) ?? lowerHeaders['x-forwarded-for']);
  if (xff) headers.push(['x-forwarded-for', xff]);
  const region = text(pick(top, REGION_FIELDS) ?? lowerHeaders['x-region']);
  if (region) headers.push(['x-region', region]);
  const cookie = cookieText(pick(top, COOKIE_FIELDS) ?? pick(req, COOKIE_FIELDS) ?? lowerHeaders['cookie']);
  if (cookie) headers.push(['cookie', cookie]);

  const statusValue = pick(top, STATUS_FIELDS);
  const status = statusValue === undefined ? null : Number(statusValue);
  const durationUs = durationUsOf(top, nested);
  // nginx logs when the request ends; Caddy's `ts` is the end too.
  return {
    startUs: timeUs - durationUs,
    durationUs,
    method,
    target,
    host,
    status: status !== null && Number.isInteger(status) && status >= 100 && status < 600 ? status : null,
    clientAddress: text(pick(req, CLIENT_FIELDS) ?? pick(top, CLIENT_FIELDS)) ?? '',
    headers,
  };
}
