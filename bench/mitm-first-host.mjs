#!/usr/bin/env node
// Benchmark: how long the recorder's event loop is blocked by the first request
// to a new host through `record --forward --mitm` (a script, not a test;
// numbers are reported, not asserted).
//
// The recorder runs in its own process (dist/record/start-recording.js, as the
// CLI runs it) with a 1 ms tick-gap probe (setInterval) and
// perf_hooks.monitorEventLoopDelay({ resolution: 1 }). For each of N new
// hosts (127.0.0.2, 127.0.0.3, … each an HTTPS target on port 0), this
// process asks the recorder to reset its probes, sends one HTTPS request
// through the proxy (CONNECT + TLS with a certificate the recorder must
// issue for that host), then reads the longest block seen. A second request
// to the same host over a new tunnel (certificate already cached: the same
// TLS handshake, no issuing) is the baseline.
//
// Usage: npm run build && node bench/mitm-first-host.mjs [--hosts 30] [--json]
import { fork } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { ProxyAgent, request } from 'undici';

const ROOT = resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);

if (argv[0] === '--child') await child(argv[1], argv[2]);
else await main();

function arg(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
}

/** The recorder process: proxy + probes, driven over IPC. */
async function child(caDir, out) {
  const { startRecording } = await import(join(ROOT, 'dist/record/start-recording.js'));
  const rec = await startRecording({
    target: null, forward: true, host: '127.0.0.1', port: 0, out, maxBodyBytes: 65536,
    sessionKey: { kind: 'none' }, routes: [], cohortRules: [], redact: false, insecure: true,
    mitmCaDir: caDir, overwrite: true, toolVersion: 'bench',
  });
  let last = performance.now();
  let maxGap = 0;
  setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  process.on('message', async (m) => {
    if (m === 'mark') {
      last = performance.now();
      maxGap = 0;
      eld.reset();
      process.send('marked');
    } else if (m === 'read') {
      process.send({ gapMs: maxGap, eldMaxMs: eld.max / 1e6 });
    } else if (m === 'stop') {
      await rec.stop();
      process.exit(0);
    }
  });
  process.send({ url: rec.url });
}

function ask(proc, message, want) {
  return new Promise((res) => {
    const on = (m) => {
      if (want(m)) {
        proc.off('message', on);
        res(m);
      }
    };
    proc.on('message', on);
    if (message !== null) proc.send(message);
  });
}

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: q(0.5), p90: q(0.9), max: s[s.length - 1] };
}

async function main() {
  const N = Number(arg('hosts', 30));
  const dir = mkdtempSync(join(tmpdir(), 'fb-bench-mitm-'));
  const { createCa, certForHost } = await import(join(ROOT, 'dist/record/ca.js'));
  const trusted = createCa(join(dir, 'ca')).certPem;
  const staging = createCa(join(dir, 'staging'));
  const tlsOptions = await certForHost(staging, '127.0.0.1'); // sync before issue 9, async after
  const targets = [];
  for (let k = 0; k < N; k++) {
    const server = createServer(tlsOptions, (_req, res) => res.end('ok'));
    await new Promise((r) => server.listen(0, `127.0.0.${k + 2}`, r));
    targets.push({ server, origin: `https://127.0.0.${k + 2}:${server.address().port}` });
  }
  const proc = fork(import.meta.filename, ['--child', join(dir, 'ca'), join(dir, 'rec.db')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { url } = await ask(proc, null, (m) => typeof m === 'object' && m.url);
  const first = [];
  const warm = [];
  const once = async (origin) => {
    await ask(proc, 'mark', (m) => m === 'marked');
    const agent = new ProxyAgent({ uri: url, requestTls: { ca: trusted } });
    const res = await request(`${origin}/`, { dispatcher: agent });
    const body = await res.body.text();
    await agent.close();
    if (res.statusCode !== 200 || body !== 'ok') throw new Error(`unexpected answer ${res.statusCode} ${body}`);
    return ask(proc, 'read', (m) => typeof m === 'object' && 'gapMs' in m);
  };
  for (const t of targets) {
    first.push(await once(t.origin));
    warm.push(await once(t.origin));
  }
  proc.send('stop');
  await new Promise((r) => proc.once('exit', r));
  for (const t of targets) t.server.close();
  rmSync(dir, { recursive: true, force: true });

  const head = execFileSync('git', ['-C', ROOT, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', 'src'], { encoding: 'utf8' }).trim() !== '';
  const result = {
    commit: head + (dirty ? ' (+ uncommitted src changes)' : ''),
    hosts: N,
    loadavg: loadavg().map((x) => Number(x.toFixed(2))),
    firstRequest: { tickGapMs: stats(first.map((x) => x.gapMs)), eldMaxMs: stats(first.map((x) => x.eldMaxMs)) },
    cachedHost: { tickGapMs: stats(warm.map((x) => x.gapMs)), eldMaxMs: stats(warm.map((x) => x.eldMaxMs)) },
  };
  if (argv.includes('--json')) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const f = (s) => `p50 ${s.p50.toFixed(1)} ms, p90 ${s.p90.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`;
  console.log(`mitm first request per new host, ${N} hosts · ${result.commit} · load ${result.loadavg.join(' ')}`);
  console.log(`  new host     longest tick gap (1 ms timer): ${f(result.firstRequest.tickGapMs)}`);
  console.log(`               monitorEventLoopDelay max:     ${f(result.firstRequest.eldMaxMs)}`);
  console.log(`  cached host  longest tick gap (1 ms timer): ${f(result.cachedHost.tickGapMs)}`);
  console.log(`               monitorEventLoopDelay max:     ${f(result.cachedHost.eldMaxMs)}`);
}
