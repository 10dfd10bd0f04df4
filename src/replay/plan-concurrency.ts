/**
 * The default `--concurrency`: sized for the plan from the recording, so the
 * cap only binds when the target slows down far beyond what was recorded.
 *
 *   peak recorded sessions open at once (P, from the sessions table: cheap)
 *   × scale ÷ shard count                 (copies this process replays at once)
 *   × 6 requests per session              (a browser's connections per origin: the
 *                                          most a session has in flight)
 *   × 2 headroom                          (slow responses stretch sessions, so
 *                                          more copies overlap than recorded)
 *   clamped to [{@link MIN_DEFAULT_CONCURRENCY}, {@link MAX_DEFAULT_CONCURRENCY}].
 *
 * `--speed` does not change it: compressing time shortens sessions as much as
 * it brings their starts together. When the cap binds anyway, requests queue
 * and the wait counts in their response time (and in send lag).
 */
export const REQUESTS_PER_SESSION = 6;
export const HEADROOM = 2;
export const MIN_DEFAULT_CONCURRENCY = 64;
export const MAX_DEFAULT_CONCURRENCY = 10_000;

/** Default requests in flight for a plan (see the module comment for the rule). */
export function defaultConcurrency(peakSessions: number, scale: number, shardCount: number): number {
  const want = Math.ceil((Math.max(1, peakSessions) * scale * REQUESTS_PER_SESSION * HEADROOM) / Math.max(1, shardCount));
  return Math.min(MAX_DEFAULT_CONCURRENCY, Math.max(MIN_DEFAULT_CONCURRENCY, want));
}

/**
 * Most intervals open at the same time (`[start, end]`, ends inclusive), by
 * sorting starts and ends and sweeping: O(n log n), two numbers per interval.
 */
export function peakOverlap(intervals: Iterable<{ startOffsetUs: number; endOffsetUs: number }>): number {
  const starts: number[] = [];
  const ends: number[] = [];
  for (const i of intervals) {
    starts.push(i.startOffsetUs);
    ends.push(Math.max(i.startOffsetUs, i.endOffsetUs));
  }
  const s = Float64Array.from(starts).sort();
  const e = Float64Array.from(ends).sort();
  let open = 0;
  let peak = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (j < e.length && e[j]! < s[i]!) {
      j++;
      open--;
    }
    open++;
    if (open > peak) peak = open;
  }
  return peak;
}
