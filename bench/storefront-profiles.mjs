#!/usr/bin/env node
// The same seeded shopper load against the naive and the tuned storefront,
// each in its own child process (so it gets its own core), printing
// p50/p95/p99 per route as the shoppers saw them and the reasons from /metrics.
//
//   npm run build && node bench/storefront-profiles.mjs [--rate 15] [--duration 25s] [--seed 7]
//     [--checkout-share 0.7] [--think 600ms] [--profiles naive,tuned] [--fault spec]... [--json out.json]
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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
const rate = Number(opt('rate', '15'));
const durationMs = parseDur(opt('duration', '25s'));
const seed = Number(opt('seed', '7'));
const checkoutShare = Number(opt('checkout-share', '0.7'));
const thinkMs = parseDur(opt('think', '600ms'));
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
console.log(`load: ${rate} shoppers/s for ${durationMs / 1000}s, seed ${seed}, checkout share ${checkoutShare}, think ${thinkMs}ms${faults.length ? `, faults ${faults.filter((_, i) => i % 2).join(' ')}` : ''}`);
for (const profile of profiles) {
  const { child, url } = await startStorefront(profile);
  const t0 = Date.now();
  const summary = await runShoppers({ target: url, shoppersPerSecond: rate, durationMs, seed, checkoutShare, thinkMs, graceMs: 15_000 });
  const metrics = await (await fetch(`${url}/metrics`)).text();
  await stop(child);
  const reasons = metrics.split('\n').filter((l) => REASONS.test(l));
  results[profile] = { summary, reasons };
  console.log(`\n== ${profile}: ${summary.shoppers} shoppers, ${summary.requests} requests, ${summary.orders} orders, ${summary.errors} errors, ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  console.log(`   status: ${Object.entries(summary.byStatus).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
  console.log(`   ${'route'.padEnd(38)} ${'n'.padStart(6)} ${'err'.padStart(5)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)}`);
  for (const [route, r] of Object.entries(summary.byRoute)) {
    console.log(`   ${route.padEnd(38)} ${String(r.requests).padStart(6)} ${String(r.errors).padStart(5)} ${fmt(r.p50Ms).padStart(8)} ${fmt(r.p95Ms).padStart(8)} ${fmt(r.p99Ms).padStart(8)}`);
  }
  console.log('   /metrics (reasons):');
  for (const l of reasons) console.log(`     ${l}`);
}
if (results.naive && results.tuned) {
  console.log('\n== naive vs tuned (p99)');
  for (const route of ['POST /checkout', 'GET /products/:id', 'GET /search', 'GET /products', 'GET /']) {
    const n = results.naive.summary.byRoute[route];
    const t = results.tuned.summary.byRoute[route];
    if (!n || !t) continue;
    console.log(`   ${route.padEnd(22)} naive ${fmt(n.p99Ms).padStart(8)}  tuned ${fmt(t.p99Ms).padStart(8)}  ratio ${(n.p99Ms / t.p99Ms).toFixed(1)}x`);
  }
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ rate, durationMs, seed, checkoutShare, thinkMs, faults, results }, null, 2));
