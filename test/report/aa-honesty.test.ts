import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/model/run-result.js';
import { compareRuns, pairOf, type DiffInput } from '../../src/report/diff.js';
import { describeGateResult, evaluateDiffGates, parseGates } from '../../src/report/gates.js';
import type { DiffRow } from '../../src/report/types.js';
import { logNormalUs, makeRun, rng } from './make-run.js';

const ROUTES = [
  { route: 'GET /products/:id', medianUs: 20_000 },
  { route: 'GET /search', medianUs: 60_000 },
  { route: 'POST /checkout', medianUs: 150_000 },
];

/**
 * A run drawn from a fixed latency distribution: 30 one-second windows per
 * route, 100 requests each, log-normal around the route's median, and a
 * per-window "weather" factor shared by the window's requests (the target
 * has slow seconds), which is what the block bootstrap must respect.
 */
function drawRun(seed: number, slowdown: Record<string, number> = {}, environment = 1): RunResult {
  const random = rng(seed);
  return makeRun({
    label: `seed ${seed}`,
    segments: ROUTES.map(({ route, medianUs }) => {
      const factor = (slowdown[route] ?? 1) * environment;
      const windows = Array.from({ length: 30 }, () => {
        const weather = Math.exp(0.1 * (random() - 0.5) * 2);
        return Array.from({ length: 100 }, () => logNormalUs(random, medianUs * factor * weather, 0.5));
      });
      const errors = windows.map(() => (random() < 0.3 ? 1 : 0));
      return { route, windows, errors };
    }),
  });
}

const called = (row: DiffRow): string[] =>
  Object.entries(row.deltas)
    .filter(([, d]) => d.verdict === 'regression' || d.verdict === 'improvement')
    .map(([name, d]) => `${row.label} ${name} ${d.verdict}`);

describe('A/A honesty', () => {
  it('does not call two runs of the same distribution different (100 seeded pairs)', () => {
    const pairs = 100;
    let pairsWithACall = 0;
    let deltasJudged = 0;
    const calls: string[] = [];
    for (let i = 0; i < pairs; i++) {
      const c = compareRuns(pairOf(drawRun(1000 + 2 * i), drawRun(1001 + 2 * i)), { by: 'route' });
      const rows = c.views.flatMap((v) => v.rows);
      const found = rows.flatMap(called);
      deltasJudged += rows.length * 4;
      if (found.length > 0) pairsWithACall++;
      calls.push(...found);
    }
    // 100 pairs × 4 rows × 4 figures = 1,600 judged deltas. Seeded, so the
    // count is fixed (4 pairs, one call each, when this was written).
    expect(deltasJudged).toBe(1600);
    expect(pairsWithACall, calls.join('\n')).toBeLessThanOrEqual(5);
    expect(calls.length / deltasJudged).toBeLessThan(0.01);
  });

  it('calls a 20% slowdown of one route a regression on that route and no other', () => {
    let called20 = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const c = compareRuns(pairOf(drawRun(100 * seed), drawRun(100 * seed + 1, { 'POST /checkout': 1.2 })), { by: 'route' });
      const routes = c.views[1]!.rows;
      const checkout = routes.find((r) => r.route === 'POST /checkout')!;
      // One baseline: the assumed noise between runs widens every interval,
      // so a 20% change is called at P50 or P95 in most seeds, not in all.
      if ([checkout.deltas.p50.verdict, checkout.deltas.p95.verdict].includes('regression')) called20++;
      for (const p of ['p50', 'p95'] as const) expect(checkout.deltas[p].own!.relPct).toBeGreaterThan(8);
      expect(checkout.deltas.p50.relPct!).toBeGreaterThan(10);
      expect(checkout.deltas.p50.own!.ci[0]).toBeGreaterThan(0);
      const others = routes.filter((r) => r.route !== 'POST /checkout').flatMap(called);
      expect(others).toEqual([]);
    }
    expect(called20).toBeGreaterThanOrEqual(4);
  });
});

const routeGates = parseGates(ROUTES.map((r) => `route=${r.route}: p50:+10%`));
const relativeGates = [...routeGates, ...parseGates(['p50:+10%', 'p95:+10%'])];
const failedGates = (input: DiffInput, gates = relativeGates): string[] => evaluateDiffGates(gates, input).filter((g) => !g.passed).map((g) => describeGateResult(g));

describe('run-wide shifts', () => {
  it('does not fail a route gate when the whole candidate run is 12% slower (one baseline)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const input = pairOf(drawRun(200 * seed), drawRun(200 * seed + 1, {}, 1.12));
      expect(failedGates(input)).toEqual([]);
      const c = compareRuns(input, { by: 'route' });
      expect(c.shift!.p50!.relPct).toBeGreaterThan(6);
      expect(c.shift!.p50!.attributed).toBe(true);
      expect(c.views[1]!.rows.flatMap(called)).toEqual([]);
    }
  });

  it('fails the gate of the one route that got 25% slower on top of the shift, and no other', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const input = pairOf(drawRun(300 * seed), drawRun(300 * seed + 1, { 'GET /search': 1.25 }, 1.12));
      const failed = failedGates(input, routeGates);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatch(/^FAIL route=GET \/search: p50:\+10%/);
      expect(failed[0]).toMatch(/own change beyond a run-wide shift/);
    }
  });

  it('with a baseline set, calls neither a shifted A/A run nor its routes, but fails a real global slowdown', () => {
    for (const seed of [1, 2, 3]) {
      const baselines = [0.95, 1, 1.05].map((env, i) => drawRun(400 * seed + i, {}, env));
      const aa: DiffInput = { baselines, candidate: drawRun(400 * seed + 9, {}, 1.08), paired: false };
      expect(compareRuns(aa).noise).toBe('set');
      expect(failedGates(aa)).toEqual([]);
      expect(compareRuns(aa, { by: 'route' }).views.flatMap((v) => v.rows.flatMap(called))).toEqual([]);
      const slow: DiffInput = { ...aa, candidate: drawRun(400 * seed + 9, {}, 1.6) };
      const c = compareRuns(slow, { by: 'route' });
      expect(c.shift!.p50!.attributed).toBe(false);
      expect(c.views[0]!.rows[0]!.deltas.p50.verdict).toBe('regression');
      expect(c.views[1]!.rows.every((r) => r.deltas.p50.verdict === 'regression')).toBe(true);
      expect(failedGates(slow)).toEqual(expect.arrayContaining([expect.stringMatching(/^FAIL p50:\+10% on all/)]));
    }
  });

  it('with a baseline set, calls a 20% slowdown of one route on that route alone', () => {
    for (const seed of [1, 2, 3]) {
      const baselines = [0.95, 1, 1.05].map((env, i) => drawRun(500 * seed + i, {}, env));
      const c = compareRuns({ baselines, candidate: drawRun(500 * seed + 9, { 'POST /checkout': 1.2 }, 1.08), paired: false }, { by: 'route' });
      const routes = c.views[1]!.rows;
      const checkout = routes.find((r) => r.route === 'POST /checkout')!.deltas;
      expect([checkout.p50.verdict, checkout.p95.verdict]).toContain('regression');
      expect(routes.filter((r) => r.route !== 'POST /checkout').flatMap(called)).toEqual([]);
    }
  });
});
