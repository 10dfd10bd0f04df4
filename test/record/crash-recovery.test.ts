import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingReader } from '../../src/store/recording-reader.js';
import { flashback } from '../cli/run-cli.js';
import { readBody, startRecorderProcess, startServer } from './helpers.js';

/**
 * Issue 12, crash safety: a real `flashback record` in front of a real
 * server, killed with SIGKILL in the middle of the traffic, then
 * `record --recover`. What a kill may lose is the last flush interval: the
 * recorder commits every exchange within RECORD_FLUSH_MS (50 ms) of
 * finishing it, and promises 100 ms (docs/record.md, "Crash safety"). So
 * every response the client had read completely more than 100 ms before the
 * kill must be in the recovered file (the recorder hands an exchange to its
 * writer before the client can have read the response's last byte).
 */

const LOSS_BUDGET_MS = 100;
const CLIENTS = 8;
/** Requests completed before the kill; the traffic goes on (and the kill lands) after this many. */
const KILL_AFTER = 600;

let dir: string;
let upstream: Awaited<ReturnType<typeof startServer>>;

const bodyOf = (id: number): string => `item ${id} `.padEnd(300, '.');
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fb-crash-'));
  upstream = await startServer(async (req, res) => {
    if ((await readBody(req).catch(() => null)) === null) return;
    const id = Number(/^\/item\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(bodyOf(id));
  });
});

afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

/** stderr without hint lines: what the one-line rule counts. */
const errorLines = (stderr: string): string[] => stderr.trim().split('\n').filter((l) => !l.startsWith('  hint:'));

describe('flashback record survives kill -9', () => {
  it('recovers every exchange answered more than the flush interval before the kill, and nothing corrupt', async () => {
    const out = join(dir, 'killed.db');
    const partial = `${out}.partial`;
    const rec = await startRecorderProcess(['--target', upstream.url, '--out', out]);
    const agent = new Agent({ connections: CLIENTS, headersTimeout: 5_000, bodyTimeout: 5_000 });
    const completedAt = new Map<number, number>();
    let nextId = 0;
    let killedAt = 0;
    const started = performance.now();
    const kill = (): void => {
      if (killedAt) return;
      killedAt = performance.now();
      rec.child.kill('SIGKILL');
    };
    const client = async (c: number): Promise<void> => {
      // Bounded: the kill comes after KILL_AFTER completions, or after 5 s whatever the count.
      while (!killedAt) {
        const id = nextId++;
        try {
          const res = await request(`${rec.url}/item/${id}`, { dispatcher: agent, headers: { cookie: `sid=client-${c}-a1b2c3d4` } });
          const text = await res.body.text();
          if (res.statusCode === 200 && text === bodyOf(id)) completedAt.set(id, performance.now());
        } catch {
          if (!killedAt) throw new Error(`request ${id} failed before the kill`);
          return;
        }
        if (completedAt.size >= KILL_AFTER || performance.now() - started > 5_000) kill();
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    await agent.close();
    expect(await rec.exited).toBeNull();
    expect(rec.child.signalCode).toBe('SIGKILL');

    const due = [...completedAt].filter(([, at]) => at < killedAt - LOSS_BUDGET_MS).map(([id]) => id);
    expect(due.length).toBeGreaterThan(100); // the bound below has something to bite on
    expect(existsSync(out)).toBe(false);
    expect(existsSync(partial)).toBe(true);
    const before = readdirSync(dir).filter((f) => f.startsWith('killed.db')).sort();
    const hashes = before.map((f) => sha(join(dir, f)));

    // Recording again to the same name keeps the crashed file: one line naming both ways out.
    const again = await flashback(['record', '--target', upstream.url, '--listen', '127.0.0.1:0', '--out', out]);
    expect(again.code).toBe(2);
    expect(errorLines(again.stderr)).toEqual([
      `flashback: Failed to create recording ${out}: ${partial} is there, an unfinished recording (a crashed or still running recorder's); ` +
        `keep it with flashback record --recover ${partial}, or pass --force to discard it`,
    ]);
    // inspect and replay refuse it, naming the command that finishes it.
    for (const args of [['inspect', partial], ['inspect', out], ['replay', partial, '--target', upstream.url]]) {
      const r = await flashback(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(errorLines(r.stderr), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toContain(`finish it with flashback record --recover ${partial}`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(readdirSync(dir).filter((f) => f.startsWith('killed.db')).sort()).toEqual(before);
    expect(before.map((f) => sha(join(dir, f)))).toEqual(hashes);

    const recovered = await flashback(['record', '--recover', partial]);
    expect(recovered.stderr).toBe('');
    expect(recovered.code).toBe(0);
    const m = /^recovered (\d+) exchanges in (\d+) sessions from (.+) → (.+)\n$/.exec(recovered.stdout);
    expect(m, recovered.stdout).not.toBeNull();
    expect([m![3], m![4]]).toEqual([partial, out]);
    expect(readdirSync(dir).filter((f) => f.startsWith('killed.db')).sort()).toEqual(['killed.db', 'killed.db.key']);

    // The reader's damage checks run on every row read (types, header JSON, cohorts): none may fail.
    const reader = RecordingReader.open(out);
    const ids = new Set<number>();
    const sessions = new Set<string>();
    let rows = 0;
    try {
      for (const s of reader.sessions({ withBodies: true })) {
        sessions.add(s.key);
        for (const e of s.exchanges) {
          rows++;
          const id = Number(/^\/item\/(\d+)$/.exec(e.target)?.[1]);
          expect(id, e.target).toBeLessThan(nextId);
          expect([e.status, e.error, Buffer.from(e.responseBody ?? []).toString()]).toEqual([200, null, bodyOf(id)]);
          ids.add(id);
        }
      }
      expect(reader.counts()).toMatchObject({ exchanges: rows, sessions: sessions.size });
    } finally {
      reader.close();
    }
    expect(ids.size).toBe(rows); // no exchange twice
    expect([rows, sessions.size]).toEqual([Number(m![1]), Number(m![2])]);
    expect(sessions.size).toBe(CLIENTS);
    const lost = due.filter((id) => !ids.has(id));
    expect(lost, `answered > ${LOSS_BUDGET_MS} ms before the kill but not recovered`).toEqual([]);
    expect(rows).toBeGreaterThanOrEqual(due.length);
    const db = new Database(out, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();

    const inspect = await flashback(['inspect', out]);
    expect(inspect.code).toBe(0);
  }, 60_000);

  it('--force discards a crashed recording and records afresh', async () => {
    const out = join(dir, 'forced.db');
    writeFileSync(`${out}.partial`, 'a crashed recording nobody wants');
    writeFileSync(`${out}.partial-wal`, 'its log');
    const rec = await startRecorderProcess(['--target', upstream.url, '--out', out, '--force']);
    const res = await request(`${rec.url}/item/7`);
    expect(await res.body.text()).toBe(bodyOf(7));
    rec.child.kill('SIGINT');
    expect(await rec.exited).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith('forced.db')).sort()).toEqual(['forced.db', 'forced.db.key']);
    const reader = RecordingReader.open(out);
    expect(reader.counts().exchanges).toBe(1);
    reader.close();
  });

  it('--recover takes no recording flags, and a recording that is still running is left alone', async () => {
    const out = join(dir, 'running.db');
    const bad = await flashback(['record', '--recover', `${out}.partial`, '--target', upstream.url]);
    expect(bad.code).toBe(2);
    expect(errorLines(bad.stderr)).toEqual(['flashback: --recover takes no other options but --force (got --target)']);
    const rec = await startRecorderProcess(['--target', upstream.url, '--out', out]);
    try {
      const res = await request(`${rec.url}/item/1`);
      await res.body.text();
      const r = await flashback(['record', '--recover', out]);
      expect(r.code).toBe(2);
      expect(errorLines(r.stderr)).toEqual([
        `flashback: Failed to recover ${out}.partial: a writer still has it open (is the recorder still running?); stop it first`,
      ]);
    } finally {
      rec.child.kill('SIGINT');
    }
    expect(await rec.exited).toBe(0);
    expect(rec.output()).toMatch(/recorded 1 exchanges in 1 sessions/);
  });
});
