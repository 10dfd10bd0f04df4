import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/model/errors.js';
import type { HeaderList } from '../../src/model/exchange.js';
import { Sessionizer, parseSessionKey, type SessionInput } from '../../src/segment/session-key.js';
import { Redactor } from '../../src/store/redact.js';

const tokenize = new Redactor(Buffer.alloc(32, 1)).tokenize;

function req(
  requestHeaders: HeaderList = [],
  responseHeaders: HeaderList = [],
  extra: Partial<SessionInput> = {},
): SessionInput {
  return { clientAddress: '10.0.0.1', requestHeaders, responseHeaders, startOffsetUs: 0, ...extra };
}

describe('parseSessionKey', () => {
  const good: Array<[string, string, unknown]> = [
    ['auto is the default rule', 'auto', { kind: 'auto' }],
    ['cookie:NAME names the session cookie', 'cookie:sid', { kind: 'cookie', name: 'sid' }],
    ['header:NAME names a header, lower-cased', 'header:X-Session', { kind: 'header', name: 'x-session' }],
    ['client splits after 30 idle minutes', 'client', { kind: 'client', idleUs: 1_800_000_000 }],
    ['client:10m sets the idle split', 'client:10m', { kind: 'client', idleUs: 600_000_000 }],
    ['client:5 is five minutes', 'client:5', { kind: 'client', idleUs: 300_000_000 }],
    ['none makes every request its own session', 'none', { kind: 'none' }],
  ];
  it.each(good)('%s', (_name, text, expected) => {
    expect(parseSessionKey(text)).toEqual(expected);
  });

  const bad: Array<[string, string, string]> = [
    ['an unknown word is refused', 'x', '--session-key must be cookie:NAME, header:NAME, client or none (got "x")'],
    ['a cookie without a name is refused', 'cookie:', '--session-key must be cookie:NAME, header:NAME, client or none (got "cookie:")'],
    ['a header name with spaces is refused', 'header:a b', '--session-key must be cookie:NAME, header:NAME, client or none (got "header:a b")'],
    ['an unknown kind is refused', 'ip:1', '--session-key must be cookie:NAME, header:NAME, client or none (got "ip:1")'],
    ['a bad idle time is refused', 'client:soon', '--session-key client:IDLE needs a duration like 30m (got "client:soon")'],
  ];
  it.each(bad)('%s', (_name, text, message) => {
    expect(() => parseSessionKey(text)).toThrow(UsageError);
    expect(() => parseSessionKey(text)).toThrow(message);
  });
});

describe('Sessionizer, auto', () => {
  it('lets the first request join the session its response starts', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const first = s.assign(req([], [['set-cookie', 'sid=abc12345; Path=/; HttpOnly']]));
    const second = s.assign(req([['cookie', 'sid=abc12345']]));
    expect(first.sessionKey).toBe(second.sessionKey);
    expect(first.sessionKey).toBe(`cookie:sid:${tokenize('abc12345')}`);
  });

  it('keeps two visitors with different cookies apart', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    s.assign(req([], [['set-cookie', 'sid=a1234567']]));
    const a = s.assign(req([['cookie', 'sid=a1234567']]));
    const b = s.assign(req([['cookie', 'sid=b1234567']]));
    expect(a.sessionKey).not.toBe(b.sessionKey);
  });

  it('takes the first cookie the server ever set as the session cookie', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    s.assign(req([], [['set-cookie', 'visitor=v1234567']]));
    s.assign(req([['cookie', 'visitor=v1234567']], [['set-cookie', 'theme=dark']]));
    const k1 = s.assign(req([['cookie', 'theme=dark; visitor=v1234567']]));
    const k2 = s.assign(req([['cookie', 'theme=light; visitor=v1234567']]));
    expect(k1.sessionKey).toBe(k2.sessionKey);
  });

  it('prefers a session-looking name among the cookies one response sets', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    s.assign(req([], [['set-cookie', 'locale=en'], ['set-cookie', 'JSESSIONID=j1234567']]));
    expect(s.assign(req([['cookie', 'locale=en; JSESSIONID=j1234567']])).sessionKey).toBe(`cookie:JSESSIONID:${tokenize('j1234567')}`);
  });

  it('never keys sessions by a cookie every visitor shares (locale=en)', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    s.assign(req([], [['set-cookie', 'locale=en; Path=/'], ['set-cookie', 'consent=true']]));
    const a = s.assign(req([['cookie', 'locale=en']], [['set-cookie', 'sid=Q7f3k2x9p']]));
    const b = s.assign(req([['cookie', 'locale=en']], [['set-cookie', 'sid=Z1a8b7c6d']]));
    expect(a.sessionKey).not.toBe(b.sessionKey);
    expect(s.assign(req([['cookie', 'locale=en; sid=Q7f3k2x9p']])).sessionKey).toBe(a.sessionKey);
  });

  it('never keys sessions by a load-balancer stickiness cookie', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    s.assign(req([], [['set-cookie', 'BIGipServerpool_web=1677787402.36895.0000; path=/']]));
    const a = s.assign(req([['cookie', 'BIGipServerpool_web=1677787402.36895.0000']]));
    const b = s.assign(req([['cookie', 'BIGipServerpool_web=1677787402.36895.0000']]));
    expect(a.sessionKey).not.toBe(b.sessionKey);
  });

  it('keeps the session when a login rotates the session cookie', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const start = s.assign(req([], [['set-cookie', 'sid=old12345']]));
    const login = s.assign(req([['cookie', 'sid=old12345']], [['set-cookie', 'sid=new12345']]));
    const after = s.assign(req([['cookie', 'sid=new12345']]));
    expect(login.sessionKey).toBe(start.sessionKey);
    expect(after.sessionKey).toBe(start.sessionKey);
  });

  it('falls back to the authorization token, redacted', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const a = s.assign(req([['authorization', 'Bearer tok-1']]));
    const b = s.assign(req([['authorization', 'Bearer tok-1']]));
    expect(a.sessionKey).toBe(b.sessionKey);
    expect(a.sessionKey).toBe(`auth:${tokenize('tok-1')}`);
    expect(a.sessionKey).not.toContain('tok-1');
  });

  it('makes each unidentified request its own session', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const a = s.assign(req([['user-agent', 'curl/8']]));
    const b = s.assign(req([['user-agent', 'curl/8']]));
    expect(a.sessionKey).not.toBe(b.sessionKey);
    expect(a.sessionKey).toMatch(/^req:\d+$/);
  });

  it('never puts a raw cookie value in a key', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const k = s.assign(req([], [['set-cookie', 'sid=s3cr3t-value']])).sessionKey;
    expect(k).not.toContain('s3cr3t-value');
  });

  it('keeps raw values with --no-redact (tokenize null)', () => {
    const s = new Sessionizer({ kind: 'auto' }, null);
    expect(s.assign(req([], [['set-cookie', 'sid=abc12345']])).sessionKey).toBe('cookie:sid:abc12345');
  });

  it('does not start a session from a cookie the server deletes', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const a = s.assign(req([], [['set-cookie', 'sid=; Max-Age=0']]));
    expect(a.sessionKey).toMatch(/^req:/);
  });
});

describe('Sessionizer, explicit rules', () => {
  it('cookie:NAME keys by that cookie and ignores others', () => {
    const s = new Sessionizer({ kind: 'cookie', name: 'cart' }, tokenize);
    const a = s.assign(req([['cookie', 'sid=1; cart=c1']]));
    const b = s.assign(req([['cookie', 'sid=2; cart=c1']]));
    const c = s.assign(req([['cookie', 'sid=1']]));
    expect(a.sessionKey).toBe(b.sessionKey);
    expect(c.sessionKey).toMatch(/^req:/);
  });

  it('cookie:NAME lets the first request join the session its response starts', () => {
    const s = new Sessionizer({ kind: 'cookie', name: 'cart' }, tokenize);
    const a = s.assign(req([], [['set-cookie', 'cart=c9']]));
    expect(s.assign(req([['cookie', 'cart=c9']])).sessionKey).toBe(a.sessionKey);
  });

  it('header:NAME keys by the header value, redacted', () => {
    const s = new Sessionizer({ kind: 'header', name: 'x-device-id' }, tokenize);
    const a = s.assign(req([['x-device-id', 'd-1']]));
    expect(a.sessionKey).toBe(`header:x-device-id:${tokenize('d-1')}`);
    expect(s.assign(req([])).sessionKey).toMatch(/^req:/);
  });

  it('client groups by forwarded address and user agent', () => {
    const s = new Sessionizer({ kind: 'client', idleUs: 1_000_000 }, tokenize);
    const a = s.assign(req([['x-forwarded-for', '1.2.3.4, 10.0.0.9'], ['user-agent', 'UA']], [], { clientAddress: '10.0.0.9' }));
    const b = s.assign(req([['x-forwarded-for', '1.2.3.4'], ['user-agent', 'UA']], [], { clientAddress: '10.0.0.7', startOffsetUs: 500_000 }));
    const otherUa = s.assign(req([['x-forwarded-for', '1.2.3.4'], ['user-agent', 'UA2']], [], { startOffsetUs: 600_000 }));
    expect(a.sessionKey).toBe(b.sessionKey);
    expect(otherUa.sessionKey).not.toBe(a.sessionKey);
    expect(a.sessionKey).not.toContain('1.2.3.4');
  });

  it('client starts a new session after the idle gap', () => {
    const s = new Sessionizer({ kind: 'client', idleUs: 1_000_000 }, tokenize);
    const a = s.assign(req([], [], { startOffsetUs: 0 }));
    const b = s.assign(req([], [], { startOffsetUs: 900_000 }));
    const c = s.assign(req([], [], { startOffsetUs: 2_000_000 }));
    expect(b.sessionKey).toBe(a.sessionKey);
    expect(c.sessionKey).not.toBe(a.sessionKey);
  });

  it('none makes every request its own session, cookies or not', () => {
    const s = new Sessionizer({ kind: 'none' }, tokenize);
    const a = s.assign(req([['cookie', 'sid=1']]));
    const b = s.assign(req([['cookie', 'sid=1']]));
    expect(a.sessionKey).not.toBe(b.sessionKey);
  });
});

describe('Sessionizer, signed in', () => {
  const cases: Array<[string, HeaderList, HeaderList, boolean]> = [
    ['an Authorization header signs in', [['authorization', 'Bearer t']], [], true],
    ['an auth-looking cookie signs in', [['cookie', 'sid=1; auth_token=x']], [], true],
    ['a plain session cookie does not', [['cookie', 'sid=1']], [], false],
    ['a response setting an auth cookie signs in', [], [['set-cookie', 'remember_me=1; Path=/']], true],
    ['an emptied auth cookie does not', [['cookie', 'auth=']], [], false],
    ['nothing at all is anonymous', [], [], false],
  ];
  it.each(cases)('%s', (_name, requestHeaders, responseHeaders, expected) => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    expect(s.assign(req(requestHeaders, responseHeaders)).signedIn).toBe(expected);
  });

  it('a session is signed in after a successful POST /login, until POST /logout', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const c: HeaderList = [['cookie', 'sid=s1234567']];
    s.assign(req([], [['set-cookie', 'sid=s1234567']]));
    expect(s.assign(req(c, [], { method: 'GET', target: '/', status: 200 })).signedIn).toBe(false);
    expect(s.assign(req(c, [], { method: 'POST', target: '/login', status: 401 })).signedIn).toBe(false);
    expect(s.assign(req(c, [], { method: 'POST', target: '/login?next=/', status: 200 })).signedIn).toBe(true);
    expect(s.assign(req(c, [], { method: 'GET', target: '/cart/1', status: 200 })).signedIn).toBe(true);
    expect(s.assign(req(c, [], { method: 'POST', target: '/logout', status: 204 })).signedIn).toBe(false);
    expect(s.assign(req(c, [], { method: 'GET', target: '/', status: 200 })).signedIn).toBe(false);
  });

  it('a login in one session does not sign in another', () => {
    const s = new Sessionizer({ kind: 'cookie', name: 'sid' }, tokenize);
    s.assign(req([['cookie', 'sid=1']], [], { method: 'POST', target: '/login', status: 200 }));
    expect(s.assign(req([['cookie', 'sid=2']], [], { method: 'GET', target: '/', status: 200 })).signedIn).toBe(false);
  });
});

describe('Sessionizer, the storefront flow', () => {
  // The bundled storefront sets `vid` on first contact and `session` at POST /login.
  function shop(withMethod: boolean): boolean[] {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const m = (method: string, target: string): Partial<SessionInput> => (withMethod ? { method, target, status: 200 } : {});
    const out = [
      s.assign(req([], [['set-cookie', 'vid=v1234567; Path=/; Max-Age=31536000']], m('GET', '/'))),
      s.assign(req([['cookie', 'vid=v1234567']], [], m('GET', '/products/7'))),
      s.assign(req([['cookie', 'vid=v1234567']], [['set-cookie', 'session=t1; Path=/; HttpOnly']], m('POST', '/login'))),
      s.assign(req([['cookie', 'vid=v1234567; session=t1']], [], m('POST', '/checkout'))),
    ];
    expect(new Set(out.map((o) => o.sessionKey)).size).toBe(1);
    return out.map((o) => o.signedIn);
  }

  it('one session, signed in from the login on, when the recorder passes the method', () => {
    expect(shop(true)).toEqual([false, false, true, true]);
  });

  it('one session, signed in from the login on, from the second session cookie alone', () => {
    expect(shop(false)).toEqual([false, false, true, true]);
  });
});
