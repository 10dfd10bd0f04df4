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
    ['an unknown word is refused', 'x', '--session-key must be auto, auto+client, cookie:NAME, header:NAME, client or none (got "x")'],
    ['a cookie without a name is refused', 'cookie:', '--session-key must be auto, auto+client, cookie:NAME, header:NAME, client or none (got "cookie:")'],
    ['a header name with spaces is refused', 'header:a b', '--session-key must be auto, auto+client, cookie:NAME, header:NAME, client or none (got "header:a b")'],
    ['an unknown kind is refused', 'ip:1', '--session-key must be auto, auto+client, cookie:NAME, header:NAME, client or none (got "ip:1")'],
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

describe('Sessionizer, captures that start mid-visit (request cookies)', () => {
  it('keys 15 requests from 5 visitors by their sid cookie, never set in the capture', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const out = Array.from({ length: 15 }, (_, i) => s.assign(req([['cookie', `theme=dark; sid=visitor${i % 5}x7f3a`]])));
    expect(new Set(out.map((o) => o.sessionKey)).size).toBe(5);
    expect(out[0]!.sessionKey).toBe(out[5]!.sessionKey);
    expect(out[0]!.sessionKey).toBe(`cookie:sid:${tokenize('visitor0x7f3a')}`);
    expect(new Set(out.map((o) => o.keyedBy))).toEqual(new Set(['cookie-request:sid']));
  });

  const sessionNames: Array<[string, string]> = [
    ['sid keys sessions', 'sid'],
    ['session keys sessions', 'session'],
    ['sessionid (Django) keys sessions', 'sessionid'],
    ['session_id keys sessions', 'session_id'],
    ['JSESSIONID (Java) keys sessions', 'JSESSIONID'],
    ['jsessionid in lower case keys sessions', 'jsessionid'],
    ['PHPSESSID keys sessions', 'PHPSESSID'],
    ['connect.sid (Express) keys sessions', 'connect.sid'],
    ['_session_id keys sessions', '_session_id'],
    ['laravel_session keys sessions', 'laravel_session'],
    ['ASP.NET_SessionId keys sessions', 'ASP.NET_SessionId'],
    ['ASPSESSIONID… (classic ASP) keys sessions', 'ASPSESSIONIDQQGGGNCG'],
    ["a Rails app's _shop_session keys sessions", '_shop_session'],
    ['ci_session (CodeIgniter) keys sessions', 'ci_session'],
    ['PLAY_SESSION keys sessions', 'PLAY_SESSION'],
    ['koa.sess keys sessions', 'koa.sess'],
    ['__Host-session keys sessions', '__Host-session'],
    ["Drupal's SESS<hash> keys sessions", 'SESS0123456789abcdef0123456789abcdef'],
  ];
  it.each(sessionNames)('%s', (_name, cookie) => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const a1 = s.assign(req([['cookie', `lang=en; ${cookie}=a1B2c3D4e5`]]));
    const a2 = s.assign(req([['cookie', `${cookie}=a1B2c3D4e5; lang=en`]]));
    const b = s.assign(req([['cookie', `${cookie}=z9Y8x7W6v5`]]));
    expect(a1.sessionKey).toBe(a2.sessionKey);
    expect(a1.sessionKey).not.toBe(b.sessionKey);
    expect(a1.keyedBy).toBe(`cookie-request:${cookie}`);
  });

  const otherNames: Array<[string, string]> = [
    ['an analytics id (_ga) does not key sessions', '_ga'],
    ['a CSRF token does not key sessions', 'csrftoken'],
    ['a session token (auth) does not key sessions', 'session_token'],
    ["koa's signature cookie does not key sessions", 'koa.sess.sig'],
    ['a visitor id does not key sessions', 'visitor_id'],
  ];
  it.each(otherNames)('%s', (_name, cookie) => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const a = s.assign(req([['cookie', `${cookie}=a1B2c3D4e5`]]));
    const b = s.assign(req([['cookie', `${cookie}=a1B2c3D4e5`]]));
    expect(a.sessionKey).not.toBe(b.sessionKey);
    expect(a.keyedBy).toBe('request');
  });

  it('never keys by a session-like name whose value every visitor shares', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const a = s.assign(req([['cookie', 'session=active']]));
    const b = s.assign(req([['cookie', 'session=active']]));
    expect(a.sessionKey).not.toBe(b.sessionKey);
  });

  const sticky: Array<[string, string]> = [
    ['AWSALB never keys sessions', 'AWSALB'],
    ['AWSALBCORS never keys sessions', 'AWSALBCORS'],
    ['AWSALBTG never keys sessions', 'AWSALBTG'],
    ['AWSELB never keys sessions', 'AWSELB'],
    ['BIGipServer<pool> never keys sessions', 'BIGipServerpool_web_session'],
    ['ROUTEID never keys sessions', 'ROUTEID'],
    ['SERVERID never keys sessions', 'SERVERID'],
    ['route never keys sessions', 'route'],
    ['INGRESSCOOKIE never keys sessions', 'INGRESSCOOKIE'],
    ['ARRAffinity (Azure) never keys sessions', 'ARRAffinity'],
    ['GCLB (Google Cloud) never keys sessions', 'GCLB'],
    ['JROUTE never keys sessions', 'JROUTE'],
    ['NSC_… (Citrix) never keys sessions', 'NSC_web_sid'],
    ['lb_session never keys sessions', 'lb_session'],
  ];
  it.each(sticky)('%s, sent or set', (_name, cookie) => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const value = '1677787402.36895.0000';
    const keys = [
      s.assign(req([], [['set-cookie', `${cookie}=${value}; Path=/`]])),
      s.assign(req([['cookie', `${cookie}=${value}`]])),
      s.assign(req([['cookie', `${cookie}=${value}`]], [['set-cookie', `${cookie}=${value}; Path=/`]])),
    ];
    expect(new Set(keys.map((k) => k.sessionKey)).size).toBe(3);
    expect(keys.map((k) => k.keyedBy)).toEqual(['request', 'request', 'request']);
  });
});

describe('Sessionizer, auto precedence', () => {
  it('a cookie sent after the server set it joins the session where it was set', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const set = s.assign(req([], [['set-cookie', 'sid=s3t1n2cap; Path=/']]));
    const sent = s.assign(req([['cookie', 'sid=s3t1n2cap']]));
    expect(sent.sessionKey).toBe(set.sessionKey);
    expect(set.keyedBy).toBe('cookie-set:sid');
  });

  it('a visit keyed by its request cookie keeps its key when the server sets its own cookie', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const first = s.assign(req([['cookie', 'PHPSESSID=k3j4h5g6f7']]));
    const setting = s.assign(req([['cookie', 'PHPSESSID=k3j4h5g6f7']], [['set-cookie', 'visitor=V1234567; Max-Age=31536000']]));
    const both = s.assign(req([['cookie', 'PHPSESSID=k3j4h5g6f7; visitor=V1234567']]));
    const visitorOnly = s.assign(req([['cookie', 'visitor=V1234567']]));
    expect([setting, both, visitorOnly].map((k) => k.sessionKey)).toEqual([first.sessionKey, first.sessionKey, first.sessionKey]);
  });

  it('learning the server cookie from a new visitor splits no visit already under way', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    // Django: the old visitor carries sessionid and csrftoken; the server is first seen setting csrftoken.
    const before = s.assign(req([['cookie', 'csrftoken=Cs1Cs2Cs3Cs4; sessionid=d1j2a3n4g5o6']]));
    const newcomer = s.assign(req([], [['set-cookie', 'csrftoken=Nw1Nw2Nw3Nw4; Path=/']]));
    const after = s.assign(req([['cookie', 'csrftoken=Cs1Cs2Cs3Cs4; sessionid=d1j2a3n4g5o6']]));
    expect(after.sessionKey).toBe(before.sessionKey);
    expect(newcomer.sessionKey).not.toBe(before.sessionKey);
    expect(s.assign(req([['cookie', 'csrftoken=Nw1Nw2Nw3Nw4']])).sessionKey).toBe(newcomer.sessionKey);
  });

  it('the same cookie name found by either rule gives the same key', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const early = s.assign(req([['cookie', 'sid=e4r5l6y7a8']]));
    s.assign(req([], [['set-cookie', 'sid=n1e2w3c4o5']])); // the server cookie is learned: sid
    const late = s.assign(req([['cookie', 'sid=e4r5l6y7a8']]));
    expect(late.sessionKey).toBe(early.sessionKey);
  });

  it('a session cookie set at login joins the session the visitor cookie started', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const out = [
      s.assign(req([], [['set-cookie', 'vid=v1234567; Path=/']])),
      s.assign(req([['cookie', 'vid=v1234567']], [['set-cookie', 'session=L0g1nS3ss10n; HttpOnly']], { method: 'POST', target: '/login', status: 200 })),
      s.assign(req([['cookie', 'vid=v1234567; session=L0g1nS3ss10n']])),
      s.assign(req([['cookie', 'session=L0g1nS3ss10n']])),
    ];
    expect(new Set(out.map((o) => o.sessionKey)).size).toBe(1);
  });

  it('a request cookie comes before an Authorization token (tokens are refreshed)', () => {
    const s = new Sessionizer({ kind: 'auto' }, tokenize);
    const a = s.assign(req([['cookie', 'sid=a1b2c3d4e5'], ['authorization', 'Bearer access-1']]));
    const b = s.assign(req([['cookie', 'sid=a1b2c3d4e5'], ['authorization', 'Bearer access-2']]));
    expect(b.sessionKey).toBe(a.sessionKey);
    expect(a.keyedBy).toBe('cookie-request:sid');
    expect(a.signedIn).toBe(true);
  });

  it('auto+client groups what nothing identifies by address and user agent', () => {
    const s = new Sessionizer(parseSessionKey('auto+client:10m'), tokenize);
    const a = s.assign(req([['user-agent', 'kube-probe/1.29']], [], { clientAddress: '10.0.0.7' }));
    const b = s.assign(req([['user-agent', 'kube-probe/1.29']], [], { clientAddress: '10.0.0.7', startOffsetUs: 60_000_000 }));
    const c = s.assign(req([['cookie', 'sid=a1b2c3d4e5'], ['user-agent', 'kube-probe/1.29']], [], { clientAddress: '10.0.0.7' }));
    expect(b.sessionKey).toBe(a.sessionKey);
    expect(a.keyedBy).toBe('client');
    expect(c.keyedBy).toBe('cookie-request:sid');
  });

  const labels: Array<[string, string, SessionInput, string]> = [
    ['a session the response starts is keyed by the cookie set', 'auto', req([], [['set-cookie', 'sid=a1b2c3d4e5']]), 'cookie-set:sid'],
    ['an Authorization token alone keys by auth', 'auto', req([['authorization', 'Bearer t0k3n']]), 'auth'],
    ['nothing identifying gives a one-request session', 'auto', req([['user-agent', 'curl/8']]), 'request'],
    ['header:NAME says which header', 'header:x-session', req([['x-session', 'abc']]), 'header:x-session'],
    ['client says client', 'client', req(), 'client'],
    ['none gives one-request sessions', 'none', req([['cookie', 'sid=a1b2c3d4e5']]), 'request'],
    ['cookie:NAME sent says request cookie', 'cookie:cart', req([['cookie', 'cart=c1']]), 'cookie-request:cart'],
    ['cookie:NAME set says set by the server', 'cookie:cart', req([], [['set-cookie', 'cart=c1']]), 'cookie-set:cart'],
  ];
  it.each(labels)('%s', (_name, rule, input, keyedBy) => {
    expect(new Sessionizer(parseSessionKey(rule), tokenize).assign(input).keyedBy).toBe(keyedBy);
  });
});
