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
 * Tables, created by the writer when the file is new.
 *
 * `sessions.keyed_by` names the rule that keyed each session
 * (`cookie-set:sid`, `cookie-request:sid`, `auth`, `client`, `request`, …;
 * see `segment/session-key.ts`). It was added within schema version 1:
 * recordings written before it have no such column (readers must check),
 * and older readers, which name their columns, read newer files unchanged.
 *
 * Column order matters: blob columns come last in `exchanges`, so queries that
 * skip bodies never have to walk a body's overflow pages. Every value is
 * stored as received: headers as JSON arrays of `[name, value]` pairs, bodies
 * as BLOB (NULL when there was no body, a zero-length BLOB for an empty one).
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
  id             INTEGER PRIMARY KEY,
  session_key    TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  start_us       INTEGER NOT NULL,
  duration_us    INTEGER NOT NULL,
  method         TEXT NOT NULL,
  target         TEXT NOT NULL,
  host           TEXT,
  scheme         TEXT NOT NULL,
  route          TEXT NOT NULL,
  status         INTEGER,
  error          TEXT,
  error_detail   TEXT,
  req_body_bytes INTEGER NOT NULL,
  req_truncated  INTEGER NOT NULL,
  res_body_bytes INTEGER NOT NULL,
  res_truncated  INTEGER NOT NULL,
  res_encoding   TEXT,
  req_headers    TEXT NOT NULL,
  res_headers    TEXT NOT NULL,
  req_body       BLOB,
  res_body       BLOB
);
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

/** The column list the reader selects, without (`LIST_COLUMNS`) or with the bodies; the order is `ExchangeRow`'s. */
export const LIST_COLUMNS =
  'e.id, e.session_key, e.seq, e.start_us, e.duration_us, e.method, e.target, e.host, e.scheme, e.route, ' +
  'e.status, e.error, e.error_detail, e.req_body_bytes, e.req_truncated, e.res_body_bytes, e.res_truncated, ' +
  'e.res_encoding, e.req_headers, e.res_headers';
/** {@link LIST_COLUMNS} plus both body blobs. */
export const FULL_COLUMNS = LIST_COLUMNS + ', e.req_body, e.res_body';
