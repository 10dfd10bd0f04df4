import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError, RunError } from '../model/errors.js';
import type { RunnerProgress } from './replay-runner.js';
import type { RunningShare, ShareConfig, ShareResult } from './run-share.js';

/** Messages a replay worker posts. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; progress: RunnerProgress }
  | { type: 'done'; result: ShareResult }
  | { type: 'error'; message: string; exitCode: number };

/** Data a replay worker starts with. */
export interface WorkerInput {
  recordingPath: string;
  config: ShareConfig;
}

/**
 * Path of the compiled worker. Node 20 cannot load TypeScript in a worker,
 * so when this module runs from `src/` (tests) the built `dist/` copy is used.
 */
export function workerScriptPath(): string {
  const here = fileURLToPath(import.meta.url);
  const js = here.endsWith('.ts') ? here.replace(/([\\/])src([\\/])replay([\\/])worker-share\.ts$/, '$1dist$2replay$3replay-worker.js') : here.replace(/worker-share\.js$/, 'replay-worker.js');
  if (!existsSync(js)) throw new RunError(`Failed to start replay workers: ${js} is missing`, { hint: 'run `npm run build` first' });
  return js;
}

const EMPTY: RunnerProgress = { elapsedUs: 0, done: 0, errors: 0, inFlight: 0, sessions: 0, recentP99Us: 0 };

/** A worker share that starts when told to (so all workers share one time zero). */
export interface WorkerShare extends RunningShare {
  /** Resolves when the worker has opened the recording and waits for {@link start}. */
  ready: Promise<void>;
  /** Starts the share at wall-clock `atMs` (or now). */
  start(atMs: number | undefined): void;
}

/** Runs one share of the replay on a worker thread (it opens the recording itself). */
export function startWorkerShare(recordingPath: string, config: ShareConfig): WorkerShare {
  const input: WorkerInput = { recordingPath, config };
  const worker = new Worker(workerScriptPath(), { workerData: input });
  let last = EMPTY;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  const result = new Promise<ShareResult>((resolve, reject) => {
    let settled = false;
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') markReady();
      else if (m.type === 'progress') last = m.progress;
      else if (m.type === 'done') {
        settled = true;
        resolve(m.result);
      } else {
        settled = true;
        // exit 2 in the worker (a damaged recording found while reading it) is exit 2 here too
        reject(m.exitCode === 2 ? new InputError(m.message) : new RunError(m.message));
      }
    });
    worker.on('error', (e) => {
      settled = true;
      reject(new RunError(`Failed to run replay worker: ${e.message}`, { cause: e }));
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new RunError(`Failed to run replay worker: it exited with status ${code}`));
    });
  });
  // a worker that fails before it is ready must not leave the others waiting
  result.catch(() => markReady());
  return {
    ready,
    start: (atMs) => worker.postMessage({ type: 'start', atMs }),
    progress: () => last,
    stop: () => worker.postMessage({ type: 'stop' }),
    result,
  };
}
