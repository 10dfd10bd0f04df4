import { beforeAll, describe, expect, it } from 'vitest';
import { initHistograms } from '../../src/measure/histogram.js';
import { mergeSegments } from '../../src/measure/merge.js';
import { summarizeRoutes } from '../../src/measure/route-summary.js';
import { RunRecorder } from '../../src/measure/run-recorder.js';
import type { RunResult } from '../../src/model/run-result.js';
import type { Sample } from '../../src/model/sample.js';
import { seededRandom } from '../../src/model/seeded-random.js';

beforeAll(async () => {
  await initHistograms();
});

/** Segments of two routes over three cohorts, response times drawn from different spreads. */
function recorded(): RunResult['segments'] {
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
  return rec.close().segments;
}

describe('summarizeRoutes', () => {
  it('gives each route and the overall row the figures of a full merge of their segments', () => {
    const segments = recorded();
    const { overall, routes } = summarizeRoutes({ segments } as RunResult);
    for (const route of ['GET /a', 'POST /b']) {
      const parts = segments.filter((s) => s.route === route);
      expect(parts.length).toBeGreaterThan(1);
      const merged = mergeSegments(route, route, {}, parts);
      const row = routes.find((r) => r.route === route)!;
      expect(row).toMatchObject({ count: merged.count, errors: merged.errors, serverErrors: merged.serverErrors, p50: merged.p50, p95: merged.p95, p99: merged.p99, max: merged.max });
    }
    const all = mergeSegments('overall', 'overall', {}, segments);
    expect(overall).toMatchObject({ count: 5_000, serverErrors: all.serverErrors, p50: all.p50, p95: all.p95, p99: all.p99, max: all.max });
    // slowest p99 first: the POST route's spread is the wider one
    expect(routes.map((r) => r.route)).toEqual(['POST /b', 'GET /a']);
    expect(overall.p99).toBeLessThan(routes[0]!.p99);
  });

  it('a run with no segments has an all-zero overall row', () => {
    const { overall, routes } = summarizeRoutes({ segments: [] as RunResult['segments'] } as RunResult);
    expect(routes).toEqual([]);
    expect(overall).toMatchObject({ count: 0, p50: 0, p99: 0, max: 0 });
  });
});
