// Where send lag comes from: runs one fixed-rate replay (replay-timing's
// recording and server, pinned) with a probed copy of the runner, and splits
// the lag of the late requests (those at or above the run's send lag p99, and
// those over --late) by what the thread was doing between each request's
// intended and actual send time:
//
//   gc        a V8 pause (PerformanceObserver 'gc' entries)
//   read      asking the plan for the next clone (it reads the session from the recording; pull, advance)
//   start     starting a clone
//   send      dispatching other requests first
//   wait      the runner's own blocking wait (oversleeping)
//   response  recording a response (finish)
//   tick      the rest of the runner's tick
//   other     everything else: undici parsing responses, connecting, timers firing late,
//             the thread waiting for its core (other processes), idle
//
// The probe wraps the runner's methods (ReplayRunner.finish, advance, startClone,
// dispatch, wait, tick) in a copy of the build under /tmp, so it measures the
// build it is pointed at, and slows it a little (a timestamp pair per call).
//
//   npm run build && node bench/replay-lag-sources.mjs [--rate 5000] [--connections shared] [--duration 8s]
//     [--late 1] [--flashback bin/flashback.js] [-- extra replay flags]
//   node bench/replay-lag-sources.mjs --recording reports/demo/recording.db --target http://127.0.0.1:3000 -- --scale 10
//     (another recording and target; later replay flags win over --rate's --scale)
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureRecording, measureChild, pinned, startTrivialServer } from './replay-fixtures.mjs';

const { values, positionals } = parseArgs({
  options: {
    rate: { type: 'string', default: '5000' },
    connections: { type: 'string', default: 'shared' },
    duration: { type: 'string', default: '8s' },
    late: { type: 'string', default: '1' },
    flashback: { type: 'string' },
    recording: { type: 'string' },
    target: { type: 'string' },
  },
  allowPositionals: true,
});
const root = resolve(import.meta.dirname, '..');
const fbRoot = resolve(dirname(resolve(values.flashback ?? join(root, 'bin/flashback.js'))), '..');
const probe = '/tmp/flashback-lag-probe';
rmSync(probe, { recursive: true, force: true });
mkdirSync(probe);
for (const d of ['dist', 'bin', 'package.json']) cpSync(join(fbRoot, d), join(probe, d), { recursive: true });
symlinkSync(existsSync(join(fbRoot, 'node_modules')) ? join(fbRoot, 'node_modules') : join(root, 'node_modules'), join(probe, 'node_modules'));

// Probe: every wrapped method logs [kind, startMs, endMs]; each dispatch logs [intendedMs, sentMs].
const runnerJs = join(probe, 'dist/replay/replay-runner.js');
let js = readFileSync(runnerJs, 'utf8');
const out = join(probe, 'probe.json');
js = js.replace(/^((?:import [^\n]*\n)+)/m, `$1
import { PerformanceObserver as __PO } from 'node:perf_hooks';
import { writeFileSync as __write } from 'node:fs';
const __log = [];
const __lags = [];
new __PO((l) => { for (const e of l.getEntries()) __log.push('gc', e.startTime, e.startTime + e.duration); }).observe({ entryTypes: ['gc'] });
process.on('exit', () => __write(${JSON.stringify(out)}, JSON.stringify({ log: __log, lags: __lags })));
`);
const kinds = { finish: 'response', advance: 'read', pull: 'read', startClone: 'start', dispatch: 'send', wait: 'wait', tick: 'tick' };
for (const [method, kind] of Object.entries(kinds)) {
  const re = new RegExp(`\\n    ${method}\\(([^)]*)\\) \\{\\n`);
  if (!re.test(js)) {
    console.log(`(probe: no ${method}() in this build; its time counts as "other" or "tick")`);
    continue;
  }
  js = js.replace(re, (_m, args) => `\n    ${method}(${args}) { const __t = performance.now(); try { return this.__${method}(${args}); } finally { __log.push('${kind}', __t, performance.now()); } }\n    __${method}(${args}) {\n`);
}
const sent = 'slot.sentUs = now < intendedUs ? intendedUs : now;';
if (!js.includes(sent)) throw new Error(`probe: no "${sent}" in ${runnerJs}`);
js = js.replace(sent, `${sent} __lags.push(this.t0 + intendedUs / 1000, this.t0 + now / 1000);`);
writeFileSync(runnerJs, js);

const dir = '/tmp/flashback-bench';
mkdirSync(dir, { recursive: true });
const rec = values.recording ?? await ensureRecording(join(dir, 'timing-1000x4.db'), {
  sessions: 1000, perSession: 4, durationUs: 1_000, gapUs: 100_000, sessionGapUs: 4_000,
});
const server = values.target === undefined ? await startTrivialServer('0') : { url: values.target, close() {} };
const [cmd, args] = pinned('1', process.execPath, [join(probe, 'bin/flashback.js'), 'replay', rec, '--target', server.url, '--workers', '1',
  '--scale', String(Number(values.rate) / 1000), '--duration', values.duration, '--connections', values.connections,
  '--quiet', '--out', join(probe, 'run.json'), '--max-send-lag', '1h', ...positionals]);
const m = await measureChild(cmd, args, {});
server.close();
if (m.code !== 0 && m.code !== 3) throw new Error(`replay exited ${m.code}: ${m.stderr}`);

const { log, lags } = JSON.parse(readFileSync(out, 'utf8'));
// Paint a 10 µs timeline with the innermost activity (gc over everything, then the runner's parts, tick last).
const STEP = 0.01;
const order = ['gc', 'read', 'start', 'send', 'wait', 'response', 'tick'];
let t0 = Infinity;
let t1 = 0;
for (let i = 0; i < lags.length; i += 2) {
  t0 = Math.min(t0, lags[i]);
  t1 = Math.max(t1, lags[i + 1]);
}
const paint = new Uint8Array(Math.ceil((t1 - t0) / STEP) + 1); // 0 = other
for (let k = order.length - 1; k >= 0; k--) {
  for (let i = 0; i < log.length; i += 3) {
    if (log[i] !== order[k]) continue;
    const a = Math.max(0, Math.floor((log[i + 1] - t0) / STEP));
    const b = Math.min(paint.length, Math.ceil((log[i + 2] - t0) / STEP));
    for (let j = a; j < b; j++) paint[j] = k + 1;
  }
}
const n = lags.length / 2;
const lagOf = (i) => lags[2 * i + 1] - lags[2 * i];
const sorted = Array.from({ length: n }, (_, i) => lagOf(i)).sort((a, b) => a - b);
const pct = (p) => sorted[Math.min(n - 1, Math.floor((p / 100) * n))];
const warmMs = 1000; // the first second (start-up, jitter ramp) is left out of the split
function split(pick) {
  const sums = new Float64Array(order.length + 1);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (lags[2 * i] - t0 < warmMs || !pick(lagOf(i))) continue;
    count++;
    const a = Math.floor((lags[2 * i] - t0) / STEP);
    const b = Math.floor((lags[2 * i + 1] - t0) / STEP);
    for (let j = a; j < b; j++) sums[paint[j]]++;
  }
  const total = sums.reduce((x, y) => x + y, 0) || 1;
  const parts = ['other', ...order].map((k, i) => `${k} ${((sums[i] / total) * 100).toFixed(0)}%`).join(', ');
  return `${count} requests: ${parts}`;
}
const ms = (x) => x.toFixed(2);
console.log(`${n} requests at ${values.recording ? 'the given plan' : `${values.rate} req/s`} (${values.connections}), ${(m.cpuSeconds * 1e6 / n).toFixed(0)} us CPU/req with the probe; send lag p50 ${ms(pct(50))} p99 ${ms(pct(99))} p99.9 ${ms(pct(99.9))} max ${ms(sorted[n - 1])} ms`);
const p99 = pct(99);
console.log(`lag of the requests at or above p99 (${ms(p99)} ms), after the first second: ${split((l) => l >= p99)}`);
console.log(`lag of the requests over ${values.late} ms, after the first second: ${split((l) => l > Number(values.late))}`);
const gcs = [];
for (let i = 0; i < log.length; i += 3) if (log[i] === 'gc') gcs.push(log[i + 2] - log[i + 1]);
gcs.sort((a, b) => a - b);
console.log(`GC pauses: ${gcs.length}, total ${ms(gcs.reduce((a, b) => a + b, 0))} ms, longest ${ms(gcs.at(-1) ?? 0)} ms`);
