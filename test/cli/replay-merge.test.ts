import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/model/run-result.js';
import { startServer } from '../replay/helpers.js';
import { flashback, tempDir, writeRecording } from './replay-helpers.js';

let dir: string;
let rec: string;
let srv: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  dir = tempDir();
  rec = join(dir, 'rec.db');
  await writeRecording(rec, { sessions: 8, perSession: 2, sessionGapUs: 10_000, gapUs: 2_000 });
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

/** Replays shard `shard` of the recording with `--connections mode`; returns the run.json path. */
async function replayShard(shard: string, mode: string, name: string): Promise<string> {
  const out = join(dir, `${name}.json`);
  const r = await flashback(['replay', rec, '--target', srv.url, '--shard', shard, '--connections', mode, '--jitter', '0',
    '--workers', '1', '--max-send-lag', '10s', '--quiet', '--out', out]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return out;
}

const readRun = (path: string): RunResult => JSON.parse(readFileSync(path, 'utf8')) as RunResult;

describe('replay records --connections in run.json, and report merge refuses shards that differ in it (built CLI)', () => {
  let sharedHalf: string;
  beforeAll(async () => {
    sharedHalf = await replayShard('1/2', 'shared', 'a-shared');
  });

  it('the run.json of a replay says which connection mode it ran with', () => {
    expect(readRun(sharedHalf).plan).toMatchObject({ connections: 'shared', shard: { index: 1, count: 2 } });
  });

  it('shards with different connection modes: exit 2, one line naming both, nothing written', async () => {
    const other = await replayShard('2/2', 'per-clone', 'b-per-clone');
    expect(readRun(other).plan.connections).toBe('per-clone');
    const out = join(dir, 'mixed.json');
    const r = await flashback(['report', 'merge', sharedHalf, other, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'flashback: Failed to merge runs: different connection modes: "b-per-clone" (shard 2/2) ran with --connections per-clone, ' +
        '"a-shared" (shard 1/2) ran with --connections shared\n',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('shards with the same connection mode merge, and the merge keeps the mode', async () => {
    const other = await replayShard('2/2', 'shared', 'b-shared');
    const out = join(dir, 'merged.json');
    const r = await flashback(['report', 'merge', sharedHalf, other, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const merged = readRun(out);
    expect(merged.plan).toMatchObject({ connections: 'shared', shard: { index: 0, count: 2 } });
    expect(merged.totals.requests).toBe(16);
  });

  it('a shard written before run.json recorded the mode does not merge with one that has it: exit 2, one line', async () => {
    const doc = readRun(sharedHalf);
    const { connections: _drop, ...plan } = doc.plan;
    const old = join(dir, 'old-2.json');
    writeFileSync(old, JSON.stringify({ ...doc, label: 'old', plan: { ...plan, shard: { index: 2, count: 2 } } }));
    const r = await flashback(['report', 'merge', sharedHalf, old, '--out', join(dir, 'x.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^flashback: Failed to merge runs: different connection modes: "old" \(shard 2\/2\) has no connection mode \(written before run\.json recorded it\), "a-shared" \(shard 1\/2\) ran with --connections shared\n$/);
  });
});
