import { ERROR_KINDS, type ErrorKind } from '../model/exchange.js';
import { authorityOf, mergeCookies, normalizeHeaders } from './headers.js';
import type { RawExchange } from './raw-exchange.js';

type Obj = Record<string, unknown>;

/** Why a HAR entry could not be used (counted as skipped under this reason). */
export class HarEntryError extends Error {}

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * Parses an ISO-8601 date to µs since the epoch, keeping sub-millisecond
 * digits (`2024-05-01T10:00:00.123456Z`). NaN when unparseable.
 */
export function parseIsoUs(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return NaN;
  const frac = /T\d\d:\d\d:\d\d[.,](\d+)/.exec(text)?.[1] ?? '';
  const extraUs = frac.length > 3 ? Number(frac.slice(3, 6).padEnd(3, '0')) : 0;
  return ms * 1000 + extraUs;
}

function pairsOf(list: unknown): Array<[string, string]> {
  if (!Array.isArray(list)) return [];
  const out: Array<[string, string]> = [];
  for (const h of list) {
    const o = obj(h);
    const name = str(o?.['name']);
    if (name === undefined) continue;
    const value = o?.['value'];
    out.push([name, value === undefined || value === null ? '' : String(value)]);
  }
  return out;
}

function bodyOf(text: string | undefined, encoding: unknown): Uint8Array | null {
  if (text === undefined || text === '') return null;
  if (typeof encoding === 'string' && encoding.toLowerCase() === 'base64') return Buffer.from(text, 'base64');
  return Buffer.from(text, 'utf8');
}

function requestBodyOf(postData: Obj | undefined): Uint8Array | null {
  if (!postData) return null;
  const text = str(postData['text']);
  if (text !== undefined && text !== '') return bodyOf(text, postData['encoding'] ?? postData['_encoding']);
  // Some tools give only the form params.
  const params = pairsOf(postData['params']);
  if (params.length === 0) return null;
  return Buffer.from(new URLSearchParams(params).toString(), 'utf8');
}

/** Maps Chrome's `_error` (`net::ERR_CONNECTION_REFUSED`) to an error kind. */
export function errorKindOf(detail: string): ErrorKind {
  const d = detail.toUpperCase();
  if (d.includes('REFUSED')) return 'refused';
  if (d.includes('RESET') || d.includes('CLOSED')) return 'reset';
  if (d.includes('TIMED_OUT') || d.includes('TIMEOUT')) return 'timeout';
  if (d.includes('NAME_NOT_RESOLVED') || d.includes('DNS')) return 'dns';
  if (d.includes('CERT') || d.includes('SSL')) return 'tls';
  if (d.includes('ABORTED') || d.includes('CANCEL')) return 'aborted';
  return 'other';
}

function durationUsOf(entry: Obj): number {
  const time = entry['time'];
  if (typeof time === 'number' && Number.isFinite(time) && time >= 0) return Math.round(time * 1000);
  const timings = obj(entry['timings']);
  if (!timings) return 0;
  let ms = 0;
  for (const k of ['blocked', 'dns', 'connect', 'send', 'wait', 'receive']) {
    const v = timings[k];
    if (typeof v === 'number' && v > 0) ms += v;
  }
  return Math.round(ms * 1000);
}

/**
 * Converts one HAR 1.2 entry (Chrome, Firefox, Playwright, Charles) to a
 * {@link RawExchange}: offsets from `startedDateTime`, bodies from
 * `postData.text`/`params` and `content.text` (base64 when
 * `encoding: "base64"`), pseudo-headers dropped, cookies merged (a
 * `request.cookies` list stands in when no `cookie` header was kept).
 * Throws {@link HarEntryError} for an entry that cannot be used.
 */
export function harEntryToExchange(entry: Obj): RawExchange {
  const request = obj(entry['request']);
  const response = obj(entry['response']) ?? {};
  if (!request) throw new HarEntryError('entry without request');
  const method = str(request['method'])?.toUpperCase();
  const urlText = str(request['url']);
  if (!method || !urlText) throw new HarEntryError('entry without method or url');
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new HarEntryError('entry with an invalid url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HarEntryError(`non-HTTP url (${url.protocol})`);
  const startedText = str(entry['startedDateTime']);
  // flashback's own export keeps µs precision in `_flashbackStartUs` (ISO dates stop at ms).
  const exactUs = entry['_flashbackStartUs'];
  const startUs =
    typeof exactUs === 'number' && Number.isSafeInteger(exactUs)
      ? exactUs
      : startedText === undefined
        ? NaN
        : parseIsoUs(startedText);
  if (!Number.isFinite(startUs)) throw new HarEntryError('entry without a valid startedDateTime');

  const rawReq = pairsOf(request['headers']);
  const requestHeaders = normalizeHeaders(rawReq);
  const cookieList = pairsOf(request['cookies']);
  if (cookieList.length > 0 && !requestHeaders.some(([n]) => n === 'cookie')) {
    const text = cookieList.map(([n, v]) => `${n}=${v}`).join('; ');
    requestHeaders.push(['cookie', mergeCookies(text, '')]);
  }
  const rawRes = pairsOf(response['headers']);
  const content = obj(response['content']) ?? {};
  const statusNum = typeof response['status'] === 'number' ? response['status'] : Number(response['status']);
  const errorText = str(response['_error']) ?? str(entry['_error']) ?? null;
  const failed = !(statusNum >= 100 && statusNum < 600);
  const mime = str(content['mimeType']) ?? null;
  return {
    startUs,
    durationUs: durationUsOf(entry),
    method,
    target: (url.pathname || '/') + url.search,
    host: authorityOf(rawReq) ?? url.host,
    scheme: url.protocol === 'https:' ? 'https' : 'http',
    clientAddress: '',
    requestHeaders,
    requestBody: requestBodyOf(obj(request['postData'])),
    status: failed ? null : statusNum,
    responseHeaders: failed ? [] : normalizeHeaders(rawRes),
    responseBody: failed ? null : bodyOf(str(content['text']), content['encoding']),
    responseEncoding: null,
    mimeType: mime,
    ...(failed ? failureOf(entry, errorText) : { error: null, errorDetail: null }),
    ...flashbackFields(entry),
  };
}

/**
 * Error of an entry without a response. flashback's own export keeps the exact
 * kind and detail in `_flashbackError`/`_flashbackErrorDetail` (kind null: a
 * request whose response was never captured).
 */
function failureOf(entry: Obj, errorText: string | null): { error: ErrorKind | null; errorDetail: string | null } {
  if ('_flashbackError' in entry) {
    const kind = entry['_flashbackError'];
    const detail = entry['_flashbackErrorDetail'];
    return {
      error: typeof kind === 'string' && (ERROR_KINDS as readonly string[]).includes(kind) ? (kind as ErrorKind) : null,
      errorDetail: typeof detail === 'string' ? detail : null,
    };
  }
  return { error: errorKindOf(errorText ?? ''), errorDetail: errorText ?? 'no response in HAR entry' };
}

/** flashback's own HAR export keeps the session key in `_flashbackSession`. */
function flashbackFields(entry: Obj): { sessionKey?: string } {
  const key = str(entry['_flashbackSession']);
  return key ? { sessionKey: key } : {};
}
