import { mkdtempSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import type { Exchange } from '../../src/model/exchange.js';
import { Redactor, isRedacted, loadOrCreateRedactionKey } from '../../src/store/redact.js';

const KEY = Buffer.alloc(32, 7);
const r = new Redactor(KEY);
const CARD = '4111111111111111';
const CARD_SPACED = '4111 1111 1111 1111';
const BEARER = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBsYW50ZWQ.abc123';
const enc = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const dec = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('Redactor.token', () => {
  it('gives redacted: and 16 base64url characters', () => {
    expect(r.token('hunter2')).toMatch(/^redacted:[A-Za-z0-9_-]{16}$/);
  });
  it('maps the same value to the same token', () => {
    expect(r.token('hunter2')).toBe(new Redactor(Buffer.from(KEY)).token('hunter2'));
  });
  it('maps different values to different tokens', () => {
    expect(r.token('a')).not.toBe(r.token('b'));
  });
  it('depends on the key', () => {
    expect(new Redactor(Buffer.alloc(32, 8)).token('hunter2')).not.toBe(r.token('hunter2'));
  });
  it('leaves a token as it is (redacting twice changes nothing)', () => {
    const t = r.token('x');
    expect(r.token(t)).toBe(t);
    expect(isRedacted(t)).toBe(true);
  });
});

describe('Redactor.redactHeaders', () => {
  const cases: Array<[string, [string, string], RegExp | string]> = [
    ['a bearer token keeps its scheme', ['authorization', `Bearer ${BEARER}`], /^Bearer redacted:[\w-]{16}$/],
    ['basic credentials keep their scheme', ['authorization', 'Basic dXNlcjpwYXNz'], /^Basic redacted:[\w-]{16}$/],
    ['proxy credentials are redacted', ['proxy-authorization', 'Basic dXNlcjpwYXNz'], /^Basic redacted:/],
    ['a scheme-less authorization is redacted whole', ['authorization', 'sekrit'], /^redacted:[\w-]{16}$/],
    ['each cookie value is redacted, names kept', ['cookie', 'sid=abc; theme=dark'], /^sid=redacted:[\w-]{16}; theme=redacted:[\w-]{16}$/],
    ['set-cookie keeps name and attributes', ['set-cookie', 'sid=abc123; Path=/; HttpOnly; Max-Age=3600'], /^sid=redacted:[\w-]{16}; Path=\/; HttpOnly; Max-Age=3600$/],
    ['a cookie cleared by the server stays empty', ['set-cookie', 'sid=; Max-Age=0'], 'sid=; Max-Age=0'],
    ['an api-key header is redacted', ['x-api-key', 'k_live_123'], /^redacted:/],
    ['an auth-token header is redacted', ['x-auth-token', 'abc'], /^redacted:/],
    ['a custom authorization header is redacted', ['x-authorization', 'abc'], /^redacted:/],
    ["Django's csrf header is redacted", ['x-csrftoken', 'abc'], /^redacted:/],
    ['a webhook signature is redacted', ['x-hub-signature-256', 'sha256=abc'], /^redacted:/],
    ['an idempotency key stays (replay needs it)', ['idempotency-key', 'k-123'], 'k-123'],
    ['a card number in any header is redacted', ['x-note', `pay with ${CARD_SPACED} ok`], /^pay with redacted:[\w-]{16} ok$/],
    ['a secret query parameter in a Referer is redacted', ['referer', 'http://a/b?token=xyz&page=2'], /^http:\/\/a\/b\?token=redacted:[\w-]{16}&page=2$/],
    ['an ordinary header stays', ['accept', 'application/json'], 'application/json'],
    ['a request id of digits stays', ['x-request-id', '1712345678901234'], '1712345678901234'],
    ['www-authenticate is a challenge, not a secret', ['www-authenticate', 'Bearer realm="api"'], 'Bearer realm="api"'],
  ];
  it.each(cases)('%s', (_name, header, expected) => {
    const [[name, value]] = r.redactHeaders([header]) as [[string, string]];
    expect(name).toBe(header[0]);
    if (typeof expected === 'string') expect(value).toBe(expected);
    else expect(value).toMatch(expected);
  });

  it('never leaves the planted bearer token in the headers', () => {
    const out = r.redactHeaders([['authorization', `Bearer ${BEARER}`]]);
    expect(JSON.stringify(out)).not.toContain(BEARER);
  });

  it('gives the cookie the same token in a request and a Set-Cookie', () => {
    const [[, cookie]] = r.redactHeaders([['cookie', 'sid=abc123']]) as [[string, string]];
    const [[, set]] = r.redactHeaders([['set-cookie', 'sid=abc123; Path=/']]) as [[string, string]];
    expect(cookie.slice(4)).toBe(set.slice(4, set.indexOf(';')));
  });

  it('returns the same list when nothing changed', () => {
    const h: Array<[string, string]> = [['accept', '*/*']];
    expect(r.redactHeaders(h)).toBe(h);
  });
});

describe('Redactor.redactBody', () => {
  it('redacts a password field in JSON and keeps everything else byte for byte', () => {
    const body = '{"user": "ann", "password": "hunter2", "n": 12345678901234567890}';
    const out = dec(r.redactBody(enc(body), 'application/json', null));
    expect(out).toBe(`{"user": "ann", "password": "${r.token('hunter2')}", "n": 12345678901234567890}`);
  });

  it('redacts nested secrets and every scalar under a secret key', () => {
    const body = JSON.stringify({ payment: { card: { number: CARD, cvv: 123, expiry: '12/30' }, amount: 10 }, user: { newPassword: 'x' } });
    const out = JSON.parse(dec(r.redactBody(enc(body), 'application/json; charset=utf-8', null)));
    expect(out.payment.card.number).toBe(r.token(CARD));
    expect(out.payment.card.cvv).toBe(r.token('123'));
    expect(out.payment.card.expiry).toMatch(/^redacted:/);
    expect(out.payment.amount).toBe(10);
    expect(out.user.newPassword).toBe(r.token('x'));
  });

  it('redacts a password field in a form body', () => {
    const out = dec(r.redactBody(enc('user=ann&password=hunter%202&remember=1'), 'application/x-www-form-urlencoded', null));
    expect(out).toBe(`user=ann&password=${r.token('hunter 2')}&remember=1`);
  });

  it('redacts a Luhn-valid card number in a text body', () => {
    const out = dec(r.redactBody(enc(`card on file: ${CARD_SPACED}.`), 'text/plain', null));
    expect(out).toBe(`card on file: ${r.token(CARD)}.`);
  });

  it('redacts a card number in a JSON number under an innocent key', () => {
    const out = JSON.parse(dec(r.redactBody(enc(`{"ref": ${CARD}}`), 'application/json', null)));
    expect(out.ref).toBe(r.token(CARD));
  });

  it('redacts inside a gzip body and keeps it valid gzip', () => {
    const body = gzipSync(Buffer.from(`{"token":"${BEARER}","card":"${CARD}"}`));
    const out = r.redactBody(body, 'application/json', 'gzip');
    const text = gunzipSync(out).toString('utf8');
    expect(text).not.toContain(BEARER);
    expect(text).not.toContain(CARD);
    expect(JSON.parse(text).token).toBe(r.token(BEARER));
  });

  it('redacts inside a br and a deflate body and keeps their encodings', () => {
    const plain = `{"password":"hunter2"}`;
    const br = r.redactBody(brotliCompressSync(Buffer.from(plain)), 'application/json', 'br');
    const deflate = r.redactBody(deflateSync(Buffer.from(plain)), 'application/json', 'deflate');
    expect(brotliDecompressSync(br).toString()).toBe(`{"password":"${r.token('hunter2')}"}`);
    expect(inflateSync(deflate).toString()).toBe(`{"password":"${r.token('hunter2')}"}`);
  });

  it('returns the very same compressed bytes when nothing changed', () => {
    const body = gzipSync(Buffer.from('{"ok":true}'));
    expect(r.redactBody(body, 'application/json', 'gzip')).toBe(body);
  });

  it('does not read binary content types', () => {
    const body = enc(`xx ${CARD} xx`);
    expect(r.redactBody(body, 'image/png', null)).toBe(body);
  });

  const notCards: Array<[string, string]> = [
    ['an order id that fails Luhn', '{"orderId": 4111111111111112}'],
    ['a millisecond timestamp', '{"at": 1712345678901}'],
    ['a microsecond timestamp in text', 'started 1712345678901234 us'],
    ['a long decimal fraction', '{"lat": 0.4111111111111111}'],
    ['digits glued to letters', 'id4111111111111111x'],
    ['a 20-digit number', '{"n": 41111111111111111117}'],
  ];
  it.each(notCards)('leaves %s alone', (_name, text) => {
    const body = enc(text);
    expect(r.redactBody(body, text.startsWith('{') ? 'application/json' : 'text/plain', null)).toBe(body);
  });
});

describe('Redactor.redactTarget', () => {
  it('redacts a card number in the query', () => {
    expect(r.redactTarget(`/pay?card=${CARD}&x=1`)).toBe(`/pay?card=${r.token(CARD)}&x=1`);
    expect(r.redactTarget(`/pay?ref=4111-1111-1111-1111`)).toBe(`/pay?ref=${r.token(CARD)}`);
  });
  it('redacts secret-named parameters', () => {
    expect(r.redactTarget('/cb?access_token=abc&state=s')).toBe(`/cb?access_token=${r.token('abc')}&state=s`);
  });
  it('redacts a session id in a matrix parameter', () => {
    expect(r.redactTarget('/cart;jsessionid=0A1B2C3D4E?x=1')).toBe(`/cart;jsessionid=${r.token('0A1B2C3D4E')}?x=1`);
    expect(r.redactTarget('/a;v=2/b')).toBe('/a;v=2/b');
  });
  it('leaves ordinary targets alone', () => {
    expect(r.redactTarget('/orders/4111111111111112?page=2')).toBe('/orders/4111111111111112?page=2');
  });
});

describe('Redactor.redactExchange', () => {
  const base: Exchange = {
    sessionKey: 's',
    seq: 0,
    startOffsetUs: 0,
    durationUs: 1,
    method: 'POST',
    target: '/login?password=p',
    host: null,
    scheme: 'http',
    route: 'POST /login',
    requestHeaders: [['content-type', 'application/json'], ['content-length', '22'], ['authorization', `Bearer ${BEARER}`]],
    requestBody: enc('{"password":"hunter2"}'),
    requestBodyBytes: 22,
    requestBodyTruncated: false,
    status: 200,
    responseHeaders: [['set-cookie', 'sid=abc; Path=/']],
    responseBody: null,
    responseBodyBytes: 0,
    responseBodyTruncated: false,
    responseEncoding: null,
    error: null,
    errorDetail: null,
  };

  it('leaves no planted secret anywhere and keeps content-length consistent', () => {
    const out = r.redactExchange(base);
    const all = JSON.stringify({ ...out, requestBody: dec(out.requestBody!) });
    for (const secret of [BEARER, 'hunter2', 'sid=abc;', 'password=p']) expect(all).not.toContain(secret);
    expect(out.requestBodyBytes).toBe(out.requestBody!.length);
    expect(out.requestHeaders.find(([k]) => k === 'content-length')![1]).toBe(String(out.requestBody!.length));
  });
});

describe('loadOrCreateRedactionKey', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-key-'));

  it('creates <recording>.key with 32 bytes and mode 0600', () => {
    const key = loadOrCreateRedactionKey(join(dir, 'a.db'));
    expect(key).toHaveLength(32);
    expect(statSync(join(dir, 'a.db.key')).mode & 0o777).toBe(0o600);
  });

  it('reads the same key back', () => {
    const first = loadOrCreateRedactionKey(join(dir, 'b.db'));
    expect(loadOrCreateRedactionKey(join(dir, 'b.db')).equals(first)).toBe(true);
    expect(readFileSync(join(dir, 'b.db.key')).equals(first)).toBe(true);
  });

  it('refuses a key file of the wrong size, naming it', () => {
    writeFileSync(join(dir, 'c.db.key'), 'short');
    expect(() => loadOrCreateRedactionKey(join(dir, 'c.db'))).toThrow(InputError);
    expect(() => loadOrCreateRedactionKey(join(dir, 'c.db'))).toThrow(/c\.db\.key: expected 32 bytes, found 5/);
  });

  it('fails with InputError when the folder does not exist', () => {
    expect(() => loadOrCreateRedactionKey(join(dir, 'nope', 'd.db'))).toThrow(/Failed to create redaction key/);
  });
});

describe('Redactor is idempotent', () => {
  it('redacting a redacted body, target or header list changes nothing', () => {
    const body = enc(`{"password":"p","card":"${CARD}","note":"pay ${CARD_SPACED}"}`);
    const once = r.redactBody(body, 'application/json', null);
    expect(r.redactBody(once, 'application/json', null)).toBe(once);
    const form = r.redactBody(enc(`password=p&c=${CARD}`), 'application/x-www-form-urlencoded', null);
    expect(r.redactBody(form, 'application/x-www-form-urlencoded', null)).toBe(form);
    const headers = r.redactHeaders([['authorization', 'Bearer x'], ['cookie', 'a=1'], ['set-cookie', 'a=1; Path=/']]);
    expect(r.redactHeaders(headers)).toBe(headers);
    const target = r.redactTarget(`/p?token=t&c=${CARD}`);
    expect(r.redactTarget(target)).toBe(target);
  });
});
