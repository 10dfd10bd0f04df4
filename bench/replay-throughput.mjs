// flashback replay vs autocannon against a trivial keep-alive server on
// loopback: same connections, interleaved A/B rounds; req/s and client CPU
// per request (CPU time of the client process, from /proc). Server pinned to
// core 0, clients to core 1.
//
//   npm run build && node bench/replay-throughput.mjs [--rounds 3] [--requests 200000] [--connections 50]
import { readFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureRecording, measureChild, median, pinned, startTrivialServer } from './replay-fixtures.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '100000' },
    connections: { type: 'string', default: '50' },
    scale: { type: 'string', default: '10' },
  },
});
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const scale = Number(values.scale);
const sessions = Math.ceil(connections / scale);
const perSession = Math.ceil(Number(values.requests) / (sessions * scale));
const requests = perSession * sessions * scale;
const root = resolve(import.meta.dirname, '..');
const dir = '/tmp/flashback-bench';
mkdirSync(dir, { recursive: true });

// connections/scale sessions, each a chain of GETs with no think time, replayed
// at --scale: one clone per connection, so the replay keeps `connections`
// requests in flight, like autocannon -c (each exchange is read once, sent
// `scale` times, as in a real scaled replay).
const rec = await ensureRecording(join(dir, `throughput-${sessions}x${perSession}.db`), { sessions, perSession, durationUs: 100, gapUs: 0, sessionGapUs: 1 });
const server = await startTrivialServer('0');

async function flashback() {
  const out = join(dir, 'throughput-run.json');
  const [cmd, args] = pinned('1', process.execPath, [join(root, 'bin/flashback.js'), 'replay', rec, '--target', server.url, '--workers', '1', '--scale', String(scale), '--concurrency', String(connections), '--jitter', '0', '--quiet', '--out', out, '--max-send-lag', '1h']);
  const m = await measureChild(cmd, args);
  const run = JSON.parse(readFileSync(out, 'utf8'));
  if (run.totals.requests !== requests || run.totals.errors > 0) throw new Error(`flashback sent ${run.totals.requests} (errors ${run.totals.errors}), expected ${requests}: ${m.stderr}`);
  return { ...m, requests, p99Us: run.segments.reduce((a, s) => Math.max(a, s.p99), 0), runSeconds: run.durationUs / 1e6 };
}

async function autocannon() {
  const [cmd, args] = pinned('1', process.execPath, [join(root, 'node_modules/autocannon/autocannon.js'), '-c', String(connections), '-a', String(requests), '--json', `${server.url}/item/1?i=1`]);
  const m = await measureChild(cmd, args, { stdout: 'pipe' });
  return { ...m, requests };
}

// Start-up CPU of each client (loading its modules), to report CPU per request without it too.
async function startupCpu(script) {
  const [cmd, args] = pinned('1', process.execPath, [script, '--version']);
  const samples = [];
  for (let i = 0; i < 3; i++) samples.push((await measureChild(cmd, args)).cpuSeconds);
  return median(samples);
}
const startup = {
  flashback: await startupCpu(join(root, 'bin/flashback.js')),
  autocannon: await startupCpu(join(root, 'node_modules/autocannon/autocannon.js')),
};

const rows = { flashback: [], autocannon: [] };
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? ['flashback', 'autocannon'] : ['autocannon', 'flashback'];
  for (const tool of order) {
    const m = tool === 'flashback' ? await flashback() : await autocannon();
    const row = {
      reqPerSec: m.requests / m.wallSeconds,
      cpuUsPerReq: (m.cpuSeconds * 1e6) / m.requests,
      reqPerCpuSec: m.requests / m.cpuSeconds,
      reqPerCpuSecNoStartup: m.requests / Math.max(m.cpuSeconds - startup[tool], 1e-3),
      wall: m.wallSeconds,
      cpu: m.cpuSeconds,
    };
    rows[tool].push(row);
    console.log(`round ${r + 1} ${tool.padEnd(10)} ${row.reqPerSec.toFixed(0).padStart(7)} req/s  ${row.cpuUsPerReq.toFixed(1).padStart(6)} us CPU/req  ${row.reqPerCpuSec.toFixed(0).padStart(7)} req/CPU-s  (wall ${row.wall.toFixed(2)} s, cpu ${row.cpu.toFixed(2)} s)`);
  }
}
server.close();
const med = (tool, k) => median(rows[tool].map((x) => x[k]));
console.log(`\n${requests} requests, ${connections} connections, ${rounds} interleaved rounds (medians; wall and CPU include process start-up)`);
for (const tool of ['flashback', 'autocannon']) {
  console.log(
    `${tool.padEnd(10)} ${med(tool, 'reqPerSec').toFixed(0)} req/s, ${med(tool, 'cpuUsPerReq').toFixed(1)} us CPU per request, ` +
      `${med(tool, 'reqPerCpuSec').toFixed(0)} req per CPU-second (${med(tool, 'reqPerCpuSecNoStartup').toFixed(0)} without its ${startup[tool].toFixed(2)} s start-up)`,
  );
}
const ratio = (k) => (med('flashback', k) / med('autocannon', k)).toFixed(2);
console.log(`ratio flashback/autocannon: req/s ${ratio('reqPerSec')}, req per CPU-second ${ratio('reqPerCpuSec')} (${ratio('reqPerCpuSecNoStartup')} without start-up)`);
