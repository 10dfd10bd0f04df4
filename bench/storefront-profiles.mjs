#!/usr/bin/env node
// The same seeded shopper load against the naive and the tuned storefront,
// each in its own child process (so it gets its own core), printing
// p50/p95/p99 per route as the shoppers saw them and the reasons from /metrics.
//
//   npm run build && node bench/storefront-profiles.mjs [--rate 18] [--duration 30s] [--seed 7]
//     [--checkout-share 0.7] [--think 400ms] [--profiles naive,tuned] [--rounds 3] [--fault spec]... [--json out.json]
//
// The machine is shared and noisy: profiles run interleaved (naive, tuned, naive, tuned, ...) and the
// summary quotes the median p99 over the rounds. Each run also reports the bench process's own
// event-loop delay p99: when that is high, the load generator was starved and the run is suspect.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runShoppers } from '../dist/storefront/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const faults = args.flatMap((a, i) => (a === '--fault' && args[i + 1] ? ['--fault', args[i + 1]] : []));
const rate = Number(opt('rate', '18'));
const durationMs = parseDur(opt('duration', '30s'));
const rounds = Number(opt('rounds', '3'));
const seed = Number(opt('seed', '7'));
const checkoutShare = Number(opt('checkout-share', '0.7'));
const thinkMs = parseDur(opt('think', '400ms'));
const profiles = opt('profiles', 'naive,tuned').split(',');
const jsonOut = opt('json', null);

function parseDur(t) {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(t);
  if (!m) throw new Error(`bad duration ${t}`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : 1000);
}

function startStorefront(profile) {
  return new Promise((resolve, reject) => {
    // The storefront module directly (not the CLI), so the bench does not depend on other commands building.
    const script = `
      const { startStorefront } = await import(${JSON.stringify(join(root, 'dist/storefront/index.js'))});
      const s = await startStorefront({ port: 0, profile: ${JSON.stringify(profile)}, seed: 1, faults: ${JSON.stringify(faults.filter((_, i) => i % 2))} });
      console.log('listening on ' + s.url);
      process.once('SIGTERM', () => s.close().then(() => process.exit(0)));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /listening on (http:\/\/\S+)/.exec(buf);
      if (m) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`storefront exited with ${code}`)));
  });
}

function stop(child) {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', resolve);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 8000).unref();
  });
}

// The lines of /metrics that explain the latency (reasons, not symptoms).
const REASONS = /^storefront_(inventory_lock_waits_total|inventory_lock_wait_seconds_(sum|count)|db_queries_total\{route="(GET \/products\/:id|GET \/search|GET \/products|POST \/checkout)"|payment_calls_total|payment_retries_total|payment_failures_total|circuit_breaker_state|circuit_breaker_transitions_total|cache_lookups_total|rejected_requests_total|orders_total|inventory_reservations_total)/;

const fmt = (v) => (v < 10 ? `${v.toFixed(2)}ms` : v < 1000 ? `${v.toFixed(0)}ms` : `${(v / 1000).toFixed(2)}s`);
const results = {};
console.log(`load: ${rate} shoppers/s for ${durationMs / 1000}s, seed ${seed}, checkout share ${checkoutShare}, think ${thinkMs}ms, ${rounds} round(s)${faults.length ? `, faults ${faults.filter((_, i) => i % 2).join(' ')}` : ''}`);
for (let round = 1; round <= rounds; round++) {
  for (const profile of profiles) {
    const { child, url } = await startStorefront(profile);
    const t0 = Date.now();
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const summary = await runShoppers({ target: url, shoppersPerSecond: rate, durationMs, seed, checkoutShare, thinkMs, graceMs: 15_000 });
    lag.disable();
    const metrics = await (await fetch(`${url}/metrics`)).text();
    await stop(child);
    const reasons = metrics.split('\n').filter((l) => REASONS.test(l));
    const generatorLagP99Ms = lag.percentile(99) / 1e6;
    (results[profile] ??= []).push({ round, summary, reasons, generatorLagP99Ms });
    console.log(`\n== round ${round}, ${profile}: ${summary.shoppers} shoppers, ${summary.requests} requests, ${summary.orders} orders, ${summary.errors} errors, ${((Date.now() - t0) / 1000).toFixed(1)}s; generator event-loop delay p99 ${fmt(generatorLagP99Ms)}`);
    console.log(`   status: ${Object.entries(summary.byStatus).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
    console.log(`   ${'route'.padEnd(38)} ${'n'.padStart(6)} ${'err'.padStart(5)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)}`);
    for (const [route, r] of Object.entries(summary.byRoute)) {
      console.log(`   ${route.padEnd(38)} ${String(r.requests).padStart(6)} ${String(r.errors).padStart(5)} ${fmt(r.p50Ms).padStart(8)} ${fmt(r.p95Ms).padStart(8)} ${fmt(r.p99Ms).padStart(8)}`);
    }
    console.log('   /metrics (reasons):');
    for (const l of reasons) console.log(`     ${l}`);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
if (results.naive && results.tuned) {
  console.log(`\n== naive vs tuned: median p99 over ${rounds} round(s) [each round's p99]`);
  for (const route of ['POST /checkout', 'GET /products/:id', 'GET /search', 'GET /products', 'GET /']) {
    const n = results.naive.map((r) => r.summary.byRoute[route]?.p99Ms).filter((v) => v !== undefined);
    const t = results.tuned.map((r) => r.summary.byRoute[route]?.p99Ms).filter((v) => v !== undefined);
    if (!n.length || !t.length) continue;
    const list = (xs) => xs.map(fmt).join(' ');
    console.log(`   ${route.padEnd(20)} naive ${fmt(median(n)).padStart(7)} [${list(n)}]  tuned ${fmt(median(t)).padStart(7)} [${list(t)}]  ratio ${(median(n) / median(t)).toFixed(1)}x`);
  }
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ rate, durationMs, seed, checkoutShare, thinkMs, rounds, faults, results }, null, 2));
