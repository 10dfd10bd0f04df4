import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { numberedRun, seriesVerdict } from '../../src/cli/commands/replay-repeat.js';
import { readRunResult } from '../../src/measure/run-file.js';
import { GateError, RunError } from '../../src/model/errors.js';
import { startServer } from '../replay/helpers.js';
import { flashback, tempDir, writeRecording } from './replay-helpers.js';
import { BIN } from './run-cli.js';

let dir: string;
let rec: string;
let srv: Awaited<ReturnType<typeof startServer>>;
let broken: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  dir = tempDir();
  rec = join(dir, 'rec.db');
  await writeRecording(rec, { sessions: 6, perSession: 2, sessionGapUs: 20_000, gapUs: 5_000 });
  srv = await startServer();
  // accepts connections, then drops every request: every request fails, so every run is invalid
  broken = await startServer((req) => req.socket.destroy());
});
afterAll(async () => {
  await srv.close();
  await broken.close();
});

describe('numbered runs of replay --repeat', () => {
  it('numbers the out file before .json and the label after a dot; one run keeps its names', () => {
    expect(numberedRun('base.json', 'base', 2, 3)).toEqual({ out: 'base.2.json', label: 'base.2' });
    expect(numberedRun('out/run', 'nightly', 1, 2)).toEqual({ out: 'out/run.1', label: 'nightly.1' });
    expect(numberedRun('base.json', 'base', 1, 1)).toEqual({ out: 'base.json', label: 'base' });
  });

  it('zero-pads from ten runs on, so the files sort in run order as a shell glob does', () => {
    const files = Array.from({ length: 12 }, (_, i) => numberedRun('base.json', 'base', i + 1, 12).out);
    expect(files[0]).toBe('base.01.json');
    expect(files[11]).toBe('base.12.json');
    expect([...files].sort()).toEqual(files);
  });

  it('a series ends with its worst verdict, naming the runs that had it', () => {
    const invalid = new RunError('the run is not a valid measurement: x');
    const gate = new GateError('1 of 1 gate failed: y');
    expect(seriesVerdict([{ out: 'a.1.json', error: null }, { out: 'a.2.json', error: null }])).toBeNull();
    expect(seriesVerdict([{ out: 'a.json', error: gate }])).toBe(gate);
    const worst = seriesVerdict([{ out: 'a.1.json', error: gate }, { out: 'a.2.json', error: invalid }, { out: 'a.3.json', error: null }]);
    expect(worst).toBeInstanceOf(RunError);
    expect(worst!.message).toBe('1 of 3 runs (a.2.json): the run is not a valid measurement: x');
    const gates = seriesVerdict([{ out: 'a.1.json', error: gate }, { out: 'a.2.json', error: gate }]);
    expect(gates).toBeInstanceOf(GateError);
    expect(gates!.message).toBe('2 of 2 runs (a.1.json, a.2.json): 1 of 1 gate failed: y');
  });
});

describe('flashback replay --repeat', () => {
  it('--repeat 2 makes two complete runs of the same plan, each in its numbered file with its own label', async () => {
    const out = join(dir, 'base.json');
    const before = srv.hits.length;
    const r = await flashback(['replay', rec, '--target', srv.url, '--repeat', '2', '--workers', '1', '--out', out, '--label', 'nightly', '--max-send-lag', '10s']);
    expect(r.code).toBe(0);
    expect(existsSync(out)).toBe(false);
    const runs = [1, 2].map((i) => readRunResult(join(dir, `base.${i}.json`)));
    expect(runs.map((x) => x.label)).toEqual(['nightly.1', 'nightly.2']);
    expect(runs.every((x) => x.valid)).toBe(true);
    expect(runs[1]!.plan).toEqual(runs[0]!.plan);
    expect(runs.map((x) => x.totals.requests)).toEqual([12, 12]);
    expect(runs[1]!.startedAt > runs[0]!.startedAt).toBe(true);
    expect(srv.hits.length - before).toBe(24);
    // a progress header and a closing summary for each run
    expect(r.stderr).toContain(`run 1 of 2 -> ${join(dir, 'base.1.json')}`);
    expect(r.stderr).toContain(`run 2 of 2 -> ${join(dir, 'base.2.json')}`);
    expect(r.stdout.match(/^Valid measurement\. Written to /gm)).toHaveLength(2);
  });

  it('with --json prints one list of the runs\' summaries', async () => {
    const r = await flashback(['replay', rec, '--target', srv.url, '--repeat', '2', '--workers', '1', '--out', join(dir, 'j.json'), '--json', '--max-send-lag', '10s']);
    expect(r.code).toBe(0);
    const docs = JSON.parse(r.stdout) as Array<{ out: string; valid: boolean }>;
    expect(docs.map((d) => d.out)).toEqual([join(dir, 'j.1.json'), join(dir, 'j.2.json')]);
    expect(docs.every((d) => d.valid)).toBe(true);
  });

  it('every run is made and written when they are invalid; the exit status is 3 and names them', async () => {
    const out = join(dir, 'bad.json');
    const r = await flashback(['replay', rec, '--target', broken.url, '--repeat', '2', '--workers', '1', '--out', out, '--quiet']);
    expect(r.code).toBe(3);
    for (const i of [1, 2]) expect(readRunResult(join(dir, `bad.${i}.json`)).valid).toBe(false);
    expect(r.stderr).toMatch(/^flashback: 2 of 2 runs \(.*bad\.1\.json, .*bad\.2\.json\): the run is not a valid measurement: target .* could not be reached/m);
  });

  it('gates apply to each run: exit 1 when any run fails one', async () => {
    const r = await flashback(['replay', rec, '--target', srv.url, '--repeat', '2', '--workers', '1', '--out', join(dir, 'g.json'), '--quiet', '--max-send-lag', '10s', '--fail-on', 'p99<1us']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^flashback: 2 of 2 runs \(.*g\.1\.json, .*g\.2\.json\): 1 of 1 gate failed/m);
  });

  it('SIGINT stops the run going on (written, marked interrupted) and starts no further run: exit 3', async () => {
    const long = join(dir, 'long.db');
    await writeRecording(long, { sessions: 200, perSession: 1, sessionGapUs: 100_000, gapUs: 0 });
    const out = join(dir, 'int.json');
    const before = srv.hits.length;
    const child = spawn(process.execPath, [BIN, 'replay', long, '--target', srv.url, '--repeat', '3', '--out', out, '--quiet', '--workers', '1', '--jitter', '0']);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const closed = new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)));
    // interrupt once the first run is sending
    while (srv.hits.length < before + 3) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    expect(await closed).toBe(3);
    expect(stderr).toMatch(/interrupted/);
    expect(readRunResult(join(dir, 'int.1.json')).invalidReasons).toContain('the run was interrupted before the plan was done');
    expect(existsSync(join(dir, 'int.2.json'))).toBe(false);
  });

  for (const value of ['0', 'x', '-1', '1.5']) {
    it(`refuses --repeat ${value}: exit 2, one line, nothing sent`, async () => {
      const before = srv.hits.length;
      const r = await flashback(['replay', rec, '--target', srv.url, '--repeat', value, '--out', join(dir, 'no.json')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`--repeat must be a positive whole number \\(got "${value.replace('.', '\\.')}"\\)`));
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(srv.hits.length).toBe(before);
    });
  }
});
