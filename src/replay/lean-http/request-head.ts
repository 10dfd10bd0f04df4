import type { RequestOptions } from '../session-plan.js';
import { LeanHttpError } from './errors.js';

/**
 * A request serialized for one `host` line: the head (and the body, when
 * there is one) as bytes ready for `socket.write`. Cached on options that are
 * the same for every clone (`RequestOptions.wire`).
 */
export interface WireRequest {
  /** The `host: ...\r\n` line it was built with (a client for another origin rebuilds it). */
  hostLine: string;
  bytes: Buffer;
  /** The connection is not reused after this request (see {@link serializeRequest}). */
  reset: boolean;
}

/** The `host` line undici sends for an origin: the URL's hostname and its port when it has one. */
export function hostLineOf(url: URL): string {
  return `host: ${url.hostname}${url.port ? `:${url.port}` : ''}\r\n`;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** undici's rule for header values: tab, visible ASCII and obs-text only (no CR or LF). */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** undici's rule for the path: no control characters, spaces or code points above U+00FF. */
const BAD_PATH = /[^\u0021-\u00ff]/;

/** Methods undici sends `content-length: 0` for when they have no body. */
function expectsPayload(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'QUERY' || method === 'PROPFIND' || method === 'PROPPATCH';
}

function invalid(message: string): LeanHttpError {
  return new LeanHttpError(message, 'UND_ERR_INVALID_ARG');
}

/** Header names undici treats specially; the lean client takes `host` and refuses the rest. */
function specialName(name: string): string | null {
  const n = name.length;
  if (n !== 4 && n !== 6 && n !== 7 && n !== 10 && n !== 14 && n !== 17) return null;
  const lower = name.toLowerCase();
  switch (lower) {
    case 'host':
    case 'expect':
    case 'upgrade':
    case 'connection':
    case 'keep-alive':
    case 'content-length':
    case 'transfer-encoding':
      return lower;
    default:
      return null;
  }
}

/**
 * Header names (lower-case) the lean client does not send the way undici
 * does: undici rewrites or refuses them, so a run whose `--header` sets one
 * is given to undici. `host` is not among them (both send it in place of
 * the origin's).
 */
export const UNSUPPORTED_HEADERS: ReadonlySet<string> = new Set(['expect', 'upgrade', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

/**
 * Serializes a request exactly as undici 7 writes it with pipelining 1:
 * request line, `host` (the origin's, or a `host` header's value), then
 * `connection: keep-alive` (`close` for HEAD, which undici never reuses),
 * the headers in order as `name: value`, and `content-length` when there is
 * a body or the method expects one (POST, PUT, PATCH...). A body on a method
 * that expects none (a GET with a body) is sent, and the connection is then
 * not reused, like undici. Invalid input gives the error undici throws for it
 * (`UND_ERR_INVALID_ARG`, kind `other`) instead of bytes.
 */
export function serializeRequest(opts: RequestOptions, hostLine: string): WireRequest | LeanHttpError {
  const { method, path, headers, body } = opts;
  if (!TOKEN.test(method)) return invalid('invalid request method');
  if (path.charCodeAt(0) !== 47 /* / */ || BAD_PATH.test(path)) return invalid('invalid request path');
  const payload = expectsPayload(method);
  const reset = method === 'HEAD' || (body !== null && body.length > 0 && !payload);
  let host = hostLine;
  let lines = '';
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (!TOKEN.test(name)) return invalid('invalid header key');
    if (BAD_VALUE.test(value)) return invalid(`invalid ${name} header`);
    const special = specialName(name);
    if (special === 'host') host = `host: ${value}\r\n`;
    else if (special !== null) return new LeanHttpError(`${special} header not supported by the lean client`, 'UND_ERR_NOT_SUPPORTED');
    else lines += `${name}: ${value}\r\n`;
  }
  const length = body === null ? 0 : body.length;
  const tail = length > 0 || payload ? `content-length: ${length}\r\n\r\n` : '\r\n';
  const head = `${method} ${path} HTTP/1.1\r\n${host}${reset ? 'connection: close\r\n' : 'connection: keep-alive\r\n'}${lines}${tail}`;
  const headLength = Buffer.byteLength(head, 'latin1');
  const bytes = Buffer.allocUnsafe(headLength + length);
  bytes.write(head, 0, headLength, 'latin1');
  if (length > 0) body!.copy(bytes, headLength);
  return { hostLine, bytes, reset };
}

/**
 * The bytes of `opts` for a client whose host line is `hostLine`. Options
 * built once per step carry `wire: null` (see `RequestOptions.wire`): their
 * bytes are built on first use and kept on them, so a fixed request costs no
 * serialization after its first send (a second origin's bytes are kept in
 * `wireAlt`). Options built per request (no `wire` field) are serialized
 * every time.
 */
export function wireOf(opts: RequestOptions, hostLine: string): WireRequest | LeanHttpError {
  const cached = opts.wire;
  if (cached !== undefined && cached !== null && cached.hostLine === hostLine) return cached;
  // a paired replay's second origin keeps its own copy (see RequestOptions.wireAlt)
  const alt = opts.wireAlt;
  if (alt !== undefined && alt.hostLine === hostLine) return alt;
  const built = serializeRequest(opts, hostLine);
  if (cached === undefined || built instanceof LeanHttpError) return built;
  if (cached === null) opts.wire = built;
  else opts.wireAlt = built;
  return built;
}
