import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStorefront, runShoppers, type RunningStorefront } from '../../src/storefront/index.js';
import { RecordingReader } from '../../src/store/recording-reader.js';
import type { RunResult } from '../../src/model/run-result.js';
import { BIN, flashback } from '../cli/run-cli.js';

// Issue 6 must-show: an imported recording replays against the storefront with
// the same requests. Shoppers are recorded through the real recorder, the
// recording leaves as a HAR (`export har`) and comes back (`import har`), and
// the imported recording is replayed at scale 1 against a fresh storefront:
// the replay's per-route counts equal the source recording's.

const PROVIDER = { medianMs: 20, slowShare: 0, baseErrorRate: 0 };


/** Starts `flashback record` and resolves with its listening origin once it prints it. */
function startRecorder(target: string, out: string): Promise<{ child: ChildProcess; url: string; exited: Promise<number> }> {
  const child = spawn(process.execPath, [BIN, 'record', '--target', target, '--listen', '127.0.0.1:0', '--out', out], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
  return new Promise((done, fail) => {
    let text = '';
    const onData = (c: Buffer) => {
      text += c.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (m) done({ child, url: m[1]!, exited });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => fail(new Error(`record exited ${code} before listening: ${text}`)));
  });
}

function countByRoute(routes: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of routes) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

function recordingRouteCounts(path: string): Record<string, number> {
  const reader = RecordingReader.open(path);
  try {
    return countByRoute((function* () {
      for (const ex of reader.exchanges()) yield ex.route;
    })());
  } finally {
    reader.close();
  }
}

describe('an imported recording replays against the storefront', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-replay-imported-'));
  const stores: RunningStorefront[] = [];
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
  });

  it('sends the same requests per route as the source recording (record -> export har -> import har -> replay)', async () => {
    const source = await startStorefront({ port: 0, profile: 'tuned', seed: 5, paymentProvider: PROVIDER });
    stores.push(source);
    const recording = join(dir, 'source.db');
    const recorder = await startRecorder(source.url, recording);
    const shop = await runShoppers({
      target: recorder.url, shoppersPerSecond: 4, durationMs: 3_000, seed: 5, checkoutShare: 0.6, thinkMs: 100,
    });
    expect(shop.requests).toBeGreaterThan(20);
    recorder.child.kill('SIGINT');
    expect(await recorder.exited).toBe(0);

    const har = join(dir, 'source.har');
    const exported = await flashback(['export', 'har', recording, '--out', har]);
    expect(exported.code, exported.stderr).toBe(0);
    const imported = join(dir, 'imported.db');
    const importRun = await flashback(['import', 'har', har, '--out', imported]);
    expect(importRun.code, importRun.stderr).toBe(0);

    const sourceCounts = recordingRouteCounts(recording);
    expect(recordingRouteCounts(imported)).toEqual(sourceCounts);
    expect(Object.keys(sourceCounts)).toEqual(expect.arrayContaining(['GET /products/:id', 'POST /cart']));

    const target = await startStorefront({ port: 0, profile: 'tuned', seed: 5, paymentProvider: PROVIDER });
    stores.push(target);
    const runFile = join(dir, 'run.json');
    // Counts, not timing, are under test: a busy machine must not make the run "invalid".
    const replay = await flashback([
      'replay', imported, '--target', target.url, '--scale', '1', '--jitter', '0s', '--out', runFile,
      '--max-send-lag', '60s', '--quiet',
    ]);
    expect(replay.code, replay.stderr).toBe(0);
    const run = JSON.parse(readFileSync(runFile, 'utf8')) as RunResult;
    const replayed: Record<string, number> = {};
    for (const s of run.segments) replayed[s.route] = (replayed[s.route] ?? 0) + s.count;
    expect(replayed).toEqual(sourceCounts);
    expect(run.totals.unsent).toBe(0);
    expect(run.totals.errors).toBe(0);
  }, 120_000);
});
