/**
 * The SQLite schema of a recording file. One file per recording; the schema
 * version lives in `PRAGMA user_version` and the file is tagged with
 * `PRAGMA application_id`, so a reader can tell a flashback recording from any
 * other SQLite file before looking at a single table.
 */

/** Version of the recording schema (`PRAGMA user_version`); bump on any incompatible change. */
export const RECORDING_SCHEMA_VERSION = 1;

/** `PRAGMA application_id` of every recording: the ASCII bytes `FBRC`. */
export const RECORDING_APPLICATION_ID = 0x46425243;

/**
 * Page size of new recordings (bytes). Bigger pages insert faster
 * (PERFORMANCE-NOTES: 64 KiB ≈ 2× the rows/s of 4 KiB) and keep most bodies on
 * one page.
 */
export const RECORDING_PAGE_SIZE = 65_536;

/**
 * The columns of `exchanges`, in stored order: the one list every other
 * place derives from (the CREATE TABLE below, the reader's SELECT lists and
 * row indices, the writer's INSERT and its row tuple, the reader's type
 * checks). `key` names the column in code (`EXCHANGE_COL.status`, the
 * `ExchangeRow`/`RowTuple` labels); `decl` is its SQL type, from which the
 * reader also derives what a value must hold.
 *
 * Column order matters: blob columns come last, so queries that skip bodies
 * never have to walk a body's overflow pages, and a row selected without
 * bodies is a prefix of one selected with them. Every value is stored as
 * received: headers as JSON arrays of `[name, value]` pairs, bodies as BLOB
 * (NULL when there was no body, a zero-length BLOB for an empty one).
 * Reordering or renaming a column changes the file format (bump
 * {@link RECORDING_SCHEMA_VERSION}); so does adding one, unless every
 * reader first checks the file has it (as it must for `sessions.keyed_by`).
 */
export const EXCHANGE_COLUMNS = [
  { key: 'id', name: 'id', decl: 'INTEGER PRIMARY KEY' },
  { key: 'sessionKey', name: 'session_key', decl: 'TEXT NOT NULL' },
  { key: 'seq', name: 'seq', decl: 'INTEGER NOT NULL' },
  { key: 'startUs', name: 'start_us', decl: 'INTEGER NOT NULL' },
  { key: 'durationUs', name: 'duration_us', decl: 'INTEGER NOT NULL' },
  { key: 'method', name: 'method', decl: 'TEXT NOT NULL' },
  { key: 'target', name: 'target', decl: 'TEXT NOT NULL' },
  { key: 'host', name: 'host', decl: 'TEXT' },
  { key: 'scheme', name: 'scheme', decl: 'TEXT NOT NULL' },
  { key: 'route', name: 'route', decl: 'TEXT NOT NULL' },
  { key: 'status', name: 'status', decl: 'INTEGER' },
  { key: 'error', name: 'error', decl: 'TEXT' },
  { key: 'errorDetail', name: 'error_detail', decl: 'TEXT' },
  { key: 'reqBodyBytes', name: 'req_body_bytes', decl: 'INTEGER NOT NULL' },
  { key: 'reqTruncated', name: 'req_truncated', decl: 'INTEGER NOT NULL' },
  { key: 'resBodyBytes', name: 'res_body_bytes', decl: 'INTEGER NOT NULL' },
  { key: 'resTruncated', name: 'res_truncated', decl: 'INTEGER NOT NULL' },
  { key: 'resEncoding', name: 'res_encoding', decl: 'TEXT' },
  { key: 'reqHeaders', name: 'req_headers', decl: 'TEXT NOT NULL' },
  { key: 'resHeaders', name: 'res_headers', decl: 'TEXT NOT NULL' },
  { key: 'reqBody', name: 'req_body', decl: 'BLOB' },
  { key: 'resBody', name: 'res_body', decl: 'BLOB' },
] as const;

type Columns = typeof EXCHANGE_COLUMNS;
/** The columns the writer inserts: all but the row id, which SQLite assigns. */
type InsertColumns = Columns extends readonly [{ key: 'id' }, ...infer Rest] ? Rest : never;

/** `{ [key]: position }` of a column list, with each position a literal type (so `row[COL.status]` is typed). */
export type ColumnIndex<T extends readonly unknown[]> = {
  readonly [I in keyof T as T[I] extends { key: infer K extends string } ? K : never]: I extends `${infer N extends number}` ? N : never;
};

/** What a column holds in JavaScript, from its SQL declaration; `Blob` is the type a body travels as. */
type ValueOf<Decl, Blob> = Decl extends 'BLOB'
  ? Blob
  : Decl extends `INTEGER${infer Rest}`
    ? Rest extends '' ? number | null : number
    : Decl extends `TEXT${infer Rest}`
      ? Rest extends '' ? string | null : string
      : never;

/** A row of the columns `T` in order, labelled by nothing but position (see {@link ColumnIndex} for names). */
export type ColumnValues<T extends readonly unknown[], Blob> = {
  -readonly [I in keyof T]: T[I] extends { decl: infer D } ? ValueOf<D, Blob> : never;
};

/** The {@link ColumnIndex} of `columns`. */
export function columnIndex<T extends readonly { key: string }[]>(columns: T): ColumnIndex<T> {
  return Object.freeze(Object.fromEntries(columns.map((c, i) => [c.key, i]))) as ColumnIndex<T>;
}

/** Position of each `exchanges` column in a row selected with {@link FULL_COLUMNS} (or, up to the bodies, {@link LIST_COLUMNS}). */
export const EXCHANGE_COL = columnIndex(EXCHANGE_COLUMNS);

/** The columns of an INSERT, in {@link INSERT_EXCHANGE_SQL}'s order. */
export const INSERT_COLUMNS = EXCHANGE_COLUMNS.slice(1) as unknown as InsertColumns;

/** Inserts one exchange: {@link INSERT_COLUMNS} in order, one placeholder each. */
export const INSERT_EXCHANGE_SQL =
  `INSERT INTO exchanges (${INSERT_COLUMNS.map((c) => c.name).join(', ')}) ` +
  `VALUES (${INSERT_COLUMNS.map(() => '?').join(',')})`;

/**
 * Tables, created by the writer when the file is new.
 *
 * `sessions.keyed_by` names the rule that keyed each session
 * (`cookie-set:sid`, `cookie-request:sid`, `auth`, `client`, `request`, …;
 * see `segment/session-key.ts`). It was added within schema version 1:
 * recordings written before it have no such column (readers must check),
 * and older readers, which name their columns, read newer files unchanged.
 *
 * `exchanges` is {@link EXCHANGE_COLUMNS}, laid out as it always was, so
 * the schema text in a new file has not changed either.
 */
export const CREATE_TABLES_SQL = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE sessions (
  key            TEXT PRIMARY KEY,
  cohort         TEXT NOT NULL,
  start_us       INTEGER NOT NULL,
  end_us         INTEGER NOT NULL,
  exchange_count INTEGER NOT NULL,
  last_start_us  INTEGER NOT NULL,
  reseq          INTEGER NOT NULL DEFAULT 0,
  keyed_by       TEXT
);

CREATE TABLE exchanges (
${EXCHANGE_COLUMNS.map((c) => `  ${c.name.padEnd(15)}${c.decl}`).join(',\n')}
);
`;

/**
 * While a recording is written (`<file>.partial`), the writer does not keep
 * `sessions` current row by row: its key is a random token, so each commit
 * would rewrite a page of its key index per session touched (64 KiB each),
 * and the cost per exchange grew with the number of sessions (26–31 µs over
 * the first 50,000 one-exchange sessions, 86–89 µs by 400,000;
 * `bench/writer-sessions.mjs`). Instead each commit
 * appends, in the same transaction as its exchanges, one `session_log` row
 * per session it touched: what that commit adds to the session (`n`
 * exchanges, their earliest start and latest end, the cohort when it
 * changed, the keying rule when first given). `first` marks the first row
 * of a session since the writer last held it in memory: its exchanges were
 * numbered from 0 again, so a session with more than one such row needs
 * renumbering. An appended table only ever writes its last page.
 *
 * `SESSIONS_FROM_LOG_SQL` folds the log into `sessions` when the file is
 * finished (by a clean stop or `--recover`), in key order, and the log is
 * dropped: a finished recording has no `session_log`. A partial written
 * before the log existed has its `sessions` current and no log.
 */
export const CREATE_SESSION_LOG_SQL = `
CREATE TABLE IF NOT EXISTS session_log (
  key           TEXT NOT NULL,
  cohort        TEXT,
  start_us      INTEGER NOT NULL,
  end_us        INTEGER NOT NULL,
  n             INTEGER NOT NULL,
  last_start_us INTEGER NOT NULL,
  reseq         INTEGER NOT NULL,
  first         INTEGER NOT NULL,
  keyed_by      TEXT
);
`;

/**
 * One `sessions` row per key of `session_log`. `merge_cohort` and
 * `first_given` are the writer's own aggregate functions: the cohorts'
 * attributes merged in log order (later ones overwrite), and the first
 * keying rule given.
 */
export const SESSIONS_FROM_LOG_SQL = `
INSERT INTO sessions (key, cohort, start_us, end_us, exchange_count, last_start_us, reseq, keyed_by)
SELECT key, merge_cohort(cohort ORDER BY rowid), min(start_us), max(end_us), sum(n), max(last_start_us),
       max(reseq) OR sum(first) > 1, first_given(keyed_by ORDER BY rowid)
FROM session_log GROUP BY key ORDER BY key;
DROP TABLE session_log;
`;

/**
 * Secondary indexes, built once by `RecordingWriter.close()` (a bulk build
 * after the last insert is much cheaper than maintaining them row by row).
 *
 * - `exchanges_by_session`: one session's exchanges in order; with
 *   `sessions_by_start` it lets the reader stream sessions in start order as
 *   a nested loop, without a sort.
 * - `exchanges_by_start`: all exchanges in start order.
 */
export const CREATE_INDEXES_SQL = `
CREATE INDEX IF NOT EXISTS exchanges_by_session ON exchanges (session_key, start_us, seq);
CREATE INDEX IF NOT EXISTS exchanges_by_start ON exchanges (start_us, id);
CREATE INDEX IF NOT EXISTS sessions_by_start ON sessions (start_us, key);
`;

/**
 * Renumbers `seq` (0-based, by start time then insertion) in sessions whose
 * exchanges were added out of start order. Exchanges usually arrive in
 * completion order, so a long request can be added after a later short one.
 */
export const RESEQUENCE_SQL = `
UPDATE exchanges SET seq = ordered.n
FROM (
  SELECT e.id AS id, row_number() OVER (PARTITION BY e.session_key ORDER BY e.start_us, e.id) - 1 AS n
  FROM exchanges e JOIN sessions s ON s.key = e.session_key
  WHERE s.reseq = 1
) AS ordered
WHERE exchanges.id = ordered.id;
UPDATE sessions SET reseq = 0 WHERE reseq = 1;
`;

/** Number of `exchanges` columns before the first body (the columns of {@link LIST_COLUMNS}). */
export const LIST_COLUMN_COUNT = EXCHANGE_COLUMNS.findIndex((c) => c.decl === 'BLOB');
/** Number of `exchanges` columns (the columns of {@link FULL_COLUMNS}). */
export const FULL_COLUMN_COUNT = EXCHANGE_COLUMNS.length;

/** The column list the reader selects, without (`LIST_COLUMNS`) or with the bodies; the order is `ExchangeRow`'s. */
export const LIST_COLUMNS = EXCHANGE_COLUMNS.slice(0, LIST_COLUMN_COUNT).map((c) => `e.${c.name}`).join(', ');
/** {@link LIST_COLUMNS} plus both body blobs. */
export const FULL_COLUMNS = EXCHANGE_COLUMNS.map((c) => `e.${c.name}`).join(', ');
