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

const common = ['--jitter', '0', '--workers', '1', '--max-send-lag', '10s', '--quiet'];

describe('shards from the environment, started together, merged (built CLI)', () => {
  it('--shard auto with JOB_COMPLETION_INDEX=2 and a count of 3 runs shard 3/3', async () => {
    const out = join(dir, 'k8s-2.json');
    const r = await flashback(['replay', rec, '--target', srv.url, '--shard', 'auto', ...common, '--out', out], { JOB_COMPLETION_INDEX: '2', FLASHBACK_SHARD_COUNT: '3' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readRun(out).plan.shard).toEqual({ index: 3, count: 3 });
  });

  it('--shard auto with no index in the environment: exit 2, one line naming the variables, nothing written', async () => {
    const out = join(dir, 'none.json');
    const r = await flashback(['replay', rec, '--target', srv.url, '--shard', 'auto', ...common, '--out', out], { JOB_COMPLETION_INDEX: '', FLASHBACK_SHARD_INDEX: '' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/JOB_COMPLETION_INDEX.*FLASHBACK_SHARD_INDEX.*FLASHBACK_SHARD_COUNT/);
    expect(existsSync(out)).toBe(false);
  });

  it('three shards given one epoch plus a delay record their start skew; the merge keeps each, names one that started late, and equals one run', async () => {
    const epoch = new Date(Date.now() - 5_000).toISOString();
    const startAt = `${epoch}+6500ms`;
    const files = await Promise.all(
      [1, 2, 3].map(async (i) => {
        const out = join(dir, `s${i}.json`);
        const r = await flashback(['replay', rec, '--target', srv.url, '--shard', 'auto', '--start-at', startAt, ...common, '--label', `s${i}`, '--out', out], {
          FLASHBACK_SHARD_INDEX: String(i),
          FLASHBACK_SHARD_COUNT: '3',
        });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        return out;
      }),
    );
    const intended = new Date(Date.parse(epoch) + 6_500).toISOString();
    for (const f of files) {
      const start = readRun(f).start!;
      expect(start.intended).toBe(intended);
      expect(start.limitUs).toBe(10_000_000);
      // Sent after the intended time, never before it (the timer may fire a little late).
      expect(start.skewUs).toBeGreaterThanOrEqual(-1_000);
    }
    const whole = join(dir, 'whole.json');
    expect((await flashback(['replay', rec, '--target', srv.url, ...common, '--out', whole])).code).toBe(0);

    const merged = join(dir, 'merged.json');
    const ok = await flashback(['report', 'merge', ...files, '--out', merged]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const m = readRun(merged);
    expect(m.start!.shards!.map((s) => s.shard)).toEqual([1, 2, 3]);
    expect(m.totals.requests).toBe(readRun(whole).totals.requests);
    const bySegment = (r: RunResult): Record<string, number> => Object.fromEntries(r.segments.map((s) => [s.key, s.count]));
    expect(bySegment(m)).toEqual(bySegment(readRun(whole)));

    // Shard 2 as if its pod had started 2 s late: the merge still merges, and names it.
    const late = readRun(files[1]!);
    writeFileSync(files[1]!, JSON.stringify({ ...late, start: { ...late.start!, skewUs: 2_000_000, limitUs: 10_000 } }));
    const named = await flashback(['report', 'merge', ...files, '--out', join(dir, 'merged-late.json')]);
    expect(named.code).toBe(0);
    expect(named.stderr).toMatch(/^flashback: warning: shard 2\/3 \("s2"\) started 2\.00s late against --start-at .* \(more than its 10\.0ms send-lag limit\)/);
    expect(named.stderr.trim().split('\n')).toHaveLength(1);
  });
});
