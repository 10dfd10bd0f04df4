import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// .ci/summary.mjs turns vitest's JSON report into CI's closing line.
const SCRIPT = join(import.meta.dirname, '..', '..', '.ci', 'summary.mjs');
const dir = mkdtempSync(join(tmpdir(), 'flashback-ci-summary-'));

type Test = { fullName: string; status: string };
type File = { name: string; status: string; message?: string; assertionResults: Test[] };

function summarize(files: File[] | null, exitStatus: number): { lines: string[]; status: number | null } {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  if (files) {
    // The suite counts vitest adds: one per describe block above a failing test, among others.
    const failedSuites = files.reduce((n, f) => n + (f.status === 'failed' ? 3 : 0), 0);
    writeFileSync(file, JSON.stringify({ numFailedTestSuites: failedSuites, testResults: files }));
  }
  const r = spawnSync(process.execPath, [SCRIPT, file, String(exitStatus)], { encoding: 'utf8' });
  return { lines: r.stdout.trim().split('\n'), status: r.status };
}

const pass = (name: string): Test => ({ fullName: name, status: 'passed' });

describe('CI closing line', () => {
  it('counts one failing test inside nested describe blocks as one failure', () => {
    const r = summarize(
      [
        { name: 'a.test.ts', status: 'failed', assertionResults: [{ fullName: 'outer inner fails', status: 'failed' }, pass('outer inner passes')] },
        { name: 'b.test.ts', status: 'passed', assertionResults: [pass('b')] },
      ],
      1,
    );
    expect(r.lines.at(-1)).toBe('2 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
  });

  it('shows skipped, pending and todo tests as skipped, and passes with them', () => {
    const r = summarize(
      [{ name: 'a.test.ts', status: 'passed', assertionResults: [pass('a'), { fullName: 'b', status: 'skipped' }, { fullName: 'c', status: 'todo' }, { fullName: 'd', status: 'pending' }] }],
      0,
    );
    expect(r.lines).toEqual(['1 passed, 0 failed, 3 skipped']);
    expect(r.status).toBe(0);
  });

  it('counts a file that failed to load as one failure and names it', () => {
    const r = summarize(
      [
        { name: 'broken.test.ts', status: 'failed', message: "Cannot find module './x.js'\n  at stack", assertionResults: [] },
        { name: 'ok.test.ts', status: 'passed', assertionResults: [pass('ok')] },
      ],
      1,
    );
    expect(r.lines).toEqual(["ci: broken.test.ts failed: Cannot find module './x.js'", '1 passed, 1 failed, 0 skipped']);
    expect(r.status).toBe(1);
  });

  it('fails when the test command failed but no test is counted as failed', () => {
    const r = summarize([{ name: 'a.test.ts', status: 'passed', assertionResults: [pass('a')] }], 2);
    expect(r.lines.at(-1)).toBe('1 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
  });

  it('fails when no test ran at all', () => {
    expect(summarize([], 0)).toEqual({ lines: ['ci: no test ran', '0 passed, 1 failed, 0 skipped'], status: 1 });
  });

  it('fails when there is no report (the build failed before vitest ran)', () => {
    const r = summarize(null, 1);
    expect(r.lines[0]).toMatch(/^ci: no test report/);
    expect(r.lines.at(-1)).toBe('0 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
  });
});
