import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../replay/helpers.js';
import { flashback, tempDir, writeRecording } from './replay-helpers.js';

let dir: string;
let rec: string;
let srv: Awaited<ReturnType<typeof startServer>>;
let hits = 0;

beforeAll(async () => {
  dir = tempDir();
  rec = join(dir, 'rec.db');
  await writeRecording(rec, { sessions: 4, perSession: 2, sessionGapUs: 10_000, gapUs: 5_000 });
  srv = await startServer((req, res) => {
    hits++;
    res.statusCode = req.url?.startsWith('/item/3') ? 503 : 200;
    res.end('ok');
  });
});
afterAll(async () => {
  await srv.close();
});

const common = ['--jitter', '10ms', '--max-send-lag', '10s', '--workers', '1'];

describe('flashback replay --fail-on and scenario thresholds', () => {
  it('passing gates exit 0 and are listed', async () => {
    const r = await flashback(['replay', rec, '--target', srv.url, ...common, '--out', join(dir, 'pass.json'),
      '--fail-on', 'p99<30s', '--fail-on', 'cohort.device=desktop: errors<1%']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Gates: 2 passed, 0 failed/);
    expect(r.stdout).toMatch(/pass p99<30s on all: .* \(limit 30\.00s, 8 requests\)/);
  });

  it('a failing gate exits 1 naming the gate, the segment and the figures (run.json written)', async () => {
    const out = join(dir, 'fail.json');
    const r = await flashback(['replay', rec, '--target', srv.url, ...common, '--out', out,
      '--fail-on', 'cohort.device=mobile: errors<1%', '--fail-on', 'p99<30s']);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(true);
    expect(r.stdout).toMatch(/Gates: 1 passed, 1 failed/);
    // sessions s1 and s3 are mobile; s3's two requests answer 503: 2 of 4 mobile requests
    expect(r.stdout).toMatch(/FAIL cohort\.device=mobile: errors<1% on device=mobile: 50\.00% \(limit 1\.00%, 4 requests\)/);
    expect(r.stderr).toMatch(/1 of 2 gates failed: FAIL cohort\.device=mobile: errors<1%/);
  });

  it('scenario thresholds gate the run too, with --json listing them', async () => {
    const scenario = join(dir, 'scenario.json');
    writeFileSync(scenario, JSON.stringify({ thresholds: ['route=GET /item/:id: errors<10%'] }));
    const r = await flashback(['replay', rec, '--target', srv.url, ...common, '--out', join(dir, 's.json'), '--scenario', scenario, '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { gates: Array<{ gate: string; passed: boolean; actual: number; requests: number }> };
    expect(doc.gates).toEqual([expect.objectContaining({ gate: 'route=GET /item/:id: errors<10%', passed: false, actual: 25, requests: 8 })]);
  });

  for (const [name, gate, message] of [
    ['a malformed gate', 'p99<fast', /--fail-on "p99<fast" is not a valid gate/],
    ['a relative gate (needs a baseline)', 'p99:+10%', /gate "p99:\+10%" compares with a baseline/],
  ] as const) {
    it(`${name} exits 2 before any traffic`, async () => {
      const before = hits;
      const r = await flashback(['replay', rec, '--target', srv.url, ...common, '--out', join(dir, 'never.json'), '--fail-on', gate]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(hits).toBe(before);
      expect(existsSync(join(dir, 'never.json'))).toBe(false);
    });
  }
});
