import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/model/errors.js';
import { BodyCapture } from '../../src/record/body-capture.js';
import { endToEndHeaders, requestHasBody } from '../../src/record/headers.js';
import { classifyUpstreamError, failureBody } from '../../src/record/upstream-error.js';
import { UpstreamResolver, parseListenAddress, parseTargetOrigin } from '../../src/record/upstream-target.js';

const coded = (code: string, message = 'boom'): Error => Object.assign(new Error(message), { code });

describe('classifyUpstreamError', () => {
  it.each([
    ['a refused connection is "refused", 502', coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), 'refused', 502],
    ['a reset is "reset", 502', coded('ECONNRESET'), 'reset', 502],
    ['undici "other side closed" is "reset"', coded('UND_ERR_SOCKET', 'other side closed'), 'reset', 502],
    ['a headers timeout is "timeout", 504', coded('UND_ERR_HEADERS_TIMEOUT'), 'timeout', 504],
    ['a connect timeout is "timeout", 504', coded('UND_ERR_CONNECT_TIMEOUT'), 'timeout', 504],
    ['an unknown host is "dns"', coded('ENOTFOUND', 'getaddrinfo ENOTFOUND nope.invalid'), 'dns', 502],
    ['a self-signed certificate is "tls"', coded('DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls', 502],
    ['a parser error is "protocol"', coded('HPE_INVALID_HEADER_TOKEN'), 'protocol', 502],
    ['anything else is "other"', new Error('weird'), 'other', 502],
  ])('%s', (_name, err, kind, status) => {
    const f = classifyUpstreamError(err);
    expect(f.kind).toBe(kind);
    expect(f.status).toBe(status);
    expect(f.detail.length).toBeGreaterThan(0);
  });

  it('writes the short JSON body the client gets', () => {
    const body = JSON.parse(failureBody(classifyUpstreamError(coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'))));
    expect(body).toEqual({ error: 'upstream_unreachable', kind: 'refused', detail: 'connect ECONNREFUSED 127.0.0.1:1' });
  });
});

describe('headers', () => {
  it('drops hop-by-hop headers and those named in Connection, keeps duplicates and order', () => {
    const raw = ['Host', 'x', 'Connection', 'keep-alive, X-Trace', 'X-Trace', '1', 'Set-Cookie', 'a=1', 'Keep-Alive', 'timeout=5', 'Set-Cookie', 'b=2', 'TE', 'trailers'];
    const { list, flat } = endToEndHeaders(raw, new Set(['host']));
    expect(list).toEqual([
      ['host', 'x'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
    expect(flat).toEqual(['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  });

  it('knows when a request has a body', () => {
    expect(requestHasBody({})).toBe(false);
    expect(requestHasBody({ 'content-length': '0' })).toBe(false);
    expect(requestHasBody({ 'content-length': '12' })).toBe(true);
    expect(requestHasBody({ 'transfer-encoding': 'chunked' })).toBe(true);
  });
});

describe('BodyCapture', () => {
  it('keeps the first capBytes across chunks and counts everything', () => {
    const c = new BodyCapture(5);
    c.add(Buffer.from('abc'));
    c.add(Buffer.from('defg'));
    c.add(Buffer.from('hij'));
    expect(Buffer.from(c.bytes()!).toString()).toBe('abcde');
    expect(c.totalBytes).toBe(10);
    expect(c.truncated).toBe(true);
  });

  it('gives null for an empty body and is not truncated at exactly the cap', () => {
    expect(new BodyCapture(5).bytes()).toBeNull();
    const c = new BodyCapture(3);
    c.add(Buffer.from('abc'));
    expect(c.truncated).toBe(false);
  });
});

describe('flag parsing', () => {
  it.each([
    ['http://127.0.0.1:3000', 'http://127.0.0.1:3000'],
    ['http://127.0.0.1:3000/', 'http://127.0.0.1:3000'],
    ['https://Staging.Example', 'https://staging.example'],
  ])('--target %s is the origin %s', (text, origin) => {
    expect(parseTargetOrigin(text)).toBe(origin);
  });

  it.each(['nope', 'ftp://x', 'http://x/api', 'http://x/?a=1', 'http://u:p@x'])('--target %s is refused', (text) => {
    expect(() => parseTargetOrigin(text)).toThrow(UsageError);
  });

  it.each([
    ['8080', '127.0.0.1', 8080],
    [':9000', '127.0.0.1', 9000],
    ['0.0.0.0:80', '0.0.0.0', 80],
    ['[::1]:8080', '::1', 8080],
    ['localhost:0', 'localhost', 0],
  ])('--listen %s is %s port %d', (text, host, port) => {
    expect(parseListenAddress(text)).toEqual({ host, port });
  });

  it.each(['', 'x', '1.2.3.4:', '1.2.3.4:70000', 'a:b'])('--listen "%s" is refused', (text) => {
    expect(() => parseListenAddress(text)).toThrow(UsageError);
  });
});

describe('UpstreamResolver', () => {
  it('sends every request to the target in reverse mode, absolute or not', () => {
    const r = new UpstreamResolver('https://shop.example:8443', false);
    expect(r.resolve('/a?b=1')).toEqual({ origin: 'https://shop.example:8443', path: '/a?b=1', host: 'shop.example:8443', scheme: 'https' });
    expect(r.resolve('http://elsewhere/x')).toMatchObject({ origin: 'https://shop.example:8443', path: '/x' });
  });

  it('takes the target from each absolute-URI request in forward mode, and refuses the rest', () => {
    const r = new UpstreamResolver(null, true);
    expect(r.resolve('http://Api.Example:81/v1?x')).toEqual({ origin: 'http://api.example:81', path: '/v1?x', host: 'api.example:81', scheme: 'http' });
    expect(r.resolve('http://api.example?x=1')).toMatchObject({ path: '/?x=1' });
    expect(typeof r.resolve('/relative')).toBe('string');
    expect(r.resolve('http://user:pw@api.example/x')).toBe('an absolute-URI must not carry credentials (user@host)');
  });
});
