/**
 * One recorded HTTP request/response pair. Produced by `record/` and
 * `import/`, stored by `store/`, replayed by `replay/`.
 *
 * Headers are ordered `[name, value]` pairs with lower-case names, duplicates
 * kept (two `set-cookie` headers stay two entries). Hop-by-hop headers
 * (connection, keep-alive, proxy-*, te, trailer, transfer-encoding, upgrade)
 * are never stored.
 */
export type HeaderList = Array<[name: string, value: string]>;

/** How an exchange failed when it produced no (complete) response. */
export type ErrorKind =
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'dns'
  | 'tls'
  | 'aborted'
  | 'protocol'
  | 'other';

export const ERROR_KINDS: readonly ErrorKind[] = [
  'refused',
  'reset',
  'timeout',
  'dns',
  'tls',
  'aborted',
  'protocol',
  'other',
];

export interface Exchange {
  /** Row id once stored; absent before. */
  id?: number;
  /** Session this exchange belongs to (see `segment/` session rules). */
  sessionKey: string;
  /** 0-based position within its session, by start time. */
  seq: number;
  /** Request start, µs since the recording's first request. */
  startOffsetUs: number;
  /** Request start to last byte of the response (or the error), µs. */
  durationUs: number;
  method: string;
  /** Path and query as sent: `/products/42?ref=home`. */
  target: string;
  /** Authority the request was for (`shop.example:443`), when known. */
  host: string | null;
  /** `http` or `https`. */
  scheme: 'http' | 'https';
  /** Route template, e.g. `GET /products/:id`, computed by `segment/`. */
  route: string;
  requestHeaders: HeaderList;
  /** Captured request body (up to the cap), or null when there was none. */
  requestBody: Uint8Array | null;
  /** Full size of the request body in bytes, captured or not. */
  requestBodyBytes: number;
  requestBodyTruncated: boolean;
  /** Response status, or null when the exchange failed before a status. */
  status: number | null;
  responseHeaders: HeaderList;
  /** Captured response body as received on the wire (still gzip/br encoded if it was). */
  responseBody: Uint8Array | null;
  responseBodyBytes: number;
  responseBodyTruncated: boolean;
  /** `content-encoding` of the stored response body (`gzip`, `br`), or null. */
  responseEncoding: string | null;
  /** Why the exchange failed, or null. */
  error: ErrorKind | null;
  /** Human detail of the error (`connect ECONNREFUSED 127.0.0.1:1`), or null. */
  errorDetail: string | null;
}

/** First value of header `name` (lower-case) in `headers`, or undefined. */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  for (const [k, v] of headers) if (k === name) return v;
  return undefined;
}

/** All values of header `name` (lower-case). */
export function headerValues(headers: HeaderList, name: string): string[] {
  const out: string[] = [];
  for (const [k, v] of headers) if (k === name) out.push(v);
  return out;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1 plus the usual proxy ones): never stored or forwarded. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
