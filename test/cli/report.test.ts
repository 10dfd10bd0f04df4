import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRuns } from '../report/fixtures.js';
import { storefrontRun } from '../report/fixtures.js';

const BIN = resolve(import.meta.dirname, '../../bin/flashback.js');
const ANSI = /\u001b\[/;

function flashback(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '' }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('flashback report (built CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flashback-report-cli-'));
  let runs: ReturnType<typeof writeFixtureRuns>;
  beforeAll(() => {
    runs = writeFixtureRuns(dir);
  });

  it('show prints every view as a colour-free table when piped, exit 0', () => {
    const r = flashback('report', 'show', runs.base);
    expect(r.status).toBe(0);
    for (const title of ['Overall', 'By route', 'By device', 'By region', 'By route × cohort']) expect(r.stdout).toContain(title);
    expect(r.stdout).toContain('POST /checkout');
    expect(r.stdout).toMatch(/n<10000/);
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('show --format json follows flashback.report/1', () => {
    const r = flashback('report', 'show', runs.base, '--format', 'json', '--by', 'route', '--top', '2');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ format: 'flashback.report', version: 1, kind: 'show', run: { label: 'baseline', valid: true } });
    expect(doc.views.map((v: { name: string }) => v.name)).toEqual(['overall', 'route']);
    expect(doc.views[1].rows).toHaveLength(2);
    expect(doc.views[1].omitted).toBe(2);
    expect(doc.views[1].rows[0].route).toBe('POST /checkout');
  });

  it('show --fail-on exits 1 and says which gate failed, on which segment, with the figures', () => {
    const r = flashback('report', 'show', runs.base, '--fail-on', 'errors<1%', '--fail-on', 'route=POST /checkout: p99<100ms');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/gate failed: route=POST \/checkout: p99<100ms on POST \/checkout: \d+\.\dms \(limit 100\.0ms, 1080 requests\)/);
    expect(r.stderr).toContain('1 of 2 gates failed');
    expect(r.stdout).toContain('Gates: 1 passed, 1 failed');
  });

  it('a malformed gate exits 2 with one line naming it, before reading any run', () => {
    const r = flashback('report', 'show', join(dir, 'missing.json'), '--fail-on', 'p99<400');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--fail-on "p99<400" is not a valid gate: p99 needs a time with a unit (us, ms or s)');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['a missing run file', ['report', 'show', '/nonexistent/run.json'], /Failed to read run result \/nonexistent\/run.json/],
    ['a file that is not a run', ['report', 'show', BIN], /not JSON|not a flashback run/],
    ['an unknown --by attribute', ['report', 'show', 'RUN', '--by', 'planet'], /--by must name route, cohort or a cohort attribute \(got "planet"/],
    ['a bad --top', ['report', 'show', 'RUN', '--top', 'ten'], /--top must be a positive whole number/],
    ['an unknown --format', ['report', 'show', 'RUN', '--format', 'pdf'], /--format must be one of table, json, markdown, junit, html/],
    ['a bad --min-abs', ['report', 'diff', 'RUN', 'RUN', '--min-abs', 'soon'], /--min-abs must be a duration/],
  ])('exits 2 on %s', (_name, args, message) => {
    const r = flashback(...args.map((a) => (a === 'RUN' ? runs.base : a)));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('takes gates from a scenario file\'s thresholds', () => {
    const scenario = join(dir, 'scenario.json');
    writeFileSync(scenario, JSON.stringify({ name: 'shop', thresholds: ['route=POST /checkout: p99<800ms', 'route=GET /products/:id: p99<300ms', 'errors<1%'] }));
    const r = flashback('report', 'show', runs.base, '--by', 'route', '--scenario', scenario);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Gates: 3 passed, 0 failed');
    expect(r.stdout).toMatch(/pass route=POST \/checkout: p99<800ms on POST \/checkout: 31\d\.\dms/);
    const bad = join(dir, 'bad-scenario.json');
    writeFileSync(bad, JSON.stringify({ name: 'bad', thresholds: ['p99<400'] }));
    const b = flashback('report', 'show', runs.base, '--scenario', bad);
    expect(b.status).toBe(2);
    expect(b.stderr).toContain(`threshold in ${bad} "p99<400" is not a valid gate`);
  });

  it('show of an invalid run prints the report with a loud banner, then exits 3', () => {
    const r = flashback('report', 'show', runs.invalid);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('!!! INVALID RUN "saturated": not a valid measurement (send lag p99 48.2ms over the 10ms limit) !!!');
    expect(r.stderr).toContain('is not a valid measurement');
  });

  it('diff calls the checkout slowdown a regression and exits 0 without gates', () => {
    const r = flashback('report', 'diff', runs.base, runs.cand, '--by', 'route');
    expect(r.status).toBe(0);
    const checkout = r.stdout.slice(r.stdout.indexOf('│ POST /checkout'));
    expect(checkout.slice(0, 800)).toMatch(/▲ regression/);
    expect(r.stdout).toMatch(/~ noise/);
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('diff --fail-on p99:+10% exits 1 on the regressed route only', () => {
    const r = flashback('report', 'diff', runs.base, runs.cand, '--fail-on', 'route=POST /checkout: p99:+10%', '--fail-on', 'route=GET /search: p99:+10%');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/gate failed: route=POST \/checkout: p99:\+10% on POST \/checkout: \+\d+\.\d%/);
    expect(r.stderr).not.toMatch(/gate failed: route=GET \/search/);
  });

  it('diff takes a baseline set (the last file is the candidate) and says the noise between runs was measured', () => {
    const r = flashback('report', 'diff', runs.base, runs.base, runs.base, runs.cand, '--by', 'route', '--format', 'json');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.noise).toBe('set');
    expect(doc.baselines).toHaveLength(3);
    expect(doc.candidate.label).not.toBe(doc.baseline.label);
    const table = flashback('report', 'diff', runs.base, runs.base, runs.cand, '--by', 'route');
    expect(table.stdout).toContain('baseline 2/2');
    expect(table.stdout).toContain('measured on a baseline set of 2 runs');
  });

  it('diff of one file needs a paired run: exit 2 with one line otherwise; a paired run diffs its two sides', () => {
    const r = flashback('report', 'diff', runs.base);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/report diff needs a baseline and a candidate, or one paired run/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const pair = join(dir, 'pair.json');
    writeFileSync(pair, JSON.stringify({ ...JSON.parse(readFileSync(runs.cand, 'utf8')), against: JSON.parse(readFileSync(runs.base, 'utf8')) }));
    const p = flashback('report', 'diff', pair, '--by', 'route');
    expect(p.status).toBe(0);
    expect(p.stdout).toContain('baseline (--against)');
    expect(p.stdout).toContain('Paired replay');
    expect(p.stdout.slice(p.stdout.indexOf('│ POST /checkout')).slice(0, 800)).toMatch(/▲ regression/);
  });

  it('diff refuses runs of different recordings (exit 2) unless --force', () => {
    const r = flashback('report', 'diff', runs.base, runs.other);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/different recordings/);
    expect(r.stderr).toMatch(/hint: .*--force/);
    const forced = flashback('report', 'diff', runs.base, runs.other, '--force', '--by', 'route');
    expect(forced.status).toBe(0);
    expect(forced.stdout).toContain('the runs replayed different recordings');
  });

  it('diff writes Markdown, HTML and JUnit files by extension and still prints the table', () => {
    const md = join(dir, 'out/report.md');
    const html = join(dir, 'out/report.html');
    const xml = join(dir, 'out/junit.xml');
    const r = flashback('report', 'diff', runs.base, runs.cand, '--out', md, '--out', html, '--out', xml, '--fail-on', 'p99<10s', '--fail-on', 'errors<0.1%');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('By route');
    expect(readFileSync(md, 'utf8')).toMatch(/^## flashback: candidate vs baseline/);
    expect(readFileSync(md, 'utf8')).toContain('**+');
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    // Self-contained: no scripts, stylesheets, images, fonts or links to fetch.
    expect(page.match(/<script|<link|<img|\ssrc=|\shref=|url\(|@import|@font-face/g)).toBeNull();
    expect(page.match(/<svg class="chart"/g)).toHaveLength(7);
    const junit = readFileSync(xml, 'utf8');
    expect(junit.match(/<testcase /g)).toHaveLength(2);
    expect(junit.match(/<failure /g)).toHaveLength(1);
  });

  it('diff --format markdown --out writes only the file', () => {
    const file = join(dir, 'only.txt');
    const r = flashback('report', 'diff', runs.base, runs.cand, '--format', 'markdown', '--out', file);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toMatch(/^## flashback/);
  });

  it('merge joins shards into one run whose counts add up', () => {
    const a = storefrontRun({ label: 'shard', seed: 5 });
    const b = storefrontRun({ label: 'shard', seed: 6 });
    a.plan.shard = { index: 1, count: 2 };
    b.plan.shard = { index: 2, count: 2 };
    writeFileSync(join(dir, 's0.json'), JSON.stringify(a));
    writeFileSync(join(dir, 's1.json'), JSON.stringify(b));
    const all = join(dir, 'all.json');
    const r = flashback('report', 'merge', join(dir, 's0.json'), join(dir, 's1.json'), '--out', all);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('merged 2 runs (23760 requests');
    expect(existsSync(all)).toBe(true);
    const shown = JSON.parse(flashback('report', 'show', all, '--format', 'json', '--by', 'route').stdout);
    expect(shown.views[0].rows[0].requests).toBe(23_760);
    expect(shown.run.mergedFrom).toBe(2);
    // both shards are run.json files from before plan.connections: the merge leaves it unknown too
    expect('connections' in a.plan).toBe(false);
    expect('connections' in JSON.parse(readFileSync(all, 'utf8')).plan).toBe(false);
  });

  it('show and diff read a run.json written before plan.connections existed', () => {
    expect('connections' in JSON.parse(readFileSync(runs.base, 'utf8')).plan).toBe(false);
    expect(flashback('report', 'show', runs.base, '--format', 'json').status).toBe(0);
    expect(flashback('report', 'diff', runs.base, runs.cand, '--format', 'json').status).toBe(0);
  });

  it('merge refuses an incomplete set of shards (1/3 and 2/3, no 3/3): exit 2, one line', () => {
    const paths = [1, 2].map((index) => {
      const run = storefrontRun({ label: `third-${index}`, seed: index });
      run.plan.shard = { index, count: 3 };
      const path = join(dir, `third-${index}.json`);
      writeFileSync(path, JSON.stringify(run));
      return path;
    });
    const out = join(dir, 'thirds.json');
    const r = flashback('report', 'merge', ...paths, '--out', out);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('flashback: Failed to merge runs: shard 3/3 missing (given 1/3, 2/3): a merge of some shards is not the run\n');
    expect(existsSync(out)).toBe(false);
  });

  it('merge refuses the same shard twice: exit 2, one line', () => {
    const run = storefrontRun({ label: 'twice', seed: 9 });
    run.plan.shard = { index: 1, count: 2 };
    const path = join(dir, 'twice.json');
    writeFileSync(path, JSON.stringify(run));
    const r = flashback('report', 'merge', path, path, '--out', join(dir, 'twice-all.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('flashback: Failed to merge runs: shard 1/2 given twice\n');
    expect(existsSync(join(dir, 'twice-all.json'))).toBe(false);
  });

  it('merge needs two runs and --out', () => {
    expect(flashback('report', 'merge', runs.base, '--out', join(dir, 'x.json')).status).toBe(2);
    expect(flashback('report', 'merge', runs.base, runs.cand).status).toBe(2);
  });
});
