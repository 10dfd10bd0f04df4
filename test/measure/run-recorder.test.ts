import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initHistograms } from '../../src/measure/histogram.js';
import { mergeRuns } from '../../src/measure/merge.js';
import { RunRecorder } from '../../src/measure/run-recorder.js';
import { segmentTotals } from '../../src/measure/segment-totals.js';
import { readRunResult, writeRunResult } from '../../src/measure/run-file.js';
import { InputError } from '../../src/model/errors.js';
import { RUN_RESULT_FORMAT, type RunResult } from '../../src/model/run-result.js';
import type { Sample } from '../../src/model/sample.js';

beforeAll(async () => {
  await initHistograms();
});

function sample(p: Partial<Sample>): Sample {
  return { segment: 'GET /a|device=mobile', intendedUs: 0, sentUs: 0, doneUs: 1000, status: 200, error: null, bytes: 10, recordedStatus: 200, ...p };
}

/** 100 samples with response times 1..100 ms, intended 10 ms apart. */
function fill(rec: RunRecorder, from = 1, to = 100, segment?: string): void {
  for (let i = from; i <= to; i++) {
    const intendedUs = i * 10_000;
    rec.add(sample({ intendedUs, sentUs: intendedUs + 100, doneUs: intendedUs + i * 1000, ...(segment ? { segment } : {}) }));
  }
}

function run(rec: RunRecorder, over: Partial<RunResult> = {}): RunResult {
  const { segments } = rec.close();
  const { byErrorKind: _byErrorKind, ...totals } = segmentTotals(segments);
  return {
    format: RUN_RESULT_FORMAT, version: 1, label: 'x', tool: { name: 'flashback', version: '0' },
    recording: { path: 'r.db', digest: 'd1', exchanges: 1, sessions: 1 }, target: 'http://t',
    plan: { scale: 1, speed: 1, durationUs: null, rampUs: 0, jitterUs: 0, seed: 1, methods: null, routes: null, concurrency: 10, timeoutUs: 1, workers: 1, shard: { index: 1, count: 2 }, windowUs: 1_000_000, plannedUs: 1 },
    startedAt: '2026-01-01T00:00:00.000Z', durationUs: 1_000_000,
    host: { hostname: 'h', platform: 'linux', arch: 'x64', cpus: 2, node: 'v20' },
    valid: true, invalidReasons: [],
    totals: { ...totals, sessions: 1, unsent: 0, droppedRedactedHeaders: 0 },
    segments,
    ...over,
  };
}

describe('RunRecorder', () => {
  it('response time is done − intended, service time done − sent, send lag sent − intended, with exact percentiles', () => {
    const rec = new RunRecorder({ windowUs: 500_000 });
    fill(rec);
    const { segments } = rec.close();
    const totals = segmentTotals(segments);
    const s = segments[0]!;
    expect(s).toMatchObject({ route: 'GET /a', cohort: { device: 'mobile' }, count: 100, errors: 0, bytes: 1000 });
    expect([s.p50, s.p95, s.p99, s.max]).toEqual([50_015, 95_039, 99_007, 100_000]);
    expect(totals.sendLagP99Us).toBe(100);
    // windows of 500 ms by intended time: samples 1..49 in t=0, 50..99 in t=1, 100 in t=2
    expect(s.windows.map((w) => [w.t, w.count])).toEqual([[0, 49], [1, 50], [2, 1]]);
    expect(s.windows[0]!.lat.reduce((a, [, c]) => a + c, 0)).toBe(49);
  });

  it('counts status classes, error kinds, server errors and recorded-vs-replayed mismatches', () => {
    const rec = new RunRecorder({ windowUs: 1_000_000 });
    rec.add(sample({ status: 200, recordedStatus: 201 }));
    rec.add(sample({ status: 503, recordedStatus: 200 }));
    rec.add(sample({ status: 0, error: 'timeout', recordedStatus: 200, bytes: 0 }));
    rec.add(sample({ status: 404, recordedStatus: null }));
    const s = rec.close().segments[0]!;
    expect(s.byStatusClass).toEqual({ err: 1, '2xx': 1, '4xx': 1, '5xx': 1 });
    expect(s.byErrorKind).toEqual({ timeout: 1 });
    expect([s.errors, s.serverErrors, s.mismatches]).toEqual([1, 1, 2]);
    expect(s.windows[0]!.errors).toBe(1);
    expect(s.windows[0]!.serverErrors).toBe(1);
  });

  it('counts 5xx per window (serverErrors), by intended time, apart from failures', () => {
    const rec = new RunRecorder({ windowUs: 1_000_000 });
    rec.add(sample({ intendedUs: 100, status: 500 }));
    rec.add(sample({ intendedUs: 200, status: 503 }));
    rec.add(sample({ intendedUs: 1_500_000, doneUs: 1_501_000, status: 502 }));
    rec.add(sample({ intendedUs: 1_600_000, doneUs: 1_601_000, status: 0, error: 'reset' }));
    rec.add(sample({ intendedUs: 2_500_000, doneUs: 2_501_000, status: 200 }));
    const s = rec.close().segments[0]!;
    expect(s.windows.map((w) => [w.t, w.count, w.errors, w.serverErrors])).toEqual([[0, 2, 0, 2], [1, 2, 1, 1], [2, 1, 0, 0]]);
    expect(s.serverErrors).toBe(3);
  });
});

describe('mergeRuns', () => {
  it('merging two halves gives the counts and percentiles of one run', () => {
    const a = new RunRecorder({ windowUs: 1_000_000 });
    fill(a, 1, 50);
    const b = new RunRecorder({ windowUs: 1_000_000 });
    fill(b, 51, 100);
    const whole = new RunRecorder({ windowUs: 1_000_000 });
    fill(whole);
    const m = mergeRuns([run(a, { label: 'a' }), run(b, { label: 'b', plan: { ...run(new RunRecorder({ windowUs: 1 })).plan, shard: { index: 2, count: 2 } } })]);
    const w = run(whole);
    expect(m.totals.requests).toBe(100);
    expect([m.segments[0]!.p50, m.segments[0]!.p99, m.segments[0]!.max]).toEqual([w.segments[0]!.p50, w.segments[0]!.p99, w.segments[0]!.max]);
    expect(m.segments[0]!.windows).toEqual(w.segments[0]!.windows);
    expect(m.mergedFrom).toBe(2);
  });

  it('sums per-window serverErrors; a part from before the field makes it unknown', () => {
    const a = new RunRecorder({ windowUs: 1_000_000 });
    a.add(sample({ intendedUs: 10, status: 500 }));
    const b = new RunRecorder({ windowUs: 1_000_000 });
    b.add(sample({ intendedUs: 20, status: 502 }));
    const second = { plan: { ...run(new RunRecorder({ windowUs: 1 })).plan, shard: { index: 2, count: 2 } } };
    const ra = run(a);
    const rb = run(b, second);
    expect(mergeRuns([ra, rb]).segments[0]!.windows[0]!.serverErrors).toBe(2);
    const old = { ...rb, segments: rb.segments.map((s) => ({ ...s, windows: s.windows.map(({ serverErrors: _drop, ...w }) => w) })) };
    const merged = mergeRuns([ra, old]).segments[0]!.windows[0]!;
    expect(merged.count).toBe(2);
    expect('serverErrors' in merged).toBe(false);
  });

  it('refuses results of different recordings or plans with a clear message', () => {
    const mk = (over: Partial<RunResult>): RunResult => run(new RunRecorder({ windowUs: 1 }), over);
    expect(() => mergeRuns([mk({}), mk({ recording: { path: 'other.db', digest: 'd2', exchanges: 1, sessions: 1 } })])).toThrow(/different recording \(other\.db/);
    const p = mk({}).plan;
    expect(() => mergeRuns([mk({}), mk({ plan: { ...p, scale: 2, shard: { index: 2, count: 2 } } })])).toThrow(/different plan.*scale \(1 vs 2\)/);
    expect(() => mergeRuns([mk({}), mk({})])).toThrow(/shard 1\/2 given twice/);
    expect(() => mergeRuns([])).toThrow(InputError);
  });
});

describe('run.json files', () => {
  it('round-trips, and refuses what is not a flashback run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-run-'));
    const r = run(new RunRecorder({ windowUs: 1 }));
    writeRunResult(join(dir, 'sub', 'run.json'), r);
    expect(readRunResult(join(dir, 'sub', 'run.json'))).toEqual(r);
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(() => readRunResult(join(dir, 'bad.json'))).toThrow(/not JSON/);
    writeFileSync(join(dir, 'other.json'), '{"format":"x"}');
    expect(() => readRunResult(join(dir, 'other.json'))).toThrow(/not a flashback run/);
    writeFileSync(join(dir, 'newer.json'), JSON.stringify({ ...r, version: 99 }));
    expect(() => readRunResult(join(dir, 'newer.json'))).toThrow(/newer/);
    expect(() => readRunResult(join(dir, 'missing.json'))).toThrow(InputError);
  });
});
