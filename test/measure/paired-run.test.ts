import { describe, expect, it } from 'vitest';
import { pairRuns, splitPairedRun } from '../../src/measure/paired-run.js';
import type { RunResult } from '../../src/model/run-result.js';

/** A run with only what pairing reads filled in meaningfully. */
function run(label: string, target: string, reasons: string[]): RunResult {
  return {
    format: 'flashback.run', version: 1, label, tool: { name: 'flashback', version: 't' },
    recording: { path: 'r.db', digest: 'd', exchanges: 1, sessions: 1 }, target,
    plan: { scale: 1, speed: 1, durationUs: null, rampUs: 0, jitterUs: 0, seed: 1, methods: null, routes: null, concurrency: 1, timeoutUs: 1, workers: 1, shard: { index: 1, count: 1 }, windowUs: 1, plannedUs: 1 },
    startedAt: '2026-01-01T00:00:00.000Z', durationUs: 1, host: { hostname: 'h', platform: 'p', arch: 'a', cpus: 1, node: 'v' },
    valid: reasons.length === 0, invalidReasons: reasons,
    totals: { requests: 1, errors: 0, serverErrors: 0, mismatches: 0, bytes: 0, sessions: 1, unsent: 0, droppedRedactedHeaders: 0, sendLagP99Us: 0 },
    segments: [],
  };
}

describe('paired runs', () => {
  it('a pair is valid only when both runs are, and says which side a reason is from', () => {
    const cand = run('c', 'http://a', ['send lag p99 20ms exceeds 10ms']);
    const base = run('c (against)', 'http://b', ['3 requests were due but never sent']);
    const p = pairRuns(cand, base);
    expect(p.valid).toBe(false);
    expect(p.invalidReasons).toEqual(['send lag p99 20ms exceeds 10ms', 'against: 3 requests were due but never sent']);
    expect(p.against).toBe(base);
    expect(pairRuns(run('c', 'http://a', []), base).valid).toBe(false);
    expect(pairRuns(run('c', 'http://a', []), run('b', 'http://b', [])).valid).toBe(true);
  });

  it('splits back into two plain runs, the candidate with its own verdict', () => {
    const p = pairRuns(run('c', 'http://a', []), run('c (against)', 'http://b', ['interrupted']));
    const { baseline, candidate } = splitPairedRun(p);
    expect(baseline.target).toBe('http://b');
    expect(baseline.valid).toBe(false);
    expect(candidate.target).toBe('http://a');
    expect(candidate.valid).toBe(true);
    expect(candidate.invalidReasons).toEqual([]);
    expect('against' in candidate).toBe(false);
    expect(() => splitPairedRun(candidate)).toThrow(/not a paired run/);
  });
});
