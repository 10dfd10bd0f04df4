// flashback's lean HTTP client vs undici vs autocannon: client CPU per request
// at a fixed rate (~4,600 req/s: --speed 0.125, autocannon -R) and flat out
// (--speed 1000 --concurrency 50, autocannon -a), per-clone and shared
// connections. Trivial keep-alive server pinned to core 0, clients to core 1,
// interleaved rounds (the order rotates each round); CPU is the client
// process's (user + sys, from /proc), start-up included.
//
//   npm run build && node bench/replay-http-client.mjs [--rounds 2] [--which fixed,max] [--sessions 100] [--scale 30]
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureRecording, measureChild, median, pinned, startTrivialServer } from './replay-fixtures.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    which: { type: 'string', default: 'fixed,max' },
    sessions: { type: 'string', default: '100' },
    scale: { type: 'string', default: '30' },
    rate: { type: 'string', default: '4600' },
  },
});
const rounds = Number(values.rounds);
const sessions = Number(values.sessions);
const scale = Number(values.scale);
const rate = Number(values.rate);
const perSession = 10;
const requests = sessions * perSession * scale;
const speed = 0.125;
const jitterS = 1;
// sessions of 10 GETs 1 ms apart; session starts spaced so the replay at --speed 0.125 (plus 1 s
// of jitter) runs at about --rate requests per second
const sessionGapUs = Math.round(((requests / rate - jitterS) * speed * 1e6) / sessions);
const root = resolve(import.meta.dirname, '..');
const dir = '/tmp/flashback-bench';
mkdirSync(dir, { recursive: true });
const rec = await ensureRecording(join(dir, `http-client-${sessions}x${perSession}-${sessionGapUs}.db`), {
  sessions, perSession, durationUs: 100, gapUs: 1_000, sessionGapUs,
});
const server = await startTrivialServer('0');
// the server child shares our stderr: never leave it behind
process.on('exit', () => server.close());
process.on('uncaughtException', (e) => {
  console.error(e);
  process.exit(1);
});

async function flashback(client, connections, flat) {
  const out = join(dir, `http-client-${client}-${connections}.json`);
  const pace = flat ? ['--speed', '1000', '--concurrency', '50'] : ['--speed', String(speed)];
  const [cmd, args] = pinned('1', process.execPath, [join(root, 'bin/flashback.js'), 'replay', rec, '--target', server.url, '--workers', '1',
    '--scale', String(scale), '--connections', connections, '--http-client', client, ...pace, '--quiet', '--out', out, '--max-send-lag', '1h']);
  const m = await measureChild(cmd, args);
  const run = JSON.parse(readFileSync(out, 'utf8'));
  if (run.totals.requests !== requests) throw new Error(`${client} ${connections}: ${run.totals.requests} requests, expected ${requests}: ${m.stderr}`);
  const kinds = Object.entries(run.totals.errors > 0 ? run.segments.reduce((a, s) => {
    for (const [k, n] of Object.entries(s.byErrorKind)) a[k] = (a[k] ?? 0) + n;
    return a;
  }, {}) : {}).map(([k, n]) => `${n} ${k}`).join(', ');
  return { ...m, requests, lagP99Us: run.totals.sendLagP99Us, errors: kinds };
}

async function autocannon(flat) {
  const pace = flat ? [] : ['-R', String(rate)];
  const [cmd, args] = pinned('1', process.execPath, [join(root, 'node_modules/autocannon/autocannon.js'), '-c', '50', '-a', String(requests), ...pace, '--json', `${server.url}/item/1?i=1`]);
  const m = await measureChild(cmd, args, { stdout: 'pipe' });
  return { ...m, requests, lagP99Us: null, errors: '' };
}

const tools = [
  ['lean per-clone', (flat) => flashback('lean', 'per-clone', flat)],
  ['undici per-clone', (flat) => flashback('undici', 'per-clone', flat)],
  ['lean shared', (flat) => flashback('lean', 'shared', flat)],
  ['undici shared', (flat) => flashback('undici', 'shared', flat)],
  ['autocannon', (flat) => autocannon(flat)],
];

for (const which of values.which.split(',')) {
  const flat = which === 'max';
  const rows = Object.fromEntries(tools.map(([name]) => [name, []]));
  console.log(`\n== ${flat ? 'flat out (--speed 1000 --concurrency 50; autocannon -c 50 -a)' : `fixed rate ~${rate} req/s (--speed ${speed}; autocannon -c 50 -R ${rate})`}, ${requests} requests`);
  for (let r = 0; r < rounds; r++) {
    const k = r % tools.length;
    for (const [name, run] of [...tools.slice(k), ...tools.slice(0, k)]) {
      const m = await run(flat);
      const row = { cpuUsPerReq: (m.cpuSeconds * 1e6) / m.requests, reqPerSec: m.requests / m.wallSeconds, cpu: m.cpuSeconds, wall: m.wallSeconds, lag: m.lagP99Us };
      rows[name].push(row);
      console.log(`round ${r + 1} ${name.padEnd(16)} ${row.cpuUsPerReq.toFixed(1).padStart(6)} us CPU/req  cpu ${row.cpu.toFixed(2)} s  wall ${row.wall.toFixed(2)} s  ${row.reqPerSec.toFixed(0)} req/s${row.lag === null ? '' : `  send lag p99 ${(row.lag / 1000).toFixed(1)} ms`}${m.errors ? `  errors: ${m.errors}` : ''}`);
    }
  }
  const med = (name) => median(rows[name].map((x) => x.cpuUsPerReq));
  const ac = med('autocannon');
  console.log(`medians (${rounds} rounds): ` + tools.map(([name]) => `${name} ${med(name).toFixed(1)} us`).join(', '));
  console.log(`ratio to autocannon: ` + tools.slice(0, 4).map(([name]) => `${name} ${(med(name) / ac).toFixed(2)}x`).join(', '));
  console.log(`lean/undici: per-clone ${(med('lean per-clone') / med('undici per-clone')).toFixed(2)}x, shared ${(med('lean shared') / med('undici shared')).toFixed(2)}x`);
}
server.close();
