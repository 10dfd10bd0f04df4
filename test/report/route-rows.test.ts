import { beforeAll, describe, expect, it } from 'vitest';
import { initHistograms } from '../../src/measure/histogram.js';
import { mergeSegments } from '../../src/measure/merge.js';
import { RunRecorder } from '../../src/measure/run-recorder.js';
import type { RunResult } from '../../src/model/run-result.js';
import type { Sample } from '../../src/model/sample.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { routeRows, summarizeRun } from '../../src/report/summary.js';
import { makeRun } from './make-run.js';

beforeAll(async () => {
  await initHistograms();
});

/** A run of two routes over three cohorts, response times drawn from different spreads. */
function recorded(): RunResult {
  const rec = new RunRecorder({ windowUs: 1_000_000 });
  const rnd = seededRandom(7);
  const segments = ['GET /a|device=mobile', 'GET /a|device=desktop', 'GET /a|device=tablet', 'POST /b|device=mobile', 'POST /b|device=desktop'];
  for (let i = 0; i < 5_000; i++) {
    const segment = segments[i % segments.length]!;
    const spread = segment.startsWith('POST') ? 80_000 : 9_000 * (1 + (i % 3));
    const intendedUs = i * 1_000;
    const s: Sample = {
      segment, intendedUs, sentUs: intendedUs + 50, doneUs: intendedUs + 100 + Math.floor(rnd() * spread),
      status: i % 97 === 0 ? 503 : 200, error: null, bytes: 10, recordedStatus: 200,
    };
    rec.add(s);
  }
  return { ...makeRun({ segments: [] }), durationUs: 5_000_000, segments: rec.close().segments };
}

describe('routeRows (replay\'s closing table, the demo headline)', () => {
  const run = recorded();
  const { overall, routes } = routeRows(run);

  it('gives each route and the overall row the figures of a full merge of their segments', () => {
    for (const route of ['GET /a', 'POST /b']) {
      const parts = run.segments.filter((s) => s.route === route);
      expect(parts.length).toBeGreaterThan(1);
      const merged = mergeSegments(route, route, {}, parts);
      const row = routes.find((r) => r.route === route)!;
      expect(row.requests).toBe(merged.count);
      expect(row.failed).toBe(merged.errors + merged.serverErrors);
      expect([row.percentiles.p50.us, row.percentiles.p95.us, row.percentiles.p99.us]).toEqual([merged.p50, merged.p95, merged.p99]);
    }
    const all = mergeSegments('overall', 'overall', {}, run.segments);
    expect(overall.requests).toBe(5_000);
    expect([overall.percentiles.p50.us, overall.percentiles.p95.us, overall.percentiles.p99.us]).toEqual([all.p50, all.p95, all.p99]);
  });

  it('are the rows of report show\'s overall and route views, slowest P99 first', () => {
    const shown = summarizeRun(run);
    expect(overall).toEqual(shown.views.find((v) => v.name === 'overall')!.rows[0]);
    expect(routes).toEqual(shown.views.find((v) => v.name === 'route')!.rows);
    expect(routes.map((r) => r.route)).toEqual(['POST /b', 'GET /a']);
  });

  it('say which percentiles rest on too few samples, as report show does', () => {
    // 2,000 requests per route: P99 is backed (needs 1,000), P99.9 is not (needs 10,000)
    expect(routes[0]!.percentiles.p99.enough).toBe(true);
    expect(routes[0]!.percentiles.p999.enough).toBe(false);
  });

  it('a run with no segments has an empty overall row and no routes', () => {
    const empty = routeRows(makeRun({ segments: [] }));
    expect(empty.routes).toEqual([]);
    expect(empty.overall).toMatchObject({ requests: 0, percentiles: { p99: { us: null, enough: false } }, maxUs: 0 });
  });
});
