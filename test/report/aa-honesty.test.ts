import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/model/run-result.js';
import { compareRuns } from '../../src/report/diff.js';
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
function drawRun(seed: number, slowdown: Record<string, number> = {}): RunResult {
  const random = rng(seed);
  return makeRun({
    label: `seed ${seed}`,
    segments: ROUTES.map(({ route, medianUs }) => {
      const factor = slowdown[route] ?? 1;
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
      const c = compareRuns(drawRun(1000 + 2 * i), drawRun(1001 + 2 * i), { by: 'route' });
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
    for (const seed of [1, 2, 3, 4, 5]) {
      const c = compareRuns(drawRun(100 * seed), drawRun(100 * seed + 1, { 'POST /checkout': 1.2 }), { by: 'route' });
      const routes = c.views[1]!.rows;
      const checkout = routes.find((r) => r.route === 'POST /checkout')!;
      expect(checkout.deltas.p50.verdict).toBe('regression');
      expect(checkout.deltas.p95.verdict).toBe('regression');
      expect(checkout.deltas.p99.verdict).toBe('regression');
      expect(checkout.deltas.p50.relPct!).toBeGreaterThan(10);
      expect(checkout.deltas.p50.ci![0]).toBeGreaterThan(0);
      const others = routes.filter((r) => r.route !== 'POST /checkout').flatMap(called);
      expect(others).toEqual([]);
    }
  });
});
