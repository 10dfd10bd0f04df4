import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { decodeHistogram } from '../../src/measure/histogram.js';
import type { RunResult } from '../../src/model/run-result.js';
import { BIN } from './run-cli.js';
import { tempDir, writeRecording } from './replay-helpers.js';

/**
 * Shards on three hosts: Linux network namespaces on a bridge with no uplink
 * (scripts/netns-hosts.sh), the target in a fourth. Needs root and
 * `ip netns`; elsewhere it reports itself skipped with why, and CI
 * (FLASHBACK_REQUIRE_NETNS=1) fails instead. The figures of what three hosts
 * drive against one are in bench/shards-netns.mjs.
 */
const SCRIPT = resolve(import.meta.dirname, '../../scripts/netns-hosts.sh');
const REQUIRE = 'FLASHBACK_REQUIRE_NETNS';
const TAG = `fb${process.pid % 100000}`;
const HOSTS = 3;

function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  const probe = spawnSync('ip', ['netns', 'add', `${TAG}-probe`], { encoding: 'utf8' });
  if (probe.error) return `ip is not installed (${probe.error.message})`;
  if (probe.status !== 0) return `ip netns add failed: ${probe.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', `${TAG}-probe`]);
  return null;
}

/** Runs `args` in namespace `ns`; resolves with its exit code and output. */
function inNs(ns: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

const readRun = (path: string): RunResult => JSON.parse(readFileSync(path, 'utf8')) as RunResult;

describe('shards on three hosts (network namespaces), started together, merged exactly', () => {
  const why = netnsUnavailable();
  let net = '';
  let target: ChildProcess | null = null;
  let url = '';
  const dir = tempDir();
  const rec = join(dir, 'rec.db');

  beforeAll(async () => {
    if (why !== null) {
      if (process.env[REQUIRE] === '1') throw new Error(`${REQUIRE} is set but ${why}`);
      console.warn(`network namespace shard test skipped: ${why}`);
      return;
    }
    const up = spawnSync('bash', [SCRIPT, 'up', TAG, String(HOSTS)], { encoding: 'utf8' });
    if (up.status !== 0) throw new Error(`netns-hosts.sh up failed: ${up.stderr.trim()}`);
    net = up.stdout.trim();
    await writeRecording(rec, { sessions: 90, perSession: 3, sessionGapUs: 5_000, gapUs: 2_000 });
    // The target: a trivial keep-alive server in its own namespace.
    const src = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => s.end('ok')); })
      .listen(0, '${net}.10', function () { console.log(this.address().port); });`;
    target = spawn('ip', ['netns', 'exec', `${TAG}-t`, process.execPath, '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<string>((ok, fail) => {
      target!.stdout!.once('data', (c: Buffer) => ok(c.toString().trim()));
      target!.once('exit', (code) => fail(new Error(`target exited ${code}`)));
    });
    url = `http://${net}.10:${port}`;
  }, 30_000);

  afterAll(() => {
    target?.kill();
    if (why === null) spawnSync('bash', [SCRIPT, 'down', TAG, String(HOSTS)]);
  });

  it('three shards, one per host, merge into the unsharded run: same requests per segment, histogram counts that sum', async (ctx: TestContext) => {
    if (why !== null) return ctx.skip(why);
    const common = ['--target', url, '--jitter', '0', '--workers', '1', '--max-send-lag', '10s', '--quiet'];
    const startAt = new Date(Date.now() + 2_500).toISOString();
    const shards = await Promise.all(
      Array.from({ length: HOSTS }, async (_, k) => {
        const out = join(dir, `s${k + 1}.json`);
        const r = await inNs(`${TAG}-${k + 1}`, [process.execPath, BIN, 'replay', rec, ...common, '--shard', `${k + 1}/${HOSTS}`, '--start-at', startAt,
          '--label', `host${k + 1}`, '--out', out]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        return readRun(out);
      }),
    );
    // Each shard really ran on its own host, and all began at the intended time.
    for (const s of shards) {
      expect(s.target).toBe(url);
      expect(s.start!.intended).toBe(startAt);
      expect(Math.abs(s.start!.skewUs)).toBeLessThan(s.start!.limitUs);
    }
    const whole = join(dir, 'whole.json');
    expect((await inNs(`${TAG}-1`, [process.execPath, BIN, 'replay', rec, ...common, '--out', whole])).code).toBe(0);
    const merged = join(dir, 'merged.json');
    const m = await inNs(`${TAG}-1`, [process.execPath, BIN, 'report', 'merge', ...shards.map((_, k) => join(dir, `s${k + 1}.json`)), '--out', merged]);
    expect(m.stderr).toBe('');
    expect(m.code).toBe(0);

    const all = readRun(merged);
    const one = readRun(whole);
    expect(all.totals.requests).toBe(270);
    expect(all.totals.requests).toBe(one.totals.requests);
    expect(shards.every((s) => s.totals.requests > 0)).toBe(true);
    const counts = (r: RunResult): Record<string, number> => Object.fromEntries(r.segments.map((s) => [s.key, s.count]));
    expect(counts(all)).toEqual(counts(one));
    for (const seg of all.segments) {
      const parts = shards.flatMap((s) => s.segments.filter((x) => x.key === seg.key));
      const sum = parts.reduce((a, p) => a + decodeHistogram(p.histograms.response).totalCount, 0);
      expect(decodeHistogram(seg.histograms.response).totalCount).toBe(sum);
      expect(sum).toBe(seg.count);
    }
    expect(all.start!.shards!.map((s) => s.shard)).toEqual([1, 2, 3]);
  }, 60_000);
});
