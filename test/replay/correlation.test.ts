import { afterEach, describe, expect, it } from 'vitest';
import { ex, replaySessions, session, startServer } from './helpers.js';
import { findCorrelations } from '../../src/replay/correlation.js';

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

const json = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));

/** Recorded: POST /orders handed out ord-1001 (body) and /orders/ord-1001 (Location); later requests sent it back. */
function orderSession(key: string): ReturnType<typeof session> {
  return session(key, [
    ex({
      method: 'POST', target: '/orders', startOffsetUs: 0, status: 201,
      requestHeaders: [['content-type', 'application/json']], requestBody: json({ sku: 'sku-9' }),
      responseHeaders: [['content-type', 'application/json'], ['location', '/orders/ord-1001'], ['x-csrf-token', 'tok-recorded-abc']],
      responseBody: json({ order: { id: 'ord-1001', total: 1999 } }),
    }),
    ex({ method: 'GET', target: '/orders/ord-1001?expand=lines', startOffsetUs: 10_000, route: 'GET /orders/:id' }),
    ex({
      method: 'POST', target: '/orders/ord-1001/pay', startOffsetUs: 20_000, route: 'POST /orders/:id/pay',
      requestHeaders: [['content-type', 'application/json'], ['x-csrf-token', 'tok-recorded-abc']],
      requestBody: json({ orderId: 'ord-1001', amount: 1999 }),
    }),
  ]);
}

describe('correlation', () => {
  it('finds the values a response handed out and where later requests sent them back', () => {
    const s = orderSession('a');
    const c = findCorrelations(s.exchanges);
    expect(c.sources[0]!.map((x) => x.recorded).sort()).toEqual(['1999', 'ord-1001', 'tok-recorded-abc']);
    const pay = c.substitutions[2]!;
    const id = pay.find((x) => x.recorded === 'ord-1001')!;
    expect(id).toMatchObject({ inPath: true, inBody: true, inHeaders: [] });
    expect(pay.find((x) => x.recorded === 'tok-recorded-abc')).toMatchObject({ inHeaders: ['x-csrf-token'] });
  });

  it('does not correlate a value the client sent before the response (an echo)', () => {
    const s = session('e', [
      ex({ target: '/products/12345', startOffsetUs: 0, responseHeaders: [['content-type', 'application/json']], responseBody: json({ id: 12345 }) }),
      ex({ target: '/reviews?product=12345', startOffsetUs: 10_000 }),
    ]);
    expect(findCorrelations(s.exchanges).vars).toBe(0);
  });

  it('an id handed out by POST in replay, not the recorded one, is sent in the later requests', async () => {
    let n = 0;
    const srv = await startServer((req, res) => {
      if (req.method === 'POST' && req.url === '/orders') {
        const id = `ord-${5000 + n++}`;
        res.statusCode = 201;
        res.setHeader('content-type', 'application/json');
        res.setHeader('location', `/orders/${id}`);
        res.setHeader('x-csrf-token', `tok-live-${id}`);
        res.end(JSON.stringify({ order: { id, total: 1999 } }));
      } else res.end('{}');
    });
    servers.push(srv);
    const r = await replaySessions([orderSession('a'), orderSession('b')], srv.url, { scale: 2 });
    expect(r.totals.requests).toBe(12);
    const gets = srv.hits.filter((h) => h.method === 'GET');
    const pays = srv.hits.filter((h) => h.url.endsWith('/pay'));
    expect(gets.map((h) => h.url).sort()).toEqual(['/orders/ord-5000?expand=lines', '/orders/ord-5001?expand=lines', '/orders/ord-5002?expand=lines', '/orders/ord-5003?expand=lines']);
    for (const p of pays) {
      const id = /\/orders\/(ord-\d+)\/pay/.exec(p.url)![1]!;
      expect(id).not.toBe('ord-1001');
      expect(JSON.parse(p.body)).toEqual({ orderId: id, amount: 1999 });
      expect(p.headers['x-csrf-token']).toBe(`tok-live-${id}`);
    }
    expect(new Set(pays.map((p) => p.url)).size).toBe(4);
  });

  it('redacted header values are dropped and counted unless a live value replaces them; --header sets its own', async () => {
    const srv = await startServer((req, res) => {
      if (req.url === '/login') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ token: 'live-token-123456' }));
      } else res.end('ok');
    });
    servers.push(srv);
    const s = session('r', [
      ex({ method: 'POST', target: '/login', startOffsetUs: 0, responseHeaders: [['content-type', 'application/json']], responseBody: json({ token: 'redacted:AAAAAAAAAAAAAAAA' }) }),
      ex({ target: '/me', startOffsetUs: 10_000, requestHeaders: [['authorization', 'Bearer redacted:AAAAAAAAAAAAAAAA']] }),
      ex({ target: '/other?key=redacted%3ABBBBBBBBBBBBBBBB&page=2', startOffsetUs: 20_000, requestHeaders: [['x-api-key', 'redacted:CCCCCCCCCCCCCCCC'], ['x-team', 'red']] }),
    ]);
    const r = await replaySessions([s], srv.url, {}, { headers: [{ name: 'x-run', value: 'ci-42' }] });
    const me = srv.hits.find((h) => h.url === '/me')!;
    expect(me.headers.authorization).toBe('Bearer live-token-123456');
    const other = srv.hits.find((h) => h.url.startsWith('/other'))!;
    expect(other.url).toBe('/other?page=2');
    expect(other.headers['x-api-key']).toBeUndefined();
    expect(other.headers['x-team']).toBe('red');
    expect(srv.hits.every((h) => h.headers['x-run'] === 'ci-42')).toBe(true);
    expect(srv.hits.some((h) => JSON.stringify(h.headers).includes('redacted:'))).toBe(false);
    expect(r.totals.droppedRedactedHeaders).toBe(2);
  });
});
