import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError, RunError } from '../../src/model/errors.js';
import type { Exchange } from '../../src/model/exchange.js';
import { RecordingReader } from '../../src/store/recording-reader.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { RecordingWriter } from '../../src/store/recording-writer.js';
import { makeExchange, tempDir, TEST_META } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

function readAll(path: string): Exchange[] {
  const r = RecordingReader.open(path);
  try {
    return [...r.exchanges({ withBodies: true })];
  } finally {
    r.close();
  }
}

describe('RecordingWriter', () => {
  it('round-trips every field, with binary bodies stored byte for byte', async () => {
    const path = join(dir, 'rt.db');
    const pool = randomBytes(9000);
    const binary = pool.subarray(1000, 5096); // a view into a bigger buffer, which must not be detached
    const exchanges: Exchange[] = [
      makeExchange({
        sessionKey: 'a',
        startOffsetUs: 10,
        durationUs: 2_500,
        method: 'POST',
        target: '/upload?x=1&y=%20',
        host: 'shop.example:443',
        scheme: 'https',
        route: 'POST /upload',
        requestHeaders: [['content-type', 'application/octet-stream'], ['x-dup', '1'], ['x-dup', '2']],
        requestBody: binary,
        requestBodyBytes: 10_000,
        requestBodyTruncated: true,
        status: 201,
        responseHeaders: [['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['content-encoding', 'gzip']],
        responseBody: new Uint8Array([0x1f, 0x8b, 0, 0, 255, 254, 0]),
        responseBodyBytes: 7,
        responseEncoding: 'gzip',
      }),
      makeExchange({ sessionKey: 'a', startOffsetUs: 20, requestBody: new Uint8Array(0), responseBody: null, responseBodyBytes: 0 }),
      makeExchange({
        sessionKey: 'b',
        startOffsetUs: 30,
        status: null,
        responseHeaders: [],
        responseBody: null,
        responseBodyBytes: 0,
        error: 'reset',
        errorDetail: 'read ECONNRESET',
      }),
    ];
    const w = await RecordingWriter.create(path, TEST_META);
    for (const ex of exchanges) w.add(ex, { device: 'desktop' });
    expect(await w.close()).toEqual({ exchanges: 3, sessions: 2 });

    const back = readAll(path);
    expect(back).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      const { id, requestBody, responseBody, ...rest } = back[i]!;
      const { requestBody: wantReq, responseBody: wantRes, ...want } = exchanges[i]!;
      expect(id).toBeTypeOf('number');
      expect(rest).toEqual({ ...want, seq: i === 1 ? 1 : 0 });
      expect(requestBody === null ? null : Buffer.from(requestBody)).toEqual(wantReq === null ? null : Buffer.from(wantReq));
      expect(responseBody === null ? null : Buffer.from(responseBody)).toEqual(wantRes === null ? null : Buffer.from(wantRes));
    }
    // An empty body stays empty (not "no body"), and the source buffer was copied, not detached.
    expect(back[1]!.requestBody).not.toBeNull();
    expect(back[1]!.requestBody!.byteLength).toBe(0);
    expect(pool.byteLength).toBe(9000);
  });

  it('keeps every body intact while body buffers are reused across many batches', async () => {
    const path = join(dir, 'bodies.db');
    const w = await RecordingWriter.create(path, TEST_META, { batchSize: 50, flushMs: 1 });
    const hashes = new Map<string, string>();
    const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
    for (let i = 0; i < 1_500; i++) {
      // Mostly small bodies; every 500th is bigger than one pooled buffer (1 MiB).
      const size = i % 500 === 7 ? 1_500_000 : (i * 733) % 6_000;
      const body = randomBytes(size);
      hashes.set(`/b/${i}`, sha(body));
      w.add(makeExchange({ target: `/b/${i}`, startOffsetUs: i, responseBody: body, responseBodyBytes: size }), {});
      if (i % 100 === 99) await w.flush(); // let committed buffers come back and be reused
    }
    await w.close();
    const back = readAll(path);
    expect(back).toHaveLength(1_500);
    for (const ex of back) expect(sha(ex.responseBody!)).toBe(hashes.get(ex.target));
  });

  it('close() after N adds leaves exactly N rows, across many batches', async () => {
    const path = join(dir, 'n.db');
    const w = await RecordingWriter.create(path, TEST_META, { batchSize: 97, flushMs: 5 });
    const n = 2_345;
    for (let i = 0; i < n; i++) w.add(makeExchange({ sessionKey: `s${i % 40}`, startOffsetUs: i }), {});
    expect(await w.close()).toEqual({ exchanges: n, sessions: 40 });
    const r = RecordingReader.open(path);
    expect(r.counts().exchanges).toBe(n);
    let rows = 0;
    for (const _ of r.exchanges()) rows++;
    expect(rows).toBe(n);
    r.close();
  });

  it('flush() puts every exchange added before it into the partial file', async () => {
    const path = join(dir, 'flush.db');
    const w = await RecordingWriter.create(path, TEST_META, { batchSize: 10_000, flushMs: 60_000 });
    for (let i = 0; i < 321; i++) w.add(makeExchange({ startOffsetUs: i }), {});
    expect(w.queued).toBe(321);
    await w.flush();
    expect(w.written).toBe(321);
    expect(w.queued).toBe(0);
    const db = new Database(w.partialPath, { readonly: true });
    expect((db.prepare('SELECT count(*) AS n FROM exchanges').get() as { n: number }).n).toBe(321);
    db.close();
    expect(existsSync(path)).toBe(false);
    await w.close();
    expect(existsSync(path)).toBe(true);
    expect(existsSync(w.partialPath)).toBe(false);
  });

  it('numbers each session by start time even when exchanges arrive out of order', async () => {
    const path = join(dir, 'seq.db');
    const w = await RecordingWriter.create(path, TEST_META, { batchSize: 2 });
    // Completion order: the long request that started first is added last, in a later batch.
    w.add(makeExchange({ sessionKey: 'x', startOffsetUs: 200, target: '/b' }), {});
    w.add(makeExchange({ sessionKey: 'x', startOffsetUs: 300, target: '/c' }), {});
    await w.flush();
    w.add(makeExchange({ sessionKey: 'x', startOffsetUs: 100, durationUs: 5_000, target: '/a' }), {});
    w.add(makeExchange({ sessionKey: 'y', startOffsetUs: 150, target: '/d' }), {});
    await w.close();
    const r = RecordingReader.open(path);
    const sessions = [...r.sessions()];
    expect(sessions.map((s) => s.key)).toEqual(['x', 'y']);
    const x = sessions[0]!;
    expect(x.exchanges.map((e) => [e.target, e.seq])).toEqual([['/a', 0], ['/b', 1], ['/c', 2]]);
    expect(x.startOffsetUs).toBe(100);
    expect(x.endOffsetUs).toBe(5_100);
    r.close();
  });

  it('writes the same sessions and numbering when it forgets sessions between their exchanges', async () => {
    // A seeded mix of 9 sessions: exchanges that complete out of start order, cohorts that change,
    // rules given late, flushes at random. A writer that keeps 2 sessions in memory forgets and
    // takes back sessions all the time: across commits (one row each), within one (a single
    // commit), and both (commits cut by random flushes).
    const rand = seededRandom(12);
    const plan: Array<{ ex: Exchange; cohort: Record<string, string>; rule: string | null; flush: boolean }> = [];
    const last = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const key = `s${Math.floor(rand() * 9)}`;
      // s0–s2 sometimes start before their previous exchange; the others never do, so only
      // being forgotten can leave their numbering to fix.
      const start = (last.get(key) ?? i * 10) + Math.floor(rand() * 50) - (key < 's3' ? 15 : 0);
      last.set(key, Math.max(start, last.get(key) ?? 0));
      const cohort: Record<string, string> = rand() < 0.1 ? { auth: 'signed-in' } : rand() < 0.05 ? { device: `d${i % 3}` } : { device: 'mobile' };
      const rule = rand() < 0.3 ? `rule-${Math.floor(rand() * 3)}` : null;
      plan.push({ ex: makeExchange({ sessionKey: key, startOffsetUs: Math.max(0, start), durationUs: 1 + Math.floor(rand() * 100), target: `/t/${i}` }), cohort, rule, flush: rand() < 0.05 });
    }
    const written = async (name: string, commits: 'per row' | 'random' | 'one', sessionCache?: number): Promise<string> => {
      const path = join(dir, name);
      const w = await RecordingWriter.create(path, TEST_META, { batchSize: 1_000, sessionCache, flushMs: 60_000 });
      for (const p of plan) {
        w.add(p.ex, p.cohort, p.rule);
        if (commits === 'per row' || (commits === 'random' && p.flush)) await w.flush();
      }
      await w.close();
      return path;
    };
    const contents = (path: string): unknown => {
      const r = RecordingReader.open(path);
      try {
        const sessions = [...r.sessions()];
        for (const s of sessions) {
          // Numbered 0, 1, 2, … in start order, whatever order they were added in.
          expect(s.exchanges.map((e) => e.seq)).toEqual(s.exchanges.map((_, i) => i));
          for (let i = 1; i < s.exchanges.length; i++) expect(s.exchanges[i]!.startOffsetUs).toBeGreaterThanOrEqual(s.exchanges[i - 1]!.startOffsetUs);
        }
        return {
          infos: [...r.sessionInfos()],
          order: sessions.map((s) => s.exchanges.map((e) => [e.target, e.seq])),
          rules: r.summary().sessionRules,
        };
      } finally {
        r.close();
      }
    };
    const remembered = contents(await written('all.db', 'random'));
    expect(contents(await written('forgetful-per-row.db', 'per row', 2))).toEqual(remembered);
    expect(contents(await written('forgetful-one.db', 'one', 2))).toEqual(remembered);
    expect(contents(await written('forgetful-random.db', 'random', 2))).toEqual(remembered);
    expect((remembered as { infos: unknown[] }).infos).toHaveLength(9);
  });

  it('counts the bytes it holds for exchanges not yet committed, and lets go of them as they commit', async () => {
    const path = join(dir, 'queued.db');
    const w = await RecordingWriter.create(path, TEST_META, { flushMs: 60_000, batchSize: 100_000 });
    const body = Buffer.alloc(10_000, 7);
    for (let i = 0; i < 50; i++) w.add(makeExchange({ sessionKey: `s${i}`, responseBody: body, responseBodyBytes: body.length }), {});
    expect(w.queued).toBe(50);
    expect(w.queuedBytes).toBeGreaterThanOrEqual(50 * 10_000);
    expect(w.queuedBytes).toBeLessThan(50 * 12_000);
    await w.flush();
    expect([w.queued, w.queuedBytes]).toEqual([0, 0]);
    w.add(makeExchange({ sessionKey: 'late', responseBody: body, responseBodyBytes: body.length }), {});
    expect(w.queuedBytes).toBeGreaterThanOrEqual(10_000);
    await w.close();
  });

  it('keeps the first cohort and lets later differing attributes overwrite it', async () => {
    const path = join(dir, 'cohort.db');
    const w = await RecordingWriter.create(path, TEST_META, { batchSize: 1 });
    w.add(makeExchange({ sessionKey: 'shopper', startOffsetUs: 1 }), { device: 'mobile', auth: 'anonymous' });
    await w.flush();
    w.add(makeExchange({ sessionKey: 'shopper', startOffsetUs: 2 }), { device: 'mobile', auth: 'signed-in' });
    w.add(makeExchange({ sessionKey: 'shopper', startOffsetUs: 3 }), { region: 'eu' });
    await w.close();
    const r = RecordingReader.open(path);
    const [info] = [...r.sessionInfos()];
    expect(info).toEqual({
      key: 'shopper',
      cohort: { device: 'mobile', auth: 'signed-in', region: 'eu' },
      startOffsetUs: 1,
      endOffsetUs: 1_003,
      exchangeCount: 3,
    });
    r.close();
  });

  it('keeps the first rule that keyed each session, and inspect counts sessions per rule', async () => {
    const path = join(dir, 'rules.db');
    const w = await RecordingWriter.create(path, TEST_META, { batchSize: 1 });
    w.add(makeExchange({ sessionKey: 'cookie:sid:a', startOffsetUs: 1 }), {}, 'cookie-set:sid');
    await w.flush();
    w.add(makeExchange({ sessionKey: 'cookie:sid:a', startOffsetUs: 2 }), {}, 'cookie-request:sid');
    w.add(makeExchange({ sessionKey: 'cookie:sid:b', startOffsetUs: 3 }), {}, 'cookie-request:sid');
    w.add(makeExchange({ sessionKey: 'cookie:sid:c', startOffsetUs: 4 }), {}, 'cookie-request:sid');
    w.add(makeExchange({ sessionKey: 'req:0', startOffsetUs: 5 }), {}, 'request');
    w.add(makeExchange({ sessionKey: 'unknown', startOffsetUs: 6 }), {});
    await w.close();
    const r = RecordingReader.open(path);
    expect(r.summary().sessionRules).toEqual([
      { rule: 'cookie-request:sid', sessions: 2, exchanges: 2 },
      { rule: 'cookie-set:sid', sessions: 1, exchanges: 2 },
      { rule: null, sessions: 1, exchanges: 1 },
      { rule: 'request', sessions: 1, exchanges: 1 },
    ]);
    r.close();
  });

  it('says a recording written before sessions.keyed_by existed has no session rules, and still opens', async () => {
    const path = join(dir, 'old.db');
    const w = await RecordingWriter.create(path, TEST_META);
    w.add(makeExchange({ sessionKey: 's1' }), { device: 'desktop' }, 'request');
    await w.close();
    const db = new Database(path);
    db.exec('ALTER TABLE sessions DROP COLUMN keyed_by');
    db.close();
    const r = RecordingReader.open(path);
    expect(r.summary().sessionRules).toBeNull();
    expect([...r.sessions()].map((s) => s.key)).toEqual(['s1']);
    r.close();
  });

  it('runs the redactor before anything reaches the file', async () => {
    const path = join(dir, 'redact.db');
    const secret = 'Bearer sk_live_5ecret';
    const redactor = {
      redactExchange: (ex: Exchange): Exchange => ({
        ...ex,
        requestHeaders: ex.requestHeaders.map(([k, v]) => [k, k === 'authorization' ? 'redacted:abc' : v]),
      }),
    };
    const w = await RecordingWriter.create(path, { ...TEST_META, redacted: true }, { redactor });
    w.add(makeExchange({ requestHeaders: [['authorization', secret]] }), {});
    await w.close();
    expect(readFileSync(path).includes(Buffer.from('sk_live_5ecret'))).toBe(false);
    expect(readAll(path)[0]!.requestHeaders).toEqual([['authorization', 'redacted:abc']]);
  });

  it('refuses to overwrite an existing recording unless told to, and replaces it only on close', async () => {
    const path = join(dir, 'exists.db');
    const first = await RecordingWriter.create(path, TEST_META);
    first.add(makeExchange(), {});
    await first.close();
    const e = await RecordingWriter.create(path, TEST_META).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).message).toBe(`Failed to create recording ${path}: the file already exists`);
    const second = await RecordingWriter.create(path, { ...TEST_META, source: 'record' }, { overwrite: true });
    const old = RecordingReader.open(path);
    expect(old.meta().source).toBe('generated');
    old.close();
    await second.close();
    const r = RecordingReader.open(path);
    expect(r.meta().source).toBe('record');
    expect(r.counts().exchanges).toBe(0);
    r.close();
  });

  it('reports an unwritable path as one line naming the file, leaving nothing behind', async () => {
    const missingDir = join(dir, 'no', 'such', 'dir', 'r.db');
    await expect(RecordingWriter.create(missingDir, TEST_META)).rejects.toThrow(
      `Failed to create recording ${missingDir}: directory ${join(dir, 'no', 'such', 'dir')} does not exist`,
    );
    writeFileSync(join(dir, 'plain-file'), 'x');
    const underFile = join(dir, 'plain-file', 'r.db');
    const e = await RecordingWriter.create(underFile, TEST_META).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).message).toMatch(new RegExp(`^Failed to create recording ${underFile}: ENOTDIR`));
    expect((e as InputError).message).not.toContain('\n');
    expect(readdirSync(dir)).toEqual(['plain-file']);
  });

  it('keeps a .partial left by a crash: refused in one line naming --recover and --force, replaced only with overwrite', async () => {
    const path = join(dir, 'again.db');
    writeFileSync(`${path}.partial`, 'an hour of traffic from a killed recorder');
    writeFileSync(`${path}.partial-wal`, 'its last commits');
    const e = await RecordingWriter.create(path, TEST_META).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).message).toBe(
      `Failed to create recording ${path}: ${path}.partial is there, an unfinished recording (a crashed or still running recorder's); ` +
        `keep it with flashback record --recover ${path}.partial, or pass --force to discard it`,
    );
    expect(readFileSync(`${path}.partial`, 'utf8')).toBe('an hour of traffic from a killed recorder');
    expect(readFileSync(`${path}.partial-wal`, 'utf8')).toBe('its last commits');
    const w = await RecordingWriter.create(path, TEST_META, { overwrite: true });
    w.add(makeExchange(), {});
    await w.close();
    expect(readdirSync(dir)).toEqual(['again.db']);
    expect(readAll(path)).toHaveLength(1);
  });

  it('abort() leaves no partial file, no final file and no SQLite sidecars', async () => {
    const path = join(dir, 'aborted.db');
    const w = await RecordingWriter.create(path, TEST_META);
    for (let i = 0; i < 50; i++) w.add(makeExchange({ startOffsetUs: i }), {});
    await w.flush();
    await w.abort();
    await w.abort();
    expect(readdirSync(dir)).toEqual([]);
    expect(() => w.add(makeExchange(), {})).toThrow(RunError);
  });

  it('a failed write surfaces as a RunError on flush, add and close, and close leaves no file', async () => {
    const path = join(dir, 'broken.db');
    const w = await RecordingWriter.create(path, TEST_META);
    w.add(makeExchange(), {});
    // A row only SQLite can find broken: a host that is neither text nor null.
    w.add(makeExchange(), {});
    w.add(makeExchange({ host: {} as unknown as string }), {});
    const e = await w.flush().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RunError);
    expect((e as RunError).message).toMatch(new RegExp(`^Failed to write recording ${path}: `));
    expect(() => w.add(makeExchange(), {})).toThrow(RunError);
    await expect(w.close()).rejects.toThrow(RunError);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses an exchange the file cannot hold at add(), keeping the writer usable', async () => {
    const path = join(dir, 'checked.db');
    const w = await RecordingWriter.create(path, TEST_META);
    expect(() => w.add(makeExchange({ startOffsetUs: Number.NaN }), {})).toThrow(
      `Failed to add an exchange to recording ${path}: startOffsetUs must be a finite number (got NaN)`,
    );
    expect(() => w.add(makeExchange({ method: undefined as unknown as string }), {})).toThrow(InputError);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => w.add(makeExchange({ requestHeaders: cyclic as unknown as Array<[string, string]> }), {})).toThrow(
      /^Failed to add an exchange to recording .*: Converting circular structure to JSON/,
    );
    w.add(makeExchange(), {});
    expect(await w.close()).toEqual({ exchanges: 1, sessions: 1 });
  });

  it('writes notes into the meta and refuses adds after close', async () => {
    const path = join(dir, 'notes.db');
    const w = await RecordingWriter.create(path, { ...TEST_META, notes: { a: '1' } });
    w.setNotes({ skipped: '3' });
    await w.close();
    expect(() => w.add(makeExchange(), {})).toThrow('Failed to add to recording');
    const r = RecordingReader.open(path);
    expect(r.meta().notes).toEqual({ a: '1', skipped: '3' });
    expect(readdirSync(dir)).toEqual(['notes.db']);
    r.close();
  });
});
