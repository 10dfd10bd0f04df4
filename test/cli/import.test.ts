import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const FIX = join(ROOT, 'test/fixtures');
const dir = mkdtempSync(join(tmpdir(), 'fb-cli-import-'));

function flashback(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/flashback.js'), ...args], { encoding: 'utf8', timeout: 60_000, cwd: dir });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function leftovers(prefix: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(prefix));
}

describe('flashback import', () => {
  it('imports a HAR and reports what it took and skipped', () => {
    const r = flashback('import', 'har', join(FIX, 'har/chromium.har'), '--out', 'chromium.db');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/→ chromium\.db: 5 exchanges in 1 sessions over /);
    expect(r.stdout).toMatch(/skipped 2:\n\s+2  static asset \(--include-static keeps them\)/);
    expect(statSync(join(dir, 'chromium.db.key')).mode & 0o777).toBe(0o600);
  });

  it('imports a GoReplay file and an access log, saying logs have no bodies', () => {
    const gor = flashback('import', 'gor', join(FIX, 'gor/shop.gor'), '--out', 'shop.db');
    expect(gor.status).toBe(0);
    // The sid cookie joins the first three; the two cookie-less requests are sessions of one.
    expect(gor.stdout).toMatch(/5 exchanges in 3 sessions/);
    const log = flashback('import', 'log', join(FIX, 'logs/access.jsonl'), '--out', 'jsonl.db', '--format', 'json');
    expect(log.status).toBe(0);
    expect(log.stdout).toMatch(/3 exchanges in 2 sessions/);
    expect(log.stdout).toMatch(/note: access logs carry no request or response bodies: only GET and HEAD/);
  });

  it.each([
    ['har', 'har/truncated.har', /^flashback: Failed to read HAR file .*truncated\.har: invalid or truncated JSON/],
    ['gor', 'gor/wrong-delimiter.gor', /^flashback: Failed to read GoReplay file .*: payload 1 holds several messages/],
    ['gor', 'gor/garbage.gor', /^flashback: Failed to read GoReplay file .*: payload 1 does not start with a GoReplay meta line/],
    ['log', 'logs/garbage.log', /^flashback: Failed to read access log .*garbage\.log: line 2: /],
    ['log', 'logs/truncated.jsonl', /^flashback: Failed to read access log .*truncated\.jsonl: line 2: not valid JSON/],
  ])('import %s %s: one clear line, exit 2, no recording left', (kind, file, message) => {
    const out = `bad-${kind}-${file.replace(/\W/g, '_')}.db`;
    const r = flashback('import', kind, join(FIX, file), '--out', out);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(leftovers(out)).toEqual([]);
  });

  it('skips and counts bad log lines with --skip-bad', () => {
    const r = flashback('import', 'log', join(FIX, 'logs/garbage.log'), '--out', 'skip.db', '--skip-bad');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/2 exchanges/);
    expect(r.stdout).toMatch(/1  bad line/);
  });

  it('refuses bad usage with exit 2', () => {
    expect(flashback('import', 'har', join(FIX, 'har/chromium.har')).stderr).toMatch(/--out <file\.db> is required/);
    const fmt = flashback('import', 'log', join(FIX, 'logs/access.log'), '--out', 'x.db', '--format', 'xml');
    expect(fmt.status).toBe(2);
    expect(fmt.stderr).toMatch(/--format must be combined or json \(got "xml"\)/);
    const missing = flashback('import', 'har', join(dir, 'nope.har'), '--out', 'nope.db');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nope\.har: no such file/);
  });
});

describe('flashback export and ca', () => {
  it('exports a recording as HAR and k6', () => {
    expect(flashback('import', 'har', join(FIX, 'har/devtools-h2.har'), '--out', 'exp.db').status).toBe(0);
    const har = flashback('export', 'har', 'exp.db', '--out', 'exp.har');
    expect(har.status).toBe(0);
    expect(har.stdout).toMatch(/exported exp\.db → exp\.har: 4 entries/);
    expect(JSON.parse(readFileSync(join(dir, 'exp.har'), 'utf8')).log.entries).toHaveLength(4);
    const k6 = flashback('export', 'k6', 'exp.db', '--out', 'exp.js');
    expect(k6.status).toBe(0);
    expect(k6.stdout).toMatch(/4 requests in \d+ cohort scenarios/);
    const notRec = flashback('export', 'har', join(FIX, 'har/chromium.har'), '--out', 'x.har');
    expect(notRec.status).toBe(2);
    expect(leftovers('x.har')).toEqual([]);
  });

  it('creates a CA once and prints how to trust it', () => {
    const first = flashback('ca', 'init', '--dir', join(dir, 'ca'));
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^created CA in /);
    expect(first.stdout).toMatch(/update-ca-certificates/);
    const second = flashback('ca', 'init', '--dir', join(dir, 'ca'));
    expect(second.stdout).toMatch(/^using existing CA in /);
    const none = flashback('ca', 'show', '--dir', join(dir, 'none'));
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/hint: create one with: flashback ca init/);
  });
});
