import { resolve, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { headerValue } from '../../src/model/exchange.js';
import { parseClfTimeUs, parseCombinedLine } from '../../src/import/access-log-line.js';
import { parseJsonLine } from '../../src/import/access-log-json.js';
import { readAccessLog } from '../../src/import/access-log-reader.js';
import { ImportStats, type RawExchange } from '../../src/import/raw-exchange.js';

const FIX = resolve(import.meta.dirname, '../fixtures/logs');
const T0 = Date.UTC(2024, 4, 1, 10) * 1000;

async function collect(path: string, skipBad = false, stats = new ImportStats()): Promise<RawExchange[]> {
  const out: RawExchange[] = [];
  for await (const ex of readAccessLog(path, { skipBad }, stats)) out.push(ex);
  return out;
}

describe('access log lines', () => {
  it('reads $time_local with its zone offset', () => {
    expect(parseClfTimeUs('01/May/2024:12:00:00 +0200')).toBe(T0);
    expect(parseClfTimeUs('01/May/2024:10:00:00.250 +0000')).toBe(T0 + 250_000);
  });

  it('parses a combined line with a request time', () => {
    const rec = parseCombinedLine(
      '203.0.113.9 - ann [01/May/2024:10:00:06 +0000] "GET /search?q=mug HTTP/1.1" 200 77 "-" "curl/8" rt=0.250',
    );
    expect(rec).toMatchObject({ method: 'GET', target: '/search?q=mug', status: 200, clientAddress: '203.0.113.9', durationUs: 250_000 });
    expect(rec!.startUs).toBe(T0 + 6_000_000 - 250_000);
    expect(headerValue(rec!.headers, 'user-agent')).toBe('curl/8');
  });

  it('parses a Caddy JSON record (nested request, epoch seconds, duration in s)', () => {
    const rec = parseJsonLine(
      '{"ts":1714557604.25,"request":{"remote_ip":"203.0.113.9","method":"GET","host":"shop.example","uri":"/x","headers":{"User-Agent":["ua"]}},"status":200,"duration":0.031}',
    );
    expect(rec).toMatchObject({ method: 'GET', target: '/x', host: 'shop.example', clientAddress: '203.0.113.9', durationUs: 31_000, status: 200 });
    expect(rec!.startUs).toBe(T0 + 4_250_000 - 31_000);
  });
});

describe('access log cookies', () => {
  const LINE = '198.51.100.4 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0"';
  const combined: Array<[string, string, string | undefined, string | undefined]> = [
    ['nginx "$http_cookie" after the user agent gives the cookie header', `${LINE} "sid=a1b2c3d4e5; theme=dark"`, 'sid=a1b2c3d4e5; theme=dark', undefined],
    ['a "-" cookie field gives no cookie', `${LINE} "-"`, undefined, undefined],
    ['a forwarded address then a cookie field gives both', `${LINE} "203.0.113.9, 10.0.0.1" "sid=a1b2c3d4e5"`, 'sid=a1b2c3d4e5', '203.0.113.9, 10.0.0.1'],
    ['a cookie field then a request time gives the cookie', `${LINE} "PHPSESSID=k3j4h5g6f7" rt=0.010`, 'PHPSESSID=k3j4h5g6f7', undefined],
    ['a quoted field that is not cookies gives no cookie', `${LINE} "upstream cache HIT"`, undefined, undefined],
  ];
  it.each(combined)('%s', (_name, line, cookie, xff) => {
    const rec = parseCombinedLine(line)!;
    expect(headerValue(rec.headers, 'cookie')).toBe(cookie);
    expect(headerValue(rec.headers, 'x-forwarded-for')).toBe(xff);
  });

  const json: Array<[string, string, string | undefined]> = [
    ['a cookie field gives the cookie header', '{"time":"2024-05-01T10:00:00Z","uri":"/","cookie":"sid=a1b2c3d4e5"}', 'sid=a1b2c3d4e5'],
    ['an http_cookie field (nginx escape=json) gives the cookie header', '{"time":"2024-05-01T10:00:00Z","uri":"/","http_cookie":"sid=a1b2c3d4e5; x=1"}', 'sid=a1b2c3d4e5; x=1'],
    ['a cookies object gives name=value pairs', '{"time":"2024-05-01T10:00:00Z","uri":"/","cookies":{"sid":"a1b2c3d4e5","x":"1"}}', 'sid=a1b2c3d4e5; x=1'],
    ['a request_headers object with Cookie gives the cookie header', '{"time":"2024-05-01T10:00:00Z","uri":"/","request_headers":{"Cookie":"sid=a1b2c3d4e5"}}', 'sid=a1b2c3d4e5'],
    ["Caddy's request.headers.Cookie array gives the cookie header", '{"ts":1714557600,"request":{"uri":"/","headers":{"Cookie":["sid=a1b2c3d4e5"]}},"status":200}', 'sid=a1b2c3d4e5'],
    ['an empty "-" cookie gives none', '{"time":"2024-05-01T10:00:00Z","uri":"/","http_cookie":"-"}', undefined],
  ];
  it.each(json)('%s', (_name, line, cookie) => {
    expect(headerValue(parseJsonLine(line)!.headers, 'cookie')).toBe(cookie);
  });
});

describe('readAccessLog', () => {
  it('keeps GET and HEAD from a combined log and counts the rest', async () => {
    const stats = new ImportStats();
    const all = await collect(join(FIX, 'access.log'), false, stats);
    expect(all.map((e) => `${e.method} ${e.target}`)).toEqual([
      'GET /products?page=1',
      'GET /products/42',
      'GET /search?q=mug',
      'HEAD /products/43',
      'GET /products/44',
    ]);
    expect(stats.skippedRecord()).toEqual({ 'POST (logs carry no bodies)': 1, 'not an HTTP request line': 1 });
    expect(stats.notes.join()).toMatch(/no request or response bodies/);
    expect(all.every((e) => e.requestBody === null && e.responseBody === null)).toBe(true);
  });

  it('reads JSON lines with the common field names, x-region included', async () => {
    const stats = new ImportStats();
    const all = await collect(join(FIX, 'access.jsonl'), false, stats);
    expect(all.map((e) => `${e.method} ${e.target} ${e.status}`)).toEqual([
      'GET /products?page=1 200',
      'GET /products/42 200',
      'GET /orders/9f8e7d6c5b4a39281706f5e4d3c2b1a0 200',
    ]);
    expect(headerValue(all[0]!.requestHeaders, 'x-region')).toBe('EU');
    expect(all[0]!.durationUs).toBe(12_000);
    expect(all[1]!.clientAddress).toBe('198.51.100.4');
    expect(stats.skippedRecord()).toEqual({ 'POST (logs carry no bodies)': 1 });
  });

  it('names the line number of a bad line', async () => {
    await expect(collect(join(FIX, 'garbage.log'))).rejects.toThrow(/garbage\.log: line 2: not in combined\/common log format/);
    await expect(collect(join(FIX, 'truncated.jsonl'))).rejects.toThrow(/truncated\.jsonl: line 2: not valid JSON/);
  });

  it('skips and counts bad lines with skipBad', async () => {
    const stats = new ImportStats();
    const all = await collect(join(FIX, 'garbage.log'), true, stats);
    expect(all).toHaveLength(2);
    expect(stats.skippedRecord()).toEqual({ 'bad line': 1 });
  });
});
