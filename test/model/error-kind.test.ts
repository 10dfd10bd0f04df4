import { describe, expect, it } from 'vitest';
import { errorKindOf } from '../../src/model/error-kind.js';

const err = (code: string, message = 'boom', cause?: unknown) => Object.assign(new Error(message, { cause }), { code });

describe('errorKindOf', () => {
  it.each([
    ['a refused connection is "refused"', err('ECONNREFUSED'), 'refused'],
    ['a reset socket is "reset"', err('ECONNRESET'), 'reset'],
    ["undici's closed socket is \"reset\"", err('UND_ERR_SOCKET', 'other side closed'), 'reset'],
    ["replay's own --timeout is \"timeout\"", err('FB_REQUEST_TIMEOUT'), 'timeout'],
    ['a headers timeout is "timeout"', err('UND_ERR_HEADERS_TIMEOUT'), 'timeout'],
    ['an unknown host is "dns"', err('ENOTFOUND'), 'dns'],
    ['a bad certificate is "tls"', err('DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls'],
    ['a malformed response is "protocol"', err('HPE_INVALID_CONSTANT'), 'protocol'],
    ["undici 7's parser error, which has no code, is \"protocol\"", Object.assign(new Error('Response does not match the HTTP/1.1 protocol (Expected HTTP/)'), { name: 'HTTPParserError' }), 'protocol'],
    ['an abort is "aborted"', err('UND_ERR_ABORTED'), 'aborted'],
    ['a wrapper is classified by its cause', new Error('fetch failed', { cause: err('ECONNREFUSED') }), 'refused'],
    ['"socket hang up" without a code is "reset"', new Error('socket hang up'), 'reset'],
    ['anything else is "other"', new Error('???'), 'other'],
  ])('%s', (_name, e, kind) => {
    expect(errorKindOf(e)).toBe(kind);
  });
});
