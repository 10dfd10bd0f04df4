import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRunResult } from '../../src/measure/run-file.js';
import type { RunResult } from '../../src/model/run-result.js';
import { flashback } from './run-cli.js';

// `flashback demo` end to end, small and short: storefront, recorder, shoppers,
// two replays, diff. Exit 0 when both replays are valid measurements; exit 3
// (documented in docs/demo.md) when the machine was too busy for the load
// generator to send on time — the reports are written either way, and the
// demo says so in one line.



describe('flashback demo (short, small scale)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-demo-'));
  let result: { code: number; stdout: string; stderr: string };
  let baseline: RunResult;
  let candidate: RunResult;

  beforeAll(async () => {
    result = await flashback(['demo', '--quick', '--duration', '5s', '--scale', '2', '--out', dir]);
    baseline = readRunResult(join(dir, 'baseline.json'));
    candidate = readRunResult(join(dir, 'candidate.json'));
  }, 240_000);

  it('exits 0, or 3 only because a replay was not a valid measurement', () => {
    expect([0, 3], result.stderr).toContain(result.code);
    if (result.code === 3) {
      expect(result.stderr).toMatch(/replay is not a valid measurement/);
      expect(baseline.valid && candidate.valid).toBe(false);
    } else {
      expect(baseline.valid).toBe(true);
      expect(candidate.valid).toBe(true);
    }
  });

  it('says what it is doing at each of the six steps', () => {
    for (let n = 1; n <= 6; n++) expect(result.stdout).toContain(`[${n}/6]`);
    expect(result.stdout).toMatch(/Headline \(P99 of response time at 2x, naive -> tuned\)/);
    expect(result.stdout).toMatch(/naive run: (valid measurement|NOT a valid measurement)/);
  });

  it("signs replayed shoppers in with the recording's replay default, dropping no redacted value", () => {
    expect(result.stdout).toMatch(/redacted body fields .*"password".* filled with the recording's replay default/);
    expect(result.stdout).not.toMatch(/redacted values? .*dropped/);
  });

  it('writes baseline.json and candidate.json as run results labelled naive and tuned', () => {
    expect(baseline.label).toBe('naive');
    expect(candidate.label).toBe('tuned');
    expect(baseline.plan.scale).toBe(2);
    expect(candidate.recording.digest).toBe(baseline.recording.digest);
    expect(baseline.segments.length).toBeGreaterThan(0);
    expect(candidate.segments.length).toBeGreaterThan(0);
    const routes = new Set(baseline.segments.map((s) => s.route));
    expect(routes).toContain('GET /products/:id');
    // both runs replayed the same recording at the same scale: the same requests per route
    const count = (r: RunResult) => r.segments.reduce((a, s) => a + s.count, 0);
    expect(count(candidate)).toBe(count(baseline));
  });

  it('writes report.md with the comparison tables and report.html with SVG charts', () => {
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/^\|.*P99.*\|$/m);
    expect(md).toContain('GET /products/:id');
    expect(md).toMatch(/naive/);
    expect(md).toMatch(/tuned/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<svg');
    expect(existsSync(join(dir, 'recording.db'))).toBe(true);
  });

  it('lists the paths it wrote', () => {
    for (const f of ['baseline.json', 'candidate.json', 'report.md', 'report.html']) {
      expect(result.stdout).toContain(join(dir, f));
    }
  });
});

describe('flashback demo, bad input', () => {
  it('refuses a bad --scale with one line and exit 2', async () => {
    const r = await flashback(['demo', '--scale', 'ten', '--out', mkdtempSync(join(tmpdir(), 'fb-demo-bad-'))]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('flashback: --scale must be a positive number (got "ten")');
  });

  it('refuses a --checkout-share outside 0..1', async () => {
    const r = await flashback(['demo', '--checkout-share', '1.5', '--out', mkdtempSync(join(tmpdir(), 'fb-demo-bad-'))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--checkout-share must be a fraction from 0 to 1 \(got "1.5"\)/);
  });
});
