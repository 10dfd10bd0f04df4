import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError, RunError } from '../../src/model/errors.js';
import { RecordingReader } from '../../src/store/recording-reader.js';
import { RecordingWriter } from '../../src/store/recording-writer.js';
import { makeExchange, tempDir, TEST_META } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

/**
 * What a `kill -9` leaves of a writer that has committed everything added so
 * far: its `.partial` and write-ahead log, copied while the writer is idle
 * (no shared-memory index: SQLite rebuilds it from the log, as it must after
 * a crash). The copy is a separate file, so the live writer can still be
 * closed cleanly for comparison.
 */
function crashImage(w: RecordingWriter, path: string): string {
  const partial = `${path}.partial`;
  copyFileSync(w.partialPath, partial);
  if (existsSync(`${w.partialPath}-wal`)) copyFileSync(`${w.partialPath}-wal`, `${partial}-wal`);
  return partial;
}

/** Adds a few sessions, one of them out of start order (the clean close renumbers it). */
function addTraffic(w: RecordingWriter): void {
  w.add(makeExchange({ sessionKey: 'b', startOffsetUs: 300, target: '/b-late' }), { device: 'mobile' });
  w.add(makeExchange({ sessionKey: 'a', startOffsetUs: 100, target: '/a0', responseBody: Buffer.from([0, 1, 2, 255]), responseBodyBytes: 4 }), {});
  w.add(makeExchange({ sessionKey: 'b', startOffsetUs: 200, target: '/b-early' }), { device: 'mobile' });
  for (let i = 0; i < 50; i++) w.add(makeExchange({ sessionKey: `s${i % 7}`, startOffsetUs: 1_000 + i, target: `/x/${i}` }), {});
}

function everything(path: string): { exchanges: unknown[]; sessions: unknown[]; counts: unknown; meta: unknown } {
  const r = RecordingReader.open(path);
  try {
    return {
      exchanges: [...r.sessions({ withBodies: true })].flatMap((s) => s.exchanges.map((e) => ({ ...e, id: undefined }))),
      sessions: [...r.sessionInfos()],
      counts: r.counts(),
      meta: { ...r.meta(), createdAt: '' },
    };
  } finally {
    r.close();
  }
}

async function recoverError(file: string, path: string, overwrite = false): Promise<string> {
  const e = await RecordingWriter.recover(file, path, { overwrite }).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(InputError);
  expect((e as InputError).message).not.toContain('\n');
  return (e as InputError).message;
}

describe('RecordingWriter.recover', () => {
  it('recovers a partial written before the session log, whose sessions table was kept current', async () => {
    // Such a writer upserted `sessions` in every commit and had no `session_log`: make one from a
    // crash image by putting the finished sessions in, marked for renumbering as that writer marked
    // sessions added out of order (here all of them), and dropping the log; then recover it.
    const clean = join(dir, 'clean.db');
    const w = await RecordingWriter.create(clean, TEST_META);
    addTraffic(w);
    await w.flush();
    const partial = crashImage(w, join(dir, 'old.db'));
    await w.close();
    const db = new Database(partial);
    expect((db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n).toBe(0);
    expect((db.prepare('SELECT sum(n) AS n FROM session_log').get() as { n: number }).n).toBe(53);
    db.exec(`ATTACH '${clean}' AS f; INSERT INTO sessions SELECT key, cohort, start_us, end_us, exchange_count, last_start_us, 1, keyed_by FROM f.sessions; DETACH f; DROP TABLE session_log;`);
    db.close();

    expect(await RecordingWriter.recover(partial, join(dir, 'old.db'))).toEqual({ exchanges: 53, sessions: 9 });
    expect(everything(join(dir, 'old.db'))).toEqual(everything(clean));
  });

  it('finishes a crashed recording exactly as a clean close would have', async () => {
    const clean = join(dir, 'clean.db');
    const w = await RecordingWriter.create(clean, { ...TEST_META, notes: { 'replay.secret.password': 'demo' } });
    addTraffic(w);
    await w.flush();
    const partial = crashImage(w, join(dir, 'crashed.db'));
    expect(existsSync(`${partial}-wal`)).toBe(true); // the committed rows are (at least partly) only in the log
    await w.close();

    const recovered = join(dir, 'crashed.db');
    expect(await RecordingWriter.recover(partial, recovered)).toEqual({ exchanges: 53, sessions: 9 });
    expect(readdirSync(dir).sort()).toEqual(['clean.db', 'crashed.db']);
    const got = everything(recovered);
    expect(got).toEqual(everything(clean));
    const b = (got.exchanges as Array<{ sessionKey: string; seq: number; target: string }>).filter((e) => e.sessionKey === 'b');
    expect(b.map((e) => [e.seq, e.target])).toEqual([[0, '/b-early'], [1, '/b-late']]);
    const db = new Database(recovered, { readonly: true });
    const indexes = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>)
      .map((r) => r.name);
    const journal = db.pragma('journal_mode', { simple: true });
    db.close();
    expect(indexes).toEqual(['exchanges_by_session', 'exchanges_by_start', 'sessions_by_start']);
    expect(journal).toBe('delete');
  });

  it('refuses a recording a writer still has open, and leaves it to that writer', async () => {
    const path = join(dir, 'live.db');
    const w = await RecordingWriter.create(path, TEST_META);
    addTraffic(w);
    await w.flush();
    expect(await recoverError(w.partialPath, path)).toBe(
      `Failed to recover ${path}.partial: a writer still has it open (is the recorder still running?); stop it first`,
    );
    w.add(makeExchange({ target: '/after' }), {});
    expect(await w.close()).toEqual({ exchanges: 54, sessions: 9 });
  });

  it('refuses to replace an existing recording unless told to', async () => {
    const w = await RecordingWriter.create(join(dir, 'source.db'), TEST_META);
    addTraffic(w);
    await w.flush();
    const path = join(dir, 'taken.db');
    const partial = crashImage(w, path);
    await w.abort();
    writeFileSync(path, 'an older recording');
    expect(await recoverError(partial, path)).toBe(`Failed to recover ${partial}: ${path} already exists; move it away, or pass --force to replace it`);
    expect(readFileSync(path, 'utf8')).toBe('an older recording');
    expect(existsSync(partial)).toBe(true);
    expect(await RecordingWriter.recover(partial, path, { overwrite: true })).toEqual({ exchanges: 53, sessions: 9 });
    expect(readdirSync(dir)).toEqual(['taken.db']);
    expect(everything(path).counts).toMatchObject({ exchanges: 53, sessions: 9 });
    // Once more, by mistake: the crashed file is gone, which is what it says (not that taken.db exists).
    expect(await recoverError(partial, path)).toBe(`Failed to recover ${partial}: file not found`);
  });

  it('finishes a copy under another name in place, and one killed between its finished mark and the rename', async () => {
    const w = await RecordingWriter.create(join(dir, 'source.db'), TEST_META);
    addTraffic(w);
    await w.flush();
    const copy = join(dir, 'copied.db');
    copyFileSync(w.partialPath, copy);
    copyFileSync(`${w.partialPath}-wal`, `${copy}-wal`);
    await w.close();
    expect(await RecordingWriter.recover(copy, copy)).toEqual({ exchanges: 53, sessions: 9 });
    expect(everything(copy).counts).toMatchObject({ exchanges: 53, sessions: 9 });
    // A finished file under a .partial name: the writer got as far as its last step.
    const late = join(dir, 'late.db');
    copyFileSync(copy, `${late}.partial`);
    expect(await RecordingWriter.recover(`${late}.partial`, late)).toEqual({ exchanges: 53, sessions: 9 });
    expect(everything(late)).toEqual(everything(copy));
  });

  it('with keepOnFailure, a writer that fails keeps what it committed, and recover finishes it', async () => {
    const path = join(dir, 'failed.db');
    const w = await RecordingWriter.create(path, TEST_META, { keepOnFailure: true });
    for (let i = 0; i < 5; i++) w.add(makeExchange({ target: `/ok/${i}` }), {});
    await w.flush();
    // A row only SQLite can find broken (a host that is neither text nor null) fails the writer.
    w.add(makeExchange({ host: {} as unknown as string }), {});
    await expect(w.flush()).rejects.toThrow(RunError);
    await expect(w.close()).rejects.toThrow(RunError);
    expect(readdirSync(dir).filter((f) => !f.endsWith('-shm') && !f.endsWith('-wal'))).toEqual(['failed.db.partial']);
    expect(await RecordingWriter.recover(`${path}.partial`, path)).toEqual({ exchanges: 5, sessions: 1 });
    const r = RecordingReader.open(path);
    expect([...r.exchanges()].map((e) => e.target)).toEqual(['/ok/0', '/ok/1', '/ok/2', '/ok/3', '/ok/4']);
    r.close();
  });

  it('abandon() commits what was added and keeps the partial for recover', async () => {
    const path = join(dir, 'abandoned.db');
    const w = await RecordingWriter.create(path, TEST_META);
    addTraffic(w);
    await w.abandon();
    await w.abandon();
    expect(existsSync(`${path}.partial`)).toBe(true);
    expect(existsSync(path)).toBe(false);
    expect(await RecordingWriter.recover(`${path}.partial`, path)).toEqual({ exchanges: 53, sessions: 9 });
  });

  it('refuses what it cannot finish in one line, deleting nothing', async () => {
    const empty = join(dir, 'empty.db.partial');
    writeFileSync(empty, '');
    expect(await recoverError(empty, join(dir, 'empty.db'))).toBe(
      `Failed to recover ${empty}: the file is empty (the recorder stopped before writing anything); nothing to recover`,
    );
    const text = join(dir, 'text.db.partial');
    writeFileSync(text, 'not SQLite at all, just some text that is long enough to have a header');
    expect(await recoverError(text, join(dir, 'text.db'))).toBe(`Failed to recover ${text}: not a SQLite database, so not a flashback recording`);
    const other = join(dir, 'other.db.partial');
    const db = new Database(other);
    db.exec('CREATE TABLE t (x)');
    db.close();
    expect(await recoverError(other, join(dir, 'other.db'))).toBe(`Failed to recover ${other}: a SQLite database, but not a flashback recording`);
    const missing = join(dir, 'missing.db.partial');
    expect(await recoverError(missing, join(dir, 'missing.db'))).toBe(`Failed to recover ${missing}: file not found`);
    const w = await RecordingWriter.create(join(dir, 'done.db'), TEST_META);
    w.add(makeExchange(), {});
    await w.close();
    const done = join(dir, 'done.db');
    expect(await recoverError(done, done)).toBe(`Failed to recover ${done}: it is a finished recording already; there is nothing to recover`);
    expect(readdirSync(dir).sort()).toEqual(['done.db', 'empty.db.partial', 'other.db.partial', 'text.db.partial']);
  });
});
