import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody, startProxy, startServer, until } from './helpers.js';

let upstream: Awaited<ReturnType<typeof startServer>>;
let rec: Awaited<ReturnType<typeof startProxy>>;
const client = new Agent({ connections: 4 });

beforeAll(async () => {
  upstream = await startServer(async (req, res) => {
    const body = await readBody(req).catch(() => null);
    if (body === null) return;
    const url = req.url ?? '/';
    if (url === '/no-content') {
      res.writeHead(204, { 'x-kind': 'empty' });
      return res.end();
    }
    if (url === '/not-modified') {
      res.writeHead(304, { etag: '"v1"' });
      return res.end();
    }
    if (url === '/stream') {
      // no content-length: chunked from the target, several writes
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const timer = setInterval(() => {
        res.write(`part ${n}\n`);
        if (++n === 5) {
          clearInterval(timer);
          res.end();
        }
      }, 2);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length + 6), 'set-cookie': ['a=1', 'b=2'] });
    res.end(Buffer.concat([Buffer.from('echo: '), body]));
  });
  upstream.server.on('upgrade', (req, socket) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\nx-host: ${req.headers.host}\r\n\r\n`);
    socket.on('data', (c: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), c])));
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
  });
  rec = await startProxy(upstream.url);
});

afterAll(async () => {
  await rec.proxy.close();
  await upstream.close();
  await client.close();
});

function last(): (typeof rec.sink.exchanges)[number] {
  return rec.sink.exchanges.at(-1)!;
}

describe('HTTP semantics through the recorder', () => {
  it('streams a chunked request body (no content-length) to the target and records it', async () => {
    const n = rec.sink.exchanges.length;
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(`${rec.url}/chunked`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let t = '';
        res.on('data', (c: Buffer) => (t += c.toString()));
        res.on('end', () => resolve(t));
      });
      req.on('error', reject);
      req.write('one,');
      setTimeout(() => req.end('two'), 20);
    });
    expect(text).toBe('echo: one,two');
    await until(() => rec.sink.exchanges.length === n + 1, 'the exchange');
    expect(Buffer.from(last().requestBody!).toString()).toBe('one,two');
    expect(last().requestBodyBytes).toBe(7);
    expect(last().requestHeaders.map(([k]) => k)).not.toContain('transfer-encoding');
  });

  it('answers HEAD with the headers and no body, and records no body', async () => {
    const n = rec.sink.exchanges.length;
    const res = await request(`${rec.url}/head`, { dispatcher: client, method: 'HEAD' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('6');
    expect((await res.body.arrayBuffer()).byteLength).toBe(0);
    await until(() => rec.sink.exchanges.length === n + 1, 'the exchange');
    expect(last().method).toBe('HEAD');
    expect(last().responseBody).toBeNull();
  });

  it('passes 204 and 304 through with their headers', async () => {
    const a = await request(`${rec.url}/no-content`, { dispatcher: client });
    await a.body.dump();
    expect(a.statusCode).toBe(204);
    expect(a.headers['x-kind']).toBe('empty');
    const b = await request(`${rec.url}/not-modified`, { dispatcher: client, headers: { 'if-none-match': '"v1"' } });
    await b.body.dump();
    expect(b.statusCode).toBe(304);
    expect(b.headers['etag']).toBe('"v1"');
    await until(() => rec.sink.exchanges.some((e) => e.status === 304), 'the 304');
  });

  it('relays a chunked response as it comes and records all of it', async () => {
    const n = rec.sink.exchanges.length;
    const res = await request(`${rec.url}/stream`, { dispatcher: client });
    expect(await res.body.text()).toBe('part 0\npart 1\npart 2\npart 3\npart 4\n');
    await until(() => rec.sink.exchanges.length === n + 1, 'the exchange');
    expect(Buffer.from(last().responseBody!).toString()).toBe('part 0\npart 1\npart 2\npart 3\npart 4\n');
    expect(last().responseHeaders.map(([k]) => k)).not.toContain('transfer-encoding');
  });

  it('gives the client every Set-Cookie header separately', async () => {
    const res = await request(`${rec.url}/cookies`, { dispatcher: client });
    await res.body.dump();
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
  });

  it('relays an Upgrade handshake and the bytes after it, unrecorded and counted', async () => {
    const n = rec.sink.exchanges.length;
    const socket = connect(Number(new URL(rec.url).port), '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.write('GET /socket HTTP/1.1\r\nhost: proxy\r\nconnection: Upgrade\r\nupgrade: echo\r\n\r\n');
    await until(() => text.includes('\r\n\r\n'), 'the 101');
    expect(text).toMatch(/^HTTP\/1\.1 101/);
    expect(text).toContain(`x-host: ${new URL(upstream.url).host}`);
    socket.write('ping');
    await until(() => text.endsWith('echo:ping'), 'the echo');
    socket.destroy();
    expect(rec.proxy.stats().upgrades).toBe(1);
    expect(rec.sink.exchanges.length).toBe(n);
  });

  it('records start offsets in order and durations in whole µs', async () => {
    const xs = rec.sink.exchanges;
    for (const e of xs) {
      expect(Number.isInteger(e.startOffsetUs)).toBe(true);
      expect(Number.isInteger(e.durationUs)).toBe(true);
      expect(e.durationUs).toBeGreaterThan(0);
    }
    const starts = xs.map((e) => e.startOffsetUs);
    expect(Math.min(...starts)).toBe(0);
  });
});
