/**
 * The coarse log-scale buckets of per-window latency counts in run.json
 * (`WindowCounts.lat`): 32 buckets per power of two, so a bucket is about
 * 2.2% wide. Fine enough for bootstrap intervals on percentile deltas, small
 * enough to keep a window per segment per second.
 */
export const BUCKETS_PER_OCTAVE = 32;

/** Bucket index of a µs value. */
export function latencyBucket(us: number): number {
  return Math.floor(Math.log2(us < 1 ? 1 : us) * BUCKETS_PER_OCTAVE);
}

/** A representative µs value of a bucket (its geometric middle). */
export function bucketValueUs(bucket: number): number {
  return Math.round(2 ** ((bucket + 0.5) / BUCKETS_PER_OCTAVE));
}
