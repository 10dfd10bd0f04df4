import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/model/errors.js';
import { chooseHttpClient, parseHttpClient, type HttpClientKind } from '../../src/replay/http-client.js';
import { ex, replaySessions, session, startServer } from './helpers.js';

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

const json = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));

/** Recorded: a login that set a cookie and handed out a cart id, then a POST that sent both back. */
function shopSession(key: string): ReturnType<typeof session> {
  return session(key, [
    ex({
      method: 'POST', target: '/login', startOffsetUs: 0,
      requestHeaders: [['content-type', 'application/json'], ['accept', 'application/json']], requestBody: json({ user: 'u' }),
      responseHeaders: [['content-type', 'application/json'], ['set-cookie', 'sid=recorded; Path=/']],
      responseBody: json({ cart: 'cart-rec-77' }),
    }),
    ex({ target: '/cart/cart-rec-77', startOffsetUs: 10_000, route: 'GET /cart/:id', requestHeaders: [['cookie', 'sid=recorded'], ['x-request-id', 'r-1']] }),
    ex({ method: 'HEAD', target: '/ping', startOffsetUs: 20_000 }),
    ex({ target: '/static/app.js', startOffsetUs: 30_000, requestHeaders: [['accept', '*/*'], ['accept-language', 'fr-FR,fr;q=0.9']] }),
  ]);
}

describe('the HTTP client a replay uses', () => {
  it.each([
    ['lean by default for http:', undefined, 'http://h:1', [], 'lean'],
    ['undici for https:', undefined, 'https://h', [], 'undici'],
    ['undici when a --header is one the lean client does not send (connection)', undefined, 'http://h:1', ['connection'], 'undici'],
    ['what was asked for', 'undici', 'http://h:1', [], 'undici'],
    ['lean with a host --header', 'lean', 'http://h:1', ['host'], 'lean'],
  ] as const)('%s', (_name, requested, target, names, kind) => {
    expect(chooseHttpClient(requested as HttpClientKind | undefined, target, names)).toBe(kind);
  });

  it('refuses lean for https:, lean with an unsupported --header, and an unknown name', () => {
    expect(() => chooseHttpClient('lean', 'https://h', [])).toThrow(UsageError);
    expect(() => chooseHttpClient('lean', 'http://h', ['expect'])).toThrow(/--header expect/);
    expect(() => parseHttpClient('fetch')).toThrow(/--http-client must be lean or undici \(got "fetch"\)/);
  });

  it('a replay through the lean client sends what undici sends (cookies, live ids, bodies, HEAD) and counts the same', async () => {
    const results: Record<string, { hits: unknown[]; totals: unknown }> = {};
    for (const kind of ['undici', 'lean'] as const) {
      let n = 0;
      const srv = await startServer((req, res) => {
        if (req.url === '/login') {
          res.setHeader('content-type', 'application/json');
          res.setHeader('set-cookie', `sid=live-${n}; Path=/`);
          res.end(JSON.stringify({ cart: `cart-live-${n++}` }));
        } else res.end('ok');
      });
      servers.push(srv);
      const r = await replaySessions([shopSession('a'), shopSession('b')], srv.url, { scale: 2, seed: 7 }, { httpClient: kind });
      const hits = srv.hits
        .map((h) => ({ method: h.method, url: h.url, body: h.body, headers: { ...h.headers, host: 'H', 'x-request-id': String(h.headers['x-request-id'] ?? '').replace(/-[0-9a-f]{6}/, '-TAG') } }))
        .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
      results[kind] = { hits, totals: { ...r.totals, sendLagP99Us: 0 } };
    }
    expect(results.lean!.hits).toEqual(results.undici!.hits);
    expect(results.lean!.totals).toEqual(results.undici!.totals);
    expect(results.lean!.hits).toHaveLength(16);
    expect(results.lean!.hits).toContainEqual(expect.objectContaining({ url: '/cart/cart-live-0' }));
    expect(JSON.stringify(results.lean!.hits)).toContain('sid=live-');
  });
});
