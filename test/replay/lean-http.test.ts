import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RequestTimeoutError } from '../../src/replay/error-kind.js';
import type { RequestOptions } from '../../src/replay/session-plan.js';
import { GET, runBoth, writeBytewise } from './lean-http-helpers.js';

/** Answers every request with the same bytes. */
function always(bytes: string): (s: Socket) => void {
  return (s) => void s.write(Buffer.from(bytes, 'latin1'));
}

const OK_LENGTH = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Thing: a b \r\nSet-Cookie: sid=1; Path=/\r\nset-cookie: b=2\r\n\r\nhello';
const CHUNKED =
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n' +
  '5;name=value\r\nhello\r\n' +
  '1A\r\nabcdefghijklmnopqrstuvwxyz\r\n' +
  '0\r\nx-sum: 31\r\n\r\n';

describe('lean HTTP client against undici, byte for byte', () => {
  it('a content-length body: same status, header pairs (set-cookie included) and body', async () => {
    const { lean, undici } = await runBoth(always(OK_LENGTH), [GET]);
    expect(lean.outcomes).toEqual(undici.outcomes);
    expect(lean.outcomes[0]).toMatchObject({ status: 200, body: 'hello', error: null });
    expect(lean.outcomes[0]!.headers).toEqual([['Content-Length', '5'], ['X-Thing', 'a b '], ['Set-Cookie', 'sid=1; Path=/'], ['set-cookie', 'b=2']]);
  });

  it('sends the same request bytes as undici: GET, POST with a body, POST without one, a host header', async () => {
    const post: RequestOptions = { path: '/p?q=1', method: 'POST', headers: ['content-type', 'application/json', 'x-v', 'café'], body: Buffer.from('{"a":1}') };
    const empty: RequestOptions = { path: '/e', method: 'POST', headers: [], body: null };
    const host: RequestOptions = { path: '/h', method: 'GET', headers: ['host', 'shop.example', 'accept', 'text/html'], body: null };
    const { lean, undici } = await runBoth(always(OK_LENGTH), [GET, post, empty, host]);
    expect(lean.requests).toEqual(undici.requests);
    expect(lean.requests[1]).toContain('content-length: 7\r\n\r\n{"a":1}');
    expect(lean.outcomes).toEqual(undici.outcomes);
  });

  it('a chunked body with chunk extensions and trailers, sent one byte per TCP write', async () => {
    const { lean, undici } = await runBoth((s) => writeBytewise(s, CHUNKED), [GET, GET]);
    expect(lean.outcomes).toEqual(undici.outcomes);
    expect(lean.outcomes.map((o) => o.body)).toEqual(['helloabcdefghijklmnopqrstuvwxyz', 'helloabcdefghijklmnopqrstuvwxyz']);
    expect(lean.connections).toBe(undici.connections);
    expect(lean.connections).toBe(1);
  });

  it('keep-alive: three requests share one connection', async () => {
    const { lean, undici } = await runBoth(always(OK_LENGTH), [GET, GET, GET]);
    expect(lean.outcomes).toEqual(undici.outcomes);
    expect([lean.connections, undici.connections]).toEqual([1, 1]);
  });

  it('connection: close: the response completes and the next request opens a new connection', async () => {
    const bytes = 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok';
    const { lean, undici } = await runBoth(always(bytes), [GET, GET]);
    expect(lean.outcomes).toEqual(undici.outcomes);
    expect(lean.outcomes.map((o) => o.status)).toEqual([200, 200]);
    expect([lean.connections, undici.connections]).toEqual([2, 2]);
  });

  it('a body delimited by the close of the connection', async () => {
    const { lean, undici } = await runBoth((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ');
      setTimeout(() => s.end('the end'), 5);
    }, [GET, GET]);
    expect(lean.outcomes).toEqual(undici.outcomes);
    expect(lean.outcomes[0]).toMatchObject({ status: 200, body: 'until the end', error: null });
    expect(lean.connections).toBe(2);
  });

  it('a 103 Early Hints before the response: the final status, body and connection reuse', async () => {
    const bytes = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n' + OK_LENGTH;
    const { lean, undici } = await runBoth(always(bytes), [GET, GET]);
    // undici hands the 103's headers to onHeaders too; the lean client skips interim responses
    const final = undici.outcomes.map((o) => ({ ...o, headers: o.headers.filter(([n]) => n !== 'Link') }));
    expect(lean.outcomes).toEqual(final);
    expect(lean.outcomes[1]).toMatchObject({ status: 200, body: 'hello' });
    expect([lean.connections, undici.connections]).toEqual([1, 1]);
  });

  it('an unsolicited 100 Continue is skipped by the lean client (undici fails the request: "bad response")', async () => {
    const { lean, undici } = await runBoth(always('HTTP/1.1 100 Continue\r\n\r\n' + OK_LENGTH), [GET]);
    expect(lean.outcomes[0]).toMatchObject({ status: 200, body: 'hello', error: null });
    expect(undici.outcomes[0]).toMatchObject({ status: 0, error: 'reset' });
  });

  it('HEAD: no body despite content-length, sent with connection: close, connection not reused', async () => {
    const head: RequestOptions = { path: '/h', method: 'HEAD', headers: [], body: null };
    const { lean, undici } = await runBoth(always('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'), [head, head]);
    expect(lean.outcomes).toEqual(undici.outcomes);
    expect(lean.outcomes[0]).toMatchObject({ status: 200, body: '', error: null });
    expect(lean.requests).toEqual(undici.requests);
    expect(lean.requests[0]).toContain('connection: close');
    expect([lean.connections, undici.connections]).toEqual([2, 2]);
  });

  it('a 304 with the content-length of the body it stands for: no body; undici fails it ("content-length mismatch")', async () => {
    const bytes = 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: "x"\r\n\r\n';
    const { lean, undici } = await runBoth(always(bytes), [GET, GET]);
    expect(lean.outcomes.map((o) => [o.status, o.body, o.error])).toEqual([[304, '', null], [304, '', null]]);
    expect(lean.connections).toBe(1);
    expect(undici.outcomes[0]).toMatchObject({ status: 0, error: 'protocol', errorCode: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' });
  });

  it.each([
    ['204', 'HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n'],
    ['304', 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n'],
  ])('%s: no body, and the connection carries the next request', async (_name, bytes) => {
    const { lean, undici } = await runBoth(always(bytes), [GET, GET]);
    expect(lean.outcomes).toEqual(undici.outcomes);
    expect(lean.outcomes[1]!.body).toBe('');
    expect([lean.connections, undici.connections]).toEqual([1, 1]);
  });

  it.each([
    ['in the status line', 'HTTP/1.1 20'],
    ['in the headers', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A'],
    ['in a content-length body', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel'],
    ['in a chunked body', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel'],
    ['in a content-length body after connection: close', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhel'],
    ['before any byte', ''],
  ])('a close %s: the same error kind', async (_name, bytes) => {
    const { lean, undici } = await runBoth((s) => void s.end(bytes), [GET]);
    expect(lean.outcomes[0]!.error).not.toBeNull();
    expect(lean.outcomes[0]!.error).toBe(undici.outcomes[0]!.error);
    expect(lean.outcomes[0]!.status).toBe(0);
  });

  it('headers over 16 KiB: the same error kind', async () => {
    const bytes = `HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(17_000)}\r\nContent-Length: 2\r\n\r\nok`;
    const { lean, undici } = await runBoth(always(bytes), [GET]);
    expect(lean.outcomes[0]!.error).not.toBeNull();
    expect(lean.outcomes[0]!.error).toBe(undici.outcomes[0]!.error);
  });

  it.each([
    ['not HTTP', 'HTTX/1.1 200 OK\r\n\r\n'],
    ['a status of two digits', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nbroken\r\n\r\n'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
  ])('a malformed response (%s): protocol error, like undici', async (_name, bytes) => {
    const { lean, undici } = await runBoth(always(bytes), [GET]);
    expect(undici.outcomes[0]!.error).toBe('protocol');
    expect(lean.outcomes[0]!.error).toBe('protocol');
  });

  it('a server that never answers: the abort given to onConnect fails the request with its error and closes the connection', async () => {
    const { lean, undici } = await runBoth(
      () => undefined,
      [GET],
      async (c) => {
        await new Promise((r) => setTimeout(r, 50));
        c.abort!(new RequestTimeoutError());
      },
    );
    expect(lean.outcomes).toEqual(undici.outcomes);
    expect(lean.outcomes[0]).toMatchObject({ status: 0, error: 'timeout' });
  });
});
