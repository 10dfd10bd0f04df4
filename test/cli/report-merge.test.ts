import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunPlan, RunResult } from '../../src/model/run-result.js';
import { makeRun } from '../report/make-run.js';
import { flashback } from './run-cli.js';

/**
 * `report merge` refusals through the built CLI: exit 2, one line on stderr,
 * no stack trace, no output file. (Also covered elsewhere at this level: an
 * incomplete set and a shard given twice in report.test.ts, different
 * connection modes in replay-merge.test.ts.)
 */

const dir = mkdtempSync(join(tmpdir(), 'flashback-merge-cli-'));

/** Writes shard `index`/`count` of one run (plan changes in `plan`); returns its path. */
function writeShard(name: string, index: number, count: number, plan: Partial<RunPlan> = {}): string {
  const run = makeRun({ label: name, segments: [{ route: 'GET /a', windows: [[1000 * index, 2000, 3000]] }] });
  const doc: RunResult = { ...run, plan: { ...run.plan, connections: 'per-clone', ...plan, shard: { index, count } } };
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

async function expectRefusal(paths: string[], message: string): Promise<void> {
  const out = join(dir, `refused-${Math.random().toString(36).slice(2)}.json`);
  const r = await flashback(['report', 'merge', ...paths, '--out', out]);
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(`flashback: Failed to merge runs: ${message}\n`);
  expect(r.stdout).toBe('');
  expect(existsSync(out)).toBe(false);
}

describe('flashback report merge (built CLI)', () => {
  it('refuses shards with different plans, naming the first differing field', async () => {
    await expectRefusal([writeShard('p1', 1, 2), writeShard('p2', 2, 2, { scale: 2 })], '"p2" has a different plan than "p1": scale (1 vs 2)');
  });

  it('refuses a merge beside a shard it already holds', async () => {
    const all = join(dir, 'all.json');
    const r = await flashback(['report', 'merge', writeShard('h1', 1, 2), writeShard('h2', 2, 2), '--out', all]);
    expect(r.code).toBe(0);
    expect((JSON.parse(readFileSync(all, 'utf8')) as RunResult).mergedShards).toEqual([1, 2]);
    await expectRefusal([all, join(dir, 'h2.json')], 'shard 2/2 given twice: "h2" and "h1" (a merge of 1/2, 2/2) both hold it');
  });

  it('refuses two unsharded runs (each is the whole run, so together they are not one run)', async () => {
    await expectRefusal(
      [writeShard('u1', 1, 1), writeShard('u2', 1, 1)],
      'shard 1/1 given twice: an unsharded run is the whole run, and two of them are not one run (replay --shard i/N makes its parts)',
    );
  });

  it('merges a whole set of shards given in any order', async () => {
    const out = join(dir, 'thirds.json');
    const r = await flashback(['report', 'merge', writeShard('t3', 3, 3), writeShard('t1', 1, 3), writeShard('t2', 2, 3), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`merged 3 runs (9 requests, 1 segments) into ${out}\n`);
    const merged = JSON.parse(readFileSync(out, 'utf8')) as RunResult;
    expect(merged).toMatchObject({ mergedFrom: 3, mergedShards: [1, 2, 3], plan: { shard: { index: 0, count: 3 }, connections: 'per-clone' } });
  });
});
