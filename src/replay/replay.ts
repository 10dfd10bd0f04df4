import { arch, cpus, hostname, platform } from 'node:os';
import { mergeSegmentLists } from '../measure/merge.js';
import { pairRuns } from '../measure/paired-run.js';
import { segmentTotals } from '../measure/segment-totals.js';
import { RUN_RESULT_FORMAT, RUN_RESULT_VERSION, type RunPlan, type RunResult } from '../model/run-result.js';
import { chooseHttpClient } from './http-client.js';
import type { RecordingSource } from './recording-source.js';
import type { RunnerOutcome, RunnerProgress } from './replay-runner.js';
import type { RecordedRun } from '../measure/run-recorder.js';
import { startShare, type RunningShare, type ShareConfig } from './run-share.js';
import { invalidReasons } from './run-validity.js';
import { startWorkerShare, type WorkerShare } from './worker-share.js';

/**
 * Everything a replay needs (the CLI builds this from flags): the run's plan,
 * recorded in run.json as given (workers at least 1, connections per-clone
 * when absent), and what is not part of the plan (the HTTP client among it:
 * it changes the load generator's cost, not what the target is sent).
 */
export interface ReplayConfig extends Omit<ShareConfig, 'worker'> {
  source: RecordingSource;
  label: string;
  toolVersion: string;
  /** Node.js version of the load generator (`process.version`, from the CLI), for run.json's `host`. */
  nodeVersion: string;
  /** Send lag p99 above this makes the run invalid, µs. */
  maxSendLagUs: number;
}

/** A running replay. */
export interface RunningReplay {
  progress(): RunnerProgress;
  stop(): void;
  result: Promise<RunResult>;
}

/** Planned length (`RunPlan.plannedUs`): the duration, or the recording's span / speed plus the jitter. */
export function plannedSpanUs(source: Pick<RecordingSource, 'lastOffsetUs'>, plan: Pick<RunPlan, 'durationUs' | 'speed' | 'jitterUs'>): number {
  return plan.durationUs ?? Math.round(source.lastOffsetUs / plan.speed + plan.jitterUs);
}

/** Label of the baseline run nested in a paired result (`RunResult.against`). */
export function againstLabel(label: string): string {
  return `${label} (against)`;
}

/** One share's figures against one target. */
interface SidePart {
  recorded: RecordedRun;
  outcome: RunnerOutcome;
}

/** The run against `target` from its shares' figures: merged segments, totals and validity. */
function sideResult(config: ReplayConfig, plan: RunPlan, target: string, label: string, done: SidePart[]): RunResult {
  const segments = mergeSegmentLists(done.map((s) => s.recorded.segments));
  const sum = (f: (s: SidePart) => number): number => done.reduce((a, s) => a + f(s), 0);
  const { byErrorKind: errorKinds, ...fromSegments } = segmentTotals(segments);
  const totals = {
    ...fromSegments,
    sessions: sum((s) => s.outcome.sessions),
    unsent: sum((s) => s.outcome.unsent),
    droppedRedactedHeaders: sum((s) => s.outcome.droppedRedactedHeaders),
  };
  const reasons = invalidReasons({
    totals,
    maxSendLagUs: config.maxSendLagUs,
    interrupted: done.some((s) => s.outcome.interrupted),
    target,
    errorKinds,
  });
  const first = done[0]!.outcome;
  const skews = done.map((s) => s.outcome.startSkewUs).filter((x): x is number => x !== undefined);
  const start =
    config.startAtMs === undefined || skews.length === 0
      ? null
      : { intended: new Date(config.startAtMs).toISOString(), skewUs: worstSkew(skews), limitUs: config.maxSendLagUs };
  return {
    format: RUN_RESULT_FORMAT,
    version: RUN_RESULT_VERSION,
    label,
    tool: { name: 'flashback', version: config.toolVersion },
    recording: { path: config.source.path, digest: config.source.digest, exchanges: config.source.exchanges, sessions: config.source.sessions },
    target,
    plan,
    startedAt: first.startedAt,
    durationUs: Math.max(...done.map((s) => s.outcome.durationUs)),
    host: { hostname: hostname(), platform: platform(), arch: arch(), cpus: cpus().length, node: config.nodeVersion },
    valid: reasons.length === 0,
    invalidReasons: reasons,
    totals,
    segments,
    ...(start === null ? {} : { start }),
  };
}

/** The skew furthest from zero (the workers of one run each start on their own). */
export function worstSkew(skews: readonly number[]): number {
  return skews.reduce((w, x) => (Math.abs(x) > Math.abs(w) ? x : w), 0);
}

/**
 * Starts a replay: runs the plan on `plan.workers` threads (each takes a
 * seeded share of the clones, like `--shard` across machines), merges their
 * histograms and builds the {@link RunResult} with its validity. With
 * `config.against` (a paired replay) every share runs each clone against
 * both targets on one clock, and the result nests the baseline's run.
 */
export function startReplay(config: ReplayConfig): RunningReplay {
  const workers = Math.max(1, config.plan.workers);
  const plan: RunPlan = { ...config.plan, workers, connections: config.plan.connections ?? 'per-clone' };
  // lean for http: targets unless asked otherwise (the CLI has checked an explicit choice)
  const headerNames = config.headers.map((h) => h.name);
  const httpClient = config.httpClient ?? chooseHttpClient(undefined, config.target, headerNames);
  const against = config.against === undefined ? undefined : {
    target: config.against.target,
    httpClient: config.against.httpClient ?? chooseHttpClient(undefined, config.against.target, headerNames),
  };
  const shares: RunningShare[] = [];
  for (let w = 0; w < workers; w++) {
    const share: ShareConfig = {
      target: config.target,
      plan,
      worker: { index: w, count: workers },
      headers: config.headers,
      ...(config.secrets === undefined ? {} : { secrets: config.secrets }),
      ...(config.startAtMs === undefined ? {} : { startAtMs: config.startAtMs }),
      httpClient,
      ...(against === undefined ? {} : { against }),
    };
    shares.push(workers === 1 ? startShare(config.source, share) : startWorkerShare(config.source.path, share));
  }
  if (workers > 1) {
    // one time zero for all workers, once every one of them is ready (or --start-at)
    const ws = shares as WorkerShare[];
    void Promise.all(ws.map((w) => w.ready)).then(() => {
      const atMs = config.startAtMs ?? Date.now() + 50;
      for (const w of ws) w.start(atMs);
    });
  }
  const result = (async (): Promise<RunResult> => {
    const done = await Promise.all(shares.map((s) => s.result)).catch((e: unknown) => {
      // one share failed (e.g. the recording turned out damaged): the others stop too
      for (const s of shares) s.stop();
      throw e;
    });
    const candidate = sideResult(config, plan, config.target, config.label, done);
    if (against === undefined) return candidate;
    const baseline = sideResult(config, plan, against.target, againstLabel(config.label), done.map((s) => s.against!));
    return pairRuns(candidate, baseline);
  })();
  return {
    progress: () => {
      const ps = shares.map((s) => s.progress());
      return {
        elapsedUs: Math.max(...ps.map((p) => p.elapsedUs)),
        done: ps.reduce((a, p) => a + p.done, 0),
        errors: ps.reduce((a, p) => a + p.errors, 0),
        inFlight: ps.reduce((a, p) => a + p.inFlight, 0),
        sessions: ps.reduce((a, p) => a + p.sessions, 0),
        recentP99Us: Math.max(...ps.map((p) => p.recentP99Us)),
      };
    },
    stop: () => shares.forEach((s) => s.stop()),
    result,
  };
}
