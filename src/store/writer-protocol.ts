/**
 * Messages between `RecordingWriter` (main thread) and its worker thread.
 * Types only: the worker's code is self-contained (see `writer-worker.ts`).
 */

/**
 * One exchange on its way to the worker: a flat tuple of primitives (much
 * cheaper to post than an object with nested header arrays), headers and
 * cohort already JSON text. Bodies travel in the batch's transferred buffer:
 * `reqOff`/`reqLen` locate the request body (`reqLen` −1 means no body),
 * likewise `resOff`/`resLen`. Order matters: the worker reads by position.
 */
export type RowTuple = [
  sessionKey: string,
  cohortJson: string,
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
  reqTruncated: 0 | 1,
  resBodyBytes: number,
  resTruncated: 0 | 1,
  resEncoding: string | null,
  reqHeadersJson: string,
  resHeadersJson: string,
  reqOff: number,
  reqLen: number,
  resOff: number,
  resLen: number,
  /** The rule that keyed the session (`cookie-request:sid`, …), or null when not known. */
  keyedBy: string | null,
];

/** Main → worker. `bodies` is transferred; the worker hands it back for reuse once committed. */
export type ToWorker =
  | { t: 'rows'; rows: RowTuple[]; bodies: ArrayBuffer }
  | { t: 'flush'; id: number }
  | { t: 'close'; id: number; notes: Record<string, string> | null }
  | { t: 'abort'; id: number };

/** Worker → main. `buffers` are body buffers of committed rows, transferred back for reuse. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'written'; written: number; buffers: ArrayBuffer[] }
  | { t: 'flushed'; id: number; written: number }
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
  createIndexesSql: string;
  resequenceSql: string;
}
