import type { ErrorKind, Exchange, HeaderList } from '../model/exchange.js';
import { parseStoredJson, RowDamage } from './damage.js';
import { EXCHANGE_COL, EXCHANGE_COLUMNS, FULL_COLUMN_COUNT, type ColumnValues } from './schema.js';

/**
 * One `exchanges` row as the reader selects it in raw (array) mode: the
 * values of `EXCHANGE_COLUMNS` in order (`FULL_COLUMNS`), or all but the
 * bodies (`LIST_COLUMNS`, the bodies then undefined). Read a value by name,
 * `row[EXCHANGE_COL.status]`. Raw rows read about twice as fast as row
 * objects (measured: 131k against 72k rows per CPU-second on the
 * session-ordered join).
 */
export type ExchangeRow = ColumnValues<typeof EXCHANGE_COLUMNS, Buffer | null | undefined>;

// What each column must hold ('s' text, 'n' whole number >= 0, '?' nullable, 'b' blob or null), from its
// declaration: a damaged record can hand back any type in any column, and the rest of flashback trusts an Exchange.
const COLUMN_TYPES = EXCHANGE_COLUMNS.map(({ decl }) =>
  decl === 'BLOB' ? 'b' : `${decl.startsWith('TEXT') ? 's' : 'n'}${/NOT NULL|PRIMARY KEY/.test(decl) ? '' : '?'}`,
);
const COLUMN_NAMES = EXCHANGE_COLUMNS.map((c) => c.name);
const C = EXCHANGE_COL;

function checkTypes(row: readonly unknown[], columns: number): void {
  for (let i = 0; i < columns; i++) {
    const v = row[i];
    const t = COLUMN_TYPES[i]!;
    const ok =
      t === 'b' ? v === null || v === undefined || Buffer.isBuffer(v)
        : v === null ? t.endsWith('?')
          : t[0] === 's' ? typeof v === 'string' : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (!ok) throw new RowDamage(`exchange ${String(row[C.id])}: ${COLUMN_NAMES[i]} holds ${v === null ? 'NULL' : typeof v}`);
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
    id: row[C.id],
    sessionKey: row[C.sessionKey],
    seq: row[C.seq],
    startOffsetUs: row[C.startUs],
    durationUs: row[C.durationUs],
    method: row[C.method],
    target: row[C.target],
    host: row[C.host],
    scheme: row[C.scheme] === 'https' ? 'https' : 'http',
    route: row[C.route],
    requestHeaders: parseHeaderList(row[C.reqHeaders], `exchange ${row[C.id]}: req_headers`),
    requestBody: row[C.reqBody] ?? null,
    requestBodyBytes: row[C.reqBodyBytes],
    requestBodyTruncated: row[C.reqTruncated] === 1,
    status: row[C.status],
    responseHeaders: parseHeaderList(row[C.resHeaders], `exchange ${row[C.id]}: res_headers`),
    responseBody: row[C.resBody] ?? null,
    responseBodyBytes: row[C.resBodyBytes],
    responseBodyTruncated: row[C.resTruncated] === 1,
    responseEncoding: row[C.resEncoding],
    error: row[C.error] as ErrorKind | null,
    errorDetail: row[C.errorDetail],
  };
}
