import { request as httpRequest } from 'node:http';
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
