/**
 * A recording whose bytes were damaged (cut short, partly overwritten) is bad
 * input, not an internal error. The damage can surface late: on open, on the
 * first query, or in the middle of a streamed read. Everything the reader
 * does goes through {@link guarded} / {@link guardedIterator}, which turn
 * SQLite's corruption errors and rows that cannot be what the writer wrote
 * into one {@link InputError} naming the file.
 */
import { InputError } from '../model/errors.js';
import type { Cohort } from '../model/session.js';

/** Error code of the {@link InputError} for a damaged recording. */
export const DAMAGED_CODE = 'FB_DAMAGED';

/** A stored value that the writer cannot have written (bad JSON, wrong type): the file is damaged. */
export class RowDamage extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RowDamage';
  }
}

// SQLITE_CORRUPT*, SQLITE_NOTADB, SQLITE_IOERR* (a short read of a cut file),
// SQLITE_TOOBIG when a damaged length field asks for an impossible value.
const DAMAGE_CODES = /^SQLITE_(CORRUPT|NOTADB|IOERR|TOOBIG|FORMAT)/;
// The same by message, and a damaged schema text (a table or column name no longer there).
const DAMAGE_MESSAGES = /malformed|file is not a database|disk i\/o error|no such (table|column|index)|unsupported file format|string or blob too big/i;

/** True when `e` says the file's bytes are not what the writer wrote. */
export function isDamage(e: unknown): boolean {
  if (e instanceof RowDamage) return true;
  if (!(e instanceof Error) || e.name !== 'SqliteError') return false;
  const code = (e as { code?: unknown }).code;
  return (typeof code === 'string' && DAMAGE_CODES.test(code)) || DAMAGE_MESSAGES.test(e.message);
}

/** `Failed to read rec.db: the file is damaged (database disk image is malformed); re-record or restore it`. */
export function damagedFile(path: string, e: unknown): InputError {
  const why = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
  return new InputError(`Failed to read ${path}: the file is damaged (${why}); re-record or restore it`, { cause: e, code: DAMAGED_CODE });
}

/** Runs `fn`, turning damage into {@link damagedFile}; other errors pass unchanged. */
export function guarded<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (isDamage(e)) throw damagedFile(path, e);
    throw e;
  }
}

/**
 * Wraps a streamed read so damage met at any row becomes {@link damagedFile}.
 * `return()` (a `break` in the consumer) is passed on, so the inner stream
 * releases its connection.
 */
export function* guardedIterator<T>(path: string, inner: Iterator<T>): Generator<T> {
  let finished = false;
  try {
    for (;;) {
      const r = guarded(path, () => inner.next());
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!finished) {
      try {
        inner.return?.(undefined);
      } catch {
        /* the stream is being abandoned anyway */
      }
    }
  }
}

/** Parses a JSON TEXT column; a value that is not JSON is damage. */
export function parseStoredJson(text: unknown, what: string): unknown {
  if (typeof text !== 'string') throw new RowDamage(`${what} is not text`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RowDamage(`${what} is not valid JSON`);
  }
}

/** A stored cohort: a JSON object of string attributes. */
export function parseCohort(text: unknown, what: string): Cohort {
  const cohort = parseStoredJson(text, what);
  if (cohort === null || typeof cohort !== 'object' || Array.isArray(cohort) || Object.values(cohort).some((v) => typeof v !== 'string')) {
    throw new RowDamage(`${what} is not a cohort`);
  }
  return cohort as Cohort;
}
