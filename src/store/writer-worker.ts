import type BetterSqlite3 from 'better-sqlite3';
import type { FromWorker, RowTuple, ToWorker, WriterWorkerData } from './writer-protocol.js';

/**
 * The recording writer's worker thread.
 *
 * Why an eval'd worker: the worker must start both from compiled
 * `dist/store/*.js` and under vitest, where this module is a `.ts` file that
 * Node 20 cannot load in a worker. So the worker's code is this one
 * self-contained function (it closes over nothing and loads its modules with
 * `require`), turned into source text with `Function.prototype.toString()` and
 * started with `new Worker(source, { eval: true })`. It is still type-checked
 * TypeScript; it simply must not refer to anything outside its own body.
 * What it would import (the INSERT and the row tuple's layout, both derived
 * from `EXCHANGE_COLUMNS` in `schema.ts`) comes in its `workerData`.
 *
 * What it does: collects rows as they arrive and commits them in one
 * transaction per `batchSize` rows, or when the oldest waiting row was added
 * `flushMs` ago on the main thread (whichever comes first),
 * keeps the `sessions` table current in the same transaction (so a flushed
 * file is always consistent), and on `close` builds the indexes, fixes the
 * order numbers of sessions whose exchanges arrived out of start order,
 * checkpoints and switches the file to a rollback journal so the finished
 * recording is one self-contained file.
 */
export function runWriterWorker(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const data = workerData as WriterWorkerData;
  const port = parentPort!;
  const Database = require(data.sqlitePath) as typeof BetterSqlite3;
  const send = (msg: FromWorker): void => port.postMessage(msg);

  /** What the worker remembers of a session between commits (see `sessionCache`). */
  interface LiveSession {
    /** Exchanges numbered so far (since the session was last taken into memory). */
    count: number;
    lastStartUs: number;
    /** Cohort JSON last merged: an equal one (the usual case) needs no parse. */
    lastCohortJson: string;
    /** Whether a keying rule has been logged for it. */
    keyed: boolean;
  }
  /** What one commit adds to a session: one `session_log` row (see `CREATE_SESSION_LOG_SQL`). */
  interface SessionDelta {
    cohort: Record<string, string> | null;
    startUs: number;
    endUs: number;
    n: number;
    lastStartUs: number;
    reseq: number;
    first: number;
    keyedBy: string | null;
  }
  interface Pending {
    row: RowTuple;
    bodies: Uint8Array;
  }

  let db: BetterSqlite3.Database;
  try {
    db = new Database(data.path, { fileMustExist: true });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  } catch (e) {
    send({ t: 'error', message: e instanceof Error ? e.message : String(e) });
    return;
  }
  const insertExchange = db.prepare(data.insertSql);
  const R = data.row;
  // The INSERT's values, in order: the head of each row, once seq and the bodies are filled in.
  const values: unknown[] = [];
  for (let i = 0; i < data.insertValues; i++) values.push(null);
  db.exec(data.createSessionLogSql);
  const appendSessionLog = db.prepare(
    'INSERT INTO session_log (key, cohort, start_us, end_us, n, last_start_us, reseq, first, keyed_by) VALUES (?,?,?,?,?,?,?,?,?)',
  );
  // The aggregates SESSIONS_FROM_LOG_SQL folds the log with (in log order).
  db.aggregate('merge_cohort', {
    start: () => ({}),
    step: (acc: unknown, json: unknown) => (json === null ? acc : Object.assign(acc as object, JSON.parse(json as string) as object)),
    result: (acc: unknown) => JSON.stringify(acc),
  });
  db.aggregate('first_given', {
    start: null,
    step: (acc: unknown, rule: unknown) => acc ?? rule,
  });
  // Sessions in memory, in two generations (as model/bounded-map.ts, which this self-contained
  // code cannot import): one touched within the last `sessionCache` new ones is always there.
  let young = new Map<string, LiveSession>();
  let old = new Map<string, LiveSession>();

  let pending: Pending[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let written = 0;
  let writtenBytes = 0;
  /** The `bytes` of the rows messages whose rows are in `pending`. */
  let pendingBytes = 0;
  let failed = false;

  const commitBatch = db.transaction((rows: Pending[]) => {
    const deltas = new Map<string, SessionDelta>();
    for (const { row, bodies } of rows) {
      const key = row[R.sessionKey];
      const startUs = row[R.startUs];
      let s = young.get(key);
      let d = deltas.get(key);
      if (!s) {
        s = old.get(key);
        if (s) old.delete(key);
        else s = { count: 0, lastStartUs: startUs, lastCohortJson: '', keyed: false };
        young.set(key, s);
        if (young.size >= data.sessionCache) {
          old = young;
          young = new Map();
        }
      }
      // Numbered from 0 again within this batch: forgotten since its last exchange here (a cache smaller than the batch).
      if (s.count === 0 && d) d.reseq = 1;
      if (!d) {
        d = { cohort: null, startUs, endUs: startUs, n: 0, lastStartUs: startUs, reseq: 0, first: s.count === 0 ? 1 : 0, keyedBy: null };
        deltas.set(key, d);
      }
      // First cohort given, later differing attributes overwrite.
      const cohortJson = row[R.cohortJson];
      if (cohortJson !== s.lastCohortJson) {
        d.cohort = Object.assign(d.cohort ?? {}, JSON.parse(cohortJson) as Record<string, string>);
        s.lastCohortJson = cohortJson;
      }
      if (!s.keyed && row[R.keyedBy] !== null) {
        // The first given: a session forgotten within this batch has given its own already.
        d.keyedBy ??= row[R.keyedBy];
        s.keyed = true;
      }
      if (startUs < s.lastStartUs) d.reseq = 1;
      else s.lastStartUs = startUs;
      if (s.lastStartUs > d.lastStartUs) d.lastStartUs = s.lastStartUs;
      if (startUs < d.startUs) d.startUs = startUs;
      const endUs = startUs + row[R.durationUs];
      if (endUs > d.endUs) d.endUs = endUs;
      const reqOff = row[R.reqOff];
      const reqLen = row[R.reqLen];
      const resOff = row[R.resOff];
      const resLen = row[R.resLen];
      row[R.seq] = s.count;
      row[R.reqBody] = reqLen < 0 ? null : bodies.subarray(reqOff, reqOff + reqLen);
      row[R.resBody] = resLen < 0 ? null : bodies.subarray(resOff, resOff + resLen);
      for (let i = 0; i < values.length; i++) values[i] = row[i];
      insertExchange.run(values);
      s.count++;
      d.n++;
    }
    for (const [key, d] of deltas) {
      appendSessionLog.run(key, d.cohort && JSON.stringify(d.cohort), d.startUs, d.endUs, d.n, d.lastStartUs, d.reseq, d.first, d.keyedBy);
    }
  });

  const fail = (e: unknown): void => {
    failed = true;
    send({ t: 'error', message: e instanceof Error ? e.message : String(e) });
  };

  const commit = (): void => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (failed || pending.length === 0) return;
    const rows = pending;
    const bytes = pendingBytes;
    pending = [];
    pendingBytes = 0;
    try {
      commitBatch(rows);
      written += rows.length;
      writtenBytes += bytes;
      // Hand the body buffers back for reuse (rows share them; each goes back once).
      const buffers = new Set<ArrayBuffer>();
      for (const p of rows) buffers.add(p.bodies.buffer as ArrayBuffer);
      const list = [...buffers];
      port.postMessage({ t: 'written', written, writtenBytes, buffers: list } satisfies FromWorker, list);
    } catch (e) {
      fail(e);
    }
  };

  const finish = (notes: Record<string, string> | null): { exchanges: number; sessions: number } => {
    // The log first: its pages, once dropped, are reused by the indexes.
    db.transaction(() => db.exec(data.sessionsFromLogSql))();
    db.exec(data.createIndexesSql);
    db.transaction(() => db.exec(data.resequenceSql))();
    db.exec('PRAGMA analysis_limit = 400; ANALYZE;');
    // Marked finished last, so a file that has the mark has its indexes and final order too.
    db.transaction(() => {
      if (notes && Object.keys(notes).length > 0) {
        const row = db.prepare("SELECT value FROM meta WHERE key = 'notes'").get() as { value: string } | undefined;
        const merged = { ...(row ? (JSON.parse(row.value) as Record<string, string>) : {}), ...notes };
        db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('notes', ?)").run(JSON.stringify(merged));
      }
      db.prepare("UPDATE meta SET value = 'true' WHERE key = 'finished'").run();
    })();
    const counts = db
      .prepare('SELECT count(*) AS sessions, coalesce(sum(exchange_count), 0) AS exchanges FROM sessions')
      .get() as { sessions: number; exchanges: number };
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode = DELETE');
    db.close();
    return counts;
  };

  port.on('message', (msg: ToWorker) => {
    if (msg.t === 'rows') {
      if (failed) return;
      const bodies = new Uint8Array(msg.bodies);
      for (const row of msg.rows) pending.push({ row, bodies });
      pendingBytes += msg.bytes;
      if (pending.length >= data.batchSize) commit();
      // The first rows since the last commit are the oldest waiting. Clamped, as the two
      // threads' wall clocks are compared: a clock stepped back must not hold a commit.
      else if (!timer) timer = setTimeout(commit, Math.min(data.flushMs, Math.max(0, msg.startedAt + data.flushMs - Date.now())));
    } else if (msg.t === 'flush') {
      commit();
      if (!failed) send({ t: 'flushed', id: msg.id, written, writtenBytes });
    } else if (msg.t === 'close') {
      commit();
      if (failed) return;
      try {
        const counts = finish(msg.notes);
        send({ t: 'closed', id: msg.id, ...counts });
        port.close();
      } catch (e) {
        fail(e);
      }
    } else {
      if (timer) clearTimeout(timer);
      try {
        db.close();
      } catch {
        // Aborting: the file is about to be deleted anyway.
      }
      send({ t: 'aborted', id: msg.id });
      port.close();
    }
  });
  send({ t: 'ready' });
}

/** Source text of the worker, for `new Worker(WRITER_WORKER_SOURCE, { eval: true, workerData })`. */
export const WRITER_WORKER_SOURCE = `(${runWriterWorker.toString()})();`;
