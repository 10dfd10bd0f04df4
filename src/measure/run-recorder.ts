import type { RunPlan, SegmentResult } from '../model/run-result.js';
import type { Sample } from '../model/sample.js';
import { SegmentAccumulator } from './segment-accumulator.js';

/**
 * What {@link RunRecorder.close} returns: the rest of a `RunResult` is filled
 * in by replay (run-wide totals come from `segmentTotals` of the merged segments).
 */
export interface RecordedRun {
  segments: SegmentResult[];
}

/**
 * The sink replay feeds: one {@link SegmentAccumulator} per segment key (the
 * run-wide figures, send-lag p99 included, are `segmentTotals` of the
 * segments). `add()` copies what it needs, so callers may reuse one `Sample`
 * object for every request.
 * Call `initHistograms()` first for the WASM histograms.
 */
export class RunRecorder {
  private readonly windowUs: number;
  private readonly segments = new Map<string, SegmentAccumulator>();
  private count = 0;
  private closed = false;

  constructor(options: Pick<RunPlan, 'windowUs'>) {
    if (!(options.windowUs > 0)) throw new RangeError('windowUs must be positive');
    this.windowUs = options.windowUs;
  }

  /** Records one replayed request. Hot path: a Map lookup and three histogram records. */
  add(sample: Sample): void {
    let seg = this.segments.get(sample.segment);
    if (seg === undefined) {
      seg = new SegmentAccumulator(sample.segment, this.windowUs);
      this.segments.set(sample.segment, seg);
    }
    seg.add(sample);
    this.count++;
  }

  /** Number of samples so far. */
  get samples(): number {
    return this.count;
  }

  /** Computes the figures (segments sorted by key) and frees every histogram. Call once. */
  close(): RecordedRun {
    if (this.closed) throw new Error('RunRecorder already closed');
    this.closed = true;
    const segments = [...this.segments.keys()].sort().map((k) => this.segments.get(k)!.close());
    return { segments };
  }
}
