// Does pairing (`replay --against`) cost send timing? A paired run at --scale S
// sends 2 × S × 1,000 req/s (each request to both targets); it is compared with
// a plain run at --scale 2S against one target: the same total request rate
// from one generator thread. Two trivial keep-alive servers pinned to core 0,
// the client to core 1; runs interleaved, medians over the rounds. Send lag
// p50/p99/p99.9/max decoded from run.json's histograms (both sides of the
// paired run), client CPU per request.
//
//   npm run build && node bench/replay-paired.mjs [--rate 4000] [--rounds 2] [--duration 15s] [--connections per-clone]
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measureChild, median, pinned, sendLagOf, timingRecording, TIMING_BASE_RATE, startTrivialServer } from './replay-fixtures.mjs';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '4000' },
    rounds: { type: 'string', default: '2' },
    duration: { type: 'string', default: '15s' },
    connections: { type: 'string', default: 'per-clone' },
  },
});
const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin/flashback.js');
const { decodeHistogram, initHistograms } = await import(join(root, 'dist/measure/histogram.js'));
await initHistograms();
const dir = '/tmp/flashback-bench';
mkdirSync(dir, { recursive: true });
const BASE_RATE = TIMING_BASE_RATE;
// the timing recording: 1,000 req/s at --scale 1 (sessions of 4 GETs, 100 ms think time)
const rec = await timingRecording(dir);
const rate = Number(values.rate);
const a = await startTrivialServer('0');
const b = await startTrivialServer('0');


async function run(paired, i) {
  const out = join(dir, `paired-${i}.json`);
  const scale = (paired ? rate / 2 : rate) / BASE_RATE;
  const [cmd, args] = pinned('1', process.execPath, [bin, 'replay', rec, '--target', a.url, ...(paired ? ['--against', b.url] : []),
    '--workers', '1', '--scale', String(scale), '--duration', values.duration, '--connections', values.connections,
    '--quiet', '--out', out, '--max-send-lag', '1h']);
  const m = await measureChild(cmd, args);
  if (m.code !== 0 && m.code !== 3) throw new Error(`flashback exited ${m.code}: ${m.stderr}`);
  const r = JSON.parse(readFileSync(out, 'utf8'));
  const requests = r.totals.requests + (r.against?.totals.requests ?? 0);
  return {
    requests, reqPerS: requests / (r.durationUs / 1e6), cpuUsPerReq: (m.cpuSeconds * 1e6) / requests,
    lag: sendLagOf(decodeHistogram, r), againstLag: r.against ? sendLagOf(decodeHistogram, r.against) : null,
  };
}

const ms = (us) => (us / 1000).toFixed(2);
const lagText = (l) => `p50 ${ms(l.p50)} p99 ${ms(l.p99)} p99.9 ${ms(l.p999)} max ${ms(l.max)} ms`;
const rows = { plain: [], paired: [] };
console.log(`${rate} req/s in total from one thread, ${values.connections}, ${values.rounds} round(s) of ${values.duration}`);
let i = 0;
for (let r = 0; r < Number(values.rounds); r++) {
  for (const paired of r % 2 === 0 ? [false, true] : [true, false]) {
    const x = await run(paired, i++);
    rows[paired ? 'paired' : 'plain'].push(x);
    const name = paired ? `paired --scale ${rate / 2 / BASE_RATE} (×2 targets)` : `plain  --scale ${rate / BASE_RATE}`;
    console.log(`round ${r + 1} ${name}: ${x.requests} req ${x.reqPerS.toFixed(0)} req/s ${x.cpuUsPerReq.toFixed(1)} us CPU/req  send lag ${lagText(x.lag)}` +
      (x.againstLag ? `  | against ${lagText(x.againstLag)}` : ''));
  }
}
a.close();
b.close();
const med = (xs, f) => median(xs.map(f));
console.log('\nmedians');
for (const [name, xs] of Object.entries(rows)) {
  const lag = (f) => ({ p50: med(xs, (x) => f(x).p50), p99: med(xs, (x) => f(x).p99), p999: med(xs, (x) => f(x).p999), max: med(xs, (x) => f(x).max) });
  console.log(`${name.padEnd(6)} ${med(xs, (x) => x.reqPerS).toFixed(0)} req/s  ${med(xs, (x) => x.cpuUsPerReq).toFixed(1)} us CPU/req  send lag ${lagText(lag((x) => x.lag))}` +
    (name === 'paired' ? `  | against ${lagText(lag((x) => x.againstLag))}` : ''));
}
