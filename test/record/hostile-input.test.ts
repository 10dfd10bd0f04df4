import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refuseRequest, refusalOfClientError } from '../../src/record/request-guard.js';
import { startProxy, until } from './helpers.js';
import { RawUpstream, rawExchange } from './raw-upstream.js';

let upstream: RawUpstream;
let rec: Awaited<ReturnType<typeof startProxy>>;
let port: number;
const client = new Agent({ connections: 8 });

// Short deadlines so that slow clients are cut within the test; the body-idle
// one is well above the gaps of the legitimate slow upload below.
const LIMITS = { headersTimeoutMs: 300, clientIdleTimeoutMs: 800, maxHeaderCount: 40, maxHeaderBytes: 8 * 1024 };

beforeAll(async () => {
  upstream = await new RawUpstream().start();
  rec = await startProxy(upstream.url, { limits: LIMITS });
  port = Number(new URL(rec.url).port);
});

afterAll(async () => {
  await rec.proxy.close();
  await upstream.close();
  await client.close();
});

const H = (marker: string, ...lines: string[]): string => [`POST /${marker} HTTP/1.1`, 'Host: shop.example', ...lines, '', ''].join('\r\n');
const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: shop.example\r\n\r\n';

/** Sends one hostile request and checks that it was refused with `status`, unrecorded and unforwarded. */
async function expectRefused(marker: string, raw: string, status: number, detail?: RegExp): Promise<string> {
  const recorded = rec.sink.exchanges.length;
  const rejected = rec.proxy.stats().rejected;
  const reply = await rawExchange(port, [raw]);
  expect(reply.status, reply.text).toBe(status);
  expect(reply.text.toLowerCase()).toContain('connection: close');
  // One response, nothing after it: a smuggled request was not answered either.
  expect(reply.text.match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1);
  if (detail) expect(JSON.parse(reply.text.slice(reply.text.indexOf('\r\n\r\n') + 4)).detail).toMatch(detail);
  expect(upstream.count(marker)).toBe(0);
  expect(upstream.count('/smuggled')).toBe(0);
  expect(rec.proxy.stats().rejected).toBe(rejected + 1);
  expect(rec.sink.exchanges.length).toBe(recorded);
  return reply.text;
}

describe('ambiguous framing is refused before anything goes upstream', () => {
  it.each([
    ['Content-Length with Transfer-Encoding', H('cl-te', 'Content-Length: 4', 'Transfer-Encoding: chunked') + '0\r\n\r\n' + SMUGGLED, 400],
    ['Transfer-Encoding with Content-Length', H('te-cl', 'Transfer-Encoding: chunked', 'Content-Length: 48') + '0\r\n\r\n' + SMUGGLED, 400],
    ['two different Content-Length headers', H('two-cl', 'Content-Length: 0', 'Content-Length: 47') + SMUGGLED, 400],
    ['two equal Content-Length headers', H('same-cl', 'Content-Length: 47', 'Content-Length: 47') + SMUGGLED, 400],
    ['a Content-Length list', H('cl-list', 'Content-Length: 47, 47') + SMUGGLED, 400],
    ['a signed Content-Length', H('cl-sign', 'Content-Length: +47') + SMUGGLED, 400],
    ['an overflowing Content-Length', H('cl-huge', 'Content-Length: 99999999999999999999') + SMUGGLED, 400],
    ['chunked that is not the final coding', H('te-order', 'Transfer-Encoding: chunked, identity') + '0\r\n\r\n' + SMUGGLED, 400],
    ['a coding other than chunked', H('te-gzip', 'Transfer-Encoding: gzip') + SMUGGLED, 400],
    ['an obs-folded Transfer-Encoding', H('te-fold', 'Transfer-Encoding:', ' chunked') + '0\r\n\r\n' + SMUGGLED, 400],
    ['a space before the colon', H('te-space', 'Transfer-Encoding : chunked') + '0\r\n\r\n' + SMUGGLED, 400],
  ])('%s: 400', async (_name, raw, status) => {
    await expectRefused(raw.split(' ')[1]!, raw, status);
  });

  it('refuses codings before chunked with 501: the body would reach the target without them', async () => {
    await expectRefused('/te-gzip-chunked', H('te-gzip-chunked', 'Transfer-Encoding: gzip, chunked') + '0\r\n\r\n', 501, /gzip is not supported/);
  });

  it('refuses chunked applied twice, in one header or two', async () => {
    await expectRefused('/te-twice', H('te-twice', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked') + '0\r\n\r\n', 400);
    await expectRefused('/te-twice-list', H('te-twice-list', 'Transfer-Encoding: chunked, chunked') + '0\r\n\r\n', 400);
  });

  it('refuses Transfer-Encoding in an HTTP/1.0 request', async () => {
    const raw = 'POST /te-10 HTTP/1.0\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    await expectRefused('/te-10', raw, 400, /HTTP\/1\.0/);
  });

  it('refuses an Upgrade request with a body: its bytes would be relayed unframed', async () => {
    const raw = 'GET /up-body HTTP/1.1\r\nHost: shop.example\r\nConnection: Upgrade\r\nUpgrade: echo\r\nContent-Length: 47\r\n\r\n' + SMUGGLED;
    await expectRefused('/up-body', raw, 400, /cannot carry a body/);
    expect(rec.proxy.stats().upgrades).toBe(0);
  });
});

describe('malformed heads are refused with one line and the right status', () => {
  it.each([
    ['two Host headers', H('two-host', 'Host: other.example'), 400, /more than one Host/],
    ['a Host that is not host[:port]', ['GET /bad-host HTTP/1.1', 'Host: a b@c', '', ''].join('\r\n'), 400, /Host/],
    ['no Host in HTTP/1.1', 'GET /no-host HTTP/1.1\r\nX-A: 1\r\n\r\n', 400, /no Host/],
    ['a NUL in a header value', H('nul', 'X-A: a\x00b'), 400, undefined],
    ['a DEL in a header value', H('del', 'X-A: a\x7fb'), 400, undefined],
    ['a bare CR in a header value', H('cr', 'X-A: a\rb'), 400, undefined],
    ['an obs-folded header', H('fold', 'X-A: one', '\ttwo'), 400, undefined],
    ['a bare LF ending a header line', H('lf', 'X-A: 1\nX-B: 2'), 400, undefined],
    ['a header name with a bad byte', H('name', 'X(A): 1'), 400, undefined],
    ['a header name with a non-ASCII byte', H('name8', 'X-\xe9: 1'), 400, undefined],
    ['an unknown method', 'BREW /brew HTTP/1.1\r\nHost: shop.example\r\n\r\n', 400, undefined],
    ['HTTP/1.2', 'GET /h12 HTTP/1.2\r\nHost: shop.example\r\n\r\n', 400, /version/i],
    ['an HTTP/2.0 request line', 'GET /h2 HTTP/2.0\r\nHost: shop.example\r\n\r\n', 505, /HTTP\/2\.0 is not supported/],
    ['a request line without a version', 'GET /h09\r\nHost: shop.example\r\n\r\n', 505, /HTTP\/0\.9/],
    ['a control byte in the request-target', 'GET /ctl\x7f HTTP/1.1\r\nHost: shop.example\r\n\r\n', 400, undefined],
    ['a non-ASCII byte in the request-target', 'GET /caf\xe9 HTTP/1.1\r\nHost: shop.example\r\n\r\n', 400, undefined],
  ])('%s', async (_name, raw, status, detail) => {
    await expectRefused(raw.split(' ')[1]!, raw, status, detail);
  });

  it('refuses a head larger than maxHeaderBytes with 431', async () => {
    await expectRefused('/huge', H('huge', `X-Big: ${'a'.repeat(LIMITS.maxHeaderBytes)}`), 431, /too large/);
  });

  it('refuses more than maxHeaderCount header fields with 431', async () => {
    const fields = Array.from({ length: LIMITS.maxHeaderCount }, (_, i) => `X-${i}: ${i}`);
    await expectRefused('/many', H('many', ...fields), 431, /more than 40 header fields/);
  });

  it('answers without a stack trace: one JSON line naming the problem', async () => {
    const text = await expectRefused('/cl-te-body', H('cl-te-body', 'Content-Length: 5', 'Transfer-Encoding: chunked') + '0\r\n\r\n', 400);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(body.split('\n')).toHaveLength(1);
    expect(JSON.parse(body)).toEqual({ error: 'bad_request', detail: expect.stringMatching(/Content-Length/) });
    expect(body).not.toMatch(/\bat .*\.js/);
  });

  it('forwards nothing pipelined behind a refused request', async () => {
    const raw = H('refused-first', 'Host: second.example') + 'GET /after-refused HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n';
    await expectRefused('/refused-first', raw, 400);
    expect(upstream.count('/after-refused')).toBe(0);
  });

  it('cuts a connection whose chunked body breaks after the request went upstream, and never completes it there', async () => {
    const before = upstream.requests.length;
    const reply = await rawExchange(port, [H('bad-chunk', 'Transfer-Encoding: chunked') + '5\r\nhello\r\nzz\r\n' + SMUGGLED]);
    expect(reply.status === null || reply.status === 400).toBe(true);
    expect(upstream.requests.length).toBe(before);
    expect(upstream.count('/smuggled')).toBe(0);
    await until(() => rec.sink.exchanges.some((e) => e.target === '/bad-chunk'), 'the aborted exchange');
    expect(rec.sink.exchanges.find((e) => e.target === '/bad-chunk')!.error).toBe('aborted');
  });

  it('still serves well-formed requests, pipelined ones included', async () => {
    const reply = await rawExchange(port, [
      'GET /pipe-1 HTTP/1.1\r\nHost: shop.example\r\n\r\nPOST /pipe-2 HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
    ]);
    expect(reply.text.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(reply.text).toContain('ok /pipe-1');
    expect(reply.text).toContain('ok /pipe-2');
    expect(upstream.requests.find((r) => r.target === '/pipe-2')!.body.toString()).toBe('abc');
    expect(upstream.violations).toEqual([]);
  });
});

describe('Upgrade relay', () => {
  it('relays nothing more when the target declines the upgrade', async () => {
    const upgrades = rec.proxy.stats().upgrades;
    const reply = await rawExchange(
      port,
      ['GET /decline HTTP/1.1\r\nHost: shop.example\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n', SMUGGLED],
      { gapMs: 50 },
    );
    expect(reply.status).toBe(426);
    expect(reply.text).toContain('nope');
    expect(rec.proxy.stats().upgrades).toBe(upgrades + 1);
    expect(upstream.count('/decline')).toBe(1);
    expect(upstream.count('/smuggled')).toBe(0);
    expect(upstream.received.includes('/smuggled')).toBe(false);
  });
});

describe('slow clients', () => {
  it('cuts clients that drip their headers (408) while others are served', async () => {
    const drips = Array.from({ length: 20 }, (_, i) => {
      const lines = [`GET /drip-${i} HTTP/1.1\r\n`, 'Host: shop.example\r\n', ...Array.from({ length: 200 }, (_, j) => `X-${j}: ${j}\r\n`)];
      return rawExchange(port, lines, { gapMs: 40 });
    });
    const served: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await request(`${rec.url}/meanwhile-${i}`, { dispatcher: client });
      await res.body.dump();
      served.push(res.statusCode);
    }
    const replies = await Promise.all(drips);
    expect(served).toEqual(Array(10).fill(200));
    for (const r of replies) expect(r.status, r.text).toBe(408);
    expect(upstream.count('/drip-')).toBe(0);
  });

  it('cuts a connection that never sends a byte (408): the headers deadline runs from the connection', async () => {
    const reply = await rawExchange(port, []);
    expect(reply.status).toBe(408);
  });

  it('cuts a request body that stalls, and the target never gets a complete request', async () => {
    const before = upstream.requests.length;
    const reply = await rawExchange(port, [H('stall', 'Content-Length: 100') + 'only ten b']);
    expect(reply.status).toBeNull();
    expect(upstream.requests.length).toBe(before);
    await until(() => rec.sink.exchanges.some((e) => e.target === '/stall'), 'the aborted exchange');
    expect(rec.sink.exchanges.find((e) => e.target === '/stall')!.error).toBe('aborted');
  });

  it('lets a slow but steady upload through: there is no deadline for a whole request', async () => {
    const parts = Array.from({ length: 10 }, (_, i) => `part-${i};`);
    const head = H('slow-upload', 'Transfer-Encoding: chunked', 'Connection: close');
    const chunks = parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`);
    // Ten gaps of 100 ms: the whole request takes three times the headers deadline.
    const reply = await rawExchange(port, [head, ...chunks, '0\r\n\r\n'], { gapMs: 100 });
    expect(reply.status, reply.text).toBe(200);
    expect(upstream.requests.find((r) => r.target === '/slow-upload')!.body.toString()).toBe(parts.join(''));
  });

  it('does not cut a client waiting for a slow target: that wait is the upstream timeout', async () => {
    const res = await request(`${rec.url}/slow/2000/wait`, { dispatcher: client });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('ok /slow/2000/wait');
  });
});

describe('refuseRequest', () => {
  const head = (rawHeaders: string[], httpVersion = '1.1', url = '/'): Parameters<typeof refuseRequest>[0] => ({ rawHeaders, httpVersion, url });

  it.each<[string, string[], string]>([
    ['chunked', ['Host', 'a', 'Transfer-Encoding', 'chunked'], '1.1'],
    ['Chunked, any case', ['Host', 'a', 'transfer-encoding', 'CHUNKED'], '1.1'],
    ['an IPv6 host with a port', ['Host', '[::1]:8080'], '1.1'],
    ['an empty Host', ['Host', ''], '1.1'],
    ['obs-text in a value', ['Host', 'a', 'X-Name', 'Jos\xe9'], '1.1'],
    ['HTTP/1.0 without a Host', [], '1.0'],
  ])('accepts %s', (_name, raw, version) => {
    expect(refuseRequest(head(raw, version), 100)).toBeNull();
  });

  it('accepts Content-Length 0 on an Upgrade, and no other body', () => {
    expect(refuseRequest(head(['Host', 'a', 'Content-Length', '0']), 100, true)).toBeNull();
    expect(refuseRequest(head(['Host', 'a', 'Content-Length', '1']), 100, true)?.status).toBe(400);
    expect(refuseRequest(head(['Host', 'a', 'Transfer-Encoding', 'chunked']), 100, true)?.status).toBe(400);
  });

  it.each<[string, string[], number]>([
    ['a tab in a name', ['Host', 'a', 'X\tA', '1'], 400],
    ['a LF in a value', ['Host', 'a', 'X-A', 'a\nb'], 400],
    ['a 16-digit Content-Length', ['Host', 'a', 'Content-Length', '1234567890123456'], 413],
    ['a Transfer-Encoding with parameters', ['Host', 'a', 'Transfer-Encoding', 'chunked;q=1'], 400],
    ['an unknown coding before chunked', ['Host', 'a', 'Transfer-Encoding', 'br, chunked'], 501],
    ['too many fields', ['Host', 'a', 'A', '1', 'B', '2'], 431],
  ])('refuses %s', (_name, raw, status) => {
    expect(refuseRequest(head(raw), 2)?.status).toBe(status);
  });

  it('maps parser errors to statuses', () => {
    const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error('Parse Error'), { code, reason: 'why' });
    expect(refusalOfClientError(err('HPE_HEADER_OVERFLOW')).status).toBe(431);
    expect(refusalOfClientError(err('HPE_CHUNK_EXTENSIONS_OVERFLOW')).status).toBe(413);
    expect(refusalOfClientError(err('ERR_HTTP_REQUEST_TIMEOUT')).status).toBe(408);
    expect(refusalOfClientError(err('HPE_INVALID_HEADER_TOKEN'))).toEqual({ status: 400, detail: 'why (HPE_INVALID_HEADER_TOKEN)' });
  });
});
