import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/model/errors.js';
import { summarizeRun } from '../../src/report/summary.js';
import { viewSpecs } from '../../src/report/views.js';
import { makeRun } from './make-run.js';

/** 1..n µs spread over `windows` windows (values ≤ 2047 are exact in HDR). */
function oneToN(n: number, windows = 10): number[][] {
  const out: number[][] = Array.from({ length: windows }, () => []);
  for (let v = 1; v <= n; v++) out[v % windows]!.push(v);
  return out;
}

describe('summarizeRun', () => {
  const run = makeRun({
    segments: [
      { route: 'GET /a', cohort: { device: 'mobile', region: 'eu' }, windows: oneToN(2000), errors: [10, 10], mismatches: 40 },
      { route: 'GET /b', cohort: { device: 'desktop', region: 'eu' }, windows: [[1500, 1500, 1500, 1500, 1500, 1500]] },
    ],
  });
  const summary = summarizeRun(run);

  it('has overall, route, one view per cohort attribute, and route × cohort', () => {
    expect(summary.views.map((v) => v.name)).toEqual(['overall', 'route', 'device', 'region', 'route × cohort']);
  });

  it('computes exact percentiles of 1..2000 µs', () => {
    const a = summary.views[1]!.rows.find((r) => r.key === 'route=GET /a')!;
    expect(a.requests).toBe(2000);
    expect(a.percentiles.p50).toEqual({ us: 1000, enough: true });
    expect(a.percentiles.p95).toEqual({ us: 1900, enough: true });
    expect(a.percentiles.p99).toEqual({ us: 1980, enough: true });
    expect(a.percentiles.p999).toEqual({ us: 1998, enough: false });
    expect(a.maxUs).toBe(2000);
    expect(a.errorPct).toBe(1);
    expect(a.mismatchPct).toBe(2);
    expect(a.ratePerSec).toBe(200); // 2000 requests over 10 one-second windows
    expect(a.sendLagP99Us).toBe(100);
  });

  it('says a segment with 6 samples has no P95 to speak of', () => {
    const b = summary.views[1]!.rows.find((r) => r.key === 'route=GET /b')!;
    expect(b.percentiles.p50.enough).toBe(true);
    expect(b.percentiles.p95.enough).toBe(false);
    expect(b.percentiles.p99.enough).toBe(false);
  });

  it('merges segments into the overall row', () => {
    const all = summary.views[0]!.rows[0]!;
    expect(all.key).toBe('all');
    expect(all.requests).toBe(2006);
    expect(all.maxUs).toBe(2000);
    expect(all.failed).toBe(20);
  });

  it('groups by one cohort attribute across routes', () => {
    const region = summary.views[3]!.rows;
    expect(region.map((r) => [r.key, r.requests])).toEqual([['region=eu', 2006]]);
  });

  it('sorts rows with a trustworthy slow P99 first and cuts to --top', () => {
    const s = summarizeRun(run, { by: 'route', top: 1 });
    expect(s.views[1]!.rows.map((r) => r.label)).toEqual(['GET /a']);
    expect(s.views[1]!.omitted).toBe(1);
  });
});

describe('viewSpecs', () => {
  it.each([
    ['route', ['overall', 'route']],
    ['cohort', ['overall', 'device', 'region']],
    ['route,cohort', ['overall', 'route × cohort']],
    ['device', ['overall', 'device']],
    ['route,device', ['overall', 'route × device']],
  ])('--by %s gives views %j', (by, names) => {
    expect(viewSpecs(by, ['device', 'region']).map((v) => v.name)).toEqual(names);
  });

  it('rejects an attribute the run does not have, listing those it has', () => {
    expect(() => viewSpecs('planet', ['device'])).toThrow(UsageError);
    expect(() => viewSpecs('planet', ['device'])).toThrow(/got "planet"; this run has: route, cohort, device/);
  });
});
