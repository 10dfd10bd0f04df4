import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, until } from './helpers.js';

/**
 * The reverse proxy's relay (src/record/relay.ts) against a scripted target
 * on node:net: what a client connection sees when the target's connection
 * behaves in the ways keep-alive connections do in production.
 */

interface SeenRequest {
  conn: number;
  head: string;
  body: string;
}

/** What the target does with a request: a whole response to write (and maybe close after), or drop the connection unanswered. */
type Answer = { write: string; close?: boolean } | 'drop';

/** A target that numbers its connections and asks `script(conn, nth request on it, request)` what to do. */
async function scriptedTarget(script: (conn: number, nth: number, req: SeenRequest) => Answer): Promise<{ url: string; seen: SeenRequest[]; close: () => Promise<void> }> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let conns = 0;
  const server: Server = createServer((socket) => {
    const conn = ++conns;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = '';
    let nth = 0;
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const req = { conn, head, body: buf.slice(end + 4, end + 4 + length) };
        buf = buf.slice(end + 4 + length);
        seen.push(req);
        const answer = script(conn, ++nth, req);
        if (answer === 'drop') {
          socket.destroy();
          return;
        }
        socket.write(answer.write, 'latin1');
        if (answer.close) {
          socket.end();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function ok(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;
}

/** A client on one raw connection: `send` writes, `until` waits for text to arrive. */
function rawClient(url: string): Promise<{ send: (text: string) => void; until: (text: string) => Promise<string>; closed: () => boolean; text: () => string; end: () => void }> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    let closed = false;
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => (closed = true));
    socket.once('connect', () =>
      resolve({
        send: (text) => socket.write(text, 'latin1'),
        until: async (text) => {
          await until(() => received.includes(text) || closed, `"${text}" from the proxy`);
          return received;
        },
        closed: () => closed,
        text: () => received,
        end: () => socket.destroy(),
      }),
    );
  });
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp(script: (conn: number, nth: number, req: SeenRequest) => Answer) {
  const target = await scriptedTarget(script);
  const rec = await startProxy(target.url);
  cleanups.push(target.close, () => rec.proxy.close());
  const client = await rawClient(rec.url);
  cleanups.push(async () => client.end());
  return { target, rec, client };
}

describe('the relay, when the target closes a kept-alive connection', () => {
  it('sends a GET that was under way when it closed again, once, on a new connection', async () => {
    // Connection 1 answers its first request and drops the second unanswered (the keep-alive race).
    const { target, rec, client } = await setUp((conn, nth) => (conn === 1 && nth === 2 ? 'drop' : { write: ok(conn === 1 ? 'one' : 'two') }));
    client.send('GET /a HTTP/1.1\r\nHost: shop.example\r\n\r\n');
    await client.until('one');
    client.send('GET /b HTTP/1.1\r\nHost: shop.example\r\n\r\n');
    const text = await client.until('two');
    expect(text.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
    expect(client.closed()).toBe(false);
    expect(target.seen.map((r) => [r.conn, r.head.split(' ')[1]])).toEqual([
      [1, '/a'],
      [1, '/b'],
      [2, '/b'],
    ]);
    await until(() => rec.sink.exchanges.length === 2, 'two exchanges');
    expect(rec.sink.exchanges.map((e) => [e.target, e.status, e.error])).toEqual([
      ['/a', 200, null],
      ['/b', 200, null],
    ]);
  });

  it('does not send a request with a body again: the client gets 502 and the exchange is recorded "reset"', async () => {
    const { target, rec, client } = await setUp((conn, nth) => (conn === 1 && nth === 2 ? 'drop' : { write: ok('fine') }));
    client.send('GET /a HTTP/1.1\r\nHost: shop.example\r\n\r\n');
    await client.until('fine');
    client.send('POST /order HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 5\r\n\r\nhello');
    const text = await client.until('502');
    expect(text).toContain('HTTP/1.1 502 Bad Gateway');
    expect(target.seen.filter((r) => r.head.startsWith('POST'))).toHaveLength(1);
    await until(() => rec.sink.exchanges.length === 2, 'two exchanges');
    expect(rec.sink.exchanges[1]).toMatchObject({ target: '/order', status: null, error: 'reset' });
  });

  it('keeps the client connection when the target answers "connection: close", and opens a new one for the next request', async () => {
    const { target, rec, client } = await setUp((conn) => ({ write: ok(`conn ${conn}`, conn === 1 ? 'connection: close\r\n' : ''), close: conn === 1 }));
    client.send('GET /a HTTP/1.1\r\nHost: shop.example\r\n\r\n');
    const first = await client.until('conn 1');
    expect(first.toLowerCase()).not.toContain('connection: close');
    client.send('GET /b HTTP/1.1\r\nHost: shop.example\r\n\r\n');
    await client.until('conn 2');
    expect(client.closed()).toBe(false);
    expect(target.seen.map((r) => r.conn)).toEqual([1, 2]);
    await until(() => rec.sink.exchanges.length === 2, 'two exchanges');
    expect(rec.sink.exchanges.every((e) => e.status === 200 && e.error === null)).toBe(true);
  });

  it('opens a new target connection after an idle one closed, without closing the client', async () => {
    // The target closes each connection once it has answered (its keep-alive timeout, in effect), without saying so.
    const { target, client } = await setUp((conn) => ({ write: ok(`conn ${conn}`), close: true }));
    client.send('GET /a HTTP/1.1\r\nHost: shop.example\r\n\r\n');
    await client.until('conn 1');
    await new Promise((r) => setTimeout(r, 50));
    expect(client.closed()).toBe(false);
    client.send('GET /b HTTP/1.1\r\nHost: shop.example\r\n\r\n');
    await client.until('conn 2');
    expect(client.closed()).toBe(false);
    expect(target.seen.map((r) => r.conn)).toEqual([1, 2]);
  });
});

describe('the relay, HTTP semantics', () => {
  it('answers pipelined requests in order', async () => {
    const { client } = await setUp((_c, nth, req) => ({ write: ok(`${nth}:${req.head.split(' ')[1]}${'.'.repeat(nth * 1000)}`) }));
    client.send(['/x', '/y', '/z'].map((p) => `GET ${p} HTTP/1.1\r\nHost: shop.example\r\n\r\n`).join(''));
    const text = await client.until(`3:/z${'.'.repeat(3000)}`);
    expect([...text.matchAll(/(\d):(\/\w)/g)].map((m) => m[0])).toEqual(['1:/x', '2:/y', '3:/z']);
  });

  it('passes on and records requests and answers of more header fields than the parser hands over at once (32)', async () => {
    const many = (prefix: string): string => Array.from({ length: 100 }, (_, i) => `${prefix}-${i}: v${i}\r\n`).join('');
    const { target, rec, client } = await setUp(() => ({ write: `HTTP/1.1 200 OK\r\n${many('X-Res')}content-length: 4\r\n\r\nmany` }));
    client.send(`GET /many?q=1 HTTP/1.1\r\nHost: shop.example\r\n${many('X-Req')}\r\n`);
    const text = await client.until('many');
    expect(text).toContain('X-Res-99: v99');
    expect(target.seen[0]!.head).toContain('GET /many?q=1 HTTP/1.1');
    expect(target.seen[0]!.head).toContain('X-Req-99: v99');
    await until(() => rec.sink.exchanges.length === 1, 'one exchange');
    const ex = rec.sink.exchanges[0]!;
    expect(ex.target).toBe('/many?q=1');
    expect(ex.requestHeaders.filter(([k]) => k.startsWith('x-req-'))).toHaveLength(100);
    expect(ex.responseHeaders.filter(([k]) => k.startsWith('x-res-'))).toHaveLength(100);
  });

  it('answers "Expect: 100-continue" itself and does not pass the header on', async () => {
    const { target, rec, client } = await setUp(() => ({ write: ok('got it') }));
    client.send('POST /upload HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    await client.until('100 Continue');
    client.send('data');
    await client.until('got it');
    expect(target.seen[0]!.head.toLowerCase()).not.toContain('expect');
    expect(target.seen[0]!.body).toBe('data');
    await until(() => rec.sink.exchanges.length === 1, 'one exchange');
    expect(Buffer.from(rec.sink.exchanges[0]!.requestBody!).toString()).toBe('data');
  });

  it('gives an HTTP/1.0 client a chunked answer as plain bytes up to the close', async () => {
    const chunked = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
    const { rec, client } = await setUp(() => ({ write: chunked }));
    client.send('GET /old HTTP/1.0\r\nHost: shop.example\r\n\r\n');
    await until(() => client.closed(), 'the proxy closes the connection');
    const text = client.text();
    expect(text.toLowerCase()).not.toContain('transfer-encoding');
    expect(text.toLowerCase()).toContain('connection: close');
    expect(text.endsWith('\r\n\r\nhello world')).toBe(true);
    await until(() => rec.sink.exchanges.length === 1, 'one exchange');
    expect(Buffer.from(rec.sink.exchanges[0]!.responseBody!).toString()).toBe('hello world');
  });

  it('takes the rest of a body the target answered early, and stays up', async () => {
    // The target refuses the upload on its head alone, then drops the connection (without having said it
    // would); the client is still sending.
    const target = await (async () => {
      const server: Server = createServer((socket) => {
        socket.on('error', () => socket.destroy());
        socket.once('data', () => {
          socket.write('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n');
          setTimeout(() => socket.destroy(), 20);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
    })();
    const rec = await startProxy(target.url);
    cleanups.push(target.close, () => rec.proxy.close());
    const client = await rawClient(rec.url);
    cleanups.push(async () => client.end());
    client.send('POST /upload HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 300000\r\n\r\n');
    await client.until('413');
    await new Promise((r) => setTimeout(r, 60));
    for (let i = 0; i < 30; i++) client.send('x'.repeat(10_000));
    await new Promise((r) => setTimeout(r, 60));
    await until(() => rec.sink.exchanges.length === 1, 'one exchange');
    expect(rec.sink.exchanges[0]).toMatchObject({ target: '/upload', status: 413, error: null });
    // Still up: the next client is served (by a new target connection, answered 413 again).
    const next = await rawClient(rec.url);
    cleanups.push(async () => next.end());
    next.send('GET /after HTTP/1.1\r\nHost: shop.example\r\n\r\n');
    await next.until('413');
    await until(() => rec.sink.exchanges.length === 2, 'two exchanges');
  });

  it('answers 504 and records "timeout" when the target never answers', async () => {
    const target = await scriptedTarget(() => ({ write: '' }));
    const rec = await startProxy(target.url, { upstreamTimeoutMs: 200 });
    cleanups.push(target.close, () => rec.proxy.close());
    const client = await rawClient(rec.url);
    cleanups.push(async () => client.end());
    client.send('GET /slow HTTP/1.1\r\nHost: shop.example\r\n\r\n');
    const text = await client.until('504');
    expect(text).toContain('HTTP/1.1 504 Gateway Timeout');
    await until(() => rec.sink.exchanges.length === 1, 'one exchange');
    expect(rec.sink.exchanges[0]).toMatchObject({ status: null, error: 'timeout' });
  });
});
