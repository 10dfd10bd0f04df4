import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingWriter } from '../../src/store/recording-writer.js';
import { makeExchange, tempDir, TEST_META } from '../store/helpers.js';

const BIN = resolve(import.meta.dirname, '../../bin/flashback.js');

function flashback(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let cleanup: () => void;
let recording: string;

beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  recording = join(dir, 'shop.db');
  const w = await RecordingWriter.create(recording, { ...TEST_META, source: 'record', redacted: true });
  for (let i = 0; i < 30; i++) {
    w.add(makeExchange({ sessionKey: `s${i % 3}`, startOffsetUs: i * 1_000, target: `/products/${i}` }), { device: i % 3 ? 'mobile' : 'desktop' });
  }
  w.add(
    makeExchange({ sessionKey: 's0', startOffsetUs: 40_000, method: 'POST', target: '/checkout', route: 'POST /checkout', status: 502, responseBodyTruncated: true }),
    { device: 'desktop' },
  );
  w.add(
    makeExchange({ sessionKey: 's1', startOffsetUs: 41_000, route: 'GET /products/:id', status: null, error: 'refused', responseBody: null, responseBodyBytes: 0 }),
    { device: 'mobile' },
  );
  await w.close();
});
afterAll(() => cleanup());

describe('flashback inspect', () => {
  it('prints format, source, span, counts, routes and cohorts', () => {
    const r = flashback('inspect', recording);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('flashback.recording v1');
    expect(r.stdout).toContain('record, upstream http://127.0.0.1:3000, secrets redacted');
    expect(r.stdout).toContain('32 exchanges in 3 sessions');
    expect(r.stdout).toContain('2xx 30 · 5xx 1 · failed 1');
    expect(r.stdout).toMatch(/GET \/products\/:id\s*│\s*31\s*│\s*30\s*│/);
    expect(r.stdout).toMatch(/device=mobile\s*│\s*2\s*│\s*66\.7%\s*│\s*21/);
    expect(r.stdout).toContain('Failed     1 (refused 1)');
    // Piped output carries no ANSI colour codes.
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('--json prints the documented shape', () => {
    const r = flashback('inspect', recording, '--json');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown> & {
      meta: { format: string; schemaVersion: number; source: string };
      span: { firstOffsetUs: number; lastOffsetUs: number };
      routes: Array<{ route: string; exchanges: number; status: Record<string, number> }>;
      truncated: { responses: number };
      failed: { total: number; byKind: Record<string, number> };
    };
    expect(Object.keys(doc)).toEqual([
      'inspect', 'path', 'fileBytes', 'meta', 'exchanges', 'sessions', 'span', 'status', 'bytes', 'truncated', 'failed', 'routes', 'cohorts', 'sessionRules',
    ]);
    expect(doc['inspect']).toBe(1);
    expect(doc.meta).toMatchObject({ format: 'flashback.recording', schemaVersion: 1, source: 'record' });
    expect(doc['exchanges']).toBe(32);
    expect(doc.span).toEqual({ firstOffsetUs: 0, lastOffsetUs: 42_000, durationUs: 42_000 });
    expect(doc.routes.map((x) => [x.route, x.exchanges])).toEqual([['GET /products/:id', 31], ['POST /checkout', 1]]);
    expect(doc.routes[1]!.status['5xx']).toBe(1);
    expect(doc.truncated.responses).toBe(1);
    expect(doc.failed).toEqual({ total: 1, byKind: { refused: 1 } });
  });

  it('a text file: one line on stderr, exit 2', () => {
    const p = join(dir, 'notes.txt');
    writeFileSync(p, 'not a recording\n');
    const r = flashback('inspect', p);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`flashback: Failed to open recording ${p}: not a SQLite database, so not a flashback recording\n`);
  });

  it('a missing file: one line on stderr, exit 2', () => {
    const p = join(dir, 'nope.db');
    const r = flashback('inspect', p, '--json');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`flashback: Failed to open recording ${p}: file not found\n`);
  });

  it('--top cuts the tables and says how many rows were left out', () => {
    const r = flashback('inspect', recording, '--top', '1');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('GET /products/:id');
    expect(r.stdout).not.toContain('POST /checkout');
    expect(r.stdout).toContain('… 1 more routes (--top all, or --json)');
    expect(r.stdout).toContain('… 1 more cohorts (--top all, or --json)');
  });

  it('a bad --top: one line naming the flag, exit 2', () => {
    const r = flashback('inspect', recording, '--top', 'ten');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('flashback: --top must be a positive whole number (got "ten")\n');
  });

  it('an empty recording is inspected, not refused', async () => {
    const empty = join(dir, 'empty.db');
    await (await RecordingWriter.create(empty, TEST_META)).close();
    const r = flashback('inspect', empty);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('0 exchanges in 0 sessions');
    expect(r.stdout).toContain('Time span  - (no exchanges)');
  });

  it('no file argument: usage error, exit 2', () => {
    const r = flashback('inspect');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("missing required argument 'file.db'");
  });
});

describe('flashback inspect: how sessions were keyed', () => {
  async function withRules(name: string, rules: Array<[key: string, keyedBy: string | undefined]>): Promise<string> {
    const path = join(dir, name);
    const w = await RecordingWriter.create(path, TEST_META);
    rules.forEach(([key, keyedBy], i) => w.add(makeExchange({ sessionKey: key, startOffsetUs: i * 1_000 }), { device: 'desktop' }, keyedBy));
    await w.close();
    return path;
  }

  const cases: Array<[string, Array<[string, string | undefined]>, string]> = [
    [
      'one rule: says all sessions were keyed by it',
      [['cookie:sid:a', 'cookie-request:sid'], ['cookie:sid:a', 'cookie-request:sid'], ['cookie:sid:b', 'cookie-request:sid']],
      'Sessions   all 2 by cookie `sid` (request cookie, set before the capture began)',
    ],
    [
      'a server-set cookie says so',
      [['cookie:session:a', 'cookie-set:session']],
      'Sessions   all 1 by cookie `session` (set by the server)',
    ],
    [
      'several rules: counts per rule, most sessions first',
      [['cookie:sid:a', 'cookie-request:sid'], ['cookie:sid:b', 'cookie-request:sid'], ['req:0', 'request'], ['auth:x', 'auth']],
      'Sessions   2 sessions by cookie `sid` (request cookie, set before the capture began), 1 sessions by auth token, 1 one-request sessions',
    ],
    ['only one-request sessions', [['req:0', 'request'], ['req:1', 'request']], 'Sessions   one session per request (2)'],
  ];
  it.each(cases)('%s', async (name, rules, line) => {
    const r = flashback('inspect', await withRules(`${name.replace(/\W+/g, '-')}.db`, rules));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(line);
  });

  it('a recording from before keyed_by existed says it was not recorded, and --json says null', async () => {
    const path = await withRules('old-format.db', [['s1', 'request']]);
    const db = new Database(path);
    db.exec('ALTER TABLE sessions DROP COLUMN keyed_by');
    db.close();
    const r = flashback('inspect', path);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Sessions   how sessions were keyed was not recorded');
    expect(r.stdout).toContain('1 exchanges in 1 sessions');
    expect(JSON.parse(flashback('inspect', path, '--json').stdout).sessionRules).toBeNull();
  });
});
