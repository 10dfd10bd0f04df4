#!/usr/bin/env node
// Issue 13: do shards on several hosts drive more than one process can?
// Hosts are Linux network namespaces on a bridge with no uplink
// (scripts/netns-hosts.sh; needs root and `ip netns`), the target (a trivial
// keep-alive server) in a fourth. Rounds interleave:
//   A: one process on one host, --workers 1, the whole rate;
//   B: --hosts processes, one per host, --shard k/N of the same plan, started
//      together with --start-at, then `report merge`.
// Reported per run: valid or not, achieved req/s, send lag p99, CPU seconds
// per process (utime+stime from /usr/bin/time), and for B the merged totals.
// The machine's cores are shared by every host here: the point is processes,
// not machines (one replay process runs its sends on one thread).
//
//   npm run build && node bench/shards-netns.mjs [--rate 12000] [--duration 10s] [--hosts 3] [--rounds 2] [--connections shared]
// Shared connections by default: with per-clone ones every session opens a
// connection, and the one target process is the wall long before the clients.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeHistogram } from '../dist/measure/histogram.js';
import { sendLagOf, timingRecording, TIMING_BASE_RATE } from './replay-fixtures.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/flashback.js');
const SCRIPT = join(ROOT, 'scripts/netns-hosts.sh');
const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '12000' },
    duration: { type: 'string', default: '10s' },
    hosts: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: 'shared' },
  },
});
const RATE = Number(values.rate);
const HOSTS = Number(values.hosts);
const ROUNDS = Number(values.rounds);
const TAG = 'fbbench';

if (process.getuid?.() !== 0) {
  console.error('shards-netns: needs root (ip netns)');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'fb-bench-shards-'));
const rec = await timingRecording('/tmp/flashback-bench');
spawnSync('bash', [SCRIPT, 'down', TAG, String(HOSTS)]);
const up = spawnSync('bash', [SCRIPT, 'up', TAG, String(HOSTS)], { encoding: 'utf8' });
if (up.status !== 0) {
  console.error(`shards-netns: ${up.stderr.trim()}`);
  process.exit(3);
}
const net = up.stdout.trim();

const targetSrc = `const s = require('node:http').createServer((q, r) => { r.setHeader('content-type', 'text/plain'); r.end('hello world'); });
  s.keepAliveTimeout = 60000; s.listen(0, '${net}.10', () => console.log(s.address().port));`;
const target = spawn('ip', ['netns', 'exec', `${TAG}-t`, process.execPath, '-e', targetSrc], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((ok) => target.stdout.once('data', (c) => ok(String(c).trim())));
const url = `http://${net}.10:${port}`;

/** Runs a replay in host `h`; resolves with its run.json figures and CPU seconds. */
function replayIn(h, extra, out) {
  const args = ['netns', 'exec', `${TAG}-${h}`, '/usr/bin/time', '-f', 'cpu %U %S', process.execPath, BIN, 'replay', rec, '--target', url,
    '--scale', String(RATE / TIMING_BASE_RATE), '--duration', values.duration, '--workers', '1', '--connections', values.connections, '--quiet', '--out', out, ...extra];
  return new Promise((done) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => {
      const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      let run = null;
      try {
        run = JSON.parse(readFileSync(out, 'utf8'));
      } catch {
        // no run.json: reported below
      }
      done({ code, cpuS: m ? Number(m[1]) + Number(m[2]) : NaN, run, stderr: stderr.replace(/cpu [\d.]+ [\d.]+\s*$/, '').trim() });
    });
  });
}

const figures = (r) => {
  const secs = r.run.durationUs / 1e6;
  return { valid: r.run.valid, reasons: r.run.invalidReasons, requests: r.run.totals.requests, reqPerS: r.run.totals.requests / secs, sendLagP99Ms: sendLagOf(decodeHistogram, r.run).p99 / 1000, cpuS: r.cpuS };
};
const fmt = (f) => `${f.valid ? 'valid' : 'NOT VALID (' + f.reasons.join('; ') + ')'}, ${f.requests} req, ${Math.round(f.reqPerS)} req/s, send lag p99 ${f.sendLagP99Ms.toFixed(2)} ms, CPU ${f.cpuS.toFixed(2)} s`;

const rows = [];
console.error(`target ${url}; ${HOSTS} hosts; ${RATE} req/s for ${values.duration}; ${cpus().length} cores; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (let round = 1; round <= ROUNDS; round++) {
  const one = await replayIn(1, [], join(dir, `one-${round}.json`));
  if (!one.run) throw new Error(`one-process run failed (exit ${one.code}): ${one.stderr}`);
  const a = figures(one);
  console.error(`round ${round} one process: ${fmt(a)}`);
  rows.push({ round, kind: 'one process', ...a });

  const startAt = new Date(Date.now() + 3_000).toISOString();
  const parts = await Promise.all(
    Array.from({ length: HOSTS }, (_, k) => replayIn(k + 1, ['--shard', `${k + 1}/${HOSTS}`, '--start-at', startAt, '--label', `host${k + 1}`], join(dir, `s${round}-${k + 1}.json`))),
  );
  for (const [k, p] of parts.entries()) {
    if (!p.run) throw new Error(`shard ${k + 1} failed (exit ${p.code}): ${p.stderr}`);
    const f = figures(p);
    console.error(`round ${round} host ${k + 1}: ${fmt(f)}, start skew ${(p.run.start.skewUs / 1000).toFixed(2)} ms`);
    rows.push({ round, kind: `host ${k + 1} of ${HOSTS}`, ...f });
  }
  const merged = join(dir, `merged-${round}.json`);
  const m = spawnSync(process.execPath, [BIN, 'report', 'merge', ...parts.map((_, k) => join(dir, `s${round}-${k + 1}.json`)), '--out', merged], { encoding: 'utf8' });
  if (m.status !== 0) throw new Error(`merge failed: ${m.stderr}`);
  const mr = JSON.parse(readFileSync(merged, 'utf8'));
  const secs = mr.durationUs / 1e6;
  const mf = { valid: mr.valid, reasons: mr.invalidReasons, requests: mr.totals.requests, reqPerS: mr.totals.requests / secs, sendLagP99Ms: sendLagOf(decodeHistogram, mr).p99 / 1000, cpuS: parts.reduce((s, p) => s + p.cpuS, 0) };
  console.error(`round ${round} merged: ${fmt(mf)}`);
  rows.push({ round, kind: `${HOSTS} hosts merged`, ...mf });
}
target.kill();
spawnSync('bash', [SCRIPT, 'down', TAG, String(HOSTS)]);
rmSync(dir, { recursive: true, force: true });

console.log(`\n\`node bench/shards-netns.mjs --rate ${RATE} --duration ${values.duration} --hosts ${HOSTS} --rounds ${ROUNDS} --connections ${values.connections}\`\n`);
console.log('| round | run | valid | requests | req/s | send lag p99 | CPU s |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.round} | ${r.kind} | ${r.valid ? 'yes' : '**no**'} | ${r.requests} | ${Math.round(r.reqPerS)} | ${r.sendLagP99Ms.toFixed(2)} ms | ${r.cpuS.toFixed(2)} |`);
