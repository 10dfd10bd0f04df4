// Send timing at fixed rates, the shape users run: thousands of short
// sessions (4 GETs each, 100 ms think time between them, sessions arriving at
// a steady rate) replayed at --scale 1/5/10 of a 1,000 req/s recording (with
// the default 1 s jitter), server pinned to core 0 and the client to core 1.
// For each rate and connection mode: send lag p50/p99/p99.9/max (decoded
// from run.json's histograms), achieved req/s, client CPU per request, the
// mark-compact and scavenge GCs of the run (the child runs with --trace-gc); each
// flashback run is interleaved with `autocannon -R <rate> -c <connections>`
// (the connections flashback held open at its peak, counted by the server, but
// no more than the sessions a user-shaped run holds open at once) and CPU
// per request is printed as a ratio to autocannon's. autocannon has
// no send lag to compare: it does not schedule requests at intended times.
//
//   npm run build && node bench/replay-timing.mjs [--rates 1000,5000,10000] [--connections per-clone,shared]
//     [--rounds 2] [--duration 20s] [--quick] [--flashback bin/flashback.js --flashback /tmp/old/bin/flashback.js]
//     [--no-autocannon] [--no-floor] [-- extra replay flags]
//
// With per-clone connections it also runs bench/floor-client.mjs (a bare Node
// client that opens a connection per session and does nothing else) at the
// same shape: autocannon keeps its connections open for the whole run, so the
// floor shows what Node's own socket lifecycle costs a request.
//
// Several --flashback paths run interleaved in every round (before/after on
// one machine in one run); the first is the one autocannon's ratio uses.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measureChild, median, pinned, sendLagOf, timingRecording, TIMING_BASE_RATE, startCountingServer } from './replay-fixtures.mjs';

const { values, positionals } = parseArgs({
  options: {
    rates: { type: 'string', default: '1000,5000,10000' },
    connections: { type: 'string', default: 'per-clone,shared' },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    quick: { type: 'boolean', default: false },
    flashback: { type: 'string', multiple: true },
    'no-autocannon': { type: 'boolean', default: false },
    'no-floor': { type: 'boolean', default: false },
    'node-flag': { type: 'string', multiple: true, default: [] },
  },
  allowPositionals: true,
});
const root = resolve(import.meta.dirname, '..');
const quick = values.quick;
const rates = (values.rates === '1000,5000,10000' && quick ? '5000' : values.rates).split(',').map(Number);
const modes = values.connections.split(',');
const rounds = Number(values.rounds ?? (quick ? 1 : 2));
// 20 s: shorter runs measure mostly start-up and JIT warm-up (the first ~2 s cost about twice the steady CPU per request)
const duration = values.duration ?? (quick ? '4s' : '20s');
const durationS = Number.parseFloat(duration);
const flashbacks = (values.flashback ?? [join(root, 'bin/flashback.js')]).map((p) => resolve(p));
const withAutocannon = !values['no-autocannon'];
const withFloor = !values['no-floor'];
const { decodeHistogram, initHistograms } = await import(join(root, 'dist/measure/histogram.js'));
await initHistograms();

const dir = '/tmp/flashback-bench';
mkdirSync(dir, { recursive: true });
const BASE_RATE = TIMING_BASE_RATE;
// the timing recording: 1,000 req/s at --scale 1 (sessions of 4 GETs, 100 ms think time)
const rec = await timingRecording(dir);

// A trivial keep-alive server that reports the most connections it had open at once since the last query.
const server = await startCountingServer('0');
const url = server.url;
async function peakConnections() {
  return (await server.counts()).peak;
}


async function flashback(bin, rate, mode, i) {
  const out = join(dir, `timing-${i}.json`);
  await peakConnections();
  const [cmd, args] = pinned('1', process.execPath, ['--trace-gc', ...values['node-flag'], bin, 'replay', rec, '--target', url, '--workers', '1',
    '--scale', String(rate / BASE_RATE), '--duration', duration, '--connections', mode, '--quiet', '--out', out, '--max-send-lag', '1h', ...positionals]);
  const m = await measureChild(cmd, args, { stdout: 'pipe', sampleMs: 1000 });
  if (m.code !== 0 && m.code !== 3) throw new Error(`flashback exited ${m.code}: ${m.stderr}`);
  // --trace-gc lines: "[pid:0x…]  1234 ms: Mark-Compact 21.3 (53.5) -> 12.3 (52.5) MB, 5.30 / 0.01 ms …"
  const gcs = m.stdout.split('\n');
  const markCompacts = gcs.filter((l) => / ms: Mark-Compact /.test(l)).length;
  const scavenges = gcs.filter((l) => / ms: Scavenge /.test(l)).length;
  const run = JSON.parse(readFileSync(out, 'utf8'));
  const n = run.totals.requests;
  return {
    requests: n, errors: run.totals.errors, unsent: run.totals.unsent, reqPerS: n / (run.durationUs / 1e6),
    cpuUsPerReq: (m.cpuSeconds * 1e6) / n, conns: await peakConnections(), markCompacts, scavenges, ...sendLagOf(decodeHistogram, run),
  };
}

/** bench/floor-client.mjs at the same shape: a connection per session, nothing else (per-clone's floor in Node). */
async function floor(rate) {
  await peakConnections();
  const [cmd, args] = pinned('1', process.execPath, [join(root, 'bench/floor-client.mjs'), url, String(rate), String(Math.round(durationS))]);
  const m = await measureChild(cmd, args, { stdout: 'pipe', sampleMs: 1000 });
  const r = JSON.parse(m.stdout);
  return { requests: r.requests, errors: r.errors, reqPerS: r.requests / durationS, cpuUsPerReq: (m.cpuSeconds * 1e6) / r.requests, conns: await peakConnections() };
}

async function autocannon(rate, conns) {
  await peakConnections();
  const ac = join(root, 'node_modules/autocannon/autocannon.js');
  const [cmd, args] = pinned('1', process.execPath, [ac, '-R', String(rate), '-c', String(conns), '-d', String(Math.round(durationS)), '-j', url]);
  const m = await measureChild(cmd, args, { stdout: 'pipe', sampleMs: 1000 });
  const r = JSON.parse(m.stdout);
  const n = r.requests.total;
  return { requests: n, errors: r.errors + r.non2xx, reqPerS: r.requests.average, cpuUsPerReq: (m.cpuSeconds * 1e6) / n, conns: await peakConnections() };
}

const ms = (us) => (us / 1000).toFixed(2);
const results = new Map();
const add = (key, x) => (results.get(key) ?? results.set(key, []).get(key)).push(x);
const label = (bin) => (flashbacks.length > 1 ? `[${flashbacks.indexOf(bin) + 1}]` : '');
console.log(`${rates.join('/')} req/s × ${modes.join(', ')} × ${rounds} round(s) of ${duration}; flashback ${flashbacks.map((b, i) => `[${i + 1}] ${b}`).join(' ')}`);
let i = 0;
for (let r = 0; r < rounds; r++) {
  for (const rate of rates) {
    for (const mode of modes) {
      const order = r % 2 === 0 ? flashbacks : [...flashbacks].reverse();
      let conns = 0;
      for (const bin of order) {
        const x = await flashback(bin, rate, mode, i++);
        conns = Math.max(conns, x.conns);
        add(`${rate} ${mode} ${bin}`, x);
        console.log(`round ${r + 1} ${rate} req/s ${mode.padEnd(9)} flashback${label(bin)} ${x.requests} req (${x.errors} err, ${x.unsent} unsent) ${x.reqPerS.toFixed(0)} req/s  ${x.cpuUsPerReq.toFixed(1)} us CPU/req  ${x.conns} conns  GC ${x.markCompacts} mark-compact ${x.scavenges} scavenge  send lag p50 ${ms(x.p50)} p99 ${ms(x.p99)} p99.9 ${ms(x.p999)} max ${ms(x.max)} ms`);
        if (withAutocannon && bin === flashbacks[0]) {
          // the connections flashback held, but no more than a user-shaped run holds (sessions
          // active at once: rate / 4 requests × ~0.3 s), which a generator that fell behind exceeds
          const acConns = Math.max(1, Math.min(conns, Math.ceil((rate / 4) * 0.31)));
          const a = await autocannon(rate, acConns);
          add(`${rate} ${mode} autocannon`, a);
          console.log(`round ${r + 1} ${rate} req/s ${mode.padEnd(9)} autocannon -c ${acConns}  ${a.requests} req (${a.errors} err) ${a.reqPerS.toFixed(0)} req/s  ${a.cpuUsPerReq.toFixed(1)} us CPU/req`);
        }
        if (withFloor && mode === 'per-clone' && bin === flashbacks[0]) {
          const f = await floor(rate);
          add(`${rate} ${mode} floor`, f);
          console.log(`round ${r + 1} ${rate} req/s ${mode.padEnd(9)} floor-client  ${f.requests} req (${f.errors} err) ${f.reqPerS.toFixed(0)} req/s  ${f.cpuUsPerReq.toFixed(1)} us CPU/req  ${f.conns} conns`);
        }
      }
    }
  }
}
server.close();

console.log(`\nmedians over ${rounds} round(s); send lag in ms; autocannon has no send lag (it does not send at intended times)`);
console.log('rate    connections flashback  req/s   p50    p99    p99.9  max     CPU us/req  vs autocannon  mark-compacts');
for (const rate of rates) {
  for (const mode of modes) {
    const ac = results.get(`${rate} ${mode} autocannon`);
    for (const bin of flashbacks) {
      const xs = results.get(`${rate} ${mode} ${bin}`);
      const med = (k) => median(xs.map((x) => x[k]));
      const ratio = ac ? (med('cpuUsPerReq') / median(ac.map((a) => a.cpuUsPerReq))).toFixed(2) : '-';
      console.log(`${String(rate).padEnd(7)} ${mode.padEnd(11)} ${(label(bin) || '-').padEnd(10)} ${med('reqPerS').toFixed(0).padEnd(7)} ${ms(med('p50')).padEnd(6)} ${ms(med('p99')).padEnd(6)} ${ms(med('p999')).padEnd(6)} ${ms(med('max')).padEnd(7)} ${med('cpuUsPerReq').toFixed(1).padEnd(11)} ${ratio.padEnd(13)} ${med('markCompacts')}`);
    }
    if (ac) console.log(`${String(rate).padEnd(7)} ${mode.padEnd(11)} autocannon ${median(ac.map((a) => a.reqPerS)).toFixed(0).padEnd(7)} ${'-'.padEnd(6)} ${'-'.padEnd(6)} ${'-'.padEnd(6)} ${'-'.padEnd(7)} ${median(ac.map((a) => a.cpuUsPerReq)).toFixed(1)}`);
    const fl = results.get(`${rate} ${mode} floor`);
    if (fl) {
      const fb = median(results.get(`${rate} ${mode} ${flashbacks[0]}`).map((x) => x.cpuUsPerReq));
      const fc = median(fl.map((f) => f.cpuUsPerReq));
      console.log(`${String(rate).padEnd(7)} ${mode.padEnd(11)} floor      ${median(fl.map((f) => f.reqPerS)).toFixed(0).padEnd(7)} ${'-'.padEnd(6)} ${'-'.padEnd(6)} ${'-'.padEnd(6)} ${'-'.padEnd(7)} ${fc.toFixed(1).padEnd(11)} ${ac ? (fc / median(ac.map((a) => a.cpuUsPerReq))).toFixed(2) : '-'} (flashback/floor ${(fb / fc).toFixed(2)})`);
    }
  }
}
