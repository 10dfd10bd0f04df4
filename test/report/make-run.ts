import { createHistogram, encodeHistogram, recordUs } from '../../src/measure/histogram.js';
import { latencyBucket } from '../../src/measure/window-buckets.js';
import { RUN_RESULT_FORMAT, RUN_RESULT_VERSION, type RunResult, type SegmentResult, type WindowCounts } from '../../src/model/run-result.js';
import type { Cohort } from '../../src/model/session.js';
import { segmentKey } from '../../src/model/segment.js';
import { seededRandom as rng } from '../../src/model/seeded-random.js';

/** One synthetic segment: latencies (µs) per time window, and failures per window. */
export interface SegmentSpec {
  route: string;
  cohort?: Cohort;
  /** Response times per window, µs; window i has index t = i. */
  windows: number[][];
  /** Failed requests per window (counted among that window's latencies), default 0. */
  errors?: number[];
  mismatches?: number;
  /** Requests answered 5xx (counted in `serverErrors` only: windows count failures without a response). */
  serverErrors?: number;
  /** 5xx per window, as run.json's optional `WindowCounts.serverErrors` (omitted: windows carry none). */
  windowServerErrors?: number[];
  /** Send lag recorded for every request, µs (default 100). */
  sendLagUs?: number;
}

export interface RunSpec {
  label?: string;
  digest?: string;
  windowUs?: number;
  valid?: boolean;
  invalidReasons?: string[];
  segments: SegmentSpec[];
}

function segmentOf(spec: SegmentSpec): SegmentResult {
  const cohort = spec.cohort ?? {};
  const response = createHistogram({ wasm: false });
  const lag = createHistogram({ wasm: false });
  const windows: WindowCounts[] = [];
  let count = 0;
  let errors = 0;
  spec.windows.forEach((lats, t) => {
    const buckets = new Map<number, number>();
    for (const us of lats) {
      recordUs(response, us);
      recordUs(lag, spec.sendLagUs ?? 100);
      const b = latencyBucket(us);
      buckets.set(b, (buckets.get(b) ?? 0) + 1);
    }
    const e = spec.errors?.[t] ?? 0;
    count += lats.length;
    errors += e;
    const lat = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
    const s5 = spec.windowServerErrors?.[t];
    if (lats.length > 0) windows.push(s5 === undefined ? { t, count: lats.length, errors: e, lat } : { t, count: lats.length, errors: e, serverErrors: s5, lat });
  });
  const pct = (p: number): number => (count === 0 ? 0 : response.getValueAtPercentile(p));
  const enc = encodeHistogram(response);
  return {
    key: segmentKey(spec.route, cohort),
    route: spec.route,
    cohort,
    count,
    errors,
    serverErrors: spec.serverErrors ?? 0,
    mismatches: spec.mismatches ?? 0,
    bytes: count * 100,
    byStatusClass: { '2xx': count - errors, err: errors },
    byErrorKind: errors > 0 ? { timeout: errors } : {},
    p50: pct(50),
    p95: pct(95),
    p99: pct(99),
    p999: pct(99.9),
    max: count === 0 ? 0 : response.maxValue,
    histograms: { response: enc, service: enc, sendLag: encodeHistogram(lag) },
    windows,
  };
}

/** A RunResult built from explicit per-window latencies (histograms really encoded). */
export function makeRun(spec: RunSpec): RunResult {
  const segments = spec.segments.map(segmentOf);
  const windowUs = spec.windowUs ?? 1_000_000;
  const nWindows = Math.max(1, ...spec.segments.map((s) => s.windows.length));
  const sum = (f: (s: SegmentResult) => number): number => segments.reduce((a, s) => a + f(s), 0);
  return {
    format: RUN_RESULT_FORMAT,
    version: RUN_RESULT_VERSION,
    label: spec.label ?? 'run',
    tool: { name: 'flashback', version: '0.1.0' },
    recording: { path: 'rec.db', digest: spec.digest ?? 'd1gest', exchanges: 100, sessions: 10 },
    target: 'http://127.0.0.1:3000',
    plan: {
      scale: 1, speed: 1, durationUs: null, rampUs: 0, jitterUs: 0, seed: 1, methods: null, routes: null,
      concurrency: 100, timeoutUs: 30_000_000, workers: 1, shard: { index: 0, count: 1 }, windowUs,
      plannedUs: nWindows * windowUs,
    },
    startedAt: '2026-11-23T12:00:00.000Z',
    durationUs: nWindows * windowUs,
    host: { hostname: 'test', platform: 'linux', arch: 'x64', cpus: 2, node: 'v20' },
    valid: spec.valid ?? true,
    invalidReasons: spec.invalidReasons ?? [],
    totals: {
      requests: sum((s) => s.count), errors: sum((s) => s.errors), serverErrors: sum((s) => s.serverErrors), mismatches: sum((s) => s.mismatches),
      bytes: sum((s) => s.bytes), sessions: 10, unsent: 0, droppedRedactedHeaders: 0, sendLagP99Us: 100,
    },
    segments,
  };
}


/** Log-normal latency draw around `medianUs` (sigma 0.5): a realistic long-ish tail. */
export function logNormalUs(random: () => number, medianUs: number, sigma = 0.5): number {
  const u1 = Math.max(random(), 1e-12);
  const u2 = random();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.max(1, Math.round(medianUs * Math.exp(sigma * z)));
}

/** `windows` windows of `perWindow` log-normal latencies each. */
export function drawWindows(random: () => number, windows: number, perWindow: number, medianUs: number): number[][] {
  return Array.from({ length: windows }, () => Array.from({ length: perWindow }, () => logNormalUs(random, medianUs)));
}

/** mulberry32 (shared with the source), re-exported for the report tests. */
export { rng };
