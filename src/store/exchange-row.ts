import type { ErrorKind, Exchange, HeaderList } from '../model/exchange.js';

/** One `exchanges` row as the reader selects it (bodies only with `withBodies`). */
export interface ExchangeRow {
  id: number;
  session_key: string;
  seq: number;
  start_us: number;
  duration_us: number;
  method: string;
  target: string;
  host: string | null;
  scheme: string;
  route: string;
  status: number | null;
  error: string | null;
  error_detail: string | null;
  req_body_bytes: number;
  req_truncated: number;
  res_body_bytes: number;
  res_truncated: number;
  res_encoding: string | null;
  req_headers: string;
  res_headers: string;
  req_body?: Buffer | null;
  res_body?: Buffer | null;
}

/** Turns a stored row back into an {@link Exchange} (bodies null when they were not selected). */
export function rowToExchange(row: ExchangeRow): Exchange {
  return {
    id: row.id,
    sessionKey: row.session_key,
    seq: row.seq,
    startOffsetUs: row.start_us,
    durationUs: row.duration_us,
    method: row.method,
    target: row.target,
    host: row.host,
    scheme: row.scheme === 'https' ? 'https' : 'http',
    route: row.route,
    requestHeaders: JSON.parse(row.req_headers) as HeaderList,
    requestBody: row.req_body ?? null,
    requestBodyBytes: row.req_body_bytes,
    requestBodyTruncated: row.req_truncated === 1,
    status: row.status,
    responseHeaders: JSON.parse(row.res_headers) as HeaderList,
    responseBody: row.res_body ?? null,
    responseBodyBytes: row.res_body_bytes,
    responseBodyTruncated: row.res_truncated === 1,
    responseEncoding: row.res_encoding,
    error: row.error as ErrorKind | null,
    errorDetail: row.error_detail,
  };
}
