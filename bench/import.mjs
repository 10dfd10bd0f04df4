// Import speed and peak memory for a large generated HAR.
// Usage: npm run build && node bench/import.mjs [--mb 300] [--keep]
// Writes a HAR of about --mb MB to a temp file (streamed: realistic browser entries,
// JSON bodies of ~1-3 KB, cookies, some static assets), imports it with the same code
// as `flashback import har` (in this process), and reports MB/s and peak RSS (VmHWM).
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHarExchanges } from '../dist/import/har-import.js';
import { DEFAULT_MAX_BODY_BYTES, importExchanges } from '../dist/import/import-pipeline.js';
import { ImportStats } from '../dist/import/raw-exchange.js';

const args = process.argv.slice(2);
const mb = Number(args[args.indexOf('--mb') + 1] ?? 300) || 300;
const keep = args.includes('--keep');
const dir = mkdtempSync(join(tmpdir(), 'fb-bench-import-'));
const harPath = join(dir, 'big.har');
const recPath = join(dir, 'big.db');

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const UAS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36',
];
const h = (name, value) => ({ name, value });

function entry(i, t0) {
  const user = Math.floor(i / 40);
  const first = i % 40 === 0;
  const pick = rand();
  const product = 1 + Math.floor(rand() * 5000);
  let method = 'GET';
  let url = `https://shop.example/api/products/${product}`;
  let mime = 'application/json';
  let postData;
  if (pick < 0.03) { url = `https://shop.example/static/img/${product}.webp`; mime = 'image/webp'; }
  else if (pick < 0.25) url = `https://shop.example/api/search?q=item${product % 300}&page=${1 + (product % 5)}`;
  else if (pick < 0.35) {
    method = 'POST';
    url = `https://shop.example/api/cart/${user}/items`;
    postData = { mimeType: 'application/json', text: JSON.stringify({ sku: product, qty: 1 + (product % 3), note: 'x'.repeat(200) }) };
  }
  const body = mime === 'application/json'
    ? JSON.stringify({ id: product, name: `Product ${product}`, description: 'lorem ipsum dolor sit amet '.repeat(20 + (product % 60)), price: product * 7, stock: product % 13 })
    : undefined;
  const started = new Date(t0 + i * 25 + Math.floor(rand() * 10));
  const reqHeaders = [
    h(':authority', 'shop.example'), h(':method', method), h(':path', new URL(url).pathname), h(':scheme', 'https'),
    h('accept', 'application/json, text/plain, */*'), h('accept-encoding', 'gzip, deflate, br'), h('accept-language', 'en-GB,en;q=0.9'),
    h('user-agent', UAS[user % UAS.length]), h('x-region', ['eu', 'us', 'apac'][user % 3]),
  ];
  if (!first) reqHeaders.push(h('cookie', `sid=s${user}-${(user * 7919) % 100003}`), h('cookie', 'theme=dark'));
  const resHeaders = [h('content-type', mime), h('cache-control', 'no-store'), h('server', 'nginx'), h('date', started.toUTCString())];
  if (first) resHeaders.push(h('set-cookie', `sid=s${user}-${(user * 7919) % 100003}; Path=/; HttpOnly`));
  const time = 5 + rand() * 120;
  return {
    pageref: `page_${user}`,
    startedDateTime: started.toISOString(),
    time,
    request: { method, url, httpVersion: 'http/2.0', headers: reqHeaders, queryString: [], cookies: [], headersSize: -1, bodySize: postData ? postData.text.length : 0, ...(postData ? { postData } : {}) },
    response: {
      status: 200, statusText: '', httpVersion: 'http/2.0', headers: resHeaders, cookies: [],
      content: body ? { size: body.length, mimeType: mime, text: body } : { size: 2048, mimeType: mime, text: 'UklGRg'.repeat(300), encoding: 'base64' },
      redirectURL: '', headersSize: -1, bodySize: -1,
    },
    cache: {},
    timings: { blocked: 0.5, dns: -1, connect: -1, ssl: -1, send: 0.1, wait: time - 1, receive: 0.4 },
  };
}

async function generate() {
  const ws = createWriteStream(harPath);
  const target = mb * 1e6;
  let bytes = 0;
  let n = 0;
  const t0 = Date.UTC(2024, 4, 1, 10);
  const write = async (s) => { bytes += Buffer.byteLength(s); if (!ws.write(s)) await once(ws, 'drain'); };
  await write('{"log":{"version":"1.2","creator":{"name":"bench","version":"1"},"pages":[],"entries":[\n');
  while (bytes < target) {
    await write((n > 0 ? ',\n' : '') + JSON.stringify(entry(n, t0)));
    n++;
  }
  await write('\n]}}\n');
  ws.end();
  await once(ws, 'finish');
  return n;
}

function peakRssMb() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1048576;
}

const g0 = Date.now();
const entries = await generate();
const size = statSync(harPath).size;
console.log(`generated ${harPath}: ${(size / 1e6).toFixed(1)} MB, ${entries} entries in ${((Date.now() - g0) / 1000).toFixed(1)} s`);
const rssBefore = peakRssMb();
const stats = new ImportStats();
const t = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const summary = await importExchanges(readHarExchanges(harPath, stats), stats, {
  outPath: recPath, source: 'import:har', toolVersion: 'bench', sessionKey: { kind: 'auto' }, redact: true,
  includeStatic: false, filterHosts: null, maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
});
const secs = Number(process.hrtime.bigint() - t) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSecs = (cpu.user + cpu.system) / 1e6;
console.log(`imported ${summary.exchanges} exchanges in ${summary.sessions} sessions; skipped ${JSON.stringify(summary.skipped)}`);
console.log(`import: ${secs.toFixed(1)} s, ${(size / 1e6 / secs).toFixed(1)} MB/s, ${Math.round(entries / secs)} entries/s`);
console.log(`CPU: ${cpuSecs.toFixed(1)} s (main + writer threads), ${(size / 1e6 / cpuSecs).toFixed(1)} MB per CPU-second; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
console.log(`peak RSS: ${peakRssMb().toFixed(0)} MB (generation alone peaked at ${rssBefore.toFixed(0)} MB); recording ${(statSync(recPath).size / 1e6).toFixed(1)} MB`);
if (!keep) rmSync(dir, { recursive: true, force: true });
