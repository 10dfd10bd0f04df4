// Holds 100,000 sessions active at once in one replay process and reports its
// RSS: every session logs in (the server sets a cookie and hands out a cart
// id in JSON), thinks (60 s), then sends two requests that carry the live
// cookie (cookie jar) and the live cart id (correlation). Sessions start
// 400 µs apart (2,500 new sessions/s for 40 s) and think for 60 s, so from
// 40 s to 60 s all of them are between their first and second request.
//
//   npm run build && node bench/replay-sessions.mjs [--sessions 100000] [--think 60] [--gap-us 400]
//
// --connections shared: per-clone connections stay open through the think
// time, so 100,000 clones would hold 100,000 sockets (and the server as many):
// above `ulimit -Hn` here (20,000). Loopback only, bounded: 3 requests a session.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measureChild, pinned } from './replay-fixtures.mjs';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '100000' },
    think: { type: 'string', default: '60' },
    // µs between session starts: 400 is 2,500 new sessions (and logins) per second
    'gap-us': { type: 'string', default: '400' },
    connections: { type: 'string', default: 'shared' },
    'node-flag': { type: 'string', multiple: true, default: [] },
    // seconds after start to write a heap snapshot (in the child's cwd): with --node-flag=--heapsnapshot-signal=SIGUSR2
    'snapshot-at': { type: 'string' },
  },
});
const sessions = Number(values.sessions);
const thinkUs = Number(values.think) * 1e6;
const root = resolve(import.meta.dirname, '..');
const dir = '/tmp/flashback-bench';
mkdirSync(dir, { recursive: true });
const gapUs = Number(values['gap-us']);
const rec = join(dir, `sessions-${sessions}x3-think${values.think}-gap${gapUs}.db`);

if (!existsSync(rec)) {
  const { RecordingWriter } = await import('../dist/store/recording-writer.js');
  const partial = `${rec}.gen`;
  rmSync(partial, { force: true });
  const w = await RecordingWriter.create(partial, { source: 'generated', upstream: null, toolVersion: 'bench', redacted: false });
  const base = {
    host: null, scheme: 'http', requestBody: null, requestBodyBytes: 0, requestBodyTruncated: false, status: 200,
    responseBodyTruncated: false, responseEncoding: null, error: null, errorDetail: null, durationUs: 1_000,
  };
  for (let s = 0; s < sessions; s++) {
    const t = s * gapUs;
    const cart = `c${100000 + s}`;
    const login = Buffer.from(`{"cart":"${cart}"}`);
    const ok = Buffer.from('ok');
    const key = `s${s}`;
    w.add({ ...base, sessionKey: key, seq: 0, startOffsetUs: t, method: 'GET', target: '/login', route: 'GET /login',
      requestHeaders: [['accept', 'application/json']],
      responseHeaders: [['content-type', 'application/json'], ['set-cookie', `sid=r${s}; Path=/`]], responseBody: login, responseBodyBytes: login.length },
      { device: s % 2 ? 'mobile' : 'desktop' });
    for (const [i, path] of [[1, `/cart/${cart}`], [2, `/cart/${cart}/checkout`]]) {
      w.add({ ...base, sessionKey: key, seq: i, startOffsetUs: t + thinkUs + i * 2_000, method: 'GET', target: path,
        route: i === 1 ? 'GET /cart/:id' : 'GET /cart/:id/checkout', requestHeaders: [['accept', '*/*'], ['cookie', `sid=r${s}`]],
        responseHeaders: [['content-type', 'text/plain']], responseBody: ok, responseBodyBytes: ok.length },
        { device: s % 2 ? 'mobile' : 'desktop' });
    }
    if (w.queued - w.written > 50_000) await w.flush();
  }
  await w.close();
  renameSync(partial, rec);
}

// A server that does what the recording says: a cookie and a cart id per login; it counts
// requests whose cookie and cart id are the live ones it handed out (so the jar and the
// correlation are checked, not assumed).
const serverCode = `
  const http = require('node:http');
  let n = 0, good = 0, bad = 0;
  const s = http.createServer((req, res) => {
    if (req.url === '/login') {
      const id = 'L' + (++n);
      res.setHeader('set-cookie', 'sid=' + id + '; Path=/');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ cart: 'cart-' + id }));
      return;
    }
    const m = /^\\/cart\\/cart-(L\\d+)/.exec(req.url);
    if (m && req.headers.cookie === 'sid=' + m[1]) good++; else bad++;
    res.end('ok');
  });
  s.keepAliveTimeout = 120000;
  s.listen(0, '127.0.0.1', () => console.log(s.address().port));
  process.on('SIGTERM', () => { console.log(JSON.stringify({ logins: n, good, bad })); process.exit(0); });`;
const server = spawn('taskset', ['-c', '0', process.execPath, '-e', serverCode], { stdio: ['ignore', 'pipe', 'inherit'] });
const lines = [];
server.stdout.on('data', (d) => lines.push(...String(d).trim().split('\n')));
while (lines.length === 0) await new Promise((r) => setTimeout(r, 50));
const url = `http://127.0.0.1:${lines[0]}`;

const out = join(dir, 'sessions-run.json');
const args = [...values['node-flag'], join(root, 'bin/flashback.js'), 'replay', rec, '--target', url, '--workers', '1', '--jitter', '0',
  '--connections', values.connections, '--quiet', '--out', out, '--max-send-lag', '1h'];
const [cmd, cmdArgs] = pinned('1', process.execPath, args);
const onSpawn = values['snapshot-at'] === undefined ? undefined
  : (child) => setTimeout(() => child.kill('SIGUSR2'), Number(values['snapshot-at']) * 1000);
const m = await measureChild(cmd, cmdArgs, { sampleMs: 1000, fds: true, onSpawn });
server.kill('SIGTERM');
await new Promise((r) => server.on('close', r));
const check = JSON.parse(lines.at(-1));
const run = JSON.parse(readFileSync(out, 'utf8'));
const sp = m.splitSamples;
const peakAnon = Math.max(...sp.map((x) => x[0]));
console.log(`replayed ${run.totals.requests} requests in ${run.totals.sessions} sessions (${sessions} recorded) in ${(run.durationUs / 1e6).toFixed(1)} s, unsent ${run.totals.unsent}, errors ${run.totals.errors}, mismatches ${run.totals.mismatches ?? '?'}, valid ${run.valid}${m.code ? `, exit ${m.code}` : ''}`);
console.log(`server: ${check.logins} logins; ${check.good} later requests carried the live cookie and cart id, ${check.bad} did not`);
console.log(`peak RSS ${m.peakRssMiB.toFixed(0)} MiB, peak RssAnon ${peakAnon.toFixed(0)} MiB, peak open fds ${m.peakFds}, CPU ${m.cpuSeconds.toFixed(1)} s`);
const at = (f) => sp[Math.min(sp.length - 1, Math.floor(f * (sp.length - 1)))];
console.log(`RSS (anon/file) MiB over the run: ${[0.1, 0.25, 0.4, 0.6, 0.8, 1].map((f) => at(f)?.map((v) => v.toFixed(0)).join('/')).join(', ')}`);
if (m.stderr.trim()) console.log(`stderr: ${m.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
