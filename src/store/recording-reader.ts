import { closeSync, openSync, readSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { InputError } from '../model/errors.js';
import type { Exchange } from '../model/exchange.js';
import type { Session, SessionInfo } from '../model/session.js';
import { damagedFile, guarded, guardedIterator, isDamage, parseCohort, RowDamage } from './damage.js';
import { FINISHED_KEY, parseMetaRows, type RecordingMeta } from './recording-meta.js';
import { recordingSize } from './recording-file.js';
import { rowToExchange, type ExchangeRow } from './exchange-row.js';
import {
  FULL_COLUMN_COUNT,
  FULL_COLUMNS,
  LIST_COLUMN_COUNT,
  LIST_COLUMNS,
  RECORDING_APPLICATION_ID,
  RECORDING_SCHEMA_VERSION,
} from './schema.js';
import { summarizeRecording, type RecordingSummary } from './recording-summary.js';

const SQLITE_MAGIC = 'SQLite format 3\0';

/** Options of the streaming reads. */
export interface ReadOptions {
  /** Include request and response bodies (default false: listing queries skip the blobs; bodies read as null). */
  withBodies?: boolean;
}

/** Totals of a recording. */
export interface RecordingCounts {
  exchanges: number;
  sessions: number;
  /** Start of the first exchange, µs since the recording start (0 when empty). */
  firstOffsetUs: number;
  /** End (start + duration) of the latest-ending exchange, µs (0 when empty). */
  lastOffsetUs: number;
}

/**
 * Reads a finished recording. Streaming reads (`sessions()`, `exchanges()`,
 * `sessionInfos()`) each run on their own read-only connection, so several
 * can be open at once and other calls work while one is being iterated; a
 * million-exchange recording never sits in memory whole. Stop an iteration
 * early with `break` (or `return()`) to release its connection, or call
 * `close()`, which releases them all.
 */
export class RecordingReader {
  /** Path of the recording file. */
  readonly path: string;
  private readonly db: Database.Database;
  private readonly metaValue: RecordingMeta;
  private readonly streams = new Set<Database.Database>();
  private byKey: Database.Statement | null = null;

  private constructor(path: string, db: Database.Database, meta: RecordingMeta) {
    this.path = path;
    this.db = db;
    this.metaValue = meta;
  }

  /**
   * Opens and validates a recording. Throws {@link InputError} (exit 2), one
   * line naming the file and the problem, for: a missing file, an
   * unfinished recording (a `.partial` leftover; the line names the
   * `flashback record --recover` command that finishes it), a file that is
   * not SQLite, SQLite that is not a flashback recording, a newer schema
   * version, a damaged file. Damage found later, by any method or in the
   * middle of a streamed read, is the same InputError (`Failed to read
   * <path>: the file is damaged (…)`).
   */
  static open(path: string): RecordingReader {
    const fail = (problem: string, hint?: string, cause?: unknown): InputError =>
      new InputError(`Failed to open recording ${path}: ${problem}`, { hint, cause });
    if (path.endsWith('.partial') && existsSync(path)) {
      throw fail(`it is an unfinished recording (.partial); finish it with ${recoverCommand(path)}`);
    }
    const size = recordingSize(
      path,
      (problem, cause) => fail(problem, undefined, cause),
      () =>
        existsSync(`${path}.partial`)
          ? `file not found, but ${path}.partial is there, a recording that was never finished; finish it with ${recoverCommand(`${path}.partial`)}`
          : 'file not found',
    );
    if (size === 0) throw fail('the file is empty, not a flashback recording');
    if (readHeader(path) !== SQLITE_MAGIC) throw fail('not a SQLite database, so not a flashback recording');
    let db: Database.Database;
    try {
      db = openReadOnly(path, MAIN_CACHE_KIB);
    } catch (e) {
      throw damagedFile(path, e);
    }
    try {
      return new RecordingReader(path, db, validate(db, fail, path));
    } catch (e) {
      db.close();
      if (e instanceof InputError) throw e;
      if (isDamage(e)) throw damagedFile(path, e);
      throw e;
    }
  }

  /** What the recording says about itself. */
  meta(): RecordingMeta {
    return { ...this.metaValue, ...(this.metaValue.notes ? { notes: { ...this.metaValue.notes } } : {}) };
  }

  /** Exchange and session totals and the time span. */
  counts(): RecordingCounts {
    return guarded(this.path, () => this.countsOf());
  }

  private countsOf(): RecordingCounts {
    const row = this.db
      .prepare(
        'SELECT count(*) AS sessions, coalesce(sum(exchange_count), 0) AS exchanges, ' +
          'coalesce(min(start_us), 0) AS first, coalesce(max(end_us), 0) AS last FROM sessions',
      )
      .get() as { sessions: number; exchanges: number; first: number; last: number };
    for (const v of Object.values(row)) if (typeof v !== 'number') throw new RowDamage('sessions holds a value that is not a number');
    return { exchanges: row.exchanges, sessions: row.sessions, firstOffsetUs: row.first, lastOffsetUs: row.last };
  }

  /**
   * Sessions in start order (ties by key), each with its exchanges ordered by
   * `startOffsetUs`, then `seq`. Streams: one session in memory at a time.
   */
  sessions(options: ReadOptions = {}): IterableIterator<Session> {
    return guardedIterator(this.path, this.readSessions(options));
  }

  private *readSessions(options: ReadOptions): Generator<Session> {
    const withBodies = options.withBodies === true;
    // Session columns come after the exchange columns, so a row's head is an ExchangeRow.
    const at = withBodies ? FULL_COLUMN_COUNT : LIST_COLUMN_COUNT;
    const sql =
      `SELECT ${withBodies ? FULL_COLUMNS : LIST_COLUMNS}, s.key, s.cohort, s.start_us, s.end_us ` +
      'FROM sessions s JOIN exchanges e ON e.session_key = s.key ORDER BY s.start_us, s.key, e.start_us, e.seq';
    let current: Session | null = null;
    for (const row of this.stream<unknown[]>(sql)) {
      const key = str(row[at], 'sessions.key');
      if (!current || current.key !== key) {
        if (current) yield current;
        current = {
          key,
          cohort: parseCohort(row[at + 1], `session ${key}: cohort`),
          startOffsetUs: num(row[at + 2], 'sessions.start_us'),
          endOffsetUs: num(row[at + 3], 'sessions.end_us'),
          exchanges: [],
        };
      }
      current.exchanges.push(rowToExchange(row as ExchangeRow, at));
    }
    if (current) yield current;
  }

  /**
   * The exchanges of one session (with bodies), ordered by `startOffsetUs`,
   * then `seq`, as {@link sessions} gives them; empty for an unknown key. An
   * indexed point query on this reader's connection, for callers that walk
   * {@link sessionInfos} and load each session only when it is due (a
   * replay holds a session's rows for as long as it runs, not for the
   * whole jitter window before it starts).
   */
  sessionExchanges(key: string): Exchange[] {
    return guarded(this.path, () => {
      this.byKey ??= this.db.prepare(`SELECT ${FULL_COLUMNS} FROM exchanges e WHERE e.session_key = ? ORDER BY e.start_us, e.seq`).raw(true);
      const rows = this.byKey.all(key) as ExchangeRow[];
      const out: Exchange[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = rowToExchange(rows[i]!);
      return out;
    });
  }

  /** Every exchange in start order (ties by insertion). */
  exchanges(options: ReadOptions = {}): IterableIterator<Exchange> {
    return guardedIterator(this.path, this.readExchanges(options));
  }

  private *readExchanges(options: ReadOptions): Generator<Exchange> {
    const cols = options.withBodies === true ? FULL_COLUMNS : LIST_COLUMNS;
    for (const row of this.stream<ExchangeRow>(`SELECT ${cols} FROM exchanges e ORDER BY e.start_us, e.id`)) {
      yield rowToExchange(row);
    }
  }

  /** Session summaries (no exchanges) in start order, ties by key. */
  sessionInfos(): IterableIterator<SessionInfo> {
    return guardedIterator(this.path, this.readSessionInfos());
  }

  private *readSessionInfos(): Generator<SessionInfo> {
    const sql = 'SELECT key, cohort, start_us, end_us, exchange_count FROM sessions ORDER BY start_us, key';
    for (const row of this.stream<[key: string, cohort: string, startUs: number, endUs: number, count: number]>(sql, SMALL_CACHE_KIB)) {
      yield {
        key: str(row[0], 'sessions.key'),
        cohort: parseCohort(row[1], `session ${String(row[0])}: cohort`),
        startOffsetUs: num(row[2], 'sessions.start_us'),
        endOffsetUs: num(row[3], 'sessions.end_us'),
        exchangeCount: num(row[4], 'sessions.exchange_count'),
      };
    }
  }

  /** What `flashback inspect` shows: per-route, per-cohort, bytes, failures (no bodies read). */
  summary(): RecordingSummary {
    return guarded(this.path, () => summarizeRecording(this.db, this.path, this.metaValue));
  }

  /** sha256 (hex) of the file's bytes, read in 1 MiB chunks. */
  digest(): string {
    const hash = createHash('sha256');
    const fd = openSync(this.path, 'r');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        hash.update(buf.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
    return hash.digest('hex');
  }

  /** Closes the reader and every stream still open. */
  close(): void {
    for (const s of this.streams) s.close();
    this.streams.clear();
    if (this.db.open) this.db.close();
  }

  /** Runs `sql` on a connection of its own (rows as arrays), closing it when the iteration ends. */
  private *stream<T>(sql: string, cacheKiB = STREAM_CACHE_KIB): Generator<T> {
    const conn = openReadOnly(this.path, cacheKiB);
    this.streams.add(conn);
    try {
      for (const row of conn.prepare(sql).raw(true).iterate()) yield row as T;
    } finally {
      this.streams.delete(conn);
      if (conn.open) conn.close();
    }
  }
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new RowDamage(`${what} is not a whole number >= 0`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new RowDamage(`${what} is not text`);
  return v;
}

/** Page cache of the streams that visit rows scattered across the file (the session-ordered join). */
const STREAM_CACHE_KIB = 8192;
/**
 * Page cache of the session-summary stream (one index in order: pages are
 * read once) and of the reader's own connection (counts, summaries, one
 * session's exchanges at a time). Bench, 40,000 sessions of a 1M-exchange
 * recording read as a replay reads them (summaries in start order, each
 * session's exchanges by key): 8 MiB caches on both grew RSS by 12.1 MiB,
 * 1 + 2 MiB by 4.1 MiB, at the same CPU per session (59-62 µs).
 */
const SMALL_CACHE_KIB = 1024;
const MAIN_CACHE_KIB = 2048;

/**
 * A read-only connection with a page cache of `cacheKiB` (8 MiB for the
 * session-ordered join: 128 pages of 64 KiB; the default 2 MiB holds only
 * ~30, and that join visits rows scattered across the file) and no memory map. With `mmap_size` 1 GB every
 * page a replay read stayed mapped into the process: RSS grew with the
 * recording (319 MiB peak replaying 1M exchanges, of which ~220 MiB mapped
 * file), which a container's memory limit counts. Without it the cache is
 * bounded, and reading was no slower (bench: 1M-exchange recording, 500k
 * exchanges with bodies: 126k exchanges/CPU-s mapped with a 32 MiB cache,
 * 180k with 8 MiB unmapped; a replay needs 5k/s).
 */
function openReadOnly(path: string, cacheKiB: number): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma(`cache_size = -${cacheKiB}`);
  db.pragma('mmap_size = 0');
  return db;
}

function readHeader(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    return buf.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/** The command that finishes an unfinished recording, as the one-line errors name it. */
export function recoverCommand(path: string): string {
  return `flashback record --recover ${/^[\w./-]+$/.test(path) ? path : JSON.stringify(path)}`;
}

/** Checks the file is a finished flashback recording this version can read; returns its meta. */
function validate(db: Database.Database, fail: (problem: string, hint?: string) => InputError, path: string): RecordingMeta {
  const { meta, finished } = validateLayout(db, fail);
  if (!finished) throw fail(`it is an unfinished recording (the writer never closed it); finish it with ${recoverCommand(path)}`);
  return meta;
}

/**
 * Checks `db` holds a flashback recording this version can read, finished
 * or not (`RecordingWriter.recover` finishes one that is not). Returns its
 * meta and whether the writer marked it finished. Throws what `fail` makes
 * for a file that is no such recording, {@link RowDamage} for impossible
 * header values.
 */
export function validateLayout(
  db: Database.Database,
  fail: (problem: string, hint?: string) => InputError,
): { meta: RecordingMeta; finished: boolean } {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = new Set(
    (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name),
  );
  if (appId !== RECORDING_APPLICATION_ID || !tables.has('meta')) {
    throw fail('a SQLite database, but not a flashback recording');
  }
  if (version > RECORDING_SCHEMA_VERSION + 1000 || version < 0) {
    // Not a version flashback will ever write: the header bytes that hold it were damaged.
    throw new RowDamage(`schema version ${version} is not one flashback writes`);
  }
  if (version > RECORDING_SCHEMA_VERSION) {
    throw fail(
      `written by a newer flashback (schema version ${version}; this version reads up to ${RECORDING_SCHEMA_VERSION})`,
      'upgrade flashback to read it',
    );
  }
  if (version < 1 || !tables.has('exchanges') || !tables.has('sessions')) {
    throw fail(`a flashback file with an unknown layout (schema version ${version})`);
  }
  const rows = db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>;
  // A file without the flag counts as finished, as it always has.
  const finished = !rows.some((r) => r.key === FINISHED_KEY && r.value !== 'true');
  const meta = parseMetaRows(rows);
  if (typeof meta === 'string') throw fail(meta);
  return { meta, finished };
}
