import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../replay/helpers.js';
import { RecordingWriter } from '../../src/store/recording-writer.js';
import { flashback, tempDir, writeRecording } from './replay-helpers.js';
import type { RunResult } from '../../src/model/run-result.js';

let dir: string;
let rec: string;
let srv: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  dir = tempDir();
  rec = join(dir, 'rec.db');
  await writeRecording(rec, { sessions: 10, perSession: 3, sessionGapUs: 20_000, gapUs: 5_000 });
  srv = await startServer((req, res) => {
    res.statusCode = 200;
    res.end('hello');
  });
});
afterAll(async () => {
  await srv.close();
});

describe('flashback replay (bad input: one line, exit 2)', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['a missing --target', [], /--target is required/],
    ['a --target that is not a URL', ['--target', 'staging'], /--target must be an http\(s\) origin/],
    ['a --target with another scheme', ['--target', 'ftp://x:21'], /--target must be an http\(s\) origin/],
    ['--scale 0', ['--scale', '0'], /--scale must be a positive number \(got "0"\)/],
    ['--scale -1', ['--scale', '-1'], /--scale must be a positive number \(got "-1"\)/],
    ['--scale ten', ['--scale', 'ten'], /--scale must be a positive number \(got "ten"\)/],
    ['--shard 4/3', ['--shard', '4/3'], /--shard must be i\/N with 1 <= i <= N/],
    ['--speed 0', ['--speed', '0'], /--speed must be a positive number/],
    ['--connections pooled', ['--connections', 'pooled'], /--connections must be per-clone or shared \(got "pooled"\)/],
    ['--header without a colon', ['--header', 'Authorization'], /--header must look like 'Name: value'/],
    ['--header with an unset variable', ['--header', 'Authorization: Bearer $FB_TEST_UNSET_TOKEN'], /\$FB_TEST_UNSET_TOKEN is not set/],
  ];
  for (const [name, args, message] of cases) {
    it(`refuses ${name}`, async () => {
      const target = args.includes('--target') || name.includes('missing') ? [] : ['--target', srv.url];
      const r = await flashback(['replay', rec, ...target, ...args, '--out', join(dir, 'bad.json')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('refuses a recording with no exchanges', async () => {
    const empty = join(dir, 'empty.db');
    const w = await RecordingWriter.create(empty, { source: 'generated', upstream: null, toolVersion: 'test', redacted: false });
    await w.close();
    const r = await flashback(['replay', empty, '--target', srv.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no exchanges/);
  });

  it('refuses a corrupt recording', async () => {
    const bad = join(dir, 'corrupt.db');
    writeFileSync(bad, Buffer.alloc(4096, 7));
    const r = await flashback(['replay', bad, '--target', srv.url]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/corrupt\.db/);
  });
});

describe('flashback replay (runs)', () => {
  it('replays at scale 2 and writes a self-describing run.json', async () => {
    const out = join(dir, 'run.json');
    const r = await flashback(['replay', rec, '--target', srv.url, '--scale', '2', '--jitter', '50ms', '--out', out, '--label', 'base', '--max-send-lag', '10s', '--workers', '1']);
    expect(r.stderr).not.toMatch(/warning|error|flashback:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Replayed 60 requests in 20 sessions/);
    const run = JSON.parse(readFileSync(out, 'utf8')) as RunResult;
    expect(run).toMatchObject({ format: 'flashback.run', version: 1, label: 'base', target: srv.url, valid: true });
    expect(run.recording.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(run.plan).toMatchObject({ scale: 2, jitterUs: 50_000, shard: { index: 1, count: 1 }, workers: 1 });
    expect(run.totals).toMatchObject({ requests: 60, errors: 0, sessions: 20, unsent: 0 });
    expect(run.segments.map((s) => [s.route, s.cohort, s.count])).toEqual([
      ['GET /item/:id', { device: 'desktop' }, 30],
      ['GET /item/:id', { device: 'mobile' }, 30],
    ]);
    for (const s of run.segments) {
      expect(s.p50).toBeGreaterThan(0);
      expect(s.p99).toBeGreaterThanOrEqual(s.p95);
      expect(s.histograms.response.length).toBeGreaterThan(10);
    }
  });

  it('prints the summary as JSON with --json', async () => {
    const r = await flashback(['replay', rec, '--target', srv.url, '--json', '--out', join(dir, 'j.json'), '--max-send-lag', '10s', '--workers', '1']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { valid: boolean; totals: { requests: number }; routes: Array<{ route: string }> };
    expect(doc.totals.requests).toBe(30);
    expect(doc.routes.map((x) => x.route)).toEqual(['GET /item/:id']);
  });

  it('a target that is down: exit 3 at once', async () => {
    const down = await startServer();
    const url = down.url;
    await down.close();
    const r = await flashback(['replay', rec, '--target', url, '--quiet']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/Failed to reach target .*ECONNREFUSED/);
  });

  it('a deliberately saturated generator (--concurrency 1, high rate, slow target) is not a valid measurement: exit 3', async () => {
    const slow = await startServer((_req, res) => setTimeout(() => res.end('slow'), 20));
    const fast = join(dir, 'fast.db');
    await writeRecording(fast, { sessions: 60, perSession: 1, sessionGapUs: 2_000, gapUs: 0 });
    const out = join(dir, 'saturated.json');
    const r = await flashback(['replay', fast, '--target', slow.url, '--concurrency', '1', '--jitter', '0', '--out', out, '--quiet', '--workers', '1']);
    await slow.close();
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not a valid measurement: send lag p99 .* exceeds/);
    const run = JSON.parse(readFileSync(out, 'utf8')) as RunResult;
    expect(run.valid).toBe(false);
    expect(run.totals.requests).toBe(60);
    // queueing behind the cap counts in response time: the last requests waited for ~59 × 20 ms
    expect(run.segments[0]!.max).toBeGreaterThan(59 * 20_000 - 60 * 2_000);
  });

  it('SIGINT stops sending, writes the result marked interrupted, exit 3', async () => {
    const long = join(dir, 'long.db');
    await writeRecording(long, { sessions: 200, perSession: 1, sessionGapUs: 100_000, gapUs: 0 });
    const out = join(dir, 'interrupted.json');
    const child = spawn(process.execPath, [resolve(import.meta.dirname, '../../bin/flashback.js'), 'replay', long, '--target', srv.url, '--out', out, '--quiet', '--workers', '1', '--jitter', '0']);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await new Promise((r) => setTimeout(r, 2500));
    child.kill('SIGINT');
    const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)));
    expect(code).toBe(3);
    expect(stderr).toMatch(/interrupted/);
    const run = JSON.parse(readFileSync(out, 'utf8')) as RunResult;
    expect(run.valid).toBe(false);
    expect(run.totals.requests).toBeGreaterThan(0);
    expect(run.totals.requests).toBeLessThan(200);
  });
});
