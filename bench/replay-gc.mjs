// Counts the garbage collections of a steady fixed-rate replay: the shape
// users run (thousands of short sessions, open arrivals), not a few long
// sessions flat out. The replay child runs with --trace-gc; every
// Mark-Compact and Scavenge line is counted with its pause and reason.
//
//   npm run build && node bench/replay-gc.mjs [--duration 60s] [--speed 2] [--connections per-clone] [--verbose]
//
// The recording is bench/replay-memory's (100,000 sessions of 10 GETs,
// sessions 4 ms apart, 5 ms per request cycle: 2,500 req/s at speed 1), so
// --speed 2 is ~5,000 req/s in ~500 new sessions per second, each ~25 ms long.
// Counts are robust on a shared machine; pause times are not (reported, not judged).
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureRecording, measureChild, pinned, startTrivialServer } from './replay-fixtures.mjs';

// anything after `--` goes to the replay: node bench/replay-gc.mjs -- --jitter 0
const { values, positionals } = parseArgs({
  options: {
    duration: { type: 'string', default: '60s' },
    speed: { type: 'string', default: '2' },
    connections: { type: 'string', default: 'per-clone' },
    'node-flag': { type: 'string', multiple: true, default: [] },
    verbose: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const root = resolve(import.meta.dirname, '..');
const dir = '/tmp/flashback-bench';
mkdirSync(dir, { recursive: true });
const rec = await ensureRecording(join(dir, 'memory-100000x10.db'), {
  sessions: 100_000, perSession: 10, durationUs: 2_000, gapUs: 3_000, sessionGapUs: 4_000,
});

const server = await startTrivialServer('0');
const out = join(dir, 'gc-run.json');
const args = [
  '--trace-gc', ...values['node-flag'], join(root, 'bin/flashback.js'), 'replay', rec, '--target', server.url,
  '--workers', '1', '--speed', values.speed, '--duration', values.duration, '--connections', values.connections,
  '--quiet', '--out', out, '--max-send-lag', '1h', ...positionals,
];
const [cmd, cmdArgs] = pinned('1', process.execPath, args);
const m = await measureChild(cmd, cmdArgs, { sampleMs: 1000, stdout: 'pipe' });
server.close();

// [pid:0x…]   12345 ms: Scavenge 10.1 (12.3) -> 9.5 (13.3) MB, 1.23 / 0.00 ms  (average mu = …) allocation failure;
const line = /(\d+) ms: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Sweep)[^,]*? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ ([\d.]+) ms\s+(?:\([^)]*\)\s*)*(.*)$/;
const kinds = new Map();
const reasons = new Map();
const marks = [];
for (const l of m.stdout.split('\n')) {
  const g = line.exec(l);
  if (!g) continue;
  const kind = g[2];
  const pause = Number(g[7]);
  const k = kinds.get(kind) ?? { count: 0, pauseMs: 0, maxMs: 0 };
  k.count++;
  k.pauseMs += pause;
  k.maxMs = Math.max(k.maxMs, pause);
  kinds.set(kind, k);
  if (kind !== 'Scavenge') {
    const reason = g[9].replace(/;?\s*$/, '');
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    marks.push(`${g[1]} ms: ${kind} ${g[3]} -> ${g[5]} MB heap, ${pause} ms: ${reason}`);
  }
}
const run = JSON.parse(readFileSync(out, 'utf8'));
const secs = run.durationUs / 1e6;
console.log(`replayed ${run.totals.requests} requests in ${run.totals.sessions} sessions in ${secs.toFixed(1)} s (${(run.totals.requests / secs).toFixed(0)} req/s), --connections ${values.connections}, errors ${run.totals.errors}, valid ${run.valid}`);
console.log(`CPU ${m.cpuSeconds.toFixed(1)} s, peak RSS ${m.peakRssMiB.toFixed(0)} MiB, send lag p99 ${(run.totals.sendLagP99Us / 1000).toFixed(2)} ms (a run behind its schedule keeps sessions alive longer: not steady)`);
for (const [kind, k] of kinds) {
  console.log(`${kind}: ${k.count} (${(k.count * 60 / secs).toFixed(1)} per 60 s of replay), pauses total ${k.pauseMs.toFixed(0)} ms, max ${k.maxMs.toFixed(1)} ms`);
}
if (!kinds.has('Mark-Compact')) console.log('Mark-Compact: 0');
for (const [r, n] of reasons) console.log(`  ${n} × ${r}`);
if (values.verbose) for (const x of marks) console.log(`  ${x}`);
