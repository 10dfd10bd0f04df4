/**
 * Messages between `RecordingWriter` (main thread) and its worker thread.
 * The worker's code is self-contained (see `writer-worker.ts`): it imports
 * types only, and what it needs of these values travels in its
 * {@link WriterWorkerData}.
 */
import { columnIndex, INSERT_COLUMNS, type ColumnIndex, type ColumnValues } from './schema.js';

/**
 * What follows the INSERT values in a {@link RowTuple}: not columns, but
 * how the worker finds the rest. Bodies travel in the batch's transferred
 * buffer: `reqOff`/`reqLen` locate the request body (`reqLen` −1 means no
 * body), likewise `resOff`/`resLen`. `keyedBy` is the rule that keyed the
 * session (`cookie-request:sid`, …), or null when not known. Declared like
 * columns so that their types and positions derive the same way.
 */
const ROW_EXTRAS = [
  { key: 'cohortJson', decl: 'TEXT NOT NULL' },
  { key: 'reqOff', decl: 'INTEGER NOT NULL' },
  { key: 'reqLen', decl: 'INTEGER NOT NULL' },
  { key: 'resOff', decl: 'INTEGER NOT NULL' },
  { key: 'resLen', decl: 'INTEGER NOT NULL' },
  { key: 'keyedBy', decl: 'TEXT' },
] as const;

const ROW_FIELDS = [...INSERT_COLUMNS, ...ROW_EXTRAS] as const;

/**
 * One exchange on its way to the worker: a flat tuple of primitives (much
 * cheaper to post than an object with nested header arrays), headers and
 * cohort already JSON text. Its head is the INSERT's values in order
 * (`INSERT_COLUMNS`), so the worker binds them without knowing the order;
 * `seq` and the two bodies are filled in by the worker (the main thread
 * sends 0 and nulls). Read and write it by name: `row[ROW.status]`.
 */
export type RowTuple = ColumnValues<typeof ROW_FIELDS, Uint8Array | null>;

/** Position of each value in a {@link RowTuple}. */
export const ROW: ColumnIndex<typeof ROW_FIELDS> = columnIndex(ROW_FIELDS);

/** Length of a {@link RowTuple}. */
export const ROW_LENGTH = ROW_FIELDS.length;

/**
 * Main → worker. `bodies` is transferred; the worker hands it back for reuse once committed.
 * `bytes`: about what the rows hold in memory (`BodyBatch.bytesHeld`), echoed back, summed, as
 * `writtenBytes` once they are committed. `startedAt`: when the first of the rows was added
 * (`Date.now()` on the main thread); the worker's commit deadline counts from it.
 */
export type ToWorker =
  | { t: 'rows'; rows: RowTuple[]; bodies: ArrayBuffer; bytes: number; startedAt: number }
  | { t: 'flush'; id: number }
  | { t: 'close'; id: number; notes: Record<string, string> | null }
  | { t: 'abort'; id: number };

/** Worker → main. `buffers` are body buffers of committed rows, transferred back for reuse. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'written'; written: number; writtenBytes: number; buffers: ArrayBuffer[] }
  | { t: 'flushed'; id: number; written: number; writtenBytes: number }
  | { t: 'closed'; id: number; exchanges: number; sessions: number }
  | { t: 'aborted'; id: number }
  | { t: 'error'; message: string };

/** What the worker is started with. */
export interface WriterWorkerData {
  /** The `.partial` file, already created with the schema and meta. */
  path: string;
  /** Absolute path of the better-sqlite3 package (the eval'd worker cannot resolve it itself). */
  sqlitePath: string;
  batchSize: number;
  flushMs: number;
  /** Inserts one exchange from the head of a {@link RowTuple} (`INSERT_EXCHANGE_SQL`). */
  insertSql: string;
  /** Number of INSERT values at the head of a {@link RowTuple}. */
  insertValues: number;
  /** {@link ROW}: the worker cannot import it. */
  row: typeof ROW;
  createIndexesSql: string;
  resequenceSql: string;
  /** `CREATE_SESSION_LOG_SQL` and `SESSIONS_FROM_LOG_SQL` (see `schema.ts`). */
  createSessionLogSql: string;
  sessionsFromLogSql: string;
  /** Sessions whose running state the worker keeps in memory at most (least recently used are forgotten). */
  sessionCache: number;
}
