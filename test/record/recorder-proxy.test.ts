import { request as httpRequest } from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { gzipSync, gunzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readBody, startProxy, startServer, until } from './helpers.js';

type Started = Awaited<ReturnType<typeof startProxy>>;

const client = new Agent({ connections: 8 });
let upstream: Awaited<ReturnType<typeof startServer>>;
let started: Started[] = [];

async function proxyTo(target: string | null, extra: Parameters<typeof startProxy>[1] = {}): Promise<Started> {
  const p = await startProxy(target, extra);
  started.push(p);
  return p;
}

beforeAll(async () => {
  upstream = await startServer(async (req, res) => {
    const body = await readBody(req).catch(() => null);
    if (body === null) return; // the proxy gave up on this request
    const url = req.url ?? '/';
    if (url === '/echo') {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'x-seen-hop': String(req.headers['x-hop'] ?? ''),
        'x-seen-te': String(req.headers['te'] ?? ''),
        'x-seen-host': String(req.headers['host']),
        'set-cookie': ['sid=abc; Path=/', 'theme=dark'],
      });
      res.end(body);
    } else if (url === '/gzip') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      res.end(gzipSync(Buffer.from('hello '.repeat(1000))));
    } else if (url === '/reset') {
      req.socket.destroy();
    } else if (url === '/hang') {
      // never answers
    } else if (url === '/slow-big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024, 1)), 5);
      res.on('close', () => clearInterval(timer));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain', connection: 'x-hop-resp', 'x-hop-resp': 'no' });
      res.end('not found');
    }
  });
});

afterEach(async () => {
  await Promise.all(started.map((s) => s.proxy.close()));
  started = [];
});

afterAll(async () => {
  await upstream.close();
  await client.close();
});

describe('RecorderProxy in reverse mode', () => {
  it('forwards a POST, streams the echo back and records both bodies, without hop-by-hop headers', async () => {
    const { sink, url } = await proxyTo(upstream.url);
    const payload = Buffer.from(JSON.stringify({ a: 1, b: 'two' }));
    const res = await request(`${url}/echo?x=1`, {
      dispatcher: client,
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'keep-alive, x-hop', 'x-hop': 'secret-hop', te: 'trailers' },
      body: payload,
    });
    const got = Buffer.from(await res.body.arrayBuffer());
    expect(res.statusCode).toBe(404); // /echo?x=1 is not /echo
    expect(got.toString()).toBe('not found');
    const res2 = await request(`${url}/echo`, { dispatcher: client, method: 'POST', body: payload });
    expect(Buffer.from(await res2.body.arrayBuffer())).toEqual(payload);
    expect(res2.headers['x-seen-host']).toBe(new URL(upstream.url).host);
    await until(() => sink.exchanges.length === 2, 'two exchanges');
    const [first, second] = sink.exchanges;
    expect(first!.target).toBe('/echo?x=1');
    expect(first!.status).toBe(404);
    expect(first!.requestHeaders.map(([k]) => k)).not.toContain('te');
    expect(first!.responseHeaders.map(([k]) => k)).not.toContain('x-hop-resp');
    expect(Buffer.from(second!.requestBody!)).toEqual(payload);
    expect(Buffer.from(second!.responseBody!)).toEqual(payload);
    expect(second!.requestBodyBytes).toBe(payload.length);
    expect(second!.responseHeaders.filter(([k]) => k === 'set-cookie')).toHaveLength(2);
    expect(second!.sessionKey).toBe('sid:abc');
    expect(second!.host).toBe(new URL(upstream.url).host);
    expect(second!.scheme).toBe('http');
    expect(second!.route).toBe('POST /echo');
    expect(second!.error).toBeNull();
    expect(second!.startOffsetUs).toBeGreaterThanOrEqual(first!.startOffsetUs);
  });

  it('drops headers named in Connection on the way up and in the recording', async () => {
    const { sink, url } = await proxyTo(upstream.url);
    const socket: Socket = connect(Number(new URL(url).port), '127.0.0.1');
    const reply = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        if (text.endsWith('\r\n\r\n') || text.includes('content-length: 0')) resolve(text);
      });
    });
    socket.write('GET /echo HTTP/1.1\r\nhost: x\r\nconnection: keep-alive, X-Hop\r\nx-hop: secret-hop\r\nte: trailers\r\nx-keep: 1\r\n\r\n');
    const text = await reply;
    socket.destroy();
    expect(text).toMatch(/x-seen-hop: \r\n/);
    expect(text).toMatch(/x-seen-te: \r\n/);
    await until(() => sink.exchanges.length === 1, 'one exchange');
    const names = sink.exchanges[0]!.requestHeaders.map(([k]) => k);
    expect(names).toEqual(['host', 'x-keep']);
  });

  it('keeps only --max-body bytes of a large body but streams all of it and counts it', async () => {
    const { sink, url } = await proxyTo(upstream.url, { maxBodyBytes: 1000 });
    const big = Buffer.alloc(300_000, 7);
    const res = await request(`${url}/echo`, { dispatcher: client, method: 'PUT', body: big });
    const gotBig = Buffer.from(await res.body.arrayBuffer());
    expect(gotBig.equals(big)).toBe(true);
    await until(() => sink.exchanges.length === 1, 'one exchange');
    const ex = sink.exchanges[0]!;
    expect(ex.requestBody!.length).toBe(1000);
    expect(ex.requestBodyBytes).toBe(300_000);
    expect(ex.requestBodyTruncated).toBe(true);
    expect(ex.responseBodyTruncated).toBe(true);
    expect(ex.responseBodyBytes).toBe(300_000);
  });

  it('passes a gzip response through untouched and stores it as received', async () => {
    const { sink, url } = await proxyTo(upstream.url);
    const res = await request(`${url}/gzip`, { dispatcher: client, headers: { 'accept-encoding': 'gzip' } });
    const raw = Buffer.from(await res.body.arrayBuffer());
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(raw).toString()).toBe('hello '.repeat(1000));
    await until(() => sink.exchanges.length === 1, 'one exchange');
    expect(sink.exchanges[0]!.responseEncoding).toBe('gzip');
    expect(Buffer.from(sink.exchanges[0]!.responseBody!)).toEqual(raw);
  });

  it('answers 502 with a JSON body and records "refused" when the target is down', async () => {
    const dead = createTcpServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as { port: number }).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const { sink, url } = await proxyTo(`http://127.0.0.1:${port}`);
    const res = await request(`${url}/x`, { dispatcher: client, method: 'POST', body: 'abc' });
    const body = (await res.body.json()) as { error: string; detail: string };
    expect(res.statusCode).toBe(502);
    expect(body.error).toBe('upstream_unreachable');
    expect(body.detail).toMatch(/ECONNREFUSED/);
    await until(() => sink.exchanges.length === 1, 'one exchange');
    expect(sink.exchanges[0]!.error).toBe('refused');
    expect(sink.exchanges[0]!.status).toBeNull();
  });

  it('answers 502 and records "reset" when the target drops the connection', async () => {
    const { sink, url, proxy } = await proxyTo(upstream.url);
    const res = await request(`${url}/reset`, { dispatcher: client });
    await res.body.dump();
    expect(res.statusCode).toBe(502);
    await until(() => sink.exchanges.length === 1, 'one exchange');
    expect(sink.exchanges[0]!.error).toBe('reset');
    expect(proxy.stats().errors).toBe(1);
  });

  it('answers 502 and records "dns" when the target name does not resolve', async () => {
    const { sink, url } = await proxyTo('http://flashback-test.invalid:8080');
    const res = await request(`${url}/x`, { dispatcher: client });
    const body = (await res.body.json()) as { error: string; kind: string };
    expect(res.statusCode).toBe(502);
    expect(body.kind).toBe('dns');
    await until(() => sink.exchanges.length === 1, 'one exchange');
    expect(sink.exchanges[0]!.error).toBe('dns');
    expect(sink.exchanges[0]!.errorDetail).toMatch(/flashback-test\.invalid/);
  });

  it('answers 504 and records "timeout" when the target does not answer in time', async () => {
    const { sink, url } = await proxyTo(upstream.url, { upstreamTimeoutMs: 200 });
    const res = await request(`${url}/hang`, { dispatcher: client });
    const body = (await res.body.json()) as { error: string };
    expect(res.statusCode).toBe(504);
    expect(body.error).toBe('upstream_unreachable');
    await until(() => sink.exchanges.length === 1, 'one exchange');
    expect(sink.exchanges[0]!.error).toBe('timeout');
  });

  it('records a client that aborts mid-response as "aborted" and keeps serving', async () => {
    const { sink, url, proxy } = await proxyTo(upstream.url);
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${url}/slow-big`, (res) => {
        let got = 0;
        res.on('data', (c: Buffer) => {
          got += c.length;
          if (got > 200_000) req.destroy();
        });
        res.on('error', () => {});
        res.on('close', () => resolve());
      });
      req.on('error', () => {});
      req.end();
    });
    await until(() => sink.exchanges.length === 1, 'the aborted exchange');
    expect(sink.exchanges[0]!.error).toBe('aborted');
    expect(sink.exchanges[0]!.status).toBe(200);
    expect(proxy.stats().inFlight).toBe(0);
    const res = await request(`${url}/gzip`, { dispatcher: client });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
  });

  it('records a client that aborts mid-request-body as "aborted"', async () => {
    const { sink, url } = await proxyTo(upstream.url);
    const { port } = new URL(url);
    const socket: Socket = connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write('POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n' + 'a'.repeat(5000));
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await until(() => sink.exchanges.length === 1, 'the aborted exchange');
    expect(sink.exchanges[0]!.error).toBe('aborted');
    expect(sink.exchanges[0]!.requestBodyBytes).toBeGreaterThan(0);
  });

  it('survives 200 concurrent clients of which half abort mid-response: one exchange each, nothing left in flight', async () => {
    const { sink, url, proxy } = await proxyTo(upstream.url);
    const one = (i: number): Promise<void> =>
      new Promise<void>((resolve) => {
        const abort = i % 2 === 0;
        const req = httpRequest(`${url}/${abort ? 'slow-big' : 'gzip'}`, { headers: { 'x-i': String(i) } }, (res) => {
          let got = 0;
          res.on('data', (c: Buffer) => {
            got += c.length;
            if (abort && got > 100_000) req.destroy();
          });
          res.on('error', () => {});
          res.on('close', () => resolve());
        });
        req.on('error', () => resolve());
        req.end();
      });
    await Promise.all(Array.from({ length: 200 }, (_, i) => one(i)));
    await until(() => sink.exchanges.length === 200, '200 exchanges');
    expect(sink.exchanges.filter((e) => e.error === 'aborted')).toHaveLength(100);
    expect(sink.exchanges.filter((e) => e.error === null && e.status === 200)).toHaveLength(100);
    await until(() => proxy.stats().inFlight === 0, 'nothing in flight');
    const res = await request(`${url}/gzip`, { dispatcher: client });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
  });

  it('close() waits for in-flight exchanges, then aborts stragglers and records them', async () => {
    const { sink, url, proxy } = await proxyTo(upstream.url, { drainMs: 100 });
    const pending = request(`${url}/hang`, { dispatcher: client }).then(
      (r) => r.statusCode,
      () => 'error',
    );
    await until(() => proxy.stats().inFlight === 1, 'one in flight');
    await proxy.close();
    expect(sink.exchanges).toHaveLength(1);
    expect(sink.exchanges[0]!.error).toBe('aborted');
    expect(await pending).toBe(503);
  });
});
