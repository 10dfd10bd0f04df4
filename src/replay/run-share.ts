import { initHistograms } from '../measure/histogram.js';
import { RunRecorder, type RecordedRun } from '../measure/run-recorder.js';
import type { RunPlan } from '../model/run-result.js';
import type { HttpClientKind } from './http-client.js';
import { planClones } from './clone-planner.js';
import type { RecordingSource } from './recording-source.js';
import type { SecretFills } from './redacted-body.js';
import type { ExtraHeader } from './replay-options.js';
import { prestartSteps, ReplayRunner, type RunnerOutcome, type RunnerProgress } from './replay-runner.js';

/** Everything one thread needs to run its share of a replay (structured-clone safe). */
export interface ShareConfig {
  target: string;
  /** The run's plan, as the CLI built it (the same for every share). */
  plan: RunPlan;
  /** This thread's share inside the shard: 0-based index and count of the workers. */
  worker: { index: number; count: number };
  headers: ExtraHeader[];
  /** `--secret`: values for redacted body fields, by lower-case field name. */
  secrets?: SecretFills;
  startAtMs?: number;
  /** The HTTP client (`chooseHttpClient`); undici when absent. */
  httpClient?: HttpClientKind;
  /** A paired replay's baseline target (`--against`) and its HTTP client: this share runs its clones against both. */
  against?: { target: string; httpClient?: HttpClientKind };
}

/** One worker's cap on requests in flight: its even part of the plan's (at least 1). */
export function shareConcurrency(plan: Pick<RunPlan, 'concurrency'>, workers: number): number {
  return Math.max(1, Math.ceil(plan.concurrency / workers));
}

/** A share's figures: the recorder's segments and totals plus the runner's outcome. */
export interface ShareResult {
  recorded: RecordedRun;
  outcome: RunnerOutcome;
  /** A paired share's figures against its baseline (`ShareConfig.against`; its `outcome.against` is here). */
  against?: { recorded: RecordedRun; outcome: RunnerOutcome };
}

/** A running share: progress while it runs, stop on SIGINT, the result at the end. */
export interface RunningShare {
  progress(): RunnerProgress;
  stop(): void;
  result: Promise<ShareResult>;
}

/** Runs one share (worker `config.worker` of shard `plan.shard`) on this thread. */
export function startShare(source: RecordingSource, config: ShareConfig): RunningShare {
  let runner: ReplayRunner | null = null;
  let stopRequested = false;
  const result = (async (): Promise<ShareResult> => {
    await initHistograms();
    const recorder = new RunRecorder({ windowUs: config.plan.windowUs });
    const againstRecorder = config.against === undefined ? null : new RunRecorder({ windowUs: config.plan.windowUs });
    const { plan } = config;
    const clones = planClones(source.lazy ?? (() => source.read()), {
      ...plan,
      worker: config.worker,
      headers: config.headers,
      ...(config.secrets === undefined ? {} : { secrets: config.secrets }),
    });
    runner = new ReplayRunner({
      target: config.target,
      clones,
      recorder,
      concurrency: shareConcurrency(plan, config.worker.count),
      ...(plan.connections === undefined ? {} : { connections: plan.connections }),
      timeoutUs: plan.timeoutUs,
      durationUs: plan.durationUs,
      // worker threads start at one common time zero, set once all are ready: planning before
      // it would make the slower ones late, so only a single thread plans ahead
      prestartSteps: config.worker.count === 1 ? prestartSteps(source.exchanges, plan) : 0,
      ...(config.startAtMs === undefined ? {} : { startAtMs: config.startAtMs }),
      ...(config.httpClient === undefined ? {} : { httpClient: config.httpClient }),
      ...(config.against === undefined || againstRecorder === null ? {} : { against: { ...config.against, recorder: againstRecorder } }),
    });
    if (stopRequested) runner.stop();
    const { against, ...outcome } = await runner.run();
    const recorded = recorder.close();
    if (againstRecorder === null || against === undefined) return { recorded, outcome };
    return { recorded, outcome, against: { recorded: againstRecorder.close(), outcome: against } };
  })();
  return {
    progress: () =>
      runner?.progress() ?? { elapsedUs: 0, done: 0, errors: 0, inFlight: 0, sessions: 0, recentP99Us: 0 },
    stop: () => {
      stopRequested = true;
      runner?.stop();
    },
    result,
  };
}
