import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/model/run-result.js';
import { compareRuns, pairOf } from '../../src/report/diff.js';
import { interpolatedLog, windowTable } from '../../src/report/bootstrap.js';
import { BUCKETS_PER_OCTAVE, latencyBucket } from '../../src/measure/window-buckets.js';
import type { Delta, DiffRow } from '../../src/report/types.js';
import { logNormalUs, makeRun, rng } from './make-run.js';

/** A run of `routes` routes (medians 10, 12, 14 … ms), `windows` windows of `perWindow` requests each, log-normal σ 0.4. */
function drawRun(seed: number, opts: { routes: number; windows?: number; perWindow: number; slow?: Record<number, number> }): RunResult {
  const random = rng(seed);
  return makeRun({
    label: `seed ${seed}`,
    segments: Array.from({ length: opts.routes }, (_, r) => {
      const median = (10_000 + 2_000 * r) * (opts.slow?.[r] ?? 1);
      const windows = Array.from({ length: opts.windows ?? 40 }, () => Array.from({ length: opts.perWindow }, () => logNormalUs(random, median, 0.4)));
      return { route: `GET /r${r}`, windows };
    }),
  });
}

const routeRows = (base: RunResult, cand: RunResult): DiffRow[] => compareRuns(pairOf(base, cand), { by: 'route' }).views.find((v) => v.name === 'route')!.rows;

const halfWidth = (d: Delta): number => (d.ciPct![1] - d.ciPct![0]) / 2;

describe('bootstrap percentiles read between bucket edges', () => {
  it('places a percentile inside its bucket by rank, rising with p', () => {
    // 100 requests, all in one bucket: p1 sits near its lower edge, p99 near its upper.
    const us = 20_000;
    const b = latencyBucket(us);
    const t = windowTable([{ t: 0, count: 100, errors: 0, lat: [[b, 100]] }]);
    const edge = (x: number): number => (x / BUCKETS_PER_OCTAVE) * Math.LN2;
    const at = (p: number): number => interpolatedLog(t, null, null, t.blocks, 100, p, 0);
    expect(at(1)).toBeGreaterThan(edge(b));
    expect(at(1)).toBeLessThan(edge(b + 0.05));
    expect(at(50)).toBeCloseTo(edge(b + 0.495), 6);
    expect(at(99)).toBeGreaterThan(edge(b + 0.95));
    expect(at(99)).toBeLessThan(edge(b + 1));
    expect(at(25)).toBeLessThan(at(50));
  });

  it("gives an interval that narrows with the data, not one stuck at whole buckets", () => {
    // Sampling noise of a P50 falls as 1/√n: 4× the requests, half the
    // interval. Read off bucket middles, both intervals came out in whole
    // 2.2% steps (often the same step), so this ratio was 1 or 0.5 by luck.
    const widths = (perWindow: number): number[] =>
      [1, 2, 3, 4, 5].map((k) => {
        const c = compareRuns(pairOf(drawRun(100 + 2 * k, { routes: 1, perWindow }), drawRun(101 + 2 * k, { routes: 1, perWindow })), { by: 'route' });
        // The overall row (one route): judged on its total change.
        return halfWidth(c.views.find((v) => v.name === 'overall')!.rows[0]!.deltas.p50);
      });
    const mean = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
    // One baseline adds the assumed run-to-run noise in quadrature; take it
    // out to compare the bootstrap's part alone.
    const assumed = 1.96 * 0.05 * Math.SQRT2 * 100;
    const boot = (hw: number): number => Math.sqrt(Math.max(0, hw ** 2 - assumed ** 2));
    const small = mean(widths(50).map(boot));
    const large = mean(widths(200).map(boot));
    expect(large / small).toBeGreaterThan(0.35);
    expect(large / small).toBeLessThan(0.65);
  });
});

describe("a route's own change", () => {
  const ownOf = (d: Delta): number => d.own!.relPct;

  it('with four routes or more, measures a one-route 10% slowdown against the median of the other routes', () => {
    const ln = (relPct: number): number => Math.log1p(relPct / 100);
    const median3 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1]!;
    const owns: number[] = [];
    for (let k = 0; k < 12; k++) {
      const base = drawRun(300 + 2 * k, { routes: 4, perWindow: 25 });
      const cand = drawRun(301 + 2 * k, { routes: 4, perWindow: 25, slow: { 2: 1.1 } });
      const rows = routeRows(base, cand);
      const slowed = rows.find((r) => r.route === 'GET /r2')!.deltas.p50;
      const others = rows.filter((r) => r.route !== 'GET /r2').map((r) => ln(r.deltas.p50.relPct!));
      // Its own change is its total less the median of the three others
      // (a median over all four, itself included, is pulled toward it).
      expect(ln(ownOf(slowed))).toBeCloseTo(ln(slowed.relPct!) - median3(others), 9);
      owns.push(ownOf(slowed));
    }
    const mean = owns.reduce((a, x) => a + x, 0) / owns.length;
    expect(mean).toBeGreaterThan(8.5);
    expect(mean).toBeLessThan(11.5);
  });

  it('with three routes, keeps the median of all three, so the routes beside a slowed one stay near zero', () => {
    for (let k = 0; k < 6; k++) {
      const base = drawRun(500 + 2 * k, { routes: 3, perWindow: 100 });
      const cand = drawRun(501 + 2 * k, { routes: 3, perWindow: 100, slow: { 1: 1.1 } });
      const rows = routeRows(base, cand);
      // The median of the other two would be their mean: half the slowed
      // route's 10% would land on each of them as a -5% own change.
      for (const r of rows.filter((x) => x.route !== 'GET /r1')) expect(ownOf(r.deltas.p50)).toBeGreaterThan(-3.5);
    }
  });
});
