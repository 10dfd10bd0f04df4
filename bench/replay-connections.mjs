// Per-clone connections (the default) vs one shared pool (--connections
// shared) on a recording of many short sessions replayed at --scale 10:
// client CPU per request, peak open file descriptors, connections the server
// accepted, response time p50/p99 and send lag p99. Interleaved rounds.
//
//   npm run build && node bench/replay-connections.mjs [--rounds 2] [--sessions 1000] [--per-session 3] [--session-gap-ms 10] [--scale 10]
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureRecording, measureChild, median, pinned, startCountingServer } from './replay-fixtures.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    sessions: { type: 'string', default: '1000' },
    'per-session': { type: 'string', default: '3' },
    'session-gap-ms': { type: 'string', default: '10' },
    scale: { type: 'string', default: '10' },
  },
});
const sessions = Number(values.sessions);
const perSession = Number(values['per-session']);
const gapMs = Number(values['session-gap-ms']);
const root = resolve(import.meta.dirname, '..');
const dir = '/tmp/flashback-bench';
mkdirSync(dir, { recursive: true });
// requests 2 ms long with 20 ms think time: a session holds its connection ~50 ms
const rec = await ensureRecording(join(dir, `connections-${sessions}x${perSession}-${gapMs}.db`), {
  sessions, perSession, durationUs: 2_000, gapUs: 20_000, sessionGapUs: gapMs * 1000,
});

// a trivial keep-alive server that counts the connections it accepted
const server = await startCountingServer('0');
const url = server.url;
async function serverConns() {
  return (await server.counts()).accepted;
}

async function replay(mode) {
  const out = join(dir, `connections-${mode}.json`);
  const before = await serverConns();
  const [cmd, args] = pinned('1', process.execPath, [join(root, 'bin/flashback.js'), 'replay', rec, '--target', url, '--workers', '1',
    '--scale', values.scale, '--connections', mode, '--quiet', '--out', out, '--max-send-lag', '1h']);
  const m = await measureChild(cmd, args, { fds: true, sampleMs: 100 });
  const run = JSON.parse(readFileSync(out, 'utf8'));
  const n = run.totals.requests;
  const p = (k) => Math.max(...run.segments.map((s) => s[k]));
  return {
    mode, requests: n, errors: run.totals.errors, cpuUsPerReq: (m.cpuSeconds * 1e6) / n, peakFds: m.peakFds,
    conns: (await serverConns()) - before, p50: p('p50'), p99: p('p99'), lagP99: run.totals.sendLagP99Us, wall: m.wallSeconds,
  };
}

const rows = { 'per-clone': [], shared: [] };
for (let r = 0; r < Number(values.rounds); r++) {
  for (const mode of r % 2 === 0 ? ['per-clone', 'shared'] : ['shared', 'per-clone']) {
    const x = await replay(mode);
    rows[mode].push(x);
    console.log(`round ${r + 1} ${mode.padEnd(9)} ${x.requests} req (${x.errors} errors)  ${x.cpuUsPerReq.toFixed(1)} us CPU/req  peak fds ${x.peakFds}  server accepted ${x.conns} connections  p50 ${(x.p50 / 1000).toFixed(2)} ms  p99 ${(x.p99 / 1000).toFixed(2)} ms  send lag p99 ${(x.lagP99 / 1000).toFixed(2)} ms  wall ${x.wall.toFixed(1)} s`);
  }
}
server.close();
const med = (mode, k) => median(rows[mode].map((x) => x[k]));
console.log(`\n${sessions} sessions × ${perSession} requests, ${gapMs} ms apart, --scale ${values.scale} (medians)`);
for (const mode of ['per-clone', 'shared']) {
  console.log(`${mode.padEnd(9)} ${med(mode, 'cpuUsPerReq').toFixed(1)} us CPU/req, peak fds ${med(mode, 'peakFds')}, ${med(mode, 'conns')} connections, p50 ${(med(mode, 'p50') / 1000).toFixed(2)} ms, p99 ${(med(mode, 'p99') / 1000).toFixed(2)} ms`);
}
console.log(`CPU per request per-clone/shared: ${(med('per-clone', 'cpuUsPerReq') / med('shared', 'cpuUsPerReq')).toFixed(2)}`);
