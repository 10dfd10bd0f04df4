import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { httpClientFactory, type HttpClientKind } from '../../src/replay/http-client.js';
import type { RequestOptions } from '../../src/replay/session-plan.js';
import { Collector, GET, runBoth, scriptedServer } from './lean-http-helpers.js';
import { wireOf } from '../../src/replay/lean-http/request-head.js';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\nSet-Cookie: s=1\r\n\r\nok';
const KINDS: HttpClientKind[] = ['undici', 'lean'];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('lean HTTP client: connections and their life', () => {
  it.each(KINDS)('%s: a refused connection fails the request as "refused"', async (kind) => {
    const port = await freePort();
    const client = httpClientFactory(kind, `http://127.0.0.1:${port}`, { connectTimeout: 2000, keepAliveTimeout: 30_000 })();
    const c = new Collector();
    client.dispatch({ ...GET }, c);
    await c.done;
    expect(c.outcome()).toMatchObject({ status: 0, error: 'refused' });
    await client.destroy();
  });

  it('a server that closes an idle keep-alive connection: the next request goes on a new one, without error', async () => {
    const { lean, undici } = await runBoth((s) => void s.end(OK), [GET, GET, GET]);
    expect(lean.outcomes).toEqual(undici.outcomes);
    expect(lean.outcomes.map((o) => o.error)).toEqual([null, null, null]);
    expect([lean.connections, undici.connections]).toEqual([3, 3]);
  });

  it('a keep-alive timeout hint shorter than the threshold: the connection is not reused', async () => {
    const bytes = 'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok';
    const { lean, undici } = await runBoth((s) => void s.write(bytes), [GET, GET]);
    expect(lean.outcomes).toEqual(undici.outcomes);
    expect([lean.connections, undici.connections]).toEqual([2, 2]);
  });

  it('options built once (wire: null) are serialized on first send and the bytes reused after; per-request options are not cached', async () => {
    const srv = await scriptedServer((s) => void s.write(OK));
    const client = httpClientFactory('lean', srv.url, { connectTimeout: 2000, keepAliveTimeout: 30_000 })();
    const fixed: RequestOptions = { path: '/f', method: 'GET', headers: ['accept', 'text/html'], body: null, wire: null };
    const once: RequestOptions = { path: '/o', method: 'GET', headers: [], body: null };
    const send = async (o: RequestOptions): Promise<void> => {
      const c = new Collector();
      client.dispatch(o, c);
      await c.done;
      expect(c.outcome()).toMatchObject({ status: 200, body: 'ok' });
    };
    await send(fixed);
    const first = fixed.wire!.bytes;
    await send(fixed);
    expect(fixed.wire!.bytes).toBe(first);
    await send(once);
    expect('wire' in once).toBe(false);
    expect(srv.requests[0]!.equals(first)).toBe(true);
    expect(srv.requests[1]!.equals(first)).toBe(true);
    await client.destroy();
    await srv.close();
  });

  it('options built once keep their bytes for two origins (a paired replay), each with its own host line', () => {
    const fixed: RequestOptions = { path: '/f', method: 'GET', headers: [], body: null, wire: null };
    const hostA = 'host: 127.0.0.1:1001\r\n';
    const hostB = 'host: 127.0.0.1:1002\r\n';
    const a1 = wireOf(fixed, hostA);
    const b1 = wireOf(fixed, hostB);
    const a2 = wireOf(fixed, hostA);
    const b2 = wireOf(fixed, hostB);
    expect(a2).toBe(a1);
    expect(b2).toBe(b1);
    expect(fixed.wire).toBe(a1);
    expect(fixed.wireAlt).toBe(b1);
    expect('bytes' in b1 && b1.bytes.toString('latin1')).toContain(hostB);
    expect('bytes' in a1 && a1.bytes.toString('latin1')).toContain(hostA);
  });

  it('a handler that does not want headers gets the set-cookie pairs only', async () => {
    const srv = await scriptedServer((s) => void s.write(OK));
    const client = httpClientFactory('lean', srv.url, { connectTimeout: 2000, keepAliveTimeout: 30_000 })();
    const c = new Collector(false);
    client.dispatch({ ...GET }, c);
    await c.done;
    expect(c.outcome()).toMatchObject({ status: 200, body: 'ok', headers: [['Set-Cookie', 's=1']] });
    await client.destroy();
    await srv.close();
  });

  it.each(KINDS)('%s: close() waits for the request in flight, then refuses new ones as destroyed ("other")', async (kind) => {
    const srv = await scriptedServer((s) => void setTimeout(() => s.write(OK), 20));
    const client = httpClientFactory(kind, srv.url, { connectTimeout: 2000, keepAliveTimeout: 30_000 })();
    const c = new Collector();
    client.dispatch({ ...GET }, c);
    await new Promise((r) => setTimeout(r, 5));
    await client.close();
    expect(c.outcome()).toMatchObject({ status: 200, body: 'ok', error: null });
    const late = new Collector();
    client.dispatch({ ...GET }, late);
    await late.done;
    expect(late.outcome()).toMatchObject({ status: 0, error: 'other', errorCode: 'UND_ERR_DESTROYED' });
    await srv.close();
  });

  it.each(KINDS)('%s: destroy() fails the request in flight ("other") and closes the connection', async (kind) => {
    const srv = await scriptedServer(() => undefined);
    const client = httpClientFactory(kind, srv.url, { connectTimeout: 2000, keepAliveTimeout: 30_000 })();
    const c = new Collector();
    client.dispatch({ ...GET }, c);
    await new Promise((r) => setTimeout(r, 20));
    await client.destroy();
    await c.done;
    expect(c.outcome()).toMatchObject({ status: 0, error: 'other', errorCode: 'UND_ERR_DESTROYED' });
    await new Promise((r) => setTimeout(r, 20));
    expect(srv.sockets.every((s) => s.destroyed || s.readableEnded)).toBe(true);
    await srv.close();
  });

  it.each(KINDS)('%s: a request dispatched while one is in flight waits for it, on the same connection', async (kind) => {
    const srv = await scriptedServer((s) => void s.write(OK));
    const client = httpClientFactory(kind, srv.url, { connectTimeout: 2000, keepAliveTimeout: 30_000 })();
    const a = new Collector();
    const b = new Collector();
    client.dispatch({ ...GET, path: '/1' }, a);
    client.dispatch({ ...GET, path: '/2' }, b);
    await Promise.all([a.done, b.done]);
    expect([a.outcome().status, b.outcome().status]).toEqual([200, 200]);
    expect(srv.connections).toBe(1);
    await client.destroy();
    await srv.close();
  });
});
