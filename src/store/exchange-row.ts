import type { ErrorKind, Exchange, HeaderList } from '../model/exchange.js';
import { parseStoredJson, RowDamage } from './damage.js';

/**
 * One `exchanges` row as the reader selects it in raw (array) mode, in the
 * order of `LIST_COLUMNS` / `FULL_COLUMNS` in `schema.ts`. Raw rows read about
 * twice as fast as row objects (measured: 131k against 72k rows per
 * CPU-second on the session-ordered join).
 */
export type ExchangeRow = [
  id: number,
  sessionKey: string,
  seq: number,
  startUs: number,
  durationUs: number,
  method: string,
  target: string,
  host: string | null,
  scheme: string,
  route: string,
  status: number | null,
  error: string | null,
  errorDetail: string | null,
  reqBodyBytes: number,
  reqTruncated: number,
  resBodyBytes: number,
  resTruncated: number,
  resEncoding: string | null,
  reqHeaders: string,
  resHeaders: string,
  reqBody?: Buffer | null,
  resBody?: Buffer | null,
];

/** Number of columns in `LIST_COLUMNS` (without bodies). */
export const LIST_COLUMN_COUNT = 20;
/** Number of columns in `FULL_COLUMNS` (with both bodies). */
export const FULL_COLUMN_COUNT = 22;

// What each column must hold ('s' text, 'n' whole number >= 0, '?' nullable, 'b' blob or null): a damaged
// record can hand back any type in any column, and the rest of flashback trusts an Exchange.
const COLUMN_TYPES = ['n', 's', 'n', 'n', 'n', 's', 's', 's?', 's', 's', 'n?', 's?', 's?', 'n', 'n', 'n', 'n', 's?', 's', 's', 'b', 'b'] as const;
const COLUMN_NAMES = ['id', 'session_key', 'seq', 'start_us', 'duration_us', 'method', 'target', 'host', 'scheme', 'route', 'status', 'error', 'error_detail',
  'req_body_bytes', 'req_truncated', 'res_body_bytes', 'res_truncated', 'res_encoding', 'req_headers', 'res_headers', 'req_body', 'res_body'];

function checkTypes(row: readonly unknown[], columns: number): void {
  for (let i = 0; i < columns; i++) {
    const v = row[i];
    const t = COLUMN_TYPES[i]!;
    const ok =
      t === 'b' ? v === null || v === undefined || Buffer.isBuffer(v)
        : v === null ? t.endsWith('?')
          : t[0] === 's' ? typeof v === 'string' : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (!ok) throw new RowDamage(`exchange ${String(row[0])}: ${COLUMN_NAMES[i]} holds ${v === null ? 'NULL' : typeof v}`);
  }
}

/** A stored header list: JSON `[[name, value], …]` of strings. */
export function parseHeaderList(text: unknown, what: string): HeaderList {
  const list = parseStoredJson(text, what);
  if (!Array.isArray(list)) throw new RowDamage(`${what} is not a header list`);
  for (const pair of list as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw new RowDamage(`${what} is not a header list`);
    }
  }
  return list as HeaderList;
}

/**
 * Turns a stored row back into an {@link Exchange} (bodies null when they
 * were not selected). Throws {@link RowDamage} for a row the writer cannot
 * have written (a damaged file). `columns`: how many of the row's values are
 * exchange columns (LIST_COLUMN_COUNT or FULL_COLUMN_COUNT; others follow).
 */
export function rowToExchange(row: ExchangeRow, columns: number = Math.min(row.length, FULL_COLUMN_COUNT)): Exchange {
  checkTypes(row, columns);
  return {
    id: row[0],
    sessionKey: row[1],
    seq: row[2],
    startOffsetUs: row[3],
    durationUs: row[4],
    method: row[5],
    target: row[6],
    host: row[7],
    scheme: row[8] === 'https' ? 'https' : 'http',
    route: row[9],
    requestHeaders: parseHeaderList(row[18], `exchange ${row[0]}: req_headers`),
    requestBody: row[20] ?? null,
    requestBodyBytes: row[13],
    requestBodyTruncated: row[14] === 1,
    status: row[10],
    responseHeaders: parseHeaderList(row[19], `exchange ${row[0]}: res_headers`),
    responseBody: row[21] ?? null,
    responseBodyBytes: row[15],
    responseBodyTruncated: row[16] === 1,
    responseEncoding: row[17],
    error: row[11] as ErrorKind | null,
    errorDetail: row[12],
  };
}
