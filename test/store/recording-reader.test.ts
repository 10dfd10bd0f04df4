import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import { RecordingReader } from '../../src/store/recording-reader.js';
import { RecordingWriter } from '../../src/store/recording-writer.js';
import { makeExchange, tempDir, TEST_META } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

async function smallRecording(name = 'r.db'): Promise<string> {
  const path = join(dir, name);
  const w = await RecordingWriter.create(path, TEST_META);
  // Sessions start at 300 (c), 100 (a), 100 (b): expected order a, b (tie by key), c.
  w.add(makeExchange({ sessionKey: 'c', startOffsetUs: 300, target: '/c0' }), { device: 'bot' });
  w.add(makeExchange({ sessionKey: 'b', startOffsetUs: 500, target: '/b1' }), { device: 'mobile' });
  w.add(makeExchange({ sessionKey: 'a', startOffsetUs: 100, target: '/a0' }), { device: 'desktop' });
  w.add(makeExchange({ sessionKey: 'b', startOffsetUs: 100, target: '/b0', status: 404 }), { device: 'mobile' });
  w.add(makeExchange({ sessionKey: 'a', startOffsetUs: 150, target: '/a1', status: null, error: 'timeout', responseBody: null, responseBodyBytes: 0 }), {});
  await w.close();
  return path;
}

/** Runs `open` and returns the InputError's message, failing the test if it did not throw one. */
function openError(path: string): string {
  try {
    RecordingReader.open(path).close();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).exitCode).toBe(2);
    expect((e as InputError).message).not.toContain('\n');
    return (e as InputError).message;
  }
  throw new Error(`expected ${path} to be refused`);
}

describe('RecordingReader.open refuses bad files with one line naming the file', () => {
  it('a missing file', () => {
    const p = join(dir, 'missing.db');
    expect(openError(p)).toBe(`Failed to open recording ${p}: file not found`);
  });

  it('a text file', () => {
    const p = join(dir, 'notes.txt');
    writeFileSync(p, 'hello, this is not a database\n'.repeat(10));
    expect(openError(p)).toBe(`Failed to open recording ${p}: not a SQLite database, so not a flashback recording`);
  });

  it('an empty file', () => {
    const p = join(dir, 'empty.db');
    writeFileSync(p, '');
    expect(openError(p)).toBe(`Failed to open recording ${p}: the file is empty, not a flashback recording`);
  });

  it('a directory', () => {
    const p = join(dir, 'adir.db');
    mkdirSync(p);
    expect(openError(p)).toBe(`Failed to open recording ${p}: it is a directory`);
  });

  it('a SQLite database that is not a flashback recording', () => {
    const p = join(dir, 'other.sqlite');
    const db = new Database(p);
    db.exec('CREATE TABLE meta (key TEXT, value TEXT); CREATE TABLE t (x)');
    db.close();
    expect(openError(p)).toBe(`Failed to open recording ${p}: a SQLite database, but not a flashback recording`);
  });

  it('a recording with a newer schema version', async () => {
    const p = await smallRecording();
    const db = new Database(p);
    db.pragma('user_version = 99');
    db.close();
    expect(openError(p)).toBe(
      `Failed to open recording ${p}: written by a newer flashback (schema version 99; this version reads up to 1)`,
    );
  });

  it('a SQLite header over garbage', () => {
    const p = join(dir, 'corrupt.db');
    writeFileSync(p, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 0x5a)]));
    expect(openError(p)).toMatch(new RegExp(`^Failed to read ${p}: the file is damaged \\(.+\\); re-record or restore it$`));
  });

  it('a .partial leftover, by its own name or by the name it would have had', async () => {
    const p = join(dir, 'crashed.db');
    const w = await RecordingWriter.create(p, TEST_META);
    w.add(makeExchange(), {});
    await w.flush();
    // Each line names the command that finishes it.
    expect(openError(w.partialPath)).toBe(
      `Failed to open recording ${p}.partial: it is an unfinished recording (.partial); finish it with flashback record --recover ${p}.partial`,
    );
    expect(openError(p)).toBe(
      `Failed to open recording ${p}: file not found, but ${p}.partial is there, a recording that was never finished; ` +
        `finish it with flashback record --recover ${p}.partial`,
    );
    // Renamed by hand, it is still refused: the meta says it was never closed.
    const copy = join(dir, 'renamed.db');
    copyFileSync(w.partialPath, copy);
    expect(openError(copy)).toBe(
      `Failed to open recording ${copy}: it is an unfinished recording (the writer never closed it); finish it with flashback record --recover ${copy}`,
    );
    // A name the shell would split is quoted.
    const spaced = join(dir, 'my rec.db.partial');
    copyFileSync(w.partialPath, spaced);
    expect(openError(spaced)).toBe(
      `Failed to open recording ${spaced}: it is an unfinished recording (.partial); finish it with flashback record --recover "${spaced}"`,
    );
    await w.abort();
  });
});

describe('RecordingReader streams', () => {
  it('sessions in start order (ties by key), exchanges by start then seq', async () => {
    const r = RecordingReader.open(await smallRecording());
    const sessions = [...r.sessions()];
    expect(sessions.map((s) => [s.key, s.startOffsetUs, s.exchanges.map((e) => e.target)])).toEqual([
      ['a', 100, ['/a0', '/a1']],
      ['b', 100, ['/b0', '/b1']],
      ['c', 300, ['/c0']],
    ]);
    expect(sessions[0]!.cohort).toEqual({ device: 'desktop' });
    expect(sessions[1]!.exchanges.map((e) => e.seq)).toEqual([0, 1]);
    r.close();
  });

  it('keeps every ordering promise on shuffled input (seeded, 600 exchanges, 37 sessions, tiny batches)', async () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const made = Array.from({ length: 600 }, (_, i) =>
      makeExchange({ sessionKey: `k${rand(37)}`, startOffsetUs: rand(50_000), durationUs: 1 + rand(20_000), target: `/t/${i}` }),
    );
    // Added in completion order, as a proxy would.
    const byEnd = [...made].sort((a, b) => a.startOffsetUs + a.durationUs - (b.startOffsetUs + b.durationUs));
    const path = join(dir, 'shuffled.db');
    const w = await RecordingWriter.create(path, TEST_META, { batchSize: 7, flushMs: 1 });
    for (const ex of byEnd) w.add(ex, {});
    await w.close();

    const want = new Map<string, typeof made>();
    for (const ex of made) want.set(ex.sessionKey, [...(want.get(ex.sessionKey) ?? []), ex]);
    const wantOrder = [...want.entries()]
      .map(([key, list]) => ({ key, start: Math.min(...list.map((e) => e.startOffsetUs)), list }))
      .sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : 1));

    const r = RecordingReader.open(path);
    const got = [...r.sessions()];
    expect(got.map((s) => s.key)).toEqual(wantOrder.map((s) => s.key));
    for (const s of got) {
      const starts = s.exchanges.map((e) => e.startOffsetUs);
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
      expect(s.exchanges.map((e) => e.seq)).toEqual(s.exchanges.map((_, i) => i));
      expect(s.startOffsetUs).toBe(starts[0]);
      expect(s.endOffsetUs).toBe(Math.max(...s.exchanges.map((e) => e.startOffsetUs + e.durationUs)));
      expect(new Set(s.exchanges.map((e) => e.target))).toEqual(new Set(want.get(s.key)!.map((e) => e.target)));
    }
    const all = [...r.exchanges()].map((e) => e.startOffsetUs);
    expect(all).toHaveLength(600);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    r.close();
  });

  it('exchanges in start order; without bodies the blobs read as null but sizes stay', async () => {
    const r = RecordingReader.open(await smallRecording());
    const list = [...r.exchanges()];
    expect(list.map((e) => e.startOffsetUs)).toEqual([100, 100, 150, 300, 500]);
    expect(list.every((e) => e.responseBody === null)).toBe(true);
    expect(list.find((e) => e.target === '/c0')!.responseBodyBytes).toBe(11);
    const full = [...r.exchanges({ withBodies: true })];
    expect(Buffer.from(full.find((e) => e.target === '/c0')!.responseBody!).toString()).toBe('{"ok":true}');
    r.close();
  });

  it('lets other calls run while a stream is open, and releases it on break', async () => {
    const r = RecordingReader.open(await smallRecording());
    let seen = 0;
    for (const s of r.sessions()) {
      expect(r.counts().sessions).toBe(3);
      expect([...r.sessionInfos()]).toHaveLength(3);
      seen++;
      if (s.key === 'b') break;
    }
    expect(seen).toBe(2);
    r.close();
  });

  it('counts, session infos and the digest agree with the file', async () => {
    const p = await smallRecording();
    const r = RecordingReader.open(p);
    expect(r.counts()).toEqual({ exchanges: 5, sessions: 3, firstOffsetUs: 100, lastOffsetUs: 1_500 });
    expect([...r.sessionInfos()].map((s) => [s.key, s.exchangeCount, s.endOffsetUs])).toEqual([
      ['a', 2, 1_150],
      ['b', 2, 1_500],
      ['c', 1, 1_300],
    ]);
    const digest = r.digest();
    expect(digest).toBe(createHash('sha256').update(readFileSync(p)).digest('hex'));
    // Reading changes nothing and leaves no -wal/-shm beside the recording.
    for (const _ of r.sessions({ withBodies: true })) void _;
    expect(r.digest()).toBe(digest);
    expect(readdirSync(dir)).toEqual(['r.db']);
    r.close();
  });

  it('summarises routes, statuses, cohorts, bytes and failures', async () => {
    const r = RecordingReader.open(await smallRecording());
    const s = r.summary();
    expect(s.exchanges).toBe(5);
    expect(s.status).toEqual({ '1xx': 0, '2xx': 3, '3xx': 0, '4xx': 1, '5xx': 0, err: 1 });
    expect(s.failed).toEqual({ total: 1, byKind: { timeout: 1 } });
    expect(s.routes).toHaveLength(1);
    expect(s.routes[0]!.exchanges).toBe(5);
    expect(s.bytes.responseBodies).toBe(44);
    expect(s.bytes.storedResponseBodies).toBe(44);
    expect(s.cohorts.map((c) => [c.key, c.sessions, c.exchanges])).toEqual([
      ['device=bot', 1, 1],
      ['device=desktop', 1, 2],
      ['device=mobile', 1, 2],
    ]);
    r.close();
  });
});
