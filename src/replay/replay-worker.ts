/**
 * Entry of a replay worker thread: opens the recording, runs its share of
 * the clones, posts progress twice a second and the share's figures at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FlashbackError, messageOf } from '../model/errors.js';
import { openRecordingSource } from './open-recording.js';
import { startShare } from './run-share.js';
import type { WorkerInput, WorkerMessage } from './worker-share.js';

const port = parentPort!;
const input = workerData as WorkerInput;

function post(m: WorkerMessage): void {
  port.postMessage(m);
}

let started = false;
let stopEarly = false;
try {
  const source = openRecordingSource(input.recordingPath, { digest: false });
  // Ready: the main thread answers with one time zero for every worker.
  post({ type: 'ready' });
  port.on('message', (m: { type: string; atMs?: number }) => {
    if (m.type === 'stop') stopEarly = true;
    if (m.type === 'start' && !started) {
      started = true;
      run(source, m.atMs);
    }
  });
} catch (e) {
  post({ type: 'error', message: messageOf(e), exitCode: e instanceof FlashbackError ? e.exitCode : 3 });
  port.close();
}

function run(source: ReturnType<typeof openRecordingSource>, atMs: number | undefined): void {
  const share = startShare(source, { ...input.config, ...(atMs === undefined ? {} : { startAtMs: atMs }) });
  if (stopEarly) share.stop();
  const timer = setInterval(() => post({ type: 'progress', progress: share.progress() }), 500);
  port.on('message', (m: { type: string }) => {
    if (m.type === 'stop') share.stop();
  });
  share.result.then(
    (result) => {
      clearInterval(timer);
      source.close();
      post({ type: 'progress', progress: share.progress() });
      post({ type: 'done', result });
      port.close();
    },
    (e: unknown) => {
      clearInterval(timer);
      source.close();
      post({ type: 'error', message: messageOf(e), exitCode: e instanceof FlashbackError ? e.exitCode : 3 });
      port.close();
    },
  );
}
