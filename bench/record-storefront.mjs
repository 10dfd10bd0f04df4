#!/usr/bin/env node
// The recorder's CPU per exchange on the shape users record: the reference
// storefront (tuned) behind `flashback record`, driven by `flashback shop`
// (sessions with cookies, logins, carts, JSON bodies of a few KB, at a fixed
// arrival rate). bench/record-overhead measures the cheapest exchange; this
// one measures a realistic one. CPU is the recorder process's (main and
// writer threads), from /proc, over the shop's run; exchanges are what the
// shop sent, checked against what the recorder says it recorded.
//
//   npm run build && node bench/record-storefront.mjs [--rounds 3] [--rate 60] [--duration 15s] [--warm 15s] [--before <checkout>/bin/flashback.js] [--haproxy 1]
// --warm: each proxy first carries a shop pass of this length (another seed) and the
// measured pass follows it: the steady state a capture of hours runs in, not a freshly
// started recorder's JIT warm-up. The warm pass's own cost is printed beside it
// ("first pass"). --warm 0 measures the fresh recorder, as this bench did before.
// --before: another recorder build, run interleaved with this one (before, after, after, before, …).
// --haproxy 1: HAProxy (apt-get install haproxy; one thread, HTTP mode, keep-alive,
// nothing recorded) in the same rounds, the peer: what proxying this traffic costs
// a C proxy on this machine. Its exchanges are the requests the shop sent.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startHaproxy } from './haproxy-peer.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/flashback.js');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '60' },
    duration: { type: 'string', default: '15s' },
    warm: { type: 'string', default: '15s' },
    before: { type: 'string' },
    haproxy: { type: 'string', default: '0' },
  },
});
const builds = [['after', BIN]];
if (values.before) builds.unshift(['before', resolve(values.before)]);
if (values.haproxy === '1') builds.push(['haproxy', null]);
const dir = mkdtempSync(join(tmpdir(), 'fb-bench-record-shop-'));

/** Spawns `node args` and resolves with the child once `re` shows in its output. */
function startAndWait(args, re) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  return new Promise((ok, fail) => {
    const on = (c) => {
      text += c;
      const m = re.exec(text);
      if (m) ok({ child, match: m, output: () => text });
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.once('exit', (code) => fail(new Error(`${args.join(' ')} exited ${code}: ${text}`)));
  });
}

/** CPU seconds (user, system) so far from a /proc stat file. */
function statSeconds(path) {
  const stat = readFileSync(path, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]) / 100, Number(f[12]) / 100];
}

/** CPU seconds (user, system; all threads) of a process so far. */
const cpuSeconds = (pid) => statSeconds(`/proc/${pid}/stat`);

/** CPU seconds of the main thread (its thread id is the process id) so far; the rest is the writer thread's and V8's helpers'. */
const mainThreadSeconds = (pid) => statSeconds(`/proc/${pid}/task/${pid}/stat`).reduce((a, b) => a + b);

const shop = await startAndWait([BIN, 'storefront', '--port', '0', '--profile', 'tuned'], /http:\/\/127\.0\.0\.1:(\d+)/);
const target = `http://127.0.0.1:${shop.match[1]}`;
console.log(`# recorder on the storefront shape — ${new Date().toISOString()}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const warm = values.warm !== '0' && values.warm !== '0s';
console.log(`shop: ${values.rate} shoppers/s for ${values.duration}, think 100ms, seed 7${warm ? `, after a warm pass of ${values.warm} (seed 1000 + round)` : ', on a fresh proxy'}; target ${target} (tuned)\n`);
console.log('| round | build | exchanges (measured pass) | sessions (both passes) | CPU user + system | µs per exchange | main thread / other threads (writer, V8 helpers), µs per exchange | first pass, µs per exchange |');
console.log('|---|---|---|---|---|---|---|---|');

/** Drives `url` with the shop for `duration`; returns the requests it sent. */
function runShop(url, duration, seed) {
  const s = spawnSync(process.execPath, [BIN, 'shop', '--target', url, '--shoppers-per-second', values.rate, '--duration', duration, '--think', '100ms', '--seed', String(seed), '--json'], { encoding: 'utf8' });
  if (s.status !== 0) throw new Error(`shop failed: ${s.stderr}`);
  return JSON.parse(s.stdout).requests;
}

const per = new Map(builds.map(([name]) => [name, []]));
const perThreads = new Map(builds.map(([name]) => [name, []]));
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    // ABBA: the order flips every round, so a drift within a round (the storefront's data grows
    // with every run) does not land on one build.
    for (const [name, bin] of round % 2 ? builds : [...builds].reverse()) {
      const out = join(dir, `${name}-${round}.db`);
      const proxy = bin
        ? await startAndWait([bin, 'record', '--target', target, '--listen', '127.0.0.1:0', '--out', out, '--force'], /recording (http:\/\/127\.0\.0\.1:\d+)/)
        : await startHaproxy(target, dir);
      const url = bin ? proxy.match[1] : proxy.url;
      const exited = new Promise((r) => proxy.child.once('exit', r));
      let first = '';
      let warmSent = 0;
      if (warm) {
        const [wu0, ws0] = cpuSeconds(proxy.child.pid);
        warmSent = runShop(url, values.warm, 1000 + round);
        const [wu1, ws1] = cpuSeconds(proxy.child.pid);
        first = (((wu1 - wu0 + (ws1 - ws0)) * 1e6) / warmSent).toFixed(0);
      }
      const [u0, s0] = cpuSeconds(proxy.child.pid);
      const main0 = mainThreadSeconds(proxy.child.pid);
      const exchanges = runShop(url, values.duration, 7);
      const [u1, s1] = cpuSeconds(proxy.child.pid);
      const mainCpu = mainThreadSeconds(proxy.child.pid) - main0;
      const cpu = u1 - u0 + (s1 - s0);
      proxy.child.kill('SIGTERM');
      await exited;
      // The recorder's own count must match what the shop sent in both passes: a lost
      // exchange would make the per-exchange figure flatter than it is.
      const m = bin ? /recorded (\d+) exchanges in (\d+) sessions/.exec(proxy.output()) : null;
      if (m && Number(m[1]) !== warmSent + exchanges) throw new Error(`${name} recorded ${m[1]} exchanges; the shop sent ${warmSent + exchanges}`);
      const us = (cpu * 1e6) / exchanges;
      per.get(name).push(us);
      const threads = [(mainCpu * 1e6) / exchanges, ((cpu - mainCpu) * 1e6) / exchanges];
      if (bin) perThreads.get(name).push(threads);
      const split = bin ? threads.map((x) => x.toFixed(0)).join(' / ') : '';
      console.log(`| ${round} | ${name} | ${exchanges} | ${m?.[2] ?? ''} | ${(u1 - u0).toFixed(2)} + ${(s1 - s0).toFixed(2)} s | ${us.toFixed(0)} | ${split} | ${first} |`);
      rmSync(out, { force: true });
      rmSync(`${out}.key`, { force: true });
    }
  }
  const range = (xs) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
  for (const [name, xs] of per) {
    const t = perThreads.get(name);
    const threads = t.length ? ` (main thread ${range(t.map((x) => x[0]))}, other threads ${range(t.map((x) => x[1]))})` : '';
    console.log(`\n${name}: ${range(xs)} µs per exchange${threads}`);
  }
  if (per.has('haproxy')) {
    for (const [name, xs] of per) {
      if (name === 'haproxy') continue;
      const r = xs.map((x, i) => x / per.get('haproxy')[i]);
      console.log(`${name} / haproxy, per round: ${r.map((x) => x.toFixed(2)).join(', ')}`);
    }
  }
} finally {
  shop.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
