import { initHistograms } from '../measure/histogram.js';
import { RunRecorder, type RecordedRun } from '../measure/run-recorder.js';
import { planClones } from './clone-planner.js';
import type { ConnectionMode } from './connections.js';
import type { RecordingSource } from './recording-source.js';
import type { SecretFills } from './redacted-body.js';
import type { ExtraHeader, PlanOptions } from './replay-options.js';
import { ReplayRunner, type RunnerOutcome, type RunnerProgress } from './replay-runner.js';

/** Everything one thread needs to run its share of a replay (structured-clone safe). */
export interface ShareConfig {
  target: string;
  plan: PlanOptions;
  headers: ExtraHeader[];
  /** `--secret`: values for redacted body fields, by lower-case field name. */
  secrets?: SecretFills;
  concurrency: number;
  /** Each clone its own connections (default), or one shared pool. */
  connections?: ConnectionMode;
  timeoutUs: number;
  windowUs: number;
  startAtMs?: number;
}

/** A share's figures: the recorder's segments and totals plus the runner's outcome. */
export interface ShareResult {
  recorded: RecordedRun;
  outcome: RunnerOutcome;
}

/** A running share: progress while it runs, stop on SIGINT, the result at the end. */
export interface RunningShare {
  progress(): RunnerProgress;
  stop(): void;
  result: Promise<ShareResult>;
}

/** Runs one share (worker `plan.worker` of shard `plan.shard`) on this thread. */
export function startShare(source: RecordingSource, config: ShareConfig): RunningShare {
  let runner: ReplayRunner | null = null;
  let stopRequested = false;
  const result = (async (): Promise<ShareResult> => {
    await initHistograms();
    const recorder = new RunRecorder({ windowUs: config.windowUs });
    const clones = planClones(source.lazy ?? (() => source.read()), {
      ...config.plan,
      headers: config.headers,
      ...(config.secrets === undefined ? {} : { secrets: config.secrets }),
    });
    runner = new ReplayRunner({
      target: config.target,
      clones,
      recorder,
      concurrency: config.concurrency,
      ...(config.connections === undefined ? {} : { connections: config.connections }),
      timeoutUs: config.timeoutUs,
      durationUs: config.plan.durationUs,
      ...(config.startAtMs === undefined ? {} : { startAtMs: config.startAtMs }),
    });
    if (stopRequested) runner.stop();
    const outcome = await runner.run();
    return { recorded: recorder.close(), outcome };
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
