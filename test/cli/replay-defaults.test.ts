import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../replay/helpers.js';
import { flashback, tempDir, writeRecording } from './replay-helpers.js';
import type { RunResult } from '../../src/model/run-result.js';

let dir: string;
let srv: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  dir = tempDir();
  srv = await startServer((_req, res) => res.end('ok'));
});
afterAll(async () => {
  await srv.close();
});

describe('flashback replay default --concurrency', () => {
  it('is sized from the recording: 10 overlapping sessions at scale 3 → 10 × 3 × 6 × 2 = 360; a flag wins', async () => {
    const rec = join(dir, 'overlap.db');
    // ten sessions 1 ms apart, each 11 ms long: all ten are open at 9–11 ms
    await writeRecording(rec, { sessions: 10, perSession: 3, sessionGapUs: 1_000, gapUs: 5_000 });
    const common = ['replay', rec, '--target', srv.url, '--scale', '3', '--jitter', '10ms', '--max-send-lag', '10s', '--workers', '1', '--quiet'];
    const a = await flashback([...common, '--out', join(dir, 'a.json')]);
    expect(a.code).toBe(0);
    const runA = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as RunResult;
    expect(runA.plan.concurrency).toBe(360);
    expect(runA.totals.requests).toBe(90);
    const b = await flashback([...common, '--concurrency', '7', '--out', join(dir, 'b.json')]);
    expect(b.code).toBe(0);
    expect((JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')) as RunResult).plan.concurrency).toBe(7);
  });
});
