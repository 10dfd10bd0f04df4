import { afterEach, describe, expect, it } from 'vitest';
import { bodyKindOf, scrubRedactedBody } from '../../src/replay/redacted-body.js';
import { ex, replaySessions, session, startServer } from './helpers.js';

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

const json = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));
const T1 = 'redacted:AAAAAAAAAAAAAAAA';
const T2 = 'redacted:B-B_BBBBBBBBBBBB';

describe('scrubRedactedBody', () => {
  it('blanks JSON strings holding a token (the field stays), at any depth', () => {
    const r = scrubRedactedBody(JSON.stringify({ user: 'ann', card: T1, nested: { list: [T2, 'x', `Bearer ${T1}`] }, n: 2 }), 'json');
    expect(JSON.parse(r.text)).toEqual({ user: 'ann', card: '', nested: { list: ['', 'x', ''] }, n: 2 });
    expect(r.dropped).toBe(3);
  });

  it('sends the --secret value for a redacted field of that name (JSON and form), and scrubs the rest', () => {
    const fills = { password: 'test-pass w0rd' };
    const r = scrubRedactedBody(JSON.stringify({ email: 'a@b.c', Password: T1, card: T2 }), 'json', fills);
    expect(JSON.parse(r.text)).toEqual({ email: 'a@b.c', Password: 'test-pass w0rd', card: '' });
    expect(r.dropped).toBe(1);
    expect(scrubRedactedBody(`user=ann&password=${T1}&pin=${T2}`, 'form', fills)).toEqual({ text: 'user=ann&password=test-pass%20w0rd', dropped: 1 });
  });

  it('drops form fields holding a token (encoded or not), keeps the others', () => {
    expect(scrubRedactedBody(`a=1&password=redacted%3ACCCCCCCCCCCCCCCC&b=two+words&pin=${T1}`, 'form')).toEqual({ text: 'a=1&b=two+words', dropped: 2 });
  });

  it('cuts tokens out of other bodies, and leaves bodies without tokens as they are', () => {
    expect(scrubRedactedBody(`secret=${T1};ok`, 'text')).toEqual({ text: 'secret=;ok', dropped: 1 });
    expect(scrubRedactedBody('{"note":"a redacted copy"}', 'json')).toEqual({ text: '{"note":"a redacted copy"}', dropped: 0 });
    expect(scrubRedactedBody(`{"broken": "${T1}"`, 'json')).toEqual({ text: '{"broken": ""', dropped: 1 });
  });

  it('reads the kind from content-type', () => {
    expect(bodyKindOf('application/json; charset=utf-8')).toBe('json');
    expect(bodyKindOf('application/vnd.api+json')).toBe('json');
    expect(bodyKindOf('application/x-www-form-urlencoded')).toBe('form');
    expect(bodyKindOf(null)).toBe('text');
  });
});

describe('replaying bodies with redacted values', () => {
  it('sends the live value where correlation finds one, else blanks or drops the value and counts it; never a token', async () => {
    const srv = await startServer((req, res) => {
      if (req.url === '/csrf') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ csrf: 'live-csrf-98765' }));
      } else res.end('ok');
    });
    servers.push(srv);
    const s = session('r', [
      ex({ target: '/csrf', startOffsetUs: 0, responseHeaders: [['content-type', 'application/json']], responseBody: json({ csrf: T1 }) }),
      ex({
        method: 'POST', target: '/pay', startOffsetUs: 10_000, requestHeaders: [['content-type', 'application/json']],
        requestBody: json({ csrf: T1, card: T2, qty: 2 }),
      }),
      ex({
        method: 'POST', target: '/login', startOffsetUs: 20_000, requestHeaders: [['content-type', 'application/x-www-form-urlencoded']],
        requestBody: Buffer.from('user=ann&password=redacted%3ACCCCCCCCCCCCCCCC'),
      }),
    ]);
    const r = await replaySessions([s], srv.url, { scale: 2 });
    const pays = srv.hits.filter((h) => h.url === '/pay');
    expect(pays).toHaveLength(2);
    for (const p of pays) {
      expect(JSON.parse(p.body)).toEqual({ csrf: 'live-csrf-98765', card: '', qty: 2 });
      expect(Number(p.headers['content-length'])).toBe(Buffer.byteLength(p.body));
    }
    expect(srv.hits.filter((h) => h.url === '/login').map((h) => h.body)).toEqual(['user=ann', 'user=ann']);
    expect(srv.hits.some((h) => /redacted/i.test(h.body))).toBe(false);
    // per clone: the card (its token had no live value) and the password
    expect(r.totals.droppedRedactedHeaders).toBe(4);
  });

  it('without a live value the token is blanked too (the source response lacked the field)', async () => {
    const srv = await startServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/csrf' ? '{"other":1}' : '{}');
    });
    servers.push(srv);
    const s = session('r', [
      ex({ target: '/csrf', startOffsetUs: 0, responseHeaders: [['content-type', 'application/json']], responseBody: json({ csrf: T1 }) }),
      ex({ method: 'PUT', target: '/pay', startOffsetUs: 10_000, requestHeaders: [['content-type', 'application/json']], requestBody: json({ csrf: T1 }) }),
    ]);
    const r = await replaySessions([s], srv.url);
    expect(JSON.parse(srv.hits.find((h) => h.url === '/pay')!.body)).toEqual({ csrf: '' });
    expect(r.totals.droppedRedactedHeaders).toBe(1);
  });
});

describe('--secret on a replay', () => {
  it('a recorded login whose password was redacted signs in with the configured test password', async () => {
    const srv = await startServer();
    servers.push(srv);
    const login = ex({
      target: '/login', method: 'POST', startOffsetUs: 0,
      requestHeaders: [['content-type', 'application/json']],
      requestBody: json({ email: 'ann@example.com', password: T1 }),
    });
    await replaySessions([session('ann', [login])], srv.url, { scale: 2 }, { secrets: { password: 'staging-pass' } });
    expect(srv.hits.map((h) => JSON.parse(h.body))).toEqual([
      { email: 'ann@example.com', password: 'staging-pass' },
      { email: 'ann@example.com', password: 'staging-pass' },
    ]);
  });
});
