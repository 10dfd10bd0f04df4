import { bucketValueUs, latencyBucket } from '../measure/window-buckets.js';

const SPAN_US = 5_000_000;
const BUCKETS = 1200;

/**
 * Response times of the last 5–10 seconds in coarse log buckets, for the
 * live progress line (two alternating 5 s halves; no allocation per add).
 */
export class RecentLatency {
  private current = new Uint32Array(BUCKETS);
  private previous = new Uint32Array(BUCKETS);
  private currentStartUs = 0;

  add(nowUs: number, latencyUs: number): void {
    this.rotate(nowUs);
    const b = latencyBucket(latencyUs);
    this.current[b < BUCKETS ? b : BUCKETS - 1]!++;
  }

  /** p99 over the two halves, µs (0 when empty). */
  p99(nowUs: number): number {
    this.rotate(nowUs);
    let total = 0;
    for (let i = 0; i < BUCKETS; i++) total += this.current[i]! + this.previous[i]!;
    if (total === 0) return 0;
    const want = Math.ceil(total * 0.99);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.current[i]! + this.previous[i]!;
      if (seen >= want) return bucketValueUs(i);
    }
    return bucketValueUs(BUCKETS - 1);
  }

  private rotate(nowUs: number): void {
    if (nowUs - this.currentStartUs < SPAN_US) return;
    const old = this.previous;
    this.previous = this.current;
    this.current = old;
    this.current.fill(0);
    if (nowUs - this.currentStartUs >= 2 * SPAN_US) this.previous.fill(0);
    this.currentStartUs = nowUs - ((nowUs - this.currentStartUs) % SPAN_US);
  }
}
