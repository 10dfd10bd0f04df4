import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedBytes, type StopKind } from '../../src/record/recording-gate.js';
import { startRecording, type Recording, type RecordingOptions } from '../../src/record/start-recording.js';
import type { GateOptions } from '../../src/record/recording-gate.js';
import { hashString, unitOf } from '../../src/model/seeded-hash.js';
import { RecordingReader } from '../../src/store/recording-reader.js';
import { startServer, until } from './helpers.js';

/**
 * The recording gate with a real recorder, a real writer and a real upstream:
 * every client request gets its upstream answer whatever the gate does, and
 * what is not recorded is counted exactly.
 */

let upstream: Awaited<ReturnType<typeof startServer>>;
let dir: string;
let sidSeq = 0;

/** Sets a fresh id-like `sid` cookie on a request without one (the session starts there), answers `BODY` bytes. */
function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const size = Number(url.searchParams.get('size') ?? '16');
  const headers: Record<string, string> = { 'content-type': 'text/plain' };
  if (!/sid=/.test(req.headers.cookie ?? '')) headers['set-cookie'] = `sid=${(0xa0000000 + sidSeq++).toString(16)}0123456789abcdef; Path=/`;
  res.writeHead(200, headers);
  res.end(`ok ${url.pathname} `.padEnd(size, 'x'));
}

beforeAll(async () => {
  upstream = await startServer(handler);
  dir = mkdtempSync(join(tmpdir(), 'fb-limits-'));
});
afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

let fileSeq = 0;
async function record(gate: GateOptions, onStop?: (kind: StopKind) => void, writerFlushMs?: number): Promise<{ rec: Recording; out: string }> {
  const out = join(dir, `rec-${fileSeq++}.db`);
  const options: RecordingOptions = {
    target: upstream.url,
    forward: false,
    host: '127.0.0.1',
    port: 0,
    out,
    maxBodyBytes: 1024 * 1024,
    sessionKey: { kind: 'auto' },
    routes: [],
    cohortRules: [],
    // Keys as sent (cookie:sid:<value>), so the test can predict the sampling hash.
    redact: false,
    insecure: false,
    overwrite: false,
    toolVersion: 'test',
    gate,
    ...(writerFlushMs ? { writerFlushMs } : {}),
    ...(onStop ? { onRecordingStopped: (kind: StopKind) => onStop(kind) } : {}),
  };
  return { rec: await startRecording(options), out };
}

/** One visit: `n` requests in a row, the first without a cookie, the rest with the one it got. Returns the bodies. */
async function visit(url: string, n: number, size = 16): Promise<string[]> {
  const bodies: string[] = [];
  let cookie: string | null = null;
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/page/${i}?size=${size}`, { headers: cookie ? { cookie } : {} });
    bodies.push(await res.text());
    expect(res.status).toBe(200);
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
  }
  return bodies;
}

/** Runs `count` visits, `parallel` at a time. */
async function visits(url: string, count: number, perVisit: number, parallel: number, size = 16): Promise<string[]> {
  const all: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        next++;
        all.push(...(await visit(url, perVisit, size)));
      }
    }),
  );
  return all;
}

/** Session key → exchanges stored. */
function sessionsIn(path: string): Map<string, number> {
  const reader = RecordingReader.open(path);
  try {
    const m = new Map<string, number>();
    for (const ex of reader.exchanges()) m.set(ex.sessionKey, (m.get(ex.sessionKey) ?? 0) + 1);
    return m;
  } finally {
    reader.close();
  }
}

function notesOf(path: string): Record<string, string> {
  const reader = RecordingReader.open(path);
  try {
    return reader.meta().notes ?? {};
  } finally {
    reader.close();
  }
}

/** A session driven one request at a time: the first without a cookie, the rest with the one it got. */
function stepper(url: string, size = 16): { next: () => Promise<void> } {
  let cookie: string | null = null;
  let i = 0;
  return {
    async next() {
      const res = await fetch(`${url}/step/${i++}?size=${size}`, { headers: cookie ? { cookie } : {} });
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^ok \/step\/\d+ /);
      const set = res.headers.get('set-cookie');
      if (set) cookie = set.split(';')[0]!;
    },
  };
}

/** A writer that commits nothing for a minute: its queue only grows, so the gate's decisions are exact, not a race. */
const SLOW_WRITER_MS = 60_000;

describe('record: a writer that cannot keep up', () => {
  it('leaves new sessions out while the queue is over the bound, keeps started ones whole', async () => {
    const { rec, out } = await record({ maxQueue: 3, stallQueue: 100 }, undefined, SLOW_WRITER_MS);
    const [a, b, c, d, e] = Array.from({ length: 5 }, () => stepper(rec.url));
    await a!.next(); // queue 1
    await b!.next(); // queue 2
    await c!.next(); // queue 3: at the bound
    await d!.next(); // a new session: left out
    await a!.next(); // started: recorded
    await d!.next(); // left out for good
    await e!.next(); // new: left out
    await b!.next();
    await c!.next();
    const sum = await rec.stop();
    expect([...sessionsIn(out).values()]).toEqual([2, 2, 2]);
    expect(sum.exchanges).toBe(6);
    expect(sum.gate).toMatchObject({ recorded: 6, notRecordedExchanges: 3, notRecordedSessions: 2, cutSessions: 0, stopped: null });
    expect(notesOf(out)['record.not-recorded']).toBe('3 exchanges, 2 sessions wholly, 0 sessions cut');
  });

  it('under parallel traffic: every request answered, whole sessions only, and exact counts', async () => {
    const { rec, out } = await record({ maxQueue: 30, stallQueue: 1_000_000 }, undefined, SLOW_WRITER_MS);
    const bodies = await visits(rec.url, 120, 5, 24);
    const sum = await rec.stop();
    // Traffic unharmed: every request got its upstream's answer.
    expect(bodies).toHaveLength(600);
    for (const b of bodies) expect(b).toMatch(/^ok \/page\/\d /);
    const sessions = sessionsIn(out);
    const rows = [...sessions.values()].reduce((x, y) => x + y, 0);
    expect(rows).toBe(sum.exchanges);
    expect(rows + sum.gate.notRecordedExchanges).toBe(600);
    // At most 30 sessions can start before the queue (which never drains here) reaches the bound.
    expect(sessions.size).toBeGreaterThan(0);
    expect(sessions.size).toBeLessThanOrEqual(30);
    // Whole sessions: every session in the file has all five of its exchanges.
    for (const [key, n] of sessions) expect([key, n]).toEqual([key, 5]);
    expect(sessions.size + sum.gate.notRecordedSessions).toBe(120);
    expect(sum.gate.notRecordedExchanges).toBe(5 * sum.gate.notRecordedSessions);
    expect(sum.gate.cutSessions).toBe(0);
  });

  it('stops recording when the writer stalls past the hard bound, finishes the file, and keeps forwarding', async () => {
    const stops: StopKind[] = [];
    const { rec, out } = await record({ maxQueue: 2, stallQueue: 4 }, (k) => stops.push(k), SLOW_WRITER_MS);
    const [a, b, c] = Array.from({ length: 3 }, () => stepper(rec.url));
    await a!.next();
    await b!.next();
    await a!.next();
    await b!.next(); // queue 4: the hard bound
    expect(stops).toEqual([]);
    await a!.next(); // stalled: recording stops here
    expect(stops).toEqual(['writer-stalled']);
    await until(() => existsSync(out), 'the finished file');
    await b!.next();
    await c!.next();
    const sum = await rec.stop();
    expect([...sessionsIn(out).values()]).toEqual([2, 2]);
    expect(sum.gate).toMatchObject({ recorded: 4, notRecordedExchanges: 3, notRecordedSessions: 1, cutSessions: 2 });
    expect(notesOf(out)['record.stopped']).toMatch(/^the writer fell 4 exchanges \([\d.]+ KiB\) behind .* after /);
  });

  it('bounds the bytes held for the writer: 60 KB answers reach --max-queue-memory long before the count bounds', async () => {
    // 400,000 bytes: new sessions wait outside from 100,000 (two answers queued), recording stops at 400,000 (seven).
    const stops: StopKind[] = [];
    const { rec, out } = await record({ stallQueueBytes: 400_000 }, (k) => stops.push(k), SLOW_WRITER_MS);
    const [a, b, c] = Array.from({ length: 3 }, () => stepper(rec.url, 60_000));
    await a!.next();
    await b!.next();
    await c!.next(); // ~121,000 bytes queued: c is new and stays out
    for (let i = 0; i < 5; i++) await a!.next(); // a goes on: seven answers, ~424,000 bytes
    expect(stops).toEqual([]);
    await b!.next(); // stalled: recording stops here, b is cut
    expect(stops).toEqual(['writer-stalled']);
    await until(() => existsSync(out), 'the finished file');
    await c!.next(); // the traffic still flows
    const sum = await rec.stop();
    expect([...sessionsIn(out).values()].sort()).toEqual([1, 6]);
    expect(sum.gate).toMatchObject({ recorded: 7, notRecordedExchanges: 3, notRecordedSessions: 1, cutSessions: 1 });
    expect(notesOf(out)['record.stopped']).toMatch(/^the writer fell 7 exchanges \(4\d\d(\.\d+)? KiB\) behind/);
  });
});

describe('record: limits stop recording, not the proxy', () => {
  it('--max-exchanges: exactly n recorded, the file finished at once, traffic flows on', async () => {
    const stops: StopKind[] = [];
    const { rec, out } = await record({ maxExchanges: 10 }, (k) => stops.push(k));
    // One visit at a time: 4 + 4 + 2 are recorded, the third visit is cut by the stop.
    const first = await visits(rec.url, 3, 4, 1);
    await until(() => existsSync(out), 'the finished file');
    expect(existsSync(`${out}.partial`)).toBe(false);
    expect(stops).toEqual(['max-exchanges']);
    const later = await visits(rec.url, 2, 4, 1);
    const sum = await rec.stop();
    expect([...first, ...later]).toHaveLength(20);
    expect(sum.exchanges).toBe(10);
    expect([...sessionsIn(out).values()].sort()).toEqual([2, 4, 4]);
    expect(sum.gate).toMatchObject({ recorded: 10, notRecordedExchanges: 10, notRecordedSessions: 2, cutSessions: 1 });
    expect(sum.gate.stopped?.kind).toBe('max-exchanges');
    expect(notesOf(out)['record.stopped']).toMatch(/^--max-exchanges 10 reached after /);
    expect(rec.proxy.stats().exchanges).toBe(20);
  });

  it('--max-size: stops at the exchange that reaches the size', async () => {
    const { rec, out } = await record({ maxBytes: 20_000 });
    const bodies = await visits(rec.url, 10, 3, 1, 1500);
    const sum = await rec.stop();
    expect(bodies).toHaveLength(30);
    const reader = RecordingReader.open(out);
    const sizes = [...reader.exchanges({ withBodies: true })].sort((a, b) => a.startOffsetUs - b.startOffsetUs).map(storedBytes);
    reader.close();
    const total = sizes.reduce((a, b) => a + b, 0);
    // The last recorded exchange crossed the limit; the ones before did not reach it.
    expect(total).toBeGreaterThanOrEqual(20_000);
    expect(total - sizes.at(-1)!).toBeLessThan(20_000);
    expect(sizes.length + sum.gate.notRecordedExchanges).toBe(30);
    expect(sum.gate.stopped?.kind).toBe('max-size');
  });

  it('--max-duration: stops when the time is up, the file is finished, requests still answered', async () => {
    const stops: StopKind[] = [];
    const { rec, out } = await record({ maxDurationMs: 200 }, (k) => stops.push(k));
    let sent = 0;
    // Bounded: 500 requests take far longer than 200 ms on any machine, and the loop ends at the stop.
    for (let i = 0; i < 500 && stops.length === 0; i++) sent += (await visit(rec.url, 1)).length;
    expect(stops).toEqual(['max-duration']);
    await until(() => existsSync(out), 'the finished file');
    sent += (await visits(rec.url, 3, 2, 1)).length;
    const sum = await rec.stop();
    const rows = [...sessionsIn(out).values()].reduce((a, b) => a + b, 0);
    expect(rows).toBe(sum.exchanges);
    expect(rows + sum.gate.notRecordedExchanges).toBe(sent);
    expect(sum.gate.notRecordedExchanges).toBeGreaterThanOrEqual(6);
    expect(notesOf(out)['record.stopped']).toMatch(/^--max-duration 200ms reached after /);
  });
});

describe('record --sample', () => {
  it('keeps a seeded share of whole sessions, the ones the seed picks', async () => {
    const { rec, out } = await record({ sample: 0.3, sampleSeed: 7 });
    const firstSid = sidSeq;
    const bodies = await visits(rec.url, 400, 2, 20);
    // Every session's key, as the upstream's cookies made them (cookie:sid:<value>, unredacted here).
    const allKeys = Array.from({ length: sidSeq - firstSid }, (_, i) => `cookie:sid:${(0xa0000000 + firstSid + i).toString(16)}0123456789abcdef`);
    const sum = await rec.stop();
    expect(bodies).toHaveLength(800);
    const sessions = sessionsIn(out);
    for (const n of sessions.values()) expect(n).toBe(2);
    // Binomial(400, 0.3): mean 120, sd 9.2; 4 sd either side.
    expect(sessions.size).toBeGreaterThanOrEqual(83);
    expect(sessions.size).toBeLessThanOrEqual(157);
    expect(sum.gate.sampledOutSessions).toBe(400 - sessions.size);
    expect(sum.gate.sampledOutExchanges).toBe(2 * (400 - sessions.size));
    expect(sum.gate.notRecordedExchanges).toBe(0);
    // Deterministic: exactly the sessions whose seeded hash falls under the share, none other.
    expect(allKeys).toHaveLength(400);
    expect([...sessions.keys()].sort()).toEqual(allKeys.filter((key) => unitOf(hashString(7, key)) < 0.3).sort());
    const notes = notesOf(out);
    expect(notes['record.sample']).toBe('30% of sessions (seed 7)');
    expect(notes['record.sampled-out']).toBe(`${sum.gate.sampledOutExchanges} exchanges in ${sum.gate.sampledOutSessions} sessions`);
  });

  it('another seed keeps other sessions', async () => {
    const { rec, out } = await record({ sample: 0.5, sampleSeed: 1 });
    await visits(rec.url, 60, 1, 10);
    await rec.stop();
    const keys = [...sessionsIn(out).keys()];
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(unitOf(hashString(1, key))).toBeLessThan(0.5);
    expect(keys.some((key) => unitOf(hashString(2, key)) >= 0.5)).toBe(true);
  });
});
