import { describe, expect, it } from 'vitest';
import { mergeRuns } from '../../src/measure/merge.js';
import { InputError } from '../../src/model/errors.js';
import type { ConnectionMode, RunPlan, RunResult } from '../../src/model/run-result.js';
import { makeRun } from '../report/make-run.js';

/** Shard `index`/`count` of one run; `connections` undefined is a run.json from before the field. */
function shard(index: number, count: number, connections?: ConnectionMode, label = `s${index}`): RunResult {
  const run = makeRun({ label, segments: [{ route: 'GET /a', windows: [[1000 * index, 2000, 3000]] }] });
  const { connections: _none, ...plan } = run.plan;
  const p: RunPlan = { ...plan, shard: { index, count }, ...(connections === undefined ? {} : { connections }) };
  return { ...run, plan: p };
}

/** The merge of shards 1/2 and 2/2, labelled `label`. */
function whole(label: string): RunResult {
  return { ...mergeRuns([shard(1, 2, 'shared'), shard(2, 2, 'shared')]), label };
}

describe('mergeRuns refuses parts that are not one run, with one line saying why', () => {
  it.each<[string, RunResult[], RegExp]>([
    [
      'shards that ran with different connection modes',
      [shard(1, 2, 'per-clone'), shard(2, 2, 'shared')],
      /^Failed to merge runs: different connection modes: "s2" \(shard 2\/2\) ran with --connections shared, "s1" \(shard 1\/2\) ran with --connections per-clone$/,
    ],
    [
      'a shard from before run.json recorded the mode, with one that has it',
      [shard(1, 2, 'per-clone'), shard(2, 2)],
      /^Failed to merge runs: different connection modes: "s2" \(shard 2\/2\) has no connection mode \(written before run\.json recorded it\), "s1" \(shard 1\/2\) ran with --connections per-clone$/,
    ],
    [
      'an incomplete set of shards (1/3 and 2/3 without 3/3)',
      [shard(1, 3, 'shared'), shard(2, 3, 'shared')],
      /^Failed to merge runs: shard 3\/3 missing \(given 1\/3, 2\/3\): a merge of some shards is not the run$/,
    ],
    [
      'one shard of four alone with a duplicate of itself',
      [shard(2, 4, 'shared'), shard(2, 4, 'shared')],
      /^Failed to merge runs: shard 2\/4 given twice$/,
    ],
    [
      'two shards of four',
      [shard(4, 4, 'shared'), shard(2, 4, 'shared')],
      /^Failed to merge runs: shards 1\/4, 3\/4 missing \(given 2\/4, 4\/4\)/,
    ],
    [
      'a merge with one of the shards it holds',
      [whole('all'), shard(1, 2, 'shared')],
      /^Failed to merge runs: shard 1\/2 given twice: "s1" and "all" \(a merge of 1\/2, 2\/2\) both hold it$/,
    ],
    [
      'the same merge twice',
      [whole('all'), whole('again')],
      /^Failed to merge runs: shard 1\/2 given twice: "again" \(a merge of 1\/2, 2\/2\) and "all" \(a merge of 1\/2, 2\/2\) both hold it$/,
    ],
    [
      'two unsharded runs (each is the whole run)',
      [shard(1, 1, 'shared', 'a'), shard(1, 1, 'shared', 'b')],
      /^Failed to merge runs: shard 1\/1 given twice: an unsharded run is the whole run, and two of them are not one run/,
    ],
  ])('%s', (_name, parts, message) => {
    let thrown: unknown;
    try {
      mergeRuns(parts);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).exitCode).toBe(2);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain('\n');
  });
});

describe('mergeRuns accepts whole sets of shards', () => {
  it.each<[string, RunResult[], ConnectionMode | undefined]>([
    ['shards with the same connection mode keep it', [shard(1, 2, 'shared'), shard(2, 2, 'shared')], 'shared'],
    ['shards given in any order keep their mode', [shard(3, 3, 'per-clone'), shard(1, 3, 'per-clone'), shard(2, 3, 'per-clone')], 'per-clone'],
    ['shards that all predate the connection mode merge, and the merge leaves it out (unknown)', [shard(1, 2), shard(2, 2)], undefined],
  ])('%s', (_name, parts, mode) => {
    const merged = mergeRuns(parts);
    expect(merged.plan.connections).toBe(mode);
    expect('connections' in merged.plan).toBe(mode !== undefined);
    expect(merged.plan.shard).toEqual({ index: 0, count: parts.length });
    expect(merged.totals.requests).toBe(3 * parts.length);
    expect(merged.mergedFrom).toBe(parts.length);
  });

  it('a merge lists the shards it holds', () => {
    expect(whole('all').mergedShards).toEqual([1, 2]);
    expect(mergeRuns([shard(3, 3, 'shared'), shard(1, 3, 'shared'), shard(2, 3, 'shared')]).mergedShards).toEqual([1, 2, 3]);
  });

  it('a merge written before merges listed their shards (here of 1/3 and 2/3) is not checked, and the result does not list them either', () => {
    const { mergedShards: _none, ...older } = mergeRuns([shard(1, 3, 'shared'), shard(2, 3, 'shared'), shard(3, 3, 'shared')]);
    const merged = mergeRuns([{ ...older, mergedFrom: 2 }, shard(3, 3, 'shared')]);
    expect(merged.mergedFrom).toBe(3);
    expect('mergedShards' in merged).toBe(false);
  });

  it('a plan that lists its fields in another order (a file written by another version) is the same plan', () => {
    const a = shard(1, 2, 'shared');
    const b = shard(2, 2, 'shared');
    const reordered = Object.fromEntries(Object.entries(b.plan).reverse()) as unknown as RunPlan;
    expect(mergeRuns([a, { ...b, plan: reordered }]).totals.requests).toBe(6);
  });
});
