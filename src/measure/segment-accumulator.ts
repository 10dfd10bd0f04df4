import type { ErrorKind } from '../model/exchange.js';
import type { SegmentResult, WindowCounts } from '../model/run-result.js';
import type { Sample } from '../model/sample.js';
import { parseSegmentKey } from '../model/segment.js';
import { createHistogram, encodeHistogram, percentilesOf, recordUs, type Histogram } from './histogram.js';
import { latencyBucket } from './window-buckets.js';

/** Mutable per-window counters (sparse latency buckets in a Map until encoded). */
interface WindowAccumulator {
  count: number;
  errors: number;
  serverErrors: number;
  lat: Map<number, number>;
}

const STATUS_CLASSES = ['err', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Index into STATUS_CLASSES without allocating a string: 0 for no status. */
function classIndex(status: number): number {
  const c = (status / 100) | 0;
  return c >= 1 && c <= 5 ? c : 0;
}

/**
 * The figures of one segment (route × cohort) while a run is going: three
 * HDR histograms (response, service, send lag; µs), counters and per-window
 * counts. `add()` allocates nothing except on a segment's first sample in a
 * new window or latency bucket. Call {@link close} once: it encodes the
 * histograms and frees their WASM memory.
 */
export class SegmentAccumulator {
  readonly key: string;
  private readonly response: Histogram = createHistogram();
  private readonly service: Histogram = createHistogram();
  private readonly sendLag: Histogram = createHistogram();
  private count = 0;
  private errors = 0;
  private serverErrors = 0;
  private mismatches = 0;
  private bytes = 0;
  /** Exact largest response time (HDR's max is bucket-rounded differently in WASM and JS). */
  private maxUs = 0;
  private readonly byClass = new Float64Array(6);
  private readonly byErrorKind = new Map<ErrorKind, number>();
  private readonly windows: Array<WindowAccumulator | undefined> = [];

  constructor(key: string, private readonly windowUs: number) {
    this.key = key;
  }

  /** Adds one sample (times µs since run start). */
  add(s: Sample): void {
    const responseUs = s.doneUs - s.intendedUs;
    recordUs(this.response, responseUs);
    if (responseUs > this.maxUs) this.maxUs = responseUs;
    recordUs(this.service, s.doneUs - s.sentUs);
    recordUs(this.sendLag, s.sentUs - s.intendedUs);
    this.count++;
    this.bytes += s.bytes;
    const ci = classIndex(s.status);
    this.byClass[ci]!++;
    const failed = s.status === 0;
    if (failed) {
      this.errors++;
      const kind = s.error ?? 'other';
      this.byErrorKind.set(kind, (this.byErrorKind.get(kind) ?? 0) + 1);
    } else if (ci === 5) this.serverErrors++;
    if (s.recordedStatus !== null && classIndex(s.recordedStatus) !== ci) this.mismatches++;
    const t = Math.floor((s.intendedUs < 0 ? 0 : s.intendedUs) / this.windowUs);
    let w = this.windows[t];
    if (w === undefined) {
      w = { count: 0, errors: 0, serverErrors: 0, lat: new Map() };
      this.windows[t] = w;
    }
    w.count++;
    if (failed) w.errors++;
    else if (ci === 5) w.serverErrors++;
    const b = latencyBucket(responseUs);
    w.lat.set(b, (w.lat.get(b) ?? 0) + 1);
  }

  /** Encodes the figures as a {@link SegmentResult} and frees the histograms. */
  close(): SegmentResult {
    const { route, cohort } = parseSegmentKey(this.key);
    const p = percentilesOf(this.response);
    const byStatusClass: SegmentResult['byStatusClass'] = {};
    for (let i = 0; i < STATUS_CLASSES.length; i++) {
      if (this.byClass[i]! > 0) byStatusClass[STATUS_CLASSES[i]!] = this.byClass[i]!;
    }
    const byErrorKind: SegmentResult['byErrorKind'] = {};
    for (const [k, v] of [...this.byErrorKind].sort((a, b) => a[0].localeCompare(b[0]))) byErrorKind[k] = v;
    const windows: WindowCounts[] = [];
    for (let t = 0; t < this.windows.length; t++) {
      const w = this.windows[t];
      if (w === undefined) continue;
      windows.push({ t, count: w.count, errors: w.errors, serverErrors: w.serverErrors, lat: [...w.lat].sort((a, b) => a[0] - b[0]) });
    }
    const result: SegmentResult = {
      key: this.key,
      route,
      cohort,
      count: this.count,
      errors: this.errors,
      serverErrors: this.serverErrors,
      mismatches: this.mismatches,
      bytes: this.bytes,
      byStatusClass,
      byErrorKind,
      p50: p.p50,
      p95: p.p95,
      p99: p.p99,
      p999: p.p999,
      max: this.maxUs,
      histograms: {
        response: encodeHistogram(this.response),
        service: encodeHistogram(this.service),
        sendLag: encodeHistogram(this.sendLag),
      },
      windows,
    };
    this.response.destroy();
    this.service.destroy();
    this.sendLag.destroy();
    return result;
  }
}
