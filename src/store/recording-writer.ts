import { existsSync, openSync, closeSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { InputError, RunError, messageOf } from '../model/errors.js';
import type { Exchange } from '../model/exchange.js';
import type { Cohort } from '../model/session.js';
import type { RecordingMetaInput } from './recording-meta.js';
import { isDamage } from './damage.js';
import { createFailure, dropFileAndSidecars, initialiseFile, recordingSize } from './recording-file.js';
import { recoverCommand, validateLayout } from './recording-reader.js';
import { CREATE_INDEXES_SQL, CREATE_SESSION_LOG_SQL, INSERT_COLUMNS, INSERT_EXCHANGE_SQL, RESEQUENCE_SQL, SESSIONS_FROM_LOG_SQL } from './schema.js';
import { BODY_CHUNK_BYTES, BodyBatch } from './body-batch.js';
import { ROW, type FromWorker, type ToWorker, type WriterWorkerData } from './writer-protocol.js';
import { WRITER_WORKER_SOURCE } from './writer-worker.js';

/** Anything that can redact an exchange before it is stored (`Redactor` from `redact.ts` is one). */
export interface ExchangeRedactor {
  redactExchange(ex: Exchange): Exchange;
}

/** Options of {@link RecordingWriter.create}. */
export interface RecordingWriterOptions {
  /** Applied to every exchange in `add()`, before anything reaches the file. */
  redactor?: ExchangeRedactor | null;
  /** A transaction is committed as soon as this many rows are waiting for one (default 1000). */
  batchSize?: number;
  /** A transaction is committed at most this many ms after its first row was added (default 100). */
  flushMs?: number;
  /** Replace an existing recording at `path` (on `close()`; until then the old one stays). Default false. */
  overwrite?: boolean;
  /**
   * When the writer fails (a full disk, say), keep `<path>.partial` instead
   * of deleting it: what was committed before the failure stays there for
   * {@link RecordingWriter.recover}. For traffic that cannot be read again
   * (a live recording); an importer can simply import again. Default false.
   */
  keepOnFailure?: boolean;
  /**
   * Sessions whose running state (exchanges so far, last start) the writer
   * thread keeps in memory, least recently used forgotten first (default
   * 100,000). A forgotten session that comes back is renumbered when the
   * file is finished; tests make this small to exercise that.
   */
  sessionCache?: number;
}

/**
 * Rows handed to the worker per message at most, and the share of `flushMs` a row may wait on
 * the main thread before it is handed over. The worker commits when the oldest row is `flushMs`
 * old (by when it was added), so the hand-over's delay does not add to the crash budget; each
 * hand-over wakes the writer thread, and at a few hundred exchanges a second, posting every 5 ms
 * cost the writer thread about a third more CPU per exchange (docs/record.md, "Hand-overs to
 * the writer").
 */
const POST_ROWS = 256;
const POST_SHARE = 0.8;
/** Default of {@link RecordingWriterOptions.sessionCache}: at most twice as many in memory, some 25 MB of the writer thread's heap. */
const SESSION_CACHE = 100_000;
/** Body buffers kept for reuse at most (each BODY_CHUNK_BYTES). */
const POOL_SIZE = 8;

/**
 * Writes a recording. Rows are queued on the main thread and posted to a
 * worker thread in small batches (bodies copied into one transferred, pooled buffer),
 * where they are committed in transactions of at most `batchSize` rows or
 * `flushMs` ms. Nothing here blocks the caller's event loop for long: SQLite
 * commits and WAL checkpoints happen on the worker.
 *
 * The file is written as `<path>.partial` and renamed to `path` by `close()`,
 * so a crash never leaves a half-written file that looks like a recording.
 */
export class RecordingWriter {
  /** Final path of the recording. */
  readonly path: string;
  /** The file being written until `close()`. */
  readonly partialPath: string;
  private readonly worker: Worker;
  private readonly redactor: ExchangeRedactor | null;
  private readonly pool: ArrayBuffer[] = [];
  private readonly takeBuffer = (minBytes: number): ArrayBuffer =>
    minBytes <= BODY_CHUNK_BYTES ? (this.pool.pop() ?? new ArrayBuffer(BODY_CHUNK_BYTES)) : new ArrayBuffer(minBytes);
  private readonly giveBuffer = (b: ArrayBuffer): void => {
    if (b.byteLength === BODY_CHUNK_BYTES && this.pool.length < POOL_SIZE) this.pool.push(b);
  };
  private batch = this.newBatch();
  private postTimer: ReturnType<typeof setTimeout> | null = null;
  /** When the batch's first row was added (`Date.now()`), 0 while it is empty. */
  private batchStartedAt = 0;
  /** How long a row waits on this thread at most before it is posted to the worker. */
  private readonly postMs: number;
  private added = 0;
  private writtenCount = 0;
  /** Bytes of every exchange added, and of those the worker has committed (see `queuedBytes`). */
  private addedBytes = 0;
  private committedBytes = 0;
  private nextId = 1;
  private readonly waiters = new Map<number, { resolve: (msg: FromWorker) => void; reject: (e: Error) => void }>();
  private failure: RunError | null = null;
  private state: 'open' | 'closing' | 'closed' | 'aborted' = 'open';
  private notes: Record<string, string> = {};
  private failureListeners: Array<(e: RunError) => void> = [];

  /** @param keepOnFailure see {@link RecordingWriterOptions.keepOnFailure}; always set when recovering */
  private constructor(
    path: string,
    partialPath: string,
    worker: Worker,
    redactor: ExchangeRedactor | null,
    private readonly keepOnFailure: boolean,
    flushMs: number,
  ) {
    this.postMs = Math.max(1, Math.floor(flushMs * POST_SHARE));
    this.path = path;
    this.partialPath = partialPath;
    this.worker = worker;
    this.redactor = redactor;
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (e) => this.fail(`worker failed: ${messageOf(e)}`));
    worker.on('exit', () => {
      // Messages posted before the exit are delivered first, so a clean close has no waiter left here.
      if (this.state === 'open' || this.waiters.size > 0) this.fail('worker exited unexpectedly');
    });
  }

  /**
   * Creates `<path>.partial` with the schema and meta and starts the writer
   * thread. Throws {@link InputError} (one line naming the file) when the path
   * is unwritable, or when a recording already exists there and `overwrite`
   * is not set. A `.partial` already there (a crashed recorder's, which
   * {@link recover} can finish, or a running one's) is refused the same way:
   * only `overwrite` discards it.
   */
  static async create(path: string, meta: RecordingMetaInput, options: RecordingWriterOptions = {}): Promise<RecordingWriter> {
    if (existsSync(path)) {
      if (statSync(path).isDirectory()) throw new InputError(`Failed to create recording ${path}: it is a directory`);
      if (!options.overwrite) {
        throw new InputError(`Failed to create recording ${path}: the file already exists`, {
          hint: 'choose another file name, or remove the old recording first',
        });
      }
    }
    const partialPath = `${path}.partial`;
    if (!options.overwrite && existsSync(partialPath)) {
      throw new InputError(
        `Failed to create recording ${path}: ${partialPath} is there, an unfinished recording (a crashed or still running recorder's); ` +
          `keep it with ${recoverCommand(partialPath)}, or pass --force to discard it`,
        { code: PARTIAL_EXISTS_CODE },
      );
    }
    try {
      dropFileAndSidecars(partialPath);
      closeSync(openSync(partialPath, 'w', 0o644));
    } catch (e) {
      throw createFailure(path, e);
    }
    try {
      initialiseFile(partialPath, meta);
    } catch (e) {
      dropFileAndSidecars(partialPath);
      throw createFailure(path, e);
    }
    let worker: Worker;
    try {
      worker = await startWorker(partialPath, options);
    } catch (e) {
      dropFileAndSidecars(partialPath);
      throw createFailure(path, e);
    }
    return new RecordingWriter(path, partialPath, worker, options.redactor ?? null, options.keepOnFailure === true, flushMsOf(options));
  }

  /**
   * Finishes a recording whose writer never closed it (the recorder was
   * killed): the committed exchanges stay as they are, and the worker's own
   * `close` does what a clean stop would have done (indexes, session order,
   * the finished mark, checkpoint), then `file` is renamed to `path`
   * (`x.db.partial` to `x.db`; the same name finishes a file in place).
   * Throws {@link InputError} when `file` is not an unfinished flashback
   * recording, when a writer still has it open, or when `path` exists and
   * `overwrite` is not set; {@link RunError} when finishing fails. Nothing
   * here deletes the crashed file: on any failure it stays for another try.
   */
  static async recover(file: string, path: string, options: { overwrite?: boolean } = {}): Promise<{ exchanges: number; sessions: number }> {
    const fail = (problem: string, cause?: unknown): InputError => new InputError(`Failed to recover ${file}: ${problem}`, { cause });
    // A second --recover after a first one worked: say the file is gone, not that the recording exists.
    if (!existsSync(file)) throw fail('file not found');
    if (path !== file && existsSync(path) && !options.overwrite) {
      throw fail(`${path} already exists; move it away, or pass --force to replace it`);
    }
    const finished = checkRecoverable(file, fail);
    if (finished && file === path) throw fail('it is a finished recording already; there is nothing to recover');
    let worker: Worker;
    try {
      worker = await startWorker(file, {});
    } catch (e) {
      throw fail(messageOf(e), e);
    }
    return new RecordingWriter(path, file, worker, null, true, flushMsOf({})).close();
  }

  /** Exchanges added but not yet committed to the file. */
  get queued(): number {
    return this.added - this.writtenCount;
  }

  /**
   * About how many bytes the exchanges added but not yet committed hold in
   * memory (bodies as kept, headers, strings): what a writer that cannot
   * keep up costs. The worker reports what it committed, so it falls as batches commit.
   */
  get queuedBytes(): number {
    return this.addedBytes - this.committedBytes;
  }

  /** Exchanges committed to the file so far. */
  get written(): number {
    return this.writtenCount;
  }

  /** Exchanges accepted by {@link add} so far (committed or not). */
  get accepted(): number {
    return this.added;
  }

  /** Why the writer failed (a full disk, say), or null while it is healthy. */
  get failed(): RunError | null {
    return this.failure;
  }

  /**
   * Calls `listener` once when the writer fails (at once if it has): a
   * recorder stops recording then, without waiting for its next exchange.
   */
  onFailure(listener: (e: RunError) => void): void {
    if (this.failure) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  /**
   * Queues one exchange; returns at once (no I/O). `exchange.seq` is ignored:
   * the writer numbers each session's exchanges itself. The session's cohort
   * is the first one given, later differing attributes overwriting.
   * `keyedBy` is the rule that keyed the session (`Sessionizer.assign`'s
   * `keyedBy`); the first one given for a session is kept. The
   * redactor, if any, runs here, before anything leaves this thread.
   * Throws {@link InputError} for an exchange the file cannot hold (a missing
   * string, a non-finite time; nothing is queued then), and {@link RunError}
   * after the writer failed, and after close/abort.
   */
  add(exchange: Exchange, cohort: Cohort, keyedBy?: string | null): void {
    if (this.failure) throw this.failure;
    if (this.state !== 'open') throw new RunError(`Failed to add to recording ${this.path}: the writer is ${this.state}`);
    const problem = exchangeProblem(exchange);
    if (problem) throw new InputError(`Failed to add an exchange to recording ${this.path}: ${problem}`);
    const ex = this.redactor ? this.redactor.redactExchange(exchange) : exchange;
    if (this.batch.wouldOverflow(ex)) this.post();
    try {
      this.addedBytes += this.batch.add(ex, cohort, keyedBy ?? null);
    } catch (e) {
      throw new InputError(`Failed to add an exchange to recording ${this.path}: ${messageOf(e)}`, { cause: e });
    }
    this.added++;
    if (this.batchStartedAt === 0) this.batchStartedAt = Date.now();
    if (this.batch.rows.length >= POST_ROWS) this.post();
    else if (!this.postTimer) this.postTimer = setTimeout(() => this.post(), this.postMs);
  }

  /** Adds notes to the recording's meta (written by `close()`), e.g. an importer's skipped counts. */
  setNotes(notes: Record<string, string>): void {
    Object.assign(this.notes, notes);
  }

  /** Resolves once every exchange added before the call is committed to the file. */
  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.state !== 'open') return;
    this.post();
    await this.request({ t: 'flush', id: this.nextId++ });
  }

  /**
   * Commits everything added, builds the indexes, writes the sessions'
   * final order, checkpoints, and renames `<path>.partial` to `path`.
   * On failure a {@link RunError} is thrown and the partial file removed
   * (kept with `keepOnFailure`).
   */
  async close(): Promise<{ exchanges: number; sessions: number }> {
    if (this.failure) {
      await this.stop(this.keepOnFailure);
      throw this.failure;
    }
    if (this.state !== 'open') throw new RunError(`Failed to close recording ${this.path}: the writer is ${this.state}`);
    this.post();
    this.state = 'closing';
    let msg: FromWorker;
    try {
      msg = await this.request({ t: 'close', id: this.nextId++, notes: this.notes });
    } catch (e) {
      await this.stop(this.keepOnFailure);
      throw e;
    }
    await waitForExit(this.worker);
    try {
      if (this.partialPath !== this.path) renameSync(this.partialPath, this.path);
      for (const f of [`${this.partialPath}-wal`, `${this.partialPath}-shm`]) rmSync(f, { force: true });
    } catch (e) {
      this.state = 'aborted';
      if (!this.keepOnFailure) dropFileAndSidecars(this.partialPath);
      throw new RunError(`Failed to finish recording ${this.path}: ${messageOf(e)}`, { cause: e });
    }
    this.state = 'closed';
    if (msg.t !== 'closed') throw new RunError(`Failed to close recording ${this.path}: unexpected ${msg.t}`);
    return { exchanges: msg.exchanges, sessions: msg.sessions };
  }

  /** Stops the writer and deletes the partial file: nothing half-written is left behind. Safe to call twice. */
  async abort(): Promise<void> {
    await this.stop(false);
  }

  /**
   * Stops the writer and keeps the partial file as a crash would have left
   * it: what was committed can still be finished with {@link recover}. For
   * a recording that failed part-way whose earlier exchanges are worth
   * keeping. Safe to call twice.
   */
  async abandon(): Promise<void> {
    // A healthy writer commits what it was given first; a failed one cannot.
    if (!this.failure && this.state === 'open') await this.flush().catch(() => undefined);
    await this.stop(true);
  }

  private async stop(keepFile: boolean): Promise<void> {
    if (this.state === 'aborted' || this.state === 'closed') return;
    this.state = 'aborted';
    if (this.postTimer) clearTimeout(this.postTimer);
    this.batch = this.newBatch();
    // Asked even after a failure (request() would refuse): the worker then closes its
    // connection, so the file is released as SQLite expects, not torn down with the thread.
    this.worker.ref();
    this.worker.postMessage({ t: 'abort', id: this.nextId++ } satisfies ToWorker);
    await Promise.race([waitForExit(this.worker), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    await this.worker.terminate();
    if (!keepFile) dropFileAndSidecars(this.partialPath);
  }

  private newBatch(): BodyBatch {
    return new BodyBatch(this.takeBuffer, this.giveBuffer);
  }

  private post(): void {
    if (this.postTimer) {
      clearTimeout(this.postTimer);
      this.postTimer = null;
    }
    if (this.batch.rows.length === 0) return;
    const bytes = this.batch.bytesHeld;
    const { rows, bodies } = this.batch.seal();
    this.batch = this.newBatch();
    const msg: ToWorker = { t: 'rows', rows, bodies, bytes, startedAt: this.batchStartedAt };
    this.batchStartedAt = 0;
    this.worker.postMessage(msg, [bodies]);
  }

  private request(msg: ToWorker & { id: number }): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.set(msg.id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(msg);
    });
  }

  private onMessage(msg: FromWorker): void {
    if (msg.t === 'written') {
      this.writtenCount = msg.written;
      this.committedBytes = msg.writtenBytes;
      for (const b of msg.buffers) this.giveBuffer(b);
    } else if (msg.t === 'error') {
      this.fail(msg.message);
    } else if (msg.t === 'flushed' || msg.t === 'closed' || msg.t === 'aborted') {
      if (msg.t === 'flushed') {
        this.writtenCount = msg.written;
        this.committedBytes = msg.writtenBytes;
      }
      const w = this.waiters.get(msg.id);
      this.waiters.delete(msg.id);
      // Stay referenced while closing or aborting, until the worker has exited.
      if (this.waiters.size === 0 && this.state === 'open') this.worker.unref();
      w?.resolve(msg);
    }
  }

  private fail(reason: string): void {
    if (this.failure || this.state === 'aborted' || this.state === 'closed') return;
    this.failure = new RunError(`Failed to write recording ${this.path}: ${reason}`);
    for (const w of this.waiters.values()) w.reject(this.failure);
    this.waiters.clear();
    this.worker.unref();
    const listeners = this.failureListeners;
    this.failureListeners = [];
    for (const l of listeners) l(this.failure);
  }
}

/** Error code of the {@link InputError} for a new recording whose `.partial` is already there. */
export const PARTIAL_EXISTS_CODE = 'FB_PARTIAL_EXISTS';

/** `flushMs` resolved (default 100): the worker's commit deadline, and what the hand-over interval is a share of. */
function flushMsOf(options: RecordingWriterOptions): number {
  return Math.max(1, options.flushMs ?? 100);
}

/** Starts a worker on `file` (schema and meta already there) and waits until it has opened it. */
async function startWorker(file: string, options: RecordingWriterOptions): Promise<Worker> {
  const workerData: WriterWorkerData = {
    path: file,
    sqlitePath: createRequire(import.meta.url).resolve('better-sqlite3'),
    batchSize: Math.max(1, Math.floor(options.batchSize ?? 1000)),
    flushMs: flushMsOf(options),
    insertSql: INSERT_EXCHANGE_SQL,
    insertValues: INSERT_COLUMNS.length,
    row: ROW,
    createIndexesSql: CREATE_INDEXES_SQL,
    resequenceSql: RESEQUENCE_SQL,
    createSessionLogSql: CREATE_SESSION_LOG_SQL,
    sessionsFromLogSql: SESSIONS_FROM_LOG_SQL,
    sessionCache: Math.max(1, Math.floor(options.sessionCache ?? SESSION_CACHE)),
  };
  const worker = new Worker(WRITER_WORKER_SOURCE, { eval: true, workerData });
  try {
    await new Promise<void>((resolve, reject) => {
      const onMessage = (msg: FromWorker): void => {
        worker.off('message', onMessage);
        worker.off('error', reject);
        if (msg.t === 'ready') resolve();
        else reject(new Error(msg.t === 'error' ? msg.message : `unexpected ${msg.t}`));
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  worker.unref();
  return worker;
}

/**
 * Throws what `fail` makes unless `file` is a flashback recording that no
 * writer has open; returns whether it is marked finished (a writer killed
 * between its last step and the rename). Opening it replays its write-ahead
 * log, so what a killed writer committed is in the file from here on.
 */
function checkRecoverable(file: string, fail: (problem: string, cause?: unknown) => InputError): boolean {
  const size = recordingSize(file, fail);
  // Killed before the schema was written: there is nothing in it to recover.
  if (size === 0) throw fail('the file is empty (the recorder stopped before writing anything); nothing to recover');
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { fileMustExist: true, timeout: 0 });
    // An exclusive lock on a WAL file is granted only when no other connection has it open: a
    // running recorder (or import) keeps its connection open for as long as it writes.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
    return validateLayout(db, (problem) => fail(problem)).finished;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw fail('a writer still has it open (is the recorder still running?); stop it first', e);
    }
    if (code === 'SQLITE_NOTADB') throw fail('not a SQLite database, so not a flashback recording', e);
    if (isDamage(e)) throw fail(`the file is damaged (${messageOf(e).split('\n')[0]})`, e);
    throw fail(messageOf(e), e);
  } finally {
    db?.close();
  }
}

/** Why `ex` cannot be stored, or null. Cheap checks only: one bad exchange must not fail a whole batch later. */
function exchangeProblem(ex: Exchange): string | null {
  for (const k of ['sessionKey', 'method', 'target', 'route', 'scheme'] as const) {
    if (typeof ex[k] !== 'string') return `${k} must be a string (got ${String(ex[k])})`;
  }
  for (const k of ['startOffsetUs', 'durationUs', 'requestBodyBytes', 'responseBodyBytes'] as const) {
    if (!Number.isFinite(ex[k])) return `${k} must be a finite number (got ${String(ex[k])})`;
  }
  if (ex.status !== null && !Number.isInteger(ex.status)) return `status must be an integer or null (got ${String(ex.status)})`;
  if (!Array.isArray(ex.requestHeaders) || !Array.isArray(ex.responseHeaders)) return 'headers must be [name, value] arrays';
  return null;
}

function waitForExit(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    if (worker.threadId === -1) resolve();
    else worker.once('exit', () => resolve());
  });
}
