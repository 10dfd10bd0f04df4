import type { HeaderList } from '../model/exchange.js';

/** One access-log line, parsed. */
export interface LogRecord {
  /** Request start (µs since the epoch): the logged time minus the request time when the log has it. */
  startUs: number;
  durationUs: number;
  method: string;
  /** Path and query (or an absolute URL as logged). */
  target: string;
  host: string | null;
  status: number | null;
  clientAddress: string;
  /** Headers the log kept: user-agent, referer, x-forwarded-for, x-region, cookie. */
  headers: HeaderList;
}

/** Why a line could not be parsed (message names the problem; the reader adds the line number). */
export class LogLineError extends Error {}

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

/** Parses `10/Oct/2000:13:55:36 -0700` (nginx/Apache `$time_local`, optional `.mmm`) to µs since the epoch. */
export function parseClfTimeUs(text: string): number {
  const m = /^(\d{1,2})\/([A-Za-z]{3})\/(\d{4}):(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?\s*([+-])(\d\d):?(\d\d)$/.exec(text.trim());
  if (!m) return NaN;
  const month = MONTHS[m[2]!.toLowerCase()];
  if (month === undefined) return NaN;
  const utcMs = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  const offsetMin = (Number(m[9]) * 60 + Number(m[10])) * (m[8] === '-' ? -1 : 1);
  const fracUs = m[7] ? Number(m[7].padEnd(6, '0')) : 0;
  return (utcMs - offsetMin * 60_000) * 1000 + fracUs;
}

// host? remote ident user [time] "request" status bytes ["referer" "ua"] [rest]
const COMBINED_RE =
  /^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}|-) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(.*)$/;

function unescapeLog(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\(.)/g, '$1');
}

const COOKIE_PAIR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+=[^;]*";
const COOKIE_RE = new RegExp(`^\\s*${COOKIE_PAIR}(?:;\\s*${COOKIE_PAIR})*;?\\s*$`);

/** Whether a logged field looks like a `Cookie` header (`sid=abc; theme=dark`). */
export function looksLikeCookieHeader(text: string): boolean {
  return text.includes('=') && COOKIE_RE.test(text);
}

/** Splits `GET /x HTTP/1.1` into method and target; null when it is not a request line. */
export function splitRequestLine(request: string): { method: string; target: string } | null {
  const m = /^([A-Z][A-Z0-9_-]*) (\S+)(?: HTTP\/\d(?:\.\d)?)?$/.exec(request.trim());
  return m ? { method: m[1]!, target: m[2]! } : null;
}

/**
 * Parses one nginx/Apache combined (or common) log line. Trailing extra
 * fields are allowed; `rt=0.123` / `request_time=0.123` there (seconds) give
 * the duration. Trailing quoted fields after the user agent are taken as
 * `X-Forwarded-For` when they look like an address, and as the `Cookie`
 * header when they look like cookies (nginx `"$http_cookie"`, Apache
 * `"%{Cookie}i"`; `"-"` is no cookie). Returns null for a line
 * whose request is not an HTTP request line (`"-"`, TLS bytes on a plain
 * port): the caller counts it. Throws {@link LogLineError} for a line that is
 * not in the format at all.
 */
export function parseCombinedLine(line: string): LogRecord | null {
  const m = COMBINED_RE.exec(line);
  if (!m) throw new LogLineError('not in combined/common log format');
  const endUs = parseClfTimeUs(m[4]!);
  if (!Number.isFinite(endUs)) throw new LogLineError(`bad time "${m[4]}"`);
  const req = splitRequestLine(unescapeLog(m[5]!));
  if (!req) return null;
  const rest = m[10] ?? '';
  const rt = /(?:^|\s)(?:rt|request_time)=(\d+(?:\.\d+)?)/.exec(rest);
  const durationUs = rt ? Math.round(Number(rt[1]) * 1_000_000) : 0;
  const headers: HeaderList = [];
  const ua = m[9] === undefined ? undefined : unescapeLog(m[9]);
  const referer = m[8] === undefined ? undefined : unescapeLog(m[8]);
  if (ua && ua !== '-') headers.push(['user-agent', ua]);
  if (referer && referer !== '-') headers.push(['referer', referer]);
  for (const q of rest.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    const field = unescapeLog(q[1]!).trim();
    if (/^[0-9a-fA-F.:, ]+$/.test(field) && /[.:]/.test(field)) {
      if (!headers.some(([k]) => k === 'x-forwarded-for')) headers.push(['x-forwarded-for', field]);
    } else if (looksLikeCookieHeader(field) && !headers.some(([k]) => k === 'cookie')) {
      headers.push(['cookie', field]);
    }
  }
  return {
    startUs: endUs - durationUs,
    durationUs,
    method: req.method,
    target: req.target,
    host: null,
    status: m[6] === '-' ? null : Number(m[6]),
    clientAddress: m[1]!,
    headers,
  };
}
