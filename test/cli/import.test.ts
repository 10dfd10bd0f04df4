import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

/** `inspect --json` of a recording in `dir`. */
function inspectJson(db: string): {
  sessions: number;
  sessionRules: Array<{ rule: string | null; sessions: number; exchanges: number }> | null;
  cohorts: Array<{ cohort: Record<string, string>; sessions: number; exchanges: number }>;
} {
  const r = flashback('inspect', db, '--json');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

const WIN_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
/** The 15 requests of 5 visitors (3 each), mid-visit: every one carries `sid`, set before the capture began. */
const VISITS = Array.from({ length: 15 }, (_, i) => ({ i, sid: `7c${i % 5}e9a1f3b5d7c9e1a3b5d7f9`, atMs: i * 200 }));

describe('flashback import of a capture that starts mid-visit (no --session-key)', () => {
  it('import gor: one session per sid value, keyed by the request cookie', () => {
    const r = flashback('import', 'gor', join(FIX, 'gor/midstream.gor'), '--out', 'mid-gor.db');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/15 exchanges in 5 sessions/);
    expect(inspectJson('mid-gor.db').sessionRules).toEqual([{ rule: 'cookie-request:sid', sessions: 5, exchanges: 15 }]);
    const text = flashback('inspect', 'mid-gor.db').stdout;
    expect(text).toMatch(/Sessions\s+all 5 by cookie `sid` \(request cookie, set before the capture began\)/);
  });

  it('import har: one session per sid value, keyed by the request cookie', () => {
    const t0 = Date.parse('2024-05-01T10:00:00Z');
    const entries = VISITS.map(({ i, sid, atMs }) => ({
      startedDateTime: new Date(t0 + atMs).toISOString(),
      time: 12,
      request: {
        method: 'GET',
        url: `https://shop.example/products/${100 + i}`,
        httpVersion: 'HTTP/1.1',
        headers: [
          { name: 'User-Agent', value: WIN_UA },
          { name: 'Cookie', value: `sid=${sid}; theme=dark` },
        ],
        cookies: [{ name: 'sid', value: sid }],
        queryString: [],
        headersSize: -1,
        bodySize: 0,
      },
      response: {
        status: 200,
        statusText: 'OK',
        httpVersion: 'HTTP/1.1',
        headers: [{ name: 'Content-Type', value: 'application/json' }],
        cookies: [],
        content: { size: 2, mimeType: 'application/json', text: '{}' },
        redirectURL: '',
        headersSize: -1,
        bodySize: 2,
      },
      cache: {},
      timings: { send: 0, wait: 12, receive: 0 },
    }));
    writeFileSync(join(dir, 'mid.har'), JSON.stringify({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries } }));
    const r = flashback('import', 'har', join(dir, 'mid.har'), '--out', 'mid-har.db');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/15 exchanges in 5 sessions/);
    expect(inspectJson('mid-har.db').sessionRules).toEqual([{ rule: 'cookie-request:sid', sessions: 5, exchanges: 15 }]);
  });

  it('import log: one session per sid value from an nginx log with "$http_cookie", all from one address', () => {
    const lines = VISITS.map(({ i, sid, atMs }) => {
      const s = String(Math.floor(atMs / 1000)).padStart(2, '0');
      return `10.0.0.9 - - [01/May/2024:10:00:${s} +0000] "GET /products/${100 + i} HTTP/1.1" 200 2 "-" "${WIN_UA}" "sid=${sid}; theme=dark"`;
    });
    writeFileSync(join(dir, 'mid.log'), lines.join('\n') + '\n');
    const r = flashback('import', 'log', join(dir, 'mid.log'), '--out', 'mid-log.db');
    expect(r.stderr).toBe('');
    // One address and one browser: the client rule alone would give one session.
    expect(r.stdout).toMatch(/15 exchanges in 5 sessions/);
    expect(inspectJson('mid-log.db').sessionRules).toEqual([{ rule: 'cookie-request:sid', sessions: 5, exchanges: 15 }]);
  });

  it('import log: one session per sid value from JSON lines with a cookie field', () => {
    const lines = VISITS.map(({ i, sid, atMs }) =>
      JSON.stringify({ time: new Date(Date.parse('2024-05-01T10:00:00Z') + atMs).toISOString(), remote_addr: '10.0.0.9', method: 'GET', uri: `/products/${100 + i}`, status: 200, http_user_agent: WIN_UA, http_cookie: `sid=${sid}` }),
    );
    writeFileSync(join(dir, 'mid.jsonl'), lines.join('\n') + '\n');
    const r = flashback('import', 'log', join(dir, 'mid.jsonl'), '--out', 'mid-jsonl.db');
    expect(r.stdout).toMatch(/15 exchanges in 5 sessions/);
    expect(inspectJson('mid-jsonl.db').sessionRules).toEqual([{ rule: 'cookie-request:sid', sessions: 5, exchanges: 15 }]);
  });

  it('import log: requests without cookies still group by address and user agent, and inspect says so', () => {
    const r = flashback('import', 'log', join(FIX, 'logs/access.log'), '--out', 'nocookie-log.db');
    expect(r.stdout).toMatch(/5 exchanges in 3 sessions/);
    expect(inspectJson('nocookie-log.db').sessionRules).toEqual([{ rule: 'client', sessions: 3, exchanges: 5 }]);
  });
});

describe('flashback import log: health checks are bots', () => {
  it('kube-probe and ELB-HealthChecker lines give device=bot, a browser gives desktop', () => {
    const lines = [
      '10.1.0.1 - - [01/May/2024:10:00:00 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"',
      '10.1.0.2 - - [01/May/2024:10:00:01 +0000] "GET /health HTTP/1.1" 200 2 "-" "ELB-HealthChecker/2.0"',
      '10.1.0.1 - - [01/May/2024:10:00:10 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"',
      `198.51.100.4 - - [01/May/2024:10:00:11 +0000] "GET /products HTTP/1.1" 200 2 "-" "${WIN_UA}"`,
    ];
    writeFileSync(join(dir, 'probes.log'), lines.join('\n') + '\n');
    expect(flashback('import', 'log', join(dir, 'probes.log'), '--out', 'probes.db').status).toBe(0);
    const cohorts = inspectJson('probes.db').cohorts.map((c) => [c.cohort['device'], c.sessions, c.exchanges]);
    expect(cohorts).toEqual([
      ['bot', 2, 3],
      ['desktop', 1, 1],
    ]);
    expect(flashback('inspect', 'probes.db').stdout).toMatch(/auth=anonymous,device=bot,region=unknown\s*│\s*2\s*│/);
  });
});
