import { pairOf } from '../../src/report/diff.js';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/model/errors.js';
import { checkSingleRunGates, describeGateResult, evaluateDiffGates, evaluateGates, parseGate, parseGates } from '../../src/report/gates.js';
import { drawWindows, makeRun, rng } from './make-run.js';

describe('parseGate: valid expressions', () => {
  it.each([
    ['an absolute P99 limit in ms', 'p99<400ms', { metric: 'p99', kind: 'absolute', op: '<', limit: 400_000, scope: { route: null, cohort: {} } }],
    ['an inclusive P95 limit', 'p95<=300ms', { metric: 'p95', op: '<=', limit: 300_000 }],
    ['a P50 limit in microseconds', 'p50<850us', { metric: 'p50', limit: 850 }],
    ['a P99.9 limit in seconds with a fraction', 'p99.9<1.5s', { metric: 'p999', limit: 1_500_000 }],
    ['a max limit with spaces around the operator', 'max < 2s', { metric: 'max', limit: 2_000_000 }],
    ['an error share', 'errors<1%', { metric: 'errors', kind: 'absolute', limit: 1 }],
    ['a mismatch share', 'mismatches<5%', { metric: 'mismatches', limit: 5 }],
    ['a relative P99 gate', 'p99:+10%', { metric: 'p99', kind: 'relative', limit: 10 }],
    ['a gate scoped to a route', 'route=POST /checkout: p99<800ms', { scope: { route: 'POST /checkout', cohort: {} }, limit: 800_000 }],
    ['a route template with a colon parameter', 'route=GET /products/:id: p95<200ms', { scope: { route: 'GET /products/:id', cohort: {} } }],
    ['a gate scoped to a cohort attribute', 'cohort.device=mobile: p95<300ms', { scope: { route: null, cohort: { device: 'mobile' } } }],
    ['a route and a cohort together', 'route=GET /cart, cohort.region=eu: errors<2%', { scope: { route: 'GET /cart', cohort: { region: 'eu' } } }],
    ['a scoped relative gate', 'route=GET /products/:id: p99:+10%', { kind: 'relative', scope: { route: 'GET /products/:id', cohort: {} } }],
    ['upper-case figure names', 'P99<400ms', { metric: 'p99' }],
  ])('reads %s: %s', (_sentence, text, expected) => {
    expect(parseGate(text)).toMatchObject(expected);
  });
});

describe('parseGate: malformed expressions', () => {
  it.each([
    ['a latency without a unit', 'p99<400', /p99 needs a time with a unit/],
    ['a latency given as a percentage', 'p99<5%', /p99 needs a time with a unit/],
    ['an error share given as a time', 'errors<400ms', /errors needs a percentage/],
    ['an unknown figure', 'p98<400ms', /unknown figure "p98"/],
    ['a lower limit', 'p99>400ms', /gates are upper limits/],
    ['a relative gate on errors', 'errors:+10%', /relative gates apply to p50, p95 and p99/],
    ['a relative gate without a plus sign', 'p99:10%', /like p99:\+10%/],
    ['a relative improvement requirement', 'p99:-10%', /expected a figure|how much worse/],
    ['a scope that is neither route nor cohort', 'region=eu: p99<400ms', /a scope is route=<route> or cohort/],
    ['a scope without its colon', 'cohort.device=mobile p95<300ms', /unknown figure "cohort.device"/],
    ['an empty expression', '  ', /it is empty/],
    ['nonsense', 'fast please', /expected a figure, a comparison and a limit/],
  ])('rejects %s: "%s"', (_sentence, text, why) => {
    expect(() => parseGate(text)).toThrow(UsageError);
    expect(() => parseGate(text)).toThrow(why);
    expect(() => parseGate(text)).toThrow(`--fail-on "${text}" is not a valid gate`);
  });

  it('names where the gate came from', () => {
    expect(() => parseGates(['p99<1s', 'p99<1'], 'threshold in shop.json')).toThrow('threshold in shop.json "p99<1" is not a valid gate');
  });
});

/** 1..2000 µs over 10 windows: P50 1000, P95 1900, P99 1980 exactly. */
const oneTo2000 = (): number[][] => {
  const out: number[][] = Array.from({ length: 10 }, () => []);
  for (let v = 1; v <= 2000; v++) out[v % 10]!.push(v);
  return out;
};

describe('evaluateGates on one run', () => {
  const run = makeRun({
    segments: [
      { route: 'POST /checkout', cohort: { device: 'mobile' }, windows: oneTo2000(), errors: [20, 20] },
      { route: 'GET /products/:id', cohort: { device: 'desktop' }, windows: [[100, 100, 100, 100, 100, 100]] },
    ],
  });

  it.each([
    ['P99 of the whole run under 2 ms passes', 'p99<2ms', true, 1980],
    ['P99 of the whole run under 1.98 ms fails (strict)', 'p99<1980us', false, 1980],
    ['P99 at most 1.98 ms passes (inclusive)', 'p99<=1980us', true, 1980],
    ['errors under 1% fails at 2%', 'route=POST /checkout: errors<1%', false, 2],
    ['a route scope by path alone matches any method', 'route=/checkout: p50<=1ms', true, 1000],
    ['a cohort scope picks its segments', 'cohort.device=desktop: max<1ms', true, 100],
  ])('%s', (_sentence, text, passed, actual) => {
    const [r] = evaluateGates(parseGates([text]), run);
    expect(r!.passed).toBe(passed);
    expect(r!.actual).toBeCloseTo(actual, 6);
  });

  it('fails a scope that matches nothing (a typo must not pass)', () => {
    const [r] = evaluateGates(parseGates(['route=POST /chekout: p99<1s']), run);
    expect(r).toMatchObject({ passed: false, actual: null, note: 'no requests matched this scope' });
  });

  it('notes a percentile resting on too few samples', () => {
    const [r] = evaluateGates(parseGates(['route=GET /products/:id: p99<1s']), run);
    expect(r!.note).toBe('only 6 requests: P99 wants 1000');
  });

  it('says which gate failed, on which segment, with the figures', () => {
    const [r] = evaluateGates(parseGates(['route=POST /checkout: p99<1ms']), run);
    expect(describeGateResult(r!)).toBe('FAIL route=POST /checkout: p99<1ms on POST /checkout: 1.98ms (limit 1.00ms, 2000 requests)');
  });

  it('refuses a relative gate without a baseline', () => {
    expect(() => evaluateGates(parseGates(['p99:+10%']), run)).toThrow(/use it with report diff/);
    expect(() => checkSingleRunGates(parseGates(['p99<1s', 'p99:+10%']))).toThrow(UsageError);
    expect(() => checkSingleRunGates(parseGates(['p99<1s']))).not.toThrow();
  });
});

describe('evaluateDiffGates', () => {
  const random = rng(9);
  const base = makeRun({ segments: [{ route: 'GET /a', windows: drawWindows(random, 30, 100, 20_000) }, { route: 'GET /b', windows: drawWindows(random, 30, 100, 20_000) }] });
  const cand = makeRun({ segments: [{ route: 'GET /a', windows: drawWindows(random, 30, 100, 30_000) }, { route: 'GET /b', windows: drawWindows(random, 30, 100, 20_000) }] });

  it('fails a relative gate on the route that got 50% slower, passes it on the one that did not', () => {
    const [a, b] = evaluateDiffGates(parseGates(['route=GET /a: p50:+10%', 'route=GET /b: p50:+10%']), pairOf(base, cand));
    expect(a!.passed).toBe(false);
    expect(a!.actual!).toBeGreaterThan(40);
    expect(b!.passed).toBe(true);
  });

  it('checks absolute gates against the candidate', () => {
    const [r] = evaluateDiffGates(parseGates(['route=GET /a: p50<25ms']), pairOf(base, cand));
    expect(r!.passed).toBe(false);
  });
});
