// Cost of classifying a user agent (cohort `device`): the rules without isbot,
// isbot alone, the full uncached classification, and a cached lookup.
// Usage: npm run build && node bench/user-agent-device.mjs [--rounds 20000]
import { isbot } from 'isbot';
import { classifyUserAgent, deviceFromUserAgent } from '../dist/segment/cohort.js';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 20000) || 20000;

// A production-like mix: mostly browsers, some apps, tools, crawlers and probes.
const UAS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'okhttp/4.12.0',
  'MyShop/5.2 (com.example.shop; build:812; iOS 17.4.1) Alamofire/5.8.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'ELB-HealthChecker/2.0',
  'kube-probe/1.29',
  'curl/8.5.0',
];

function nsPerCall(fn, list) {
  let sink = 0;
  for (let i = 0; i < 2000; i++) sink += fn(list[i % list.length]) ? 1 : 0; // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) sink += fn(list[i % list.length]) ? 1 : 0;
  const ns = Number(process.hrtime.bigint() - t0) / rounds;
  return { ns, sink };
}

// Distinct strings per call, so nothing inside can be cached by string identity.
const fresh = Array.from({ length: rounds }, (_, i) => `${UAS[i % UAS.length]} r${i}`);
const rows = [
  ['isbot alone (distinct UAs)', nsPerCall(isbot, fresh)],
  ['classifyUserAgent, uncached (distinct UAs)', nsPerCall(classifyUserAgent, fresh)],
  ['deviceFromUserAgent, cached (13 UAs repeating)', nsPerCall(deviceFromUserAgent, UAS)],
];
for (const [name, r] of rows) console.log(`${name.padEnd(48)} ${r.ns.toFixed(0).padStart(7)} ns/call`);
