/**
 * recordings/storefront.db, the checked-in recording of the reference
 * storefront: it replays cleanly against a fresh `flashback storefront` with no
 * flags beyond the target (sign-ins answered 200, no stale ids), holds no
 * plaintext secrets, and `npm run recording:storefront` makes it again with the
 * same routes, statuses and sessions. Needs the built CLI (`npm test` builds).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRunResult } from '../../src/measure/run-file.js';
import { replaySecretsOf } from '../../src/store/recording-meta.js';
import { RecordingReader } from '../../src/store/recording-reader.js';
import { startStorefront } from '../../src/storefront/index.js';
import { flashback } from '../cli/run-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RECORDING = join(ROOT, 'recordings/storefront.db');
const SCRIPT = join(ROOT, 'scripts/record-storefront.mjs');
/** The password the synthetic shoppers sign in with (src/storefront/shoppers/step.ts). */
const SHOPPER_PASSWORD = 'correct horse battery staple';

/** `route status` → count, over a recording's exchanges. */
function statusMix(path: string): Map<string, number> {
  const reader = RecordingReader.open(path);
  try {
    const mix = new Map<string, number>();
    for (const ex of reader.exchanges()) {
      const key = `${ex.route} ${ex.status ?? ex.error}`;
      mix.set(key, (mix.get(key) ?? 0) + 1);
    }
    return mix;
  } finally {
    reader.close();
  }
}

/** What a recording holds, in the terms a regeneration must reproduce. */
function shape(path: string) {
  const reader = RecordingReader.open(path);
  try {
    const s = reader.summary();
    return {
      exchanges: s.exchanges,
      sessions: s.sessions,
      routes: Object.fromEntries(s.routes.map((r) => [r.route, r.exchanges])),
      cohorts: Object.fromEntries(s.cohorts.map((c) => [c.key, c.sessions])),
      statuses: Object.fromEntries(statusMix(path)),
      redacted: s.meta.redacted,
      replaySecrets: replaySecretsOf(s.meta),
    };
  } finally {
    reader.close();
  }
}

/** `storefront_requests_total{route,status}` from the storefront's /metrics, as `route status` → count. */
async function servedMix(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const mix = new Map<string, number>();
  for (const m of text.matchAll(/^storefront_requests_total\{route="([^"]+)",status="(\d+)"\} (\d+)$/gm)) {
    mix.set(`${m[1]} ${m[2]}`, Number(m[3]));
  }
  return mix;
}

function runScript(out: string): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [SCRIPT, '--out', out, '--quiet'], { cwd: ROOT });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('close', (code) => done({ code: code ?? -1, output }));
  });
}

describe('recordings/storefront.db', () => {
  it('is small, includes signed-in shoppers, and holds no plaintext password or card number', () => {
    const s = shape(RECORDING);
    expect(readFileSync(RECORDING).length).toBeLessThan(1024 * 1024);
    expect(s.redacted).toBe(true);
    expect(s.routes['POST /login']).toBeGreaterThan(0);
    expect(Object.keys(s.cohorts).some((c) => c.includes('auth=signed-in'))).toBe(true);
    expect(s.replaySecrets).toEqual({ password: 'demo-shopper-password', token: 'tok_visa' });

    const bytes = readFileSync(RECORDING).toString('latin1');
    expect(bytes).not.toContain(SHOPPER_PASSWORD);
    expect(bytes).not.toMatch(/\d{13,19}/); // no card-number-like digit runs at all
    const reader = RecordingReader.open(RECORDING);
    try {
      let logins = 0;
      for (const ex of reader.exchanges({ withBodies: true })) {
        if (ex.route !== 'POST /login') continue;
        logins++;
        const body = JSON.parse(Buffer.from(ex.requestBody!).toString('utf8')) as { password: string };
        expect(body.password).toMatch(/^redacted:/);
        const cookie = ex.responseHeaders.find(([name]) => name === 'set-cookie')?.[1];
        expect(cookie).toMatch(/^auth_session=redacted:/);
      }
      expect(logins).toBe(s.routes['POST /login']);
    } finally {
      reader.close();
    }
  });

  it('replays against a fresh storefront with no --secret: sign-ins answered 200, no stale ids, the recorded status mix', async () => {
    const store = await startStorefront({ port: 0, profile: 'naive' }); // what `flashback storefront` serves by default
    try {
      const dir = mkdtempSync(join(tmpdir(), 'fb-recordings-'));
      const out = join(dir, 'run.json');
      const scale = 2;
      // --speed 2 keeps the test short; validity (send lag on a shared machine) is not what is tested here.
      const r = await flashback(['replay', RECORDING, '--target', store.url, '--scale', String(scale), '--speed', '2',
        '--max-send-lag', '60s', '--out', out]);
      expect(r.stderr).toContain('filled with the recording\'s replay default');
      expect(r.code, r.stderr).toBe(0);

      const run = readRunResult(out);
      const recorded = statusMix(RECORDING);
      const total = [...recorded.values()].reduce((a, b) => a + b, 0);
      expect(run.totals.requests).toBe(total * scale);
      expect(run.totals.errors).toBe(0);
      expect(run.totals.serverErrors).toBe(0);
      expect(run.totals.unsent).toBe(0);
      expect(run.totals.mismatches).toBe(0); // a stale cart or order id would be a 404 where 2xx was recorded
      expect(run.totals.droppedRedactedHeaders).toBe(0); // password and payment token filled from the recording

      // What the storefront itself served: every recorded (route, status) × scale, nothing else.
      const served = await servedMix(store.url);
      const expected = new Map([...recorded].map(([k, v]) => [k, v * scale]));
      expect(Object.fromEntries(served)).toEqual(Object.fromEntries(expected));
      expect(served.get('POST /login 200')).toBe(recorded.get('POST /login 200')! * scale);
      expect([...served.keys()].filter((k) => k.endsWith(' 404'))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('npm run recording:storefront makes it again: same sessions, routes, statuses and cohorts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-recordings-'));
    const out = join(dir, 'storefront.db');
    const r = await runScript(out);
    expect(r.code, r.output).toBe(0);
    expect(shape(out)).toEqual(shape(RECORDING));
  });
});
