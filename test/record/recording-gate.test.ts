import { describe, expect, it } from 'vitest';
import { RunError } from '../../src/model/errors.js';
import type { Exchange } from '../../src/model/exchange.js';
import { formatMs } from '../../src/model/units.js';
import { RecordingGate, parseShare, type GatedWriter, type StopKind } from '../../src/record/recording-gate.js';
import { hashString, unitOf } from '../../src/model/seeded-hash.js';

/** A writer stand-in whose queue and commits the test moves by hand. */
class FakeWriter implements GatedWriter {
  added: string[] = [];
  /** Bytes of each added exchange (its response body's), in order. */
  sizes: number[] = [];
  written = 0;
  failed: RunError | null = null;
  throwNext = false;
  get queued(): number {
    return this.added.length - this.written;
  }
  get queuedBytes(): number {
    return this.sizes.slice(this.written).reduce((a, b) => a + b, 0);
  }
  add(ex: Exchange): void {
    if (this.failed) throw this.failed;
    if (this.throwNext) {
      this.throwNext = false;
      throw new Error('an exchange the file cannot hold');
    }
    this.added.push(ex.sessionKey);
    this.sizes.push(ex.responseBodyBytes);
  }
}

function ex(sessionKey: string): Exchange {
  return {
    sessionKey, seq: 0, startOffsetUs: 0, durationUs: 1, method: 'GET', target: '/', host: null, scheme: 'http', route: 'GET /',
    requestHeaders: [], requestBody: null, requestBodyBytes: 0, requestBodyTruncated: false, status: 200, responseHeaders: [],
    responseBody: null, responseBodyBytes: 0, responseBodyTruncated: false, responseEncoding: null, error: null, errorDetail: null,
  };
}

const cohort = { auth: 'anonymous' };

describe('RecordingGate', () => {
  it('decides a session at its first exchange: over the queue bound new sessions stay out, started ones go on', () => {
    const w = new FakeWriter();
    const gate = new RecordingGate(w, { maxQueue: 2, stallQueue: 100 }, () => undefined);
    gate.add(ex('a'), cohort);
    gate.add(ex('b'), cohort);
    gate.add(ex('c'), cohort); // queue is 2: c stays out
    gate.add(ex('a'), cohort); // a started: recorded
    w.written = 3; // the writer catches up
    gate.add(ex('c'), cohort); // c stays out for good
    gate.add(ex('d'), cohort); // d is new and the queue is short again
    expect(w.added).toEqual(['a', 'b', 'a', 'd']);
    expect(gate.counts()).toMatchObject({ recorded: 4, notRecordedExchanges: 2, notRecordedSessions: 1, cutSessions: 0, stopped: null });
  });

  it('bounds the bytes held for the writer too: new sessions stay out above a quarter of --max-queue-memory, recording stops at it', () => {
    const w = new FakeWriter();
    const stops: StopKind[] = [];
    const gate = new RecordingGate(w, { stallQueueBytes: 4_000 }, (k) => stops.push(k));
    const big = (key: string): Exchange => ({ ...ex(key), responseBodyBytes: 600 });
    gate.add(big('a'), cohort);
    gate.add(big('b'), cohort); // 1,200 bytes queued: over a quarter (1,000)
    gate.add(big('c'), cohort); // c stays out
    gate.add(big('a'), cohort); // a goes on: 1,800
    expect(w.added).toEqual(['a', 'b', 'a']);
    expect(stops).toEqual([]);
    for (let i = 0; i < 4; i++) gate.add(big('b'), cohort); // b goes on: 4,200 queued
    expect(stops).toEqual([]);
    gate.add(big('a'), cohort); // at 4,000 or more recording stops: a is cut
    expect(stops).toEqual(['writer-stalled']);
    expect(w.added).toEqual(['a', 'b', 'a', 'b', 'b', 'b', 'b']);
    expect(gate.counts().stopped?.reason).toMatch(/^the writer fell 7 exchanges \([\d.]+ KiB\) behind/);
    expect(gate.counts()).toMatchObject({ recorded: 7, notRecordedSessions: 1, cutSessions: 1 });
  });

  it('after a stop records nothing; recorded sessions with more traffic are cut, new ones not recorded, sampled ones still sampled out', () => {
    const w = new FakeWriter();
    const stops: StopKind[] = [];
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const kept = keys.filter((k) => unitOf(hashString(5, k)) < 0.5);
    const left = keys.filter((k) => !kept.includes(k));
    const gate = new RecordingGate(w, { maxExchanges: 2, sample: 0.5, sampleSeed: 5 }, (k) => stops.push(k));
    gate.add(ex(kept[0]!), cohort);
    gate.add(ex(kept[1]!), cohort); // the limit
    expect(stops).toEqual(['max-exchanges']);
    gate.add(ex(kept[0]!), cohort);
    gate.add(ex(kept[0]!), cohort);
    gate.add(ex(kept[2]!), cohort);
    gate.add(ex(left[0]!), cohort);
    gate.add(ex(left[0]!), cohort);
    expect(w.added).toEqual([kept[0], kept[1]]);
    expect(gate.counts()).toMatchObject({
      recorded: 2, notRecordedExchanges: 3, notRecordedSessions: 1, cutSessions: 1, sampledOutExchanges: 2, sampledOutSessions: 1,
    });
    expect(gate.counts().stopped?.reason).toMatch(/^--max-exchanges 2 reached after \d+ms$/);
    expect(gate.notes()).toMatchObject({
      'record.sample': '50% of sessions (seed 5)',
      'record.sampled-out': '2 exchanges in 1 sessions',
      'record.not-recorded': '3 exchanges, 1 sessions wholly, 1 sessions cut',
    });
  });

  it('a failed writer: what it was handed but had not committed counts as not recorded, by exchange and by session', () => {
    const w = new FakeWriter();
    const stops: StopKind[] = [];
    const gate = new RecordingGate(w, {}, (k) => stops.push(k));
    for (const k of ['a', 'b', 'c', 'd', 'e']) gate.add(ex(k), cohort);
    w.written = 3;
    w.failed = new RunError('Failed to write recording x.db: database or disk is full');
    gate.add(ex('a'), cohort); // throws inside: the gate stops, never the proxy
    gate.add(ex('f'), cohort);
    expect(stops).toEqual(['writer-failed']);
    // d and e were lost with the failed write: wholly unrecorded sessions; a had one committed exchange, so it is cut.
    expect(gate.counts()).toMatchObject({ recorded: 3, notRecordedExchanges: 4, notRecordedSessions: 3, cutSessions: 1 });
    expect(gate.counts().stopped?.reason).toMatch(/^the writer failed \(Failed to write recording x\.db: database or disk is full\)/);
  });

  it('a failed writer: a session with exchanges both committed and lost is cut', () => {
    const w = new FakeWriter();
    const gate = new RecordingGate(w, {}, () => undefined);
    for (const k of ['a', 'b', 'a', 'b']) gate.add(ex(k), cohort);
    w.written = 2; // a and b each have one committed, one lost
    w.failed = new RunError('disk full');
    gate.writerFailed(w.failed);
    gate.add(ex('a'), cohort);
    expect(gate.counts()).toMatchObject({ recorded: 2, notRecordedExchanges: 3, notRecordedSessions: 0, cutSessions: 2 });
  });

  it('an exchange the writer refuses is counted and recording goes on', () => {
    const w = new FakeWriter();
    const gate = new RecordingGate(w, {}, () => undefined);
    w.throwNext = true;
    gate.add(ex('a'), cohort);
    gate.add(ex('a'), cohort);
    expect(gate.counts()).toMatchObject({ recorded: 1, notRecordedExchanges: 1, stopped: null });
  });

  it('parses shares and formats durations', () => {
    expect(parseShare('10%')).toBe(0.1);
    expect(parseShare('0.5%')).toBe(0.005);
    expect(parseShare('0.25')).toBe(0.25);
    expect(parseShare('100%')).toBe(1);
    for (const bad of ['0%', '0', '150%', '1.5', 'ten', '-5%', '']) expect(parseShare(bad)).toBeNaN();
    expect([450, 12_500, 90_000, 1_500_000, 3_600_000, 5_400_000].map(formatMs)).toEqual(['450ms', '12.5s', '90s', '25m', '1h', '1.5h']);
  });
});
