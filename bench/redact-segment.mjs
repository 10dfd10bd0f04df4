// Cost of the per-exchange work on the record path: route templating, session
// assignment, and redaction (headers, target, JSON/form/HTML/gzip bodies).
// Run: npx tsc -p tsconfig.json && node bench/redact-segment.mjs
import { gzipSync } from 'node:zlib';
import { RouteMatcher } from '../dist/segment/route-template.js';
import { Sessionizer } from '../dist/segment/session-key.js';
import { Redactor } from '../dist/store/redact.js';

const redactor = new Redactor(Buffer.alloc(32, 3));

// Reports CPU time per operation (user+system, median of 5 rounds): the
// machines are shared, so wall time would mostly measure the neighbours.
function bench(name, fn, iterations) {
  for (let i = 0; i < Math.min(2000, iterations); i++) fn(i); // warm up
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < iterations; i++) fn(i);
    const c = process.cpuUsage(c0);
    runs.push((c.user + c.system) / iterations);
  }
  runs.sort((a, b) => a - b);
  console.log(`${name.padEnd(52)} ${runs[2].toFixed(2).padStart(9)} µs CPU/op`);
}

const routes = new RouteMatcher(['/cart/:cartId/items', '/orders/:orderId']);
bench('route: repeated paths (cache hits)', (i) => routes.route('GET', `/products/${i % 500}?ref=home`), 200_000);
let fresh = new RouteMatcher();
bench('route: every path new (cache misses)', (i) => fresh.route('GET', `/u/${i}/orders/3f2a9c1e-7b4d-4e1a-9f3c-${i}`), 100_000);

const sessions = new Sessionizer({ kind: 'auto' }, redactor.tokenize);
const ua = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1';
bench('session: auto, cookie present', (i) => sessions.assign({ clientAddress: '127.0.0.1', requestHeaders: [['user-agent', ua], ['cookie', `vid=v${i % 1000}`]], responseHeaders: [], startOffsetUs: i, method: 'GET', target: '/', status: 200 }), 100_000);

const json = Buffer.from(JSON.stringify({ cartId: 'c_8f3k2', productId: 123, qty: 2, payment: { card: '4111111111111111', cvv: '123', name: 'Ann' }, note: 'x'.repeat(300) }));
const resJson = Buffer.from(JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => ({ id: 1000 + i, name: `Product ${i}`, price: 19.99, at: 1712345678901 + i })) }));
const exchange = {
  sessionKey: 's', seq: 0, startOffsetUs: 0, durationUs: 1, method: 'POST', target: '/checkout?ref=email', host: null, scheme: 'http', route: 'POST /checkout',
  requestHeaders: [['host', '127.0.0.1'], ['user-agent', ua], ['accept', 'application/json'], ['content-type', 'application/json'], ['content-length', String(json.length)], ['cookie', 'vid=abc; session=def'], ['x-region', 'eu-west'], ['idempotency-key', 'k-123']],
  requestBody: json, requestBodyBytes: json.length, requestBodyTruncated: false,
  status: 200, responseHeaders: [['content-type', 'application/json'], ['content-length', String(resJson.length)], ['date', new Date().toUTCString()]],
  responseBody: resJson, responseBodyBytes: resJson.length, responseBodyTruncated: false, responseEncoding: null, error: null, errorDetail: null,
};
console.log(`(request JSON ${json.length} B, response JSON ${resJson.length} B)`);
bench('redactExchange: JSON checkout (card, cvv, cookies)', () => redactor.redactExchange(exchange), 20_000);
bench('redactHeaders: 8 headers incl. cookie', () => redactor.redactHeaders(exchange.requestHeaders), 100_000);
bench('redactBody: 2 KB JSON response, nothing to redact', () => redactor.redactBody(resJson, 'application/json', null), 20_000);
const png = Buffer.alloc(200_000, 7);
bench('redactBody: 200 KB image/png (skipped)', () => redactor.redactBody(png, 'image/png', null), 20_000);
const html = Buffer.from('<p>Order 1712345678901 placed. Call 555-0100.</p>\n'.repeat(21_000));
console.log(`(HTML ${(html.length / 1048576).toFixed(2)} MiB)`);
bench('redactBody: 1 MiB HTML, 21k 13-digit ids', () => redactor.redactBody(html, 'text/html', null), 30);
const text = Buffer.from('<p>Lorem ipsum dolor sit amet, order 17123 placed, call 555-0100.</p>\n'.repeat(15_500));
console.log(`(text ${(text.length / 1048576).toFixed(2)} MiB, no long digit runs)`);
bench('redactBody: 1 MiB HTML, nothing card-like', () => redactor.redactBody(text, 'text/html', null), 30);
const gz = gzipSync(resJson);
bench('redactBody: gzip JSON response, nothing to redact', () => redactor.redactBody(gz, 'application/json', 'gzip'), 5_000);
const gzSecret = gzipSync(Buffer.from(JSON.stringify({ token: 'abc', user: { id: 1 } })));
bench('redactBody: gzip JSON with a token (re-compressed)', () => redactor.redactBody(gzSecret, 'application/json', 'gzip'), 5_000);

// Worst cases: 1 MiB bodies built to make the scanners work hardest (single
// runs, no warm-up beyond the bench's own). Reported, not asserted.
console.log('worst cases (1 MiB each):');
bench('  one run of 210k groups "4111 4111 …"', () => redactor.redactBody(Buffer.from('4111 '.repeat(209_715)), 'text/plain', null), 5);
bench('  1M digits in one run', () => redactor.redactBody(Buffer.from('4'.repeat(1_048_576)), 'text/plain', null), 5);
bench('  65k password fields in one JSON body', () => redactor.redactBody(Buffer.from('{' + '"password":"x",'.repeat(65_536) + '"a":1}'), 'application/json', null), 5);
bench('  1M "[" (deep nesting)', () => redactor.redactBody(Buffer.from('['.repeat(1_048_576)), 'application/json', null), 5);
