import { describe, expect, it } from 'vitest';
import { bucketValueUs, latencyBucket } from '../../src/measure/window-buckets.js';
import { InputError } from '../../src/model/errors.js';
import type { RunResult } from '../../src/model/run-result.js';
import { tablePercentile, windowTable } from '../../src/report/bootstrap.js';
import { compareRuns, judge, pairOf, type DiffInput } from '../../src/report/diff.js';
import { ASSUMED_RUN_NOISE } from '../../src/report/run-noise.js';
import { drawWindows, makeRun, rng } from './make-run.js';

const same = (n: number, us: number): number[] => Array.from({ length: n }, () => us);
/** `windows` identical windows of 100 requests: 99 at `fastUs`, one at `slowUs`. */
const steady = (windows: number, fastUs: number, slowUs: number): number[][] =>
  Array.from({ length: windows }, () => [...same(99, fastUs), slowUs]);

describe('tablePercentile', () => {
  it('reads percentiles off window buckets with the HdrHistogram rank rule', () => {
    const t = windowTable([
      { t: 0, count: 60, errors: 0, lat: [[latencyBucket(1000), 60]] },
      { t: 1, count: 40, errors: 0, lat: [[latencyBucket(1000), 30], [latencyBucket(8000), 10]] },
    ]);
    const v = (us: number): number => bucketValueUs(latencyBucket(us));
    expect(tablePercentile(t, null, 100, 50)).toBe(v(1000));
    expect(tablePercentile(t, null, 100, 90)).toBe(v(1000));
    expect(tablePercentile(t, null, 100, 91)).toBe(v(8000));
    // Window 1 twice, window 0 not at all: 60 fast, 20 slow of 80.
    expect(tablePercentile(t, new Float64Array([0, 2]), 80, 75)).toBe(v(1000));
    expect(tablePercentile(t, new Float64Array([0, 2]), 80, 76)).toBe(v(8000));
  });

  it('joins consecutive windows into at most MAX_BLOCKS blocks', () => {
    const windows = Array.from({ length: 250 }, (_, t) => ({ t, count: 1, errors: 0, lat: [[latencyBucket(1000), 1]] as Array<[number, number]> }));
    const t = windowTable(windows);
    expect(t.blocks).toBe(84); // blocks of 3 windows
    expect(t.counts[0]).toBe(3);
    expect(t.counts[83]).toBe(1);
  });
});

/** A paired diff of two synthetic runs: intervals hold the resampling alone (no assumed noise between runs). */
const paired = (base: RunResult, cand: RunResult): DiffInput => ({ baselines: [base], candidate: { ...cand, against: base }, paired: true });
const oneRoute = (windows: number[][]): RunResult => makeRun({ segments: [{ route: 'GET /', windows }] });

describe('the block bootstrap', () => {
  it('gives a zero-width interval at the exact delta when every window is alike', () => {
    const d = compareRuns(paired(oneRoute(steady(20, 1000, 1000)), oneRoute(steady(20, 2000, 2000))), { resamples: 200, seed: 7 }).views[0]!.rows[0]!.deltas;
    expect(d.p50.abs).toBe(1000);
    expect(d.p50.ci![0]).toBeCloseTo(1000, 6);
    expect(d.p50.ci![1]).toBeCloseTo(1000, 6);
    expect(d.errors.ci).toEqual([0, 0]);
  });

  it('spans the two window kinds when half the baseline windows are slow', () => {
    // Baseline: 10 windows at 1 ms, 10 at 4 ms, interleaved (no autocorrelation); the resampled median lands on either.
    const baseWindows = Array.from({ length: 20 }, (_, i) => same(50, i % 2 === 0 ? 1000 : 4000));
    const d = compareRuns(paired(oneRoute(baseWindows), oneRoute(steady(20, 2000, 2000))), { resamples: 1000, seed: 1 }).views[0]!.rows[0]!.deltas.p50;
    // On the bucket scale the change runs from 2 ms/4 ms (-50%) to 2 ms/1 ms (+100%).
    expect(d.ciPct![0]).toBeLessThan(-40);
    expect(d.ciPct![1]).toBeGreaterThan(80);
  });

  it('is reproducible for a seed', () => {
    const random = rng(3);
    const a = oneRoute(drawWindows(random, 20, 50, 10_000));
    const b = oneRoute(drawWindows(random, 20, 50, 10_000));
    const o = { resamples: 300, seed: 11 };
    expect(compareRuns(pairOf(a, b), o)).toEqual(compareRuns(pairOf(a, b), o));
  });
});

describe('judge', () => {
  it.each([
    ['a significant 20 ms rise over both floors is a regression', 100_000, 120_000, [5_000, 30_000], 'regression'],
    ['a significant 20 ms fall is an improvement', 120_000, 100_000, [-30_000, -7_000], 'improvement'],
    ['an interval that straddles zero is unchanged', 100_000, 120_000, [-1_000, 30_000], 'unchanged'],
    ['a significant but 2% change is under the relative floor', 100_000, 102_000, [1_500, 2_500], 'unchanged'],
    ['a significant 500 µs change is under the absolute floor', 5_000, 5_500, [400, 600], 'unchanged'],
    ['a significant 10% rise whose interval reaches down to 2% may be under the floor', 100_000, 110_000, [2_000, 18_000], 'unchanged'],
    ['a 10% rise whose interval starts at 6% and 6 ms is a regression', 100_000, 110_000, [6_000, 14_000], 'regression'],
  ] as const)('%s', (_name, base, cand, [lo, hi], verdict) => {
    const d = judge(base, cand, null, { point: cand - base, lo, hi }, 1_000, 5);
    expect(d.verdict).toBe(verdict);
    expect(d.ci).toEqual([lo, hi]);
    expect(d.abs).toBe(cand - base);
  });

  it('shifts the bucketed interval onto the exact delta', () => {
    const d = judge(100_000, 120_000, null, { point: 19_000, lo: 15_000, hi: 25_000 }, 1_000, 5);
    expect(d.ci).toEqual([16_000, 26_000]);
    expect(d.relPct).toBe(20);
  });

  it('says why there is no verdict', () => {
    const d = judge(1, 2, 'too few samples for P99 (n=10)', null, 1_000, 5);
    expect(d).toMatchObject({ verdict: 'insufficient', note: 'too few samples for P99 (n=10)', ci: null });
  });
});

describe('compareRuns', () => {
  it('computes exact deltas and, paired, a zero-width interval for steady runs', () => {
    const base = makeRun({ label: 'base', segments: [{ route: 'GET /a', windows: steady(20, 1000, 1000) }] });
    const cand = makeRun({ label: 'cand', segments: [{ route: 'GET /a', windows: steady(20, 1500, 1500) }] });
    const c = compareRuns(paired(base, cand));
    expect(c.noise).toBe('paired');
    const d = c.views[1]!.rows[0]!.deltas.p50;
    expect(d).toMatchObject({ base: 1000, cand: 1500, abs: 500, relPct: 50, verdict: 'unchanged', judged: 'total' });
    expect(d.ci![0]).toBeCloseTo(500, 6);
    expect(d.ci![1]).toBeCloseTo(500, 6);
    expect(d.clearsFloors).toBe(false); // 0.5 ms is under the 1 ms floor
    expect(compareRuns(paired(base, cand), { minAbsUs: 100 }).views[1]!.rows[0]!.deltas.p50.verdict).toBe('regression');
  });

  it('widens a single baseline\'s interval by the assumed noise between runs', () => {
    const base = makeRun({ segments: [{ route: 'GET /a', windows: steady(20, 10_000, 10_000) }] });
    const cand = makeRun({ segments: [{ route: 'GET /a', windows: steady(20, 11_000, 11_000) }] });
    const c = compareRuns(pairOf(base, cand));
    expect(c.noise).toBe('single');
    const d = c.views[1]!.rows[0]!.deltas.p50;
    // Identical windows: the bootstrap alone gives a zero-width interval; the
    // assumed run-to-run noise (5% at P50, both runs) makes it ±13.9% in log terms.
    const hw = 1.96 * ASSUMED_RUN_NOISE.shared.p50 * Math.SQRT2;
    expect(Math.log(1 + d.ciPct![1] / 100) - Math.log(1.1)).toBeCloseTo(hw, 2);
    expect(d.verdict).toBe('unchanged'); // +10% is within that
    expect(compareRuns(paired(base, cand)).views[1]!.rows[0]!.deltas.p50.verdict).toBe('regression');
  });

  it('refuses runs of different recordings unless forced', () => {
    const a = makeRun({ digest: 'aaaa', segments: [{ route: 'GET /', windows: [[1000]] }] });
    const b = makeRun({ digest: 'bbbb', segments: [{ route: 'GET /', windows: [[1000]] }] });
    expect(() => compareRuns(pairOf(a, b))).toThrow(InputError);
    expect(() => compareRuns(pairOf(a, b))).toThrow(/different recordings/);
    expect(compareRuns(pairOf(a, b), { force: true }).differentRecordings).toBe(true);
  });

  it('has no verdict for P99 on a few hundred samples, or with fewer than five blocks', () => {
    const random = rng(5);
    const base = makeRun({ segments: [{ route: 'GET /', windows: drawWindows(random, 20, 20, 10_000) }] });
    const cand = makeRun({ segments: [{ route: 'GET /', windows: drawWindows(random, 20, 20, 30_000) }] });
    const row = compareRuns(pairOf(base, cand)).views[0]!.rows[0]!;
    expect(row.deltas.p99).toMatchObject({ verdict: 'insufficient', note: 'too few samples for P99 (n=400)' });
    expect(row.deltas.p50.verdict).toBe('regression');
    const short = makeRun({ segments: [{ route: 'GET /', windows: drawWindows(random, 4, 400, 10_000) }] });
    expect(compareRuns(pairOf(short, short)).views[0]!.rows[0]!.deltas.p50.note).toBe('fewer than 5 time blocks with traffic (a run too short to judge)');
    // Ten one-second windows (a 10 s run written before windows were sized to the run) are judged, with a widened interval.
    const ten = (us: number): RunResult => makeRun({ segments: [{ route: 'GET /', windows: drawWindows(rng(us), 10, 400, us) }] });
    const d = compareRuns(paired(ten(10_000), ten(20_000))).views[0]!.rows[0]!.deltas.p50;
    expect(d.verdict).toBe('regression');
    expect(d.ci![1] - d.ci![0]).toBeGreaterThan(0);
  });

  it('falls back to the two-proportion interval for error share when 5xx are not in the windows', () => {
    const base = makeRun({ segments: [{ route: 'GET /', windows: steady(20, 1000, 1000), serverErrors: 20 }] });
    const cand = makeRun({ segments: [{ route: 'GET /', windows: steady(20, 1000, 1000), serverErrors: 100 }] });
    const d = compareRuns(pairOf(base, cand)).views[0]!.rows[0]!.deltas.errors;
    // 1% → 5% of 2,000: se = sqrt(.01·.99/2000 + .05·.95/2000) = 0.0053572 → ±1.0502 points (z = 1.9604).
    expect(d.abs).toBeCloseTo(4, 9);
    expect(d.ci![0]).toBeCloseTo(4 - 1.0502, 3);
    expect(d.ci![1]).toBeCloseTo(4 + 1.0502, 3);
    expect(d.verdict).toBe('regression');
  });

  it('resamples windows for error share when the windows carry their 5xx', () => {
    const errorsDelta = (candWindows: number[]) => {
      const base = makeRun({ segments: [{ route: 'GET /', windows: steady(20, 1000, 1000), serverErrors: 20, windowServerErrors: Array(20).fill(1) }] });
      const cand = makeRun({ segments: [{ route: 'GET /', windows: steady(20, 1000, 1000), serverErrors: 100, windowServerErrors: candWindows }] });
      return compareRuns(pairOf(base, cand)).views[0]!.rows[0]!.deltas.errors;
    };
    // 1% → 5% either way; spread evenly, every resample of windows gives the same share...
    const even = errorsDelta(Array(20).fill(5));
    expect(even.abs).toBeCloseTo(4, 9);
    expect(even.ci![1] - even.ci![0]).toBeCloseTo(0, 6);
    // ...while 5xx bunched into two windows (an outage) make the share uncertain: a wide interval.
    const bursty = errorsDelta([50, 50, ...Array(18).fill(0)]);
    expect(bursty.abs).toBeCloseTo(4, 9);
    expect(bursty.ci![1] - bursty.ci![0]).toBeGreaterThan(3);
  });

  it('marks rows present in only one run', () => {
    const a = makeRun({ segments: [{ route: 'GET /a', windows: [[1000]] }] });
    const b = makeRun({ segments: [{ route: 'GET /a', windows: [[1000]] }, { route: 'GET /b', windows: [[1000]] }] });
    const rows = compareRuns(pairOf(a, b)).views[1]!.rows;
    expect(rows.find((r) => r.key === 'route=GET /b')!.deltas.p50.note).toBe('only in the candidate');
  });
});
