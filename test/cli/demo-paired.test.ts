import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRunResult } from '../../src/measure/run-file.js';
import type { RunResult } from '../../src/model/run-result.js';
import { flashback } from './run-cli.js';

// `flashback demo --paired`: one paired replay (tuned --target, naive --against) instead of two,
// its two sides split into baseline.json and candidate.json for the diff. Exit 0, or 3 when the
// machine was too busy for a valid measurement (docs/demo.md), as for the plain demo.
describe('flashback demo --paired (short, small scale)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-demo-paired-'));
  let result: { code: number; stdout: string; stderr: string };
  let pair: RunResult;
  let baseline: RunResult;
  let candidate: RunResult;

  beforeAll(async () => {
    result = await flashback(['demo', '--quick', '--paired', '--duration', '5s', '--scale', '2', '--out', dir]);
    pair = readRunResult(join(dir, 'pair.json'));
    baseline = readRunResult(join(dir, 'baseline.json'));
    candidate = readRunResult(join(dir, 'candidate.json'));
  }, 240_000);

  it('exits 0, or 3 only because the paired replay was not a valid measurement', () => {
    expect([0, 3], result.stderr).toContain(result.code);
    if (result.code === 3) expect(pair.valid).toBe(false);
    else expect([pair.valid, baseline.valid, candidate.valid]).toEqual([true, true, true]);
  });

  it('replays once, paired, in five steps', () => {
    for (let n = 1; n <= 5; n++) expect(result.stdout).toContain(`[${n}/5]`);
    expect(result.stdout).not.toContain('[6/');
    expect(result.stdout).toMatch(/\[4\/5\] Replaying the recording once at 2x, paired/);
    expect(result.stdout).toMatch(/Paired run: every request went to both targets/);
  });

  it('writes pair.json with the naive run nested, and splits it into baseline (naive) and candidate (tuned)', () => {
    expect(pair.against).toBeDefined();
    expect(pair.label).toBe('tuned');
    expect(baseline.label).toBe('naive');
    expect(candidate.label).toBe('tuned');
    expect(baseline.target).toBe(pair.against!.target);
    expect(candidate.target).toBe(pair.target);
    expect(candidate.target).not.toBe(baseline.target);
    expect('against' in candidate).toBe(false);
    // one schedule: the same time zero and the same requests per route
    expect(baseline.startedAt).toBe(candidate.startedAt);
    const perRoute = (r: RunResult) => r.segments.map((s) => [s.key, s.count]);
    expect(perRoute(baseline)).toEqual(perRoute(candidate));
    expect(existsSync(join(dir, 'report.md'))).toBe(true);
    expect(result.stdout).toContain(join(dir, 'pair.json'));
  });
});
