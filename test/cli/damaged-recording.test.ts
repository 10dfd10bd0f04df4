import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mutations, useDamageFixture, writeMutation } from '../store/damage-helpers.js';
import { flashback } from './run-cli.js';

// Issue 9 through the real CLI, on a sample of the seeded mutations that
// test/store/damaged-recording.test.ts runs in-process: a damaged recording
// is exit 2 with exactly one line on stderr naming the file, or (the damage
// hit unused bytes) exit 0 with sane output. Never 3, never a stack trace.

const SEED = 9009;
const SAMPLE = 24;

const fx = useDamageFixture();

/** What is wrong with one CLI run on `file` (empty when nothing). `out` must exist after exit 0 and not after exit 2. */
function judge(r: { code: number; stdout: string; stderr: string }, file: string, out: string | null, sane: (out: string) => boolean): string[] {
  const problems: string[] = [];
  if (r.code !== 0 && r.code !== 2) problems.push(`exit ${r.code}`);
  if (/internal error|\n\s+at /.test(r.stderr)) problems.push('internal error or stack trace');
  if (r.code === 2) {
    const lines = r.stderr.trimEnd().split('\n');
    if (lines.length !== 1) problems.push(`${lines.length} lines on stderr`);
    if (!lines[0]!.includes(file)) problems.push('stderr does not name the file');
    if (out && (existsSync(out) || existsSync(`${out}.partial`))) problems.push('output left behind');
  }
  if (r.code === 0 && out && !(existsSync(out) && sane(out))) problems.push('exit 0 without sane output');
  return problems.map((p) => `${p}: ${r.stderr.trim().slice(0, 300)}`);
}

const json = (p: string): boolean => {
  try {
    JSON.parse(readFileSync(p, 'utf8'));
    return true;
  } catch {
    return false;
  }
};

describe(`damaged recordings through the CLI (seed ${SEED}, ${SAMPLE} mutations)`, () => {
  it('inspect, replay, export har and export k6: exit 2 with one line naming the file, or exit 0 with sane output', async () => {
    const all = mutations(SEED, 300, statSync(fx.base).size);
    const picked = Array.from({ length: SAMPLE }, (_, k) => Math.floor((k * all.length) / SAMPLE));
    const problems: string[] = [];
    const codes = { 0: 0, 2: 0, other: 0 };
    for (const i of picked) {
      const m = all[i]!;
      const file = join(fx.dir, `c${i}.db`);
      writeMutation(fx.base, m, file);
      const har = join(fx.dir, `c${i}.har`);
      const k6 = join(fx.dir, `c${i}.js`);
      const run = join(fx.dir, `c${i}.run.json`);
      const runs = await Promise.all([
        flashback(['inspect', file, '--json']).then((r) => ({ cmd: 'inspect', r, p: judge(r, file, null, () => true).concat(r.code === 0 && !isJson(r.stdout) ? ['inspect --json printed no JSON'] : []) })),
        flashback(['export', 'har', file, '--out', har]).then((r) => ({ cmd: 'export har', r, p: judge(r, file, har, json) })),
      ]);
      runs.push(...(await Promise.all([
        flashback(['export', 'k6', file, '--out', k6]).then((r) => ({ cmd: 'export k6', r, p: judge(r, file, k6, (p) => readFileSync(p, 'utf8').includes('export function replaySession()')) })),
        flashback(['replay', file, '--target', fx.target, '--speed', '10', '--duration', '30ms', '--max-send-lag', '10s', '--workers', i % 2 ? '2' : '1', '--out', run])
          .then((r) => ({ cmd: 'replay', r, p: judge(r, file, run, json) })),
      ])));
      for (const { cmd, r, p } of runs) {
        codes[r.code === 0 ? 0 : r.code === 2 ? 2 : 'other']++;
        for (const problem of p) problems.push(`seed ${SEED} #${i} (${m.name}) ${cmd}: ${problem}`);
      }
    }
    console.info(`damaged recordings through the CLI, ${SAMPLE} mutations × 4 commands: exit 0 ${codes[0]}, exit 2 ${codes[2]}, other ${codes.other}`);
    expect(problems).toEqual([]);
    expect(codes[2]).toBeGreaterThan(0);
  }, 120_000);

  it('escapes control bytes that an error line quotes (a file name with a newline and ESC)', async () => {
    const name = join(fx.dir, 'two\nlines\x1b[2J\t.db');
    writeFileSync(name, Buffer.alloc(100, 1));
    const r = await flashback(['inspect', name]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('two\\nlines\\x1b[2J\\t.db');
    expect(r.stderr).not.toContain('\x1b');
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
