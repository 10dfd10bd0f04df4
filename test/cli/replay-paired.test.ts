import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRunResult } from '../../src/measure/run-file.js';
import type { RunResult } from '../../src/model/run-result.js';
import { startServer } from '../replay/helpers.js';
import { flashback, tempDir, writeRecording } from './replay-helpers.js';

const DELAY_MS = 30;
let dir: string;
let rec: string;
let fast: Awaited<ReturnType<typeof startServer>>;
let slow: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  dir = tempDir();
  rec = join(dir, 'rec.db');
  await writeRecording(rec, { sessions: 10, perSession: 3, sessionGapUs: 20_000, gapUs: 5_000 });
  fast = await startServer();
  slow = await startServer((_req, res) => {
    setTimeout(() => res.end('ok'), DELAY_MS);
  });
});
afterAll(async () => {
  await fast.close();
  await slow.close();
});

const routeCounts = (r: RunResult): Record<string, number> => {
  const m: Record<string, number> = {};
  for (const s of r.segments) m[s.route] = (m[s.route] ?? 0) + s.count;
  return m;
};

describe('flashback replay --against (paired)', () => {
  it('sends every request to both targets and writes one run.json holding both runs', async () => {
    const out = join(dir, 'pair.json');
    const r = await flashback(['replay', rec, '--target', fast.url, '--against', slow.url, '--scale', '2', '--workers', '1', '--out', out, '--max-send-lag', '10s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const run = readRunResult(out);
    const base = run.against!;
    expect(run.target).toBe(fast.url);
    expect(base.target).toBe(slow.url);
    expect(base.against).toBeUndefined();
    expect(run.label).toBe('pair');
    expect(base.label).toBe('pair (against)');
    expect(run.totals.requests).toBe(60);
    expect(base.totals.requests).toBe(60);
    expect(routeCounts(base)).toEqual(routeCounts(run));
    expect(base.startedAt).toBe(run.startedAt);
    expect(base.plan).toEqual(run.plan);
    // both sides count windows from the same time zero: their first requests fall in the same window
    const first = (r: typeof run): number => Math.min(...r.segments.flatMap((s) => s.windows.map((w) => w.t)));
    expect(first(base)).toBe(first(run));
    // the slower server's latencies are the baseline's
    expect(Math.min(...base.segments.map((s) => s.p50))).toBeGreaterThanOrEqual(DELAY_MS * 1000);
    expect(Math.max(...run.segments.map((s) => s.p50))).toBeLessThan(DELAY_MS * 1000);
    expect(r.stdout).toMatch(/^Paired run: every request went to both targets/m);
    expect(r.stdout).toContain(`candidate (--target)  ${fast.url}`);
    expect(r.stdout).toContain(`baseline  (--against) ${slow.url}`);
  });

  it('--json carries the baseline side: target, validity, totals, overall', async () => {
    const out = join(dir, 'pair-json.json');
    const r = await flashback(['replay', rec, '--target', fast.url, '--against', slow.url, '--workers', '1', '--out', out, '--json', '--max-send-lag', '10s']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { totals: { requests: number }; against: { target: string; valid: boolean; totals: { requests: number }; overall: { percentiles: { p50: { us: number } } } } };
    expect(doc.totals.requests).toBe(30);
    expect(doc.against.target).toBe(slow.url);
    expect(doc.against.valid).toBe(true);
    expect(doc.against.totals.requests).toBe(30);
    expect(doc.against.overall.percentiles.p50.us).toBeGreaterThanOrEqual(DELAY_MS * 1000);
  });

  it('--against the same origin as --target is an A/A paired run', async () => {
    const out = join(dir, 'aa.json');
    const before = fast.hits.length;
    const r = await flashback(['replay', rec, '--target', fast.url, '--against', fast.url, '--workers', '1', '--out', out, '--quiet', '--max-send-lag', '10s']);
    expect(r.code).toBe(0);
    expect(fast.hits.length - before).toBe(60);
    expect(readRunResult(out).against!.totals.requests).toBe(30);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not a URL', 'staging', /--against must be an http\(s\) origin like http:\/\/staging:3000 \(got "staging"\)/],
    ['another scheme', 'ftp://x:21', /--against must be an http\(s\) origin/],
    ['a path', 'http://127.0.0.1:1/api', /--against must be an origin without a path or query/],
    ['an empty value', '', /--against must be an http\(s\) origin/],
  ];
  for (const [name, value, message] of bad) {
    it(`refuses an --against that is ${name}: exit 2, one line, nothing sent`, async () => {
      const out = join(dir, 'bad-against.json');
      const before = fast.hits.length;
      const r = await flashback(['replay', rec, '--target', fast.url, '--against', value, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(fast.hits.length).toBe(before);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('an --against that is down: exit 3 before anything is sent', async () => {
    const down = await startServer();
    const url = down.url;
    await down.close();
    const before = fast.hits.length;
    const r = await flashback(['replay', rec, '--target', fast.url, '--against', url, '--out', join(dir, 'down.json')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`Failed to reach target ${url}`);
    expect(fast.hits.length).toBe(before);
  });
});
