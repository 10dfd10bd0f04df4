import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from './helpers.js';
import { flashback, tempDir, writeRecording } from '../cli/replay-helpers.js';
import { openRecordingSource } from '../../src/replay/open-recording.js';
import { startReplay } from '../../src/replay/replay.js';
import { planOf } from './helpers.js';
import { readRunResult } from '../../src/measure/run-file.js';
import type { RunResult } from '../../src/model/run-result.js';

let dir: string;
let rec: string;
let srv: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  dir = tempDir();
  rec = join(dir, 'w.db');
  await writeRecording(rec, { sessions: 24, perSession: 2, sessionGapUs: 5_000, gapUs: 2_000 });
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

async function run(workers: number): Promise<RunResult> {
  const source = openRecordingSource(rec);
  try {
    return await startReplay({
      source, target: srv.url, plan: planOf({ scale: 3, jitterUs: 30_000, concurrency: 64, workers }), headers: [],
      label: `w${workers}`, toolVersion: 't', nodeVersion: 'v-test', maxSendLagUs: 10_000_000,
    }).result;
  } finally {
    source.close();
  }
}

describe('worker threads (run from dist/: build first)', () => {
  it('two workers send exactly what one thread sends, and their histograms merge into one result', async () => {
    const one = await run(1);
    const oneHits = srv.hits.map((h) => h.url).sort();
    srv.hits.length = 0;
    const two = await run(2);
    expect(srv.hits.map((h) => h.url).sort()).toEqual(oneHits);
    expect(two.plan.workers).toBe(2);
    expect(two.host.node).toBe('v-test');
    expect(two.totals.requests).toBe(one.totals.requests);
    expect(two.totals.sessions).toBe(one.totals.sessions);
    expect(two.segments.map((s) => [s.key, s.count])).toEqual(one.segments.map((s) => [s.key, s.count]));
    expect(two.segments[0]!.windows.reduce((a, w) => a + w.count, 0)).toBe(two.segments[0]!.count);
  });

  it('the CLI with --workers 2 writes one merged run.json', async () => {
    const out = join(dir, 'w2.json');
    const r = await flashback(['replay', rec, '--target', srv.url, '--workers', '2', '--scale', '2', '--out', out, '--quiet', '--max-send-lag', '10s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readRunResult(out).totals.requests).toBe(24 * 2 * 2);
    expect(readRunResult(out).host.node).toMatch(/^v\d+\./);
  });
});
