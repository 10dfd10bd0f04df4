#!/usr/bin/env node
// Issue 13: do shards on several hosts drive more than one process can?
// Hosts are Linux network namespaces on a bridge with no uplink
// (scripts/netns-hosts.sh; needs root and `ip netns`), the target (a trivial
// keep-alive server) in a fourth. Rounds interleave:
//   A: one process on one host, --workers 1, the whole rate;
//   B: --hosts processes, one per host, --shard k/N of the same plan, started
//      together with --start-at, then `report merge`.
// Reported per run: valid or not, achieved req/s, send lag p99, CPU seconds
// per process (utime+stime from /usr/bin/time), the target's CPU seconds
// meanwhile, and for B the merged totals.
// The machine's cores are shared by every host here: the point is processes,
// not machines (one replay process runs its sends on one thread).
//
// --host-cpu <cores> (e.g. 0.25) stands in for hosts with CPUs of their own:
// one cgroup v1 CPU controller group per host (/sys/fs/cgroup/cpu/fbbench-<k>,
// cpu.cfs_quota_us = cores x the 100 ms period), and each replay process
// (shell, `ip netns exec`, /usr/bin/time, node) joins its host's group before
// it execs, so none of its work escapes the cap. Round A's process runs in
// host 1's group: one host of the same size. The target is not capped. With
// the cap, round A is given a --start-at too (the same delay as B), so both
// begin their schedule after start-up, not with start-up's CPU spent from
// the quota. Also reported: the time the group was throttled during the run
// (cpu.stat throttled_time). The groups go at the end, on error and on SIGINT.
// --ramp <d> is passed to every replay. Without one, a process's first 2-3 s
// of sending took up to twice its steady CPU or more (measured uncapped at
// 6,000 req/s: a host 0.56-0.63 core against 0.25), and under a cap that
// alone made the run invalid; a ramp warms the process up at a low rate.
//
//   npm run build && node bench/shards-netns.mjs [--rate 12000] [--duration 10s] [--hosts 3] [--rounds 2] [--connections shared] [--ramp 20s] [--host-cpu 0.4]
// Shared connections by default: with per-clone ones every session opens a
// connection, and the one target process is the wall long before the clients.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
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
    'host-cpu': { type: 'string' },
    ramp: { type: 'string' },
  },
});
const RATE = Number(values.rate);
const HOSTS = Number(values.hosts);
const ROUNDS = Number(values.rounds);
const TAG = 'fbbench';
const HOST_CPU = values['host-cpu'] === undefined ? undefined : Number(values['host-cpu']);
if (HOST_CPU !== undefined && !(HOST_CPU >= 0.01)) {
  console.error('shards-netns: --host-cpu takes a number of cores, at least 0.01');
  process.exit(2);
}
const CGROOT = '/sys/fs/cgroup/cpu';
const CFS_PERIOD_US = 100_000;
const cgroupOf = (h) => join(CGROOT, `${TAG}-${h}`);

if (process.getuid?.() !== 0) {
  console.error('shards-netns: needs root (ip netns)');
  process.exit(2);
}
if (HOST_CPU !== undefined && !existsSync(join(CGROOT, 'cpu.cfs_quota_us'))) {
  console.error(`shards-netns: --host-cpu needs the cgroup v1 cpu controller at ${CGROOT}`);
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'fb-bench-shards-'));
const rec = await timingRecording('/tmp/flashback-bench');
/** Replay children: each is its own process group (detached), killed whole on cleanup. */
const children = new Set();
let target = null;

/** Kills what is left in a host's cgroup and removes it (rmdir fails while it has tasks). */
function removeCgroup(h) {
  const g = cgroupOf(h);
  for (let i = 0; i < 50 && existsSync(g); i++) {
    for (const pid of readFileSync(join(g, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    try {
      rmdirSync(g);
    } catch {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // its tasks are still exiting
    }
  }
  if (existsSync(g)) console.error(`shards-netns: could not remove ${g}`);
}

let cleanedUp = false;
function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const c of children) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      // exited
    }
  }
  target?.kill('SIGKILL');
  if (HOST_CPU !== undefined) for (let h = 1; h <= HOSTS; h++) removeCgroup(h);
  spawnSync('bash', [SCRIPT, 'down', TAG, String(HOSTS)]);
  rmSync(dir, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`shards-netns: ${sig}, cleaning up`);
    cleanup();
    process.exit(130);
  });
}

spawnSync('bash', [SCRIPT, 'down', TAG, String(HOSTS)]);
const up = spawnSync('bash', [SCRIPT, 'up', TAG, String(HOSTS)], { encoding: 'utf8' });
if (up.status !== 0) {
  console.error(`shards-netns: ${up.stderr.trim()}`);
  cleanup();
  process.exit(3);
}
const net = up.stdout.trim();
if (HOST_CPU !== undefined) {
  for (let h = 1; h <= HOSTS; h++) {
    removeCgroup(h); // a previous run's, if it was killed
    mkdirSync(cgroupOf(h));
    writeFileSync(join(cgroupOf(h), 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
    writeFileSync(join(cgroupOf(h), 'cpu.cfs_quota_us'), String(Math.round(HOST_CPU * CFS_PERIOD_US)));
  }
}
/** Seconds host h's group has been throttled so far (0 uncapped). */
const throttledS = (h) => (HOST_CPU === undefined ? 0 : Number(/throttled_time (\d+)/.exec(readFileSync(join(cgroupOf(h), 'cpu.stat'), 'utf8'))[1]) / 1e9);

const targetSrc = `const s = require('node:http').createServer((q, r) => { r.setHeader('content-type', 'text/plain'); r.end('hello world'); });
  s.keepAliveTimeout = 60000; s.listen(0, '${net}.10', () => console.log(s.address().port));`;
target = spawn('ip', ['netns', 'exec', `${TAG}-t`, process.execPath, '-e', targetSrc], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((ok) => target.stdout.once('data', (c) => ok(String(c).trim())));
const url = `http://${net}.10:${port}`;

/** CPU seconds the target has used so far (/proc utime+stime). */
function targetCpuS() {
  const stat = readFileSync(`/proc/${target.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Runs a replay in host `h` (in its cgroup with --host-cpu); resolves with its run.json figures, CPU and throttled seconds. */
function replayIn(h, extra, out) {
  const args = ['ip', 'netns', 'exec', `${TAG}-${h}`, '/usr/bin/time', '-f', 'cpu %U %S', process.execPath, BIN, 'replay', rec, '--target', url,
    '--scale', String(RATE / TIMING_BASE_RATE), '--duration', values.duration, '--workers', '1', '--connections', values.connections, '--quiet', '--out', out, ...(values.ramp === undefined ? [] : ['--ramp', values.ramp]), ...extra];
  // capped: the shell joins the group, then execs the rest, which inherits it
  const [cmd, argv] = HOST_CPU === undefined ? [args[0], args.slice(1)] : ['sh', ['-c', `echo $$ > ${join(cgroupOf(h), 'cgroup.procs')} && exec "$@"`, 'sh', ...args]];
  const throttled0 = throttledS(h);
  return new Promise((done) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    children.add(child);
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => {
      children.delete(child);
      const throttledSecs = throttledS(h) - throttled0;
      const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      let run = null;
      try {
        run = JSON.parse(readFileSync(out, 'utf8'));
      } catch {
        // no run.json: reported below
      }
      done({ code, cpuS: m ? Number(m[1]) + Number(m[2]) : NaN, throttledS: throttledSecs, run, stderr: stderr.replace(/cpu [\d.]+ [\d.]+\s*$/, '').trim() });
    });
  });
}

const figures = (r) => {
  const secs = r.run.durationUs / 1e6;
  return { valid: r.run.valid, reasons: r.run.invalidReasons, requests: r.run.totals.requests, reqPerS: r.run.totals.requests / secs, sendLagP99Ms: sendLagOf(decodeHistogram, r.run).p99 / 1000, cpuS: r.cpuS, throttledS: r.throttledS };
};
const fmt = (f) => `${f.valid ? 'valid' : 'NOT VALID (' + f.reasons.join('; ') + ')'}, ${f.requests} req, ${Math.round(f.reqPerS)} req/s, send lag p99 ${f.sendLagP99Ms.toFixed(2)} ms, CPU ${f.cpuS.toFixed(2)} s${HOST_CPU === undefined ? '' : `, throttled ${f.throttledS.toFixed(2)} s`}`;

const rows = [];
console.error(`target ${url}; ${HOSTS} hosts; ${RATE} req/s for ${values.duration}; ${cpus().length} cores; ${HOST_CPU === undefined ? 'hosts not capped' : `each host capped at ${HOST_CPU} core (cgroup CPU quota ${Math.round(HOST_CPU * CFS_PERIOD_US)} us per ${CFS_PERIOD_US} us)`}; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${new Date().toISOString()}`);
const START_DELAY_MS = 3_000;
try {
  for (let round = 1; round <= ROUNDS; round++) {
    let tcpu = targetCpuS();
    const one = await replayIn(1, HOST_CPU === undefined ? [] : ['--start-at', new Date(Date.now() + START_DELAY_MS).toISOString()], join(dir, `one-${round}.json`));
    if (!one.run) throw new Error(`one-process run failed (exit ${one.code}): ${one.stderr}`);
    const a = { ...figures(one), targetCpuS: targetCpuS() - tcpu };
    console.error(`round ${round} one process: ${fmt(a)}, target CPU ${a.targetCpuS.toFixed(2)} s${one.run.start ? `, start skew ${(one.run.start.skewUs / 1000).toFixed(2)} ms` : ''}`);
    rows.push({ round, kind: 'one process', ...a });

    const startAt = new Date(Date.now() + START_DELAY_MS).toISOString();
    tcpu = targetCpuS();
    const parts = await Promise.all(
      Array.from({ length: HOSTS }, (_, k) => replayIn(k + 1, ['--shard', `${k + 1}/${HOSTS}`, '--start-at', startAt, '--label', `host${k + 1}`], join(dir, `s${round}-${k + 1}.json`))),
    );
    for (const [k, p] of parts.entries()) {
      if (!p.run) throw new Error(`shard ${k + 1} failed (exit ${p.code}): ${p.stderr}`);
      const f = figures(p);
      console.error(`round ${round} host ${k + 1}: ${fmt(f)}, start skew ${(p.run.start.skewUs / 1000).toFixed(2)} ms`);
      rows.push({ round, kind: `host ${k + 1} of ${HOSTS}`, ...f });
    }
    tcpu = targetCpuS() - tcpu;
    const merged = join(dir, `merged-${round}.json`);
    const m = spawnSync(process.execPath, [BIN, 'report', 'merge', ...parts.map((_, k) => join(dir, `s${round}-${k + 1}.json`)), '--out', merged], { encoding: 'utf8' });
    if (m.status !== 0) throw new Error(`merge failed: ${m.stderr}`);
    const mr = JSON.parse(readFileSync(merged, 'utf8'));
    const secs = mr.durationUs / 1e6;
    const mf = { valid: mr.valid, reasons: mr.invalidReasons, requests: mr.totals.requests, reqPerS: mr.totals.requests / secs, sendLagP99Ms: sendLagOf(decodeHistogram, mr).p99 / 1000, cpuS: parts.reduce((s, p) => s + p.cpuS, 0), throttledS: parts.reduce((s, p) => s + p.throttledS, 0), targetCpuS: tcpu };
    console.error(`round ${round} merged: ${fmt(mf)}, target CPU ${tcpu.toFixed(2)} s`);
    rows.push({ round, kind: `${HOSTS} hosts merged`, ...mf });
  }
} finally {
  cleanup();
}

const capped = HOST_CPU !== undefined;
console.log(`\n\`node bench/shards-netns.mjs --rate ${RATE} --duration ${values.duration} --hosts ${HOSTS} --rounds ${ROUNDS} --connections ${values.connections}${values.ramp === undefined ? '' : ` --ramp ${values.ramp}`}${capped ? ` --host-cpu ${HOST_CPU}` : ''}\`\n`);
console.log(`| round | run | valid | requests | req/s | send lag p99 | CPU s |${capped ? ' throttled s |' : ''} target CPU s |`);
console.log(`|---|---|---|---|---|---|---|${capped ? '---|' : ''}---|`);
for (const r of rows) console.log(`| ${r.round} | ${r.kind} | ${r.valid ? 'yes' : '**no**'} | ${r.requests} | ${Math.round(r.reqPerS)} | ${r.sendLagP99Ms.toFixed(2)} ms | ${r.cpuS.toFixed(2)} |${capped ? ` ${r.throttledS.toFixed(2)} |` : ''} ${r.targetCpuS === undefined ? '' : r.targetCpuS.toFixed(2)} |`);
