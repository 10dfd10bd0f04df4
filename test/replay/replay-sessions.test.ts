import { afterEach, describe, expect, it } from 'vitest';
import { ex, replaySessions, session, startServer, type Hit } from './helpers.js';
import type { Session } from '../../src/model/session.js';

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

/** K recorded sessions of three requests each; the first response set a session cookie. */
function recordedShop(k: number): Session[] {
  const out: Session[] = [];
  for (let s = 0; s < k; s++) {
    const t = s * 20_000;
    out.push(
      session(`sess-${s}`, [
        ex({ target: `/s${s}/a`, startOffsetUs: t, durationUs: 2_000, responseHeaders: [['set-cookie', `sid=recorded-${s}; Path=/`]] }),
        ex({ target: `/s${s}/b`, startOffsetUs: t + 5_000, requestHeaders: [['cookie', `sid=recorded-${s}; theme=dark`]] }),
        ex({ target: `/s${s}/c`, startOffsetUs: t + 10_000, method: 'POST', requestHeaders: [['cookie', `sid=recorded-${s}`]], requestBody: Buffer.from('x=1') }),
      ]),
    );
  }
  return out;
}

/** A server that hands every new visitor a fresh `sid` cookie. */
async function cookieServer(): Promise<{ url: string; hits: Hit[]; close(): Promise<void> }> {
  let next = 0;
  const srv = await startServer((req, res) => {
    if (!/sid=/.test(req.headers.cookie ?? '')) res.setHeader('set-cookie', `sid=live-${next++}; Path=/; HttpOnly`);
    res.end('ok');
  });
  servers.push(srv);
  return srv;
}

function sidOf(h: Hit): string {
  return /sid=([^;]+)/.exec(h.headers.cookie ?? '')?.[1] ?? '(none)';
}

describe('replaying sessions', () => {
  it('a scale-3 replay of K sessions sends exactly 3K copies, each in recorded order with its own cookie jar', async () => {
    const srv = await cookieServer();
    const K = 4;
    const result = await replaySessions(recordedShop(K), srv.url, { scale: 3, jitterUs: 50_000 });
    expect(srv.hits).toHaveLength(3 * K * 3);
    expect(result.totals.requests).toBe(3 * K * 3);
    expect(result.totals.sessions).toBe(3 * K);
    // The first request of each copy carries no cookie; the later two carry that copy's live cookie.
    const firsts = srv.hits.filter((h) => h.url.endsWith('/a'));
    expect(firsts.every((h) => h.headers.cookie === undefined)).toBe(true);
    const bySid = new Map<string, string[]>();
    for (const h of srv.hits.filter((x) => !x.url.endsWith('/a'))) bySid.set(sidOf(h), [...(bySid.get(sidOf(h)) ?? []), h.url]);
    expect(bySid.size).toBe(3 * K);
    for (const [sid, urls] of bySid) {
      expect(sid).toMatch(/^live-\d+$/);
      expect(urls).toHaveLength(2);
      expect(urls[0]).toMatch(/\/b$/);
      expect(urls[1]).toBe(urls[0]!.replace(/b$/, 'c'));
    }
    // Cookies the server set in the recording are never sent; others the client had are kept.
    expect(srv.hits.some((h) => (h.headers.cookie ?? '').includes('recorded'))).toBe(false);
    expect(srv.hits.filter((h) => h.url.endsWith('/b')).every((h) => (h.headers.cookie ?? '').includes('theme=dark'))).toBe(true);
    expect(srv.hits.filter((h) => h.method === 'POST').every((h) => h.body === 'x=1')).toBe(true);
    expect(result.valid).toBe(true);
  });

  it('a fractional scale samples sessions by seed, the same way every time', async () => {
    const srv = await cookieServer();
    const a = await replaySessions(recordedShop(20), srv.url, { scale: 0.5, seed: 7 });
    const firstUrls = srv.hits.map((h) => h.url).sort();
    srv.hits.length = 0;
    const b = await replaySessions(recordedShop(20), srv.url, { scale: 0.5, seed: 7 });
    expect(srv.hits.map((h) => h.url).sort()).toEqual(firstUrls);
    expect(a.totals.sessions).toBe(b.totals.sessions);
    expect(a.totals.sessions).toBeGreaterThan(0);
    expect(a.totals.sessions).toBeLessThan(20);
  });

  it('--methods and --routes keep only matching requests', async () => {
    const srv = await cookieServer();
    const r = await replaySessions(recordedShop(3), srv.url, { methods: ['GET'], routes: '/s1/*' });
    expect(srv.hits.map((h) => h.url).sort()).toEqual(['/s1/a', '/s1/b']);
    expect(r.totals.requests).toBe(2);
  });

  it('records status classes, mismatches against the recording and segments by route and cohort', async () => {
    const srv = await startServer((req, res) => {
      res.statusCode = req.url === '/fail' ? 503 : 200;
      res.end('hello');
    });
    servers.push(srv);
    const r = await replaySessions(
      [
        session('a', [ex({ target: '/ok', startOffsetUs: 0 }), ex({ target: '/fail', startOffsetUs: 5_000 })], { device: 'mobile' }),
        session('b', [ex({ target: '/ok', startOffsetUs: 1_000 })], { device: 'desktop' }),
      ],
      srv.url,
    );
    expect(r.segments.map((s) => s.key)).toEqual(['GET /fail|device=mobile', 'GET /ok|device=desktop', 'GET /ok|device=mobile']);
    const fail = r.segments[0]!;
    expect(fail.byStatusClass).toEqual({ '5xx': 1 });
    expect(fail.serverErrors).toBe(1);
    expect(fail.mismatches).toBe(1);
    expect(r.totals).toMatchObject({ requests: 3, errors: 0, serverErrors: 1, mismatches: 1, bytes: 15, sessions: 2, unsent: 0 });
    expect(r.segments[1]!.p99).toBeGreaterThan(0);
    expect(r.segments[1]!.windows).toEqual([{ t: 0, count: 1, errors: 0, serverErrors: 0, lat: [expect.any(Array)] }]);
    expect(fail.windows).toEqual([{ t: 0, count: 1, errors: 0, serverErrors: 1, lat: [expect.any(Array)] }]);
  });

  it('a target that refuses connections yields errors in the data and an invalid run', async () => {
    const srv = await startServer();
    const url = srv.url;
    await srv.close();
    const r = await replaySessions([session('a', [ex({ target: '/x', startOffsetUs: 0 })])], url);
    expect(r.totals.errors).toBe(1);
    expect(r.segments[0]!.byErrorKind).toEqual({ refused: 1 });
    expect(r.valid).toBe(false);
    expect(r.invalidReasons[0]).toMatch(/could not be reached/);
  });
});

describe('timeouts', () => {
  it('a request that passes --timeout is an error of kind timeout, and the session goes on', async () => {
    const srv = await startServer((req, res) => {
      if (req.url === '/hang') return; // never answers
      res.end('ok');
    });
    servers.push(srv);
    const s = session('t', [
      ex({ target: '/hang', startOffsetUs: 0, durationUs: 1_000 }),
      ex({ target: '/after', startOffsetUs: 10_000 }),
    ]);
    const r = await replaySessions([s], srv.url, { timeoutUs: 300_000 });
    const hang = r.segments.find((x) => x.route === 'GET /hang')!;
    expect(hang.byErrorKind).toEqual({ timeout: 1 });
    expect(hang.byStatusClass).toEqual({ err: 1 });
    expect(hang.max).toBeGreaterThanOrEqual(300_000);
    expect(srv.hits.map((h) => h.url)).toEqual(['/hang', '/after']);
    expect(r.totals).toMatchObject({ requests: 2, errors: 1 });
  });
});

describe('--duration and --start-at', () => {
  const oneSecond = (): Session[] =>
    Array.from({ length: 10 }, (_, i) => session(`d${i}`, [ex({ target: `/d/${i}`, route: 'GET /d/:i', startOffsetUs: i * 100_000 })]));

  it('--duration shorter than the recording stops early: later requests are not planned, nothing counts as unsent', async () => {
    const srv = await startServer();
    servers.push(srv);
    const r = await replaySessions(oneSecond(), srv.url, { durationUs: 350_000 });
    expect(srv.hits.map((h) => h.url)).toEqual(['/d/0', '/d/1', '/d/2', '/d/3']);
    expect(r.totals).toMatchObject({ requests: 4, sessions: 4, unsent: 0 });
    expect(r.valid).toBe(true);
  });

  it('--duration longer than the recording loops it', async () => {
    const srv = await startServer();
    servers.push(srv);
    const short = oneSecond().slice(0, 2); // 0 and 100 ms, ends at 101 ms
    const r = await replaySessions(short, srv.url, { durationUs: 350_000 });
    // loops start at 0, 101, 202 and 303 ms; the second session of the last loop (403 ms) is past the end
    expect(srv.hits.map((h) => h.url).sort()).toEqual(['/d/0', '/d/0', '/d/0', '/d/0', '/d/1', '/d/1', '/d/1']);
    expect(r.totals.sessions).toBe(7);
  });

  it('--start-at waits for the given wall-clock time before time zero', async () => {
    const srv = await startServer();
    servers.push(srv);
    const at = Date.now() + 400;
    const r = await replaySessions(oneSecond().slice(0, 1), srv.url, {}, { startAtMs: at });
    expect(Date.parse(r.startedAt)).toBeGreaterThanOrEqual(at);
    expect(srv.hits).toHaveLength(1);
  });
});

describe('per-copy request identities', () => {
  it('each copy sends its own Idempotency-Key, and a retry inside one copy keeps it', async () => {
    const srv = await startServer();
    servers.push(srv);
    const key = [['idempotency-key', 'recorded-key-1']] as Array<[string, string]>;
    const sessions = [
      session('buyer', [
        ex({ target: '/checkout', method: 'POST', startOffsetUs: 0, requestHeaders: key, requestBody: Buffer.from('{}') }),
        // the shopper's retry of the same checkout
        ex({ target: '/checkout', method: 'POST', startOffsetUs: 5_000, requestHeaders: key, requestBody: Buffer.from('{}') }),
      ]),
    ];
    await replaySessions(sessions, srv.url, { scale: 3, jitterUs: 20_000 });
    const keys = srv.hits.map((h) => String(h.headers['idempotency-key']));
    expect(keys).toHaveLength(6);
    expect(new Set(keys).size).toBe(3);
    for (const k of new Set(keys)) {
      expect(k.startsWith('recorded-key-1-')).toBe(true);
      expect(keys.filter((x) => x === k)).toHaveLength(2);
    }
    // a second run against the same target does not reuse the first run's keys
    await replaySessions(sessions, srv.url, { scale: 3, jitterUs: 20_000 });
    const second = srv.hits.slice(6).map((h) => String(h.headers['idempotency-key']));
    expect(second.filter((k) => keys.includes(k))).toEqual([]);
  });
});
