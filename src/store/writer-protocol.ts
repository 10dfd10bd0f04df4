import type { Cohort } from '../model/session.js';
import type { HeaderList } from '../model/exchange.js';

/**
 * Messages between `RecordingWriter` (main thread) and its worker thread.
 * Types only: the worker's code is self-contained (see `writer-worker.ts`).
 */

/**
 * One exchange on its way to the worker. Bodies travel in the batch's single
 * transferred `ArrayBuffer`: `reqOff`/`reqLen` locate the request body
 * (`reqLen` −1 means no body), likewise `resOff`/`resLen`.
 */
export interface RowMessage {
  sessionKey: string;
  cohort: Cohort;
  startUs: number;
  durationUs: number;
  method: string;
  target: string;
  host: string | null;
  scheme: string;
  route: string;
  status: number | null;
  error: string | null;
  errorDetail: string | null;
  reqBodyBytes: number;
  reqTruncated: boolean;
  resBodyBytes: number;
  resTruncated: boolean;
  resEncoding: string | null;
  reqHeaders: HeaderList;
  resHeaders: HeaderList;
  reqOff: number;
  reqLen: number;
  resOff: number;
  resLen: number;
}

/** Main → worker. */
export type ToWorker =
  | { t: 'rows'; rows: RowMessage[]; bodies: ArrayBuffer }
  | { t: 'flush'; id: number }
  | { t: 'close'; id: number; notes: Record<string, string> | null }
  | { t: 'abort'; id: number };

/** Worker → main. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'written'; written: number }
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
