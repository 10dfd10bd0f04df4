import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveShard, SHARD_ENV } from '../../src/replay/replay-options.js';
import { parseGates } from '../../src/report/gates.js';
import { fencedBlocks } from '../docs/repo-files.js';
import { parseFlashback, type ParsedCommand } from './flashback-cli.js';
import { ROOT } from './manifests.js';
import { flashbackCommands, shellCommands } from './shell-words.js';

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface WorkflowJob {
  needs?: string | string[];
  if?: string;
  outputs?: Record<string, string>;
  strategy?: { 'fail-fast'?: boolean; matrix?: Record<string, unknown[]> };
  env?: Record<string, string | number>;
  steps: Step[];
}
interface Workflow {
  jobs: Record<string, WorkflowJob>;
}

const FILE = join(ROOT, 'docs/examples/github-actions-shards.yml');
const text = readFileSync(FILE, 'utf8');
const workflow = parse(text) as Workflow;
const CI_DOC = readFileSync(join(ROOT, 'docs/ci.md'), 'utf8');

/** The job whose steps run `flashback replay`, and the one that runs `report merge`. */
const jobRunning = (what: string): [string, WorkflowJob] => {
  const found = Object.entries(workflow.jobs).filter(([, j]) => j.steps.some((s) => flashbackCommands(shellCommands(s.run ?? '')).some((c) => c.slice(0, what.split(' ').length).join(' ') === what)));
  expect(found.map(([name]) => name), `jobs running flashback ${what}`).toHaveLength(1);
  return found[0]!;
};

/** `$NAME` / `${NAME}` of a shell command replaced from `env` (the step sees the job's env). */
const expandShell = (word: string, env: Record<string, string>): string => word.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, n: string) => env[n] ?? m);

/** A parsed flashback command and the environment its step runs with. */
type CommandWithEnv = ParsedCommand & { env: Record<string, string> };

/** The flashback commands of a job, parsed by the CLI's definitions, with `${{ matrix.shard }}` and the job's env filled in. */
async function flashbackIn(job: WorkflowJob, matrixShard?: number): Promise<CommandWithEnv[]> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(job.env ?? {})) env[k] = String(v).replace(/\$\{\{\s*matrix\.shard\s*\}\}/g, String(matrixShard));
  const lines = job.steps.flatMap((s) => flashbackCommands(shellCommands(s.run ?? '')));
  return Promise.all(lines.map((argv) => parseFlashback(argv.map((w) => expandShell(w, env))).then((p) => Object.assign(p, { env }))));
}

describe('docs/examples/github-actions-shards.yml', () => {
  const [shardsName, shards] = jobRunning('replay');
  const [, merge] = jobRunning('report merge');
  const matrix = shards.strategy?.matrix?.['shard'] as number[];

  it('has one matrix entry per shard: the matrix is 1..FLASHBACK_SHARD_COUNT', () => {
    const count = Number(shards.env?.[SHARD_ENV.count]);
    expect(count).toBeGreaterThanOrEqual(2);
    expect(matrix).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(shards.env?.[SHARD_ENV.index]).toBe('${{ matrix.shard }}');
    // One failing shard must not cancel the others mid-run.
    expect(shards.strategy?.['fail-fast']).toBe(false);
  });

  it('the merge job needs the shard job and runs even when a shard failed', () => {
    expect([merge.needs].flat()).toContain(shardsName);
    expect(merge.if).toBe('${{ !cancelled() }}');
  });

  it('every shard gets the one start time the first job computes', () => {
    const ref = /^\$\{\{ needs\.(\w+)\.outputs\.([\w-]+) \}\}$/.exec(String(shards.env?.['FLASHBACK_START_AT']));
    expect(ref).not.toBeNull();
    const [, startName, output] = ref!;
    expect([shards.needs].flat()).toContain(startName);
    const start = workflow.jobs[startName!]!;
    const stepRef = /^\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}$/.exec(start.outputs?.[output!] ?? '');
    expect(stepRef).not.toBeNull();
    const step = start.steps.find((s) => s.id === stepRef![1]);
    expect(step?.run).toContain(`echo "${stepRef![2]}=$(date -u -d '+`);
    expect(step?.run).toContain('>> "$GITHUB_OUTPUT"');
  });

  it('each matrix entry runs replay --shard auto as a different shard; together they are all of them', async () => {
    const seen: number[] = [];
    for (const shard of matrix) {
      const [replay, ...rest] = await flashbackIn(shards, shard);
      expect(rest).toEqual([]);
      expect(replay!.command).toBe('replay');
      expect(replay!.opts['shard']).toBe('auto');
      expect(replay!.opts['startAt']).toBe(shards.env?.['FLASHBACK_START_AT']);
      const { index, count } = resolveShard(String(replay!.opts['shard']), replay!.env);
      expect(count).toBe(matrix.length);
      seen.push(index);
    }
    expect(seen).toEqual(matrix);
  });

  it("the merge job downloads every shard's artifact into one folder and merges exactly the shards' files", async () => {
    const outs: string[] = [];
    const artifacts: string[] = [];
    for (const shard of matrix) {
      const [replay] = await flashbackIn(shards, shard);
      const out = String(replay!.opts['out']);
      outs.push(out);
      const upload = shards.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
      expect(String(upload.with?.['path']).replace(/\$\{\{\s*matrix\.shard\s*\}\}/g, String(shard))).toBe(out);
      artifacts.push(String(upload.with?.['name']).replace(/\$\{\{\s*matrix\.shard\s*\}\}/g, String(shard)));
    }
    expect(new Set(outs).size).toBe(matrix.length);
    expect(new Set(artifacts).size).toBe(matrix.length);
    const download = merge.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    expect(download.with?.['merge-multiple']).toBe(true);
    const matches = picomatch(String(download.with?.['pattern']));
    expect(artifacts.filter((a) => !matches(a))).toEqual([]);
    // The downloaded files land under `path` with the names they were uploaded with.
    const folder = String(download.with?.['path']).replace(/\/$/, '');
    const [mergeCmd] = await flashbackIn(merge);
    expect(mergeCmd!.command).toBe('report merge');
    expect([...mergeCmd!.args].sort()).toEqual(outs.map((o) => `${folder}/${o.replace(/^.*\//, '')}`).sort());
  });

  it('report diff compares the baseline with the merge, with gates that parse, and the reports are published', async () => {
    const [mergeCmd, diff, ...rest] = await flashbackIn(merge);
    expect(rest).toEqual([]);
    expect(diff!.command).toBe('report diff');
    expect(diff!.args[1]).toBe(mergeCmd!.opts['out']);
    const gates = diff!.opts['failOn'] as string[];
    expect(gates.length).toBeGreaterThan(0);
    expect(() => parseGates(gates)).not.toThrow();
    const outs = diff!.opts['out'] as string[];
    expect(outs.map((o) => o.replace(/^.*\./, '.')).sort()).toEqual(['.html', '.md', '.xml']);
    const uploaded = merge.steps.filter((s) => s.uses?.startsWith('actions/upload-artifact@')).map((s) => String(s.with?.['path']));
    const folders = outs.map((o) => o.replace(/[^/]*$/, ''));
    for (const f of folders) expect(uploaded.join('\n')).toContain(f);
  });
});

describe('docs/ci.md', () => {
  it('shows the sharded workflow as it is in docs/examples/', () => {
    expect(CI_DOC).toContain('(examples/github-actions-shards.yml)');
    expect(fencedBlocks(CI_DOC).map((b) => `${b.text}\n`)).toContain(text);
  });

  it("every flashback command in its workflows exists with the flags it uses", async () => {
    const runs = fencedBlocks(CI_DOC)
      .filter((b) => b.info === 'yaml')
      .flatMap((b) => Object.values((parse(b.text) as Workflow).jobs).flatMap((j) => j.steps.map((s) => s.run ?? '')));
    const lines = flashbackCommands(runs.flatMap(shellCommands));
    expect(lines.map((l) => l.slice(0, 2).join(' '))).toEqual(['replay recordings/shop.db', 'report diff', 'replay recordings/shop.db', 'report merge', 'report diff']);
    for (const argv of lines) await expect(parseFlashback(argv)).resolves.toBeDefined();
  });
});
