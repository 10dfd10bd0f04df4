import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exportK6 } from '../../src/export/k6-export.js';
import { readGor } from '../../src/import/gor-reader.js';
import { DEFAULT_MAX_BODY_BYTES, importExchanges } from '../../src/import/import-pipeline.js';
import { ImportStats } from '../../src/import/raw-exchange.js';
import { RecordingReader } from '../../src/store/recording-reader.js';

const FIX = resolve(import.meta.dirname, '../fixtures');
const dir = mkdtempSync(join(tmpdir(), 'fb-k6-'));
let recordings = 0;

/** Minimal stand-ins for the k6 modules the script imports, recording what it does. */
const STUBS: Record<string, string> = {
  'k6-http.mjs': `export const calls = []; export default { request(method, url, body, params) { calls.push({ method, url, body, params }); return { status: 200 }; } };`,
  'k6.mjs': `export const sleeps = []; export function sleep(s) { sleeps.push(s); }`,
  'k6-execution.mjs': `export const state = { i: 0 }; export default { scenario: { get iterationInTest() { return state.i; } } };`,
  'k6-data.mjs': `export class SharedArray { constructor(name, fn) { return fn(); } }`,
  'k6-encoding.mjs': `export default { b64decode(s) { return 'decoded:' + s; } };`,
};

function stubbed(script: string): string {
  return script
    .replace("from 'k6/http'", "from './k6-http.mjs'")
    .replace("from 'k6/execution'", "from './k6-execution.mjs'")
    .replace("from 'k6/data'", "from './k6-data.mjs'")
    .replace("from 'k6/encoding'", "from './k6-encoding.mjs'")
    .replace("from 'k6'", "from './k6.mjs'");
}

async function exportedScript(): Promise<{ script: string; path: string; result: ReturnType<typeof exportK6> }> {
  const rec = join(dir, `shop-${++recordings}.db`);
  const stats = new ImportStats();
  await importExchanges(readGor(join(FIX, 'gor/shop.gor'), stats), stats, {
    outPath: rec,
    source: 'import:gor',
    toolVersion: 'test',
    sessionKey: { kind: 'client', idleUs: 30 * 60 * 1e6 },
    redact: true,
    includeStatic: false,
    filterHosts: null,
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  });
  const reader = RecordingReader.open(rec);
  const path = join(dir, 'script.js');
  const result = exportK6(reader, path, 'test');
  reader.close();
  return { script: readFileSync(path, 'utf8'), path, result };
}

describe('export k6', () => {
  it('writes a script that parses as an ES module', async () => {
    const { script, result } = await exportedScript();
    expect(result).toMatchObject({ sessions: 3, requests: 5 });
    const copy = join(dir, 'check.mjs');
    writeFileSync(copy, stubbed(script));
    expect(() => execFileSync(process.execPath, ['--check', copy], { stdio: 'pipe' })).not.toThrow();
    expect(script).toMatch(/^import http from 'k6\/http';$/m);
  });

  it('replays each session in order with the recorded think times when run with stubbed k6 modules', async () => {
    const { script } = await exportedScript();
    for (const [name, text] of Object.entries(STUBS)) writeFileSync(join(dir, name), text);
    const g = globalThis as { __ENV?: Record<string, string> };
    g.__ENV = { BASE_URL: 'http://staging:9000/', SCALE: '10' };
    const mod = await import(pathToFileURL(join(dir, 'replay.mjs')).href + '?' + writeScript(stubbed(script)));
    const http = await import(pathToFileURL(join(dir, 'k6-http.mjs')).href);
    const k6 = await import(pathToFileURL(join(dir, 'k6.mjs')).href);
    const execution = await import(pathToFileURL(join(dir, 'k6-execution.mjs')).href);

    const scenarios = mod.options.scenarios as Record<string, { executor: string; iterations: number; vus: number; env: { COHORT: string }; tags: { cohort: string } }>;
    const names = Object.keys(scenarios);
    expect(names.length).toBeGreaterThanOrEqual(1);
    for (const s of Object.values(scenarios)) expect(s.executor).toBe('shared-iterations');
    expect(Object.values(scenarios).reduce((n, s) => n + s.iterations, 0)).toBe(30); // 3 sessions × SCALE 10

    // Run every iteration of every scenario once through the recording (iterationInTest 0..n-1).
    const seen: string[] = [];
    for (const s of Object.values(scenarios)) {
      g.__ENV = { ...g.__ENV, COHORT: s.env.COHORT };
      for (let i = 0; i < s.iterations / 10; i++) {
        execution.state.i = i;
        mod.replaySession();
      }
    }
    for (const c of http.calls as Array<{ method: string; url: string; body: unknown; params: { headers: Record<string, string>; tags: { name: string } } }>) {
      seen.push(`${c.method} ${c.url}`);
      expect(c.params.headers['host']).toBeUndefined();
      expect(Object.values(c.params.headers).some((v) => v.startsWith('redacted:'))).toBe(false);
    }
    expect(seen.sort()).toEqual(
      [
        'GET http://staging:9000/products?page=1',
        'GET http://staging:9000/products/42',
        'POST http://staging:9000/cart/items',
        'GET http://staging:9000/search?q=mug',
        'GET http://staging:9000/health',
      ].sort(),
    );
    const post = (http.calls as Array<{ method: string; body: unknown; params: { tags: { name: string } } }>).find((c) => c.method === 'POST')!;
    expect(post.body).toBe('{"sku":42,"qty":2}\r\n');
    expect(post.params.tags.name).toBe('POST /cart/items');
    // Think times: /products/42 starts 500 ms after the first (12 ms long) → 488 ms; the POST 900 − 530 = 370 ms.
    expect(k6.sleeps).toEqual([0.488, 0.37]);
  });
});

let scripts = 0;
function writeScript(text: string): number {
  scripts++;
  writeFileSync(join(dir, 'replay.mjs'), text);
  return scripts;
}
