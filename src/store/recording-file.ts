/**
 * Creating a new recording file on the main thread: schema, pragmas and meta
 * (a few ms), and the one-line errors when the path cannot be written.
 */
import { rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { InputError, messageOf } from '../model/errors.js';
import { FINISHED_KEY, metaRows, newRecordingMeta, type RecordingMetaInput } from './recording-meta.js';
import {
  CREATE_TABLES_SQL,
  RECORDING_APPLICATION_ID,
  RECORDING_PAGE_SIZE,
  RECORDING_SCHEMA_VERSION,
} from './schema.js';

/** Deletes `file` and the sidecar files SQLite may leave beside it (-wal, -shm, -journal). */
export function dropFileAndSidecars(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) rmSync(f, { force: true });
}

/** The one-line InputError for a recording that cannot be created. */
export function createFailure(path: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  let cause: string;
  if (code === 'ENOENT') cause = `directory ${dirname(path)} does not exist`;
  else if (code === 'EACCES' || code === 'EPERM') cause = `${code} permission denied`;
  else if (code === 'EISDIR') cause = 'it is a directory';
  else if (code) cause = `${code} ${messageOf(e).replace(/^[A-Z]+: /, '')}`;
  else cause = messageOf(e);
  return new InputError(`Failed to create recording ${path}: ${cause}`, { cause: e });
}

/**
 * The size of the recording at `path`, or the InputError `fail` makes of why
 * it cannot be read as one: a directory, not found (`missing()` says so,
 * perhaps with a hint), or what the system said.
 */
export function recordingSize(
  path: string,
  fail: (problem: string, cause?: unknown) => InputError,
  missing: () => string = () => 'file not found',
): number {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw fail('it is a directory');
    size = st.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? missing() : messageOf(e), e);
  }
  return size;
}

/** Creates the schema and meta in a new, empty file (main thread; a few ms). */
export function initialiseFile(file: string, input: RecordingMetaInput): void {
  const db = new Database(file);
  try {
    db.pragma(`page_size = ${RECORDING_PAGE_SIZE}`);
    db.pragma(`application_id = ${RECORDING_APPLICATION_ID}`);
    db.pragma(`user_version = ${RECORDING_SCHEMA_VERSION}`);
    db.pragma('journal_mode = WAL');
    db.transaction(() => {
      db.exec(CREATE_TABLES_SQL);
      const insert = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      for (const [k, v] of metaRows(newRecordingMeta(input))) insert.run(k, v);
      insert.run(FINISHED_KEY, 'false');
    })();
  } finally {
    db.close();
  }
}

