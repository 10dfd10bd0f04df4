import type { ErrorKind } from './exchange.js';
import type { Cohort } from './session.js';

/** Version of the run.json format; bump on any incompatible change. */
export const RUN_RESULT_VERSION = 1;
export const RUN_RESULT_FORMAT = 'flashback.run';

/** How replayed clones get connections: `per-clone` (each its own, like real users) or `shared` (one pool). */
export type ConnectionMode = 'per-clone' | 'shared';

/**
 * What a replay was asked to do: the one value the CLI builds from the flags
 * and every replay module reads (narrower views are `Pick`s of it). Two runs
 * can be merged only if their plans are equal but for the shard index,
 * `workers` and `plannedUs`.
 */
export interface RunPlan {
  scale: number;
  speed: number;
  /** Planned duration in µs, or null for "once through the recording". */
  durationUs: number | null;
  rampUs: number;
  jitterUs: number;
  seed: number;
  methods: string[] | null;
  routes: string | null;
  concurrency: number;
  timeoutUs: number;
  workers: number;
  shard: { index: number; count: number };
  /** Length of the time windows counts are kept in, µs. */
  windowUs: number;
  /** Planned length of the run in µs (schedule span after speed). */
  plannedUs: number;
  /**
   * `--connections`. Optional only for reading: run.json files written before
   * it existed lack it (read as unknown); every replay records it.
   */
  connections?: ConnectionMode;
}

/**
 * One time window of a segment: index `t` counts windows of `plan.windowUs`
 * from the run start. `lat` is a sparse log-bucket histogram of response
 * time: pairs of `[bucket, count]` where bucket = floor(log2(max(us,1)) * 32),
 * so resampling windows (block bootstrap) can estimate percentile intervals
 * without decoding full histograms. Encode/decode lives in `measure/`.
 */
export interface WindowCounts {
  t: number;
  count: number;
  /** Requests in the window that failed without a status (status 0). */
  errors: number;
  /**
   * Requests in the window answered with a 5xx. Optional: runs written before
   * it existed lack it (read as unknown, not as 0).
   */
  serverErrors?: number;
  lat: Array<[bucket: number, count: number]>;
}

export interface SegmentResult {
  /** `segmentKey(route, cohort)`. */
  key: string;
  route: string;
  cohort: Cohort;
  count: number;
  /** Requests that failed without a response (status 0). */
  errors: number;
  /** Requests with a 5xx status (also counted in `byStatusClass`). */
  serverErrors: number;
  /** Replayed status class differs from the recorded one. */
  mismatches: number;
  bytes: number;
  byStatusClass: Partial<Record<'1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'err', number>>;
  byErrorKind: Partial<Record<ErrorKind, number>>;
  /** Response-time percentiles in µs (plain numbers so other tools need not decode). */
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  /** hdr-histogram-js `encodeIntoCompressedBase64` of µs values. */
  histograms: { response: string; service: string; sendLag: string };
  windows: WindowCounts[];
}

export interface RunTotals {
  requests: number;
  errors: number;
  serverErrors: number;
  mismatches: number;
  bytes: number;
  /** Sessions started (after scale and sharding). */
  sessions: number;
  /** Requests planned but never sent (run stopped, generator could not keep up). */
  unsent: number;
  /** Recorded header values that were `redacted:` and had no live value, so were dropped. */
  droppedRedactedHeaders: number;
  sendLagP99Us: number;
}

/** One shard's start in a merge's {@link RunStart}. */
export interface ShardStart {
  /** `--shard` index (1-based). */
  shard: number;
  label: string;
  /** Against the merge's intended start, µs (positive: late). */
  skewUs: number;
  /** That shard's send-lag limit, µs. */
  limitUs: number;
}

/**
 * When a run was told to start (`--start-at`) and when it did. A shard that
 * starts late keeps the common time zero, so its first requests go out late;
 * on a long run those can be too few to move its send lag p99, and this is
 * what still shows it.
 */
export interface RunStart {
  /** The intended start, ISO. */
  intended: string;
  /** When sending began against it, µs (positive: late); on a merge, the worst shard's. */
  skewUs: number;
  /** The run's send-lag limit (`--max-send-lag`), µs: a start off by more is named by `report merge`. */
  limitUs: number;
  /** On a merge: each shard's start (shards replayed without `--start-at` are absent). */
  shards?: ShardStart[];
}

/** The result of one replay (or of a merge of shards): what `run.json` holds. */
export interface RunResult {
  format: typeof RUN_RESULT_FORMAT;
  version: number;
  label: string;
  tool: { name: 'flashback'; version: string };
  recording: { path: string; digest: string; exchanges: number; sessions: number };
  target: string;
  plan: RunPlan;
  startedAt: string;
  durationUs: number;
  host: { hostname: string; platform: string; arch: string; cpus: number; node: string };
  valid: boolean;
  invalidReasons: string[];
  totals: RunTotals;
  segments: SegmentResult[];
  /** Set when this result merges shard results: how many were merged. */
  mergedFrom?: number;
  /**
   * Set on a merge: the `--shard` indexes it holds, ascending (absent on
   * merges written before it existed, which cannot say).
   */
  mergedShards?: number[];
  /** Set when the run was given `--start-at` (see {@link RunStart}). */
  start?: RunStart;
  /**
   * Set by a paired replay (`replay --against URL`): the run against the
   * baseline target, made in the same process on the same schedule (each
   * planned request sent to both targets at the same intended time, windows
   * aligned by index). This result is the candidate (`--target`). The
   * nested run never has an `against` of its own.
   */
  against?: RunResult;
}
