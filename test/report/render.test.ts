import { describe, expect, it } from 'vitest';
import { createHistogram, recordUs } from '../../src/measure/histogram.js';
import { bucketValueUs, latencyBucket } from '../../src/measure/window-buckets.js';
import { percentileCurve, timeline, windowP99 } from '../../src/report/charts.js';
import { compareRuns, pairOf } from '../../src/report/diff.js';
import { PLAIN } from '../../src/report/format.js';
import { evaluateGates, parseGates } from '../../src/report/gates.js';
import { renderDiffJson, renderSummaryJson } from '../../src/report/render-json.js';
import { renderJunit } from '../../src/report/render-junit.js';
import { renderDiffMarkdown, renderSummaryMarkdown } from '../../src/report/render-markdown.js';
import { renderSummaryTable } from '../../src/report/render-table.js';
import { lineChart, niceStep } from '../../src/report/svg-chart.js';
import { summarizeRun } from '../../src/report/summary.js';
import { makeRun } from './make-run.js';

const run = makeRun({
  label: 'a|b <run>',
  segments: [{ route: 'GET /x|y', cohort: { device: 'mobile' }, windows: Array.from({ length: 12 }, () => [1000, 2000, 3000, 4000, 5000, 6000]) }],
});

describe('percentileCurve', () => {
  it('runs from P0 to the highest percentile the sample supports, ending at the max', () => {
    const h = createHistogram({ wasm: false });
    for (let v = 1; v <= 1000; v++) recordUs(h, v);
    const c = percentileCurve(h);
    expect(c[0]).toEqual({ pct: 0, x: 1, us: 1 });
    expect(c.find((p) => p.x === 10)!.us).toBe(900); // P90
    expect(c.find((p) => p.x === 100)!.us).toBe(990); // P99
    expect(c[c.length - 1]).toEqual({ pct: 99.9, x: 1000, us: 1000 });
  });
});

describe('windowP99 and timeline', () => {
  it('reads P99 off a window\'s buckets, and not at all under 20 requests', () => {
    const lat: Array<[number, number]> = [[latencyBucket(1000), 98], [latencyBucket(9000), 2]];
    expect(windowP99({ t: 0, count: 100, errors: 0, lat })).toBe(bucketValueUs(latencyBucket(9000)));
    expect(windowP99({ t: 0, count: 10, errors: 0, lat: [[latencyBucket(1000), 10]] })).toBeNull();
  });

  it('fills missing windows with zero throughput', () => {
    const t = timeline([{ t: 0, count: 50, errors: 0, lat: [[10, 50]] }, { t: 2, count: 100, errors: 0, lat: [[10, 100]] }], 500_000);
    expect(t.map((p) => [p.tSec, p.rps])).toEqual([[0.5, 100], [1, 0], [1.5, 200]]);
  });
});

describe('svg charts', () => {
  it.each([[7, 2], [47, 10], [230, 50], [0.3, 0.1]])('picks a round tick step for a span of %d', (span, step) => {
    expect(niceStep(span)).toBeCloseTo(step, 9);
  });

  it('draws one path per unbroken run of points and escapes text', () => {
    const svg = lineChart({ title: 'P99 <all>', xLabel: 't', xLog: false, yFormat: String, series: [{ name: 'a', colour: '#000', points: [[1, 1], [2, null], [3, 2], [4, 3]] }] });
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('P99 &lt;all&gt;');
  });
});

describe('renderers format only', () => {
  const summary = summarizeRun(run);
  const gates = evaluateGates(parseGates(['p99<1ms']), run);

  it('the table is plain text with the plain look', () => {
    const text = renderSummaryTable(summary, { style: { head: [], border: [] }, paint: PLAIN }, gates);
    expect(text).not.toMatch(/\u001b\[/);
    expect(text).toContain('FAIL p99<1ms on all: 6.00ms (limit 1.00ms, 72 requests)');
    expect(text).toContain('n<100'); // 72 samples: no P95
  });

  it('Markdown escapes pipes in labels', () => {
    const md = renderSummaryMarkdown(summary, gates);
    expect(md).toContain('| GET /x\\|y · device=mobile |');
    expect(md).toContain('- ❌ p99<1ms on all');
  });

  it('JUnit escapes XML and has one failing test case for the one failed gate', () => {
    const xml = renderJunit(gates, 'suite <x>');
    expect(xml).toContain('name="suite &lt;x&gt;" tests="1" failures="1"');
    expect(xml).toContain('name="p99&lt;1ms on all"');
  });

  it('JSON is flashback.report/1 and round-trips the figures', () => {
    const doc = JSON.parse(renderSummaryJson(summary, gates));
    expect(doc.format).toBe('flashback.report');
    expect(doc.version).toBe(1);
    expect(doc.views[0].rows[0].percentiles.p50).toEqual({ us: 3001, enough: true }); // HDR: 3000 and 3001 share a bucket
    expect(doc.gates[0]).toMatchObject({ gate: 'p99<1ms', passed: false, actual: 6003, limit: 1000, segment: 'all' });
    const diff = JSON.parse(renderDiffJson(compareRuns(pairOf(run, run))));
    expect(diff.kind).toBe('diff');
    expect(diff.views[0].rows[0].deltas.p50).toMatchObject({ abs: 0, relPct: 0, verdict: 'unchanged', judged: 'total' });
    expect(diff.noise).toBe('single');
    expect(renderDiffMarkdown(compareRuns(pairOf(run, run)))).toContain('**0 regressions, 0 improvements**');
  });
});
