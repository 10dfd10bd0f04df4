import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, startServer, until } from './helpers.js';

let upstream: Awaited<ReturnType<typeof startServer>>;
let fwd: Awaited<ReturnType<typeof startProxy>>;

beforeAll(async () => {
  upstream = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hi ${req.url} host=${req.headers.host} pa=${req.headers['proxy-authorization'] ?? '-'}`);
  });
  fwd = await startProxy(null, { forward: true });
});

afterAll(async () => {
  await fwd.proxy.close();
  await upstream.close();
});

/** Sends `GET <absoluteUri>` to the proxy the way a client configured with an HTTP proxy does. */
function viaProxy(absoluteUri: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const proxy = new URL(fwd.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: proxy.hostname, port: proxy.port, method: 'GET', path: absoluteUri, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('RecorderProxy in forward mode', () => {
  it('forwards an absolute-URI request to the host it names and records that host', async () => {
    const host = new URL(upstream.url).host;
    const before = fwd.sink.exchanges.length;
    const r = await viaProxy(`http://${host}/products/7?x=1`, { host, 'proxy-authorization': 'Basic c2VjcmV0' });
    expect(r.status).toBe(200);
    expect(r.body).toBe(`hi /products/7?x=1 host=${host} pa=-`);
    await until(() => fwd.sink.exchanges.length === before + 1, 'the exchange');
    const ex = fwd.sink.exchanges.at(-1)!;
    expect(ex.host).toBe(host);
    expect(ex.target).toBe('/products/7?x=1');
    expect(ex.scheme).toBe('http');
    expect(ex.status).toBe(200);
  });

  it('answers 400 to a request that is not absolute-URI and records nothing', async () => {
    const before = fwd.sink.exchanges.length;
    const r = await viaProxy('/relative');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toBe('bad_proxy_request');
    expect(fwd.sink.exchanges.length).toBe(before);
    expect(fwd.proxy.stats().rejected).toBeGreaterThan(0);
  });

  it('tunnels CONNECT without recording it, and counts the tunnel', async () => {
    const before = fwd.sink.exchanges.length;
    const { port } = new URL(fwd.url);
    const upstreamPort = new URL(upstream.url).port;
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.write(`CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\r\nhost: 127.0.0.1:${upstreamPort}\r\n\r\n`);
    await until(() => text.includes('200 Connection Established'), 'the tunnel');
    socket.write(`GET /inside HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
    await until(() => text.includes('hi /inside'), 'the tunnelled response');
    socket.destroy();
    expect(fwd.proxy.stats().tunnels).toBe(1);
    expect(fwd.sink.exchanges.length).toBe(before);
  });

  it('answers 502 to a CONNECT whose host refuses', async () => {
    const socket = connect(Number(new URL(fwd.url).port), '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.write('CONNECT 127.0.0.1:1 HTTP/1.1\r\nhost: 127.0.0.1:1\r\n\r\n');
    await until(() => text.includes('502'), 'the 502');
    socket.destroy();
  });
});
