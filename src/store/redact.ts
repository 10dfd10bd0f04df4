/**
 * Keyed-hash redaction, applied at record time (by the writer, the
 * sessionizer and the importers) so no secret reaches a recording. A secret
 * becomes `redacted:<16 base64url chars of HMAC-SHA256(key, value)>`: the same
 * value always gives the same token within a recording (sessions and
 * correlation still work), and without the key the value can't be recovered
 * or confirmed by guessing.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { InputError, messageOf } from '../model/errors.js';
import { headerValue, type Exchange, type HeaderList } from '../model/exchange.js';
import { redactBodyBytes } from './redact-body.js';
import { redactCards, redactUrl } from './redact-text.js';

/** Prefix of every redaction token. */
export const REDACTED_PREFIX = 'redacted:';
/** Bytes of a redaction key. */
export const REDACTION_KEY_BYTES = 32;

/** Whether a value is a redaction token (`redacted:…`). */
export function isRedacted(value: string): boolean {
  return value.startsWith(REDACTED_PREFIX);
}

/** Header names whose whole value is a secret: `x-api-key`, `x-auth-token`, `x-amz-security-token`, `x-csrf-token`, … */
const SECRET_HEADER_RE = /(?:^|-)(?:api-?key|apikey|token|[cx]srf-?token|secret|password|passwd|signature|credentials?|auth|authorization|session-?id)(?:$|-)/;
/** Headers holding a URL whose query may carry secrets. */
const URL_HEADERS = new Set(['referer', 'location', 'content-location', 'origin']);
const TOKEN_CACHE_LIMIT = 4096;

/** Keyed-hash redactor of headers, targets, bodies and whole exchanges. Stateless but for a small token cache. */
export class Redactor {
  private readonly key: Buffer;
  private readonly cache = new Map<string, string>();
  /** `redactor.token` as a free function (for the sessionizer and the scanners). */
  readonly tokenize: (value: string) => string;

  /** `key`: the recording's secret key (see {@link loadOrCreateRedactionKey}); at least 16 bytes. */
  constructor(key: Buffer) {
    if (!Buffer.isBuffer(key) || key.length < 16) throw new TypeError('Redactor needs a key of at least 16 bytes');
    this.key = Buffer.from(key);
    this.tokenize = (value) => this.token(value);
  }

  /** `redacted:<16 chars base64url of HMAC-SHA256(key, value)>`; same value → same token; a token maps to itself. */
  token(value: string): string {
    if (isRedacted(value)) return value;
    let t = this.cache.get(value);
    if (t === undefined) {
      t = REDACTED_PREFIX + createHmac('sha256', this.key).update(value, 'utf8').digest('base64url').slice(0, 16);
      if (this.cache.size >= TOKEN_CACHE_LIMIT) this.cache.clear();
      this.cache.set(value, t);
    }
    return t;
  }

  /**
   * Authorization and Proxy-Authorization (credentials, keeping the scheme:
   * `Bearer redacted:…`), each cookie value of Cookie, the value of
   * Set-Cookie (name and attributes kept), secret-named headers
   * (`x-api-key`, `x-auth-token`, …), secret query parameters in URL headers
   * (Referer, Location), and card numbers anywhere. Returns `headers` itself
   * when nothing changed.
   */
  redactHeaders(headers: HeaderList): HeaderList {
    let out: HeaderList | null = null;
    for (let i = 0; i < headers.length; i++) {
      const [name, value] = headers[i]!;
      const next = this.redactHeader(name, value);
      if (next !== value) {
        out ??= headers.slice();
        out[i] = [name, next];
      }
    }
    return out ?? headers;
  }

  private redactHeader(name: string, value: string): string {
    if (value === '') return value;
    switch (name) {
      case 'authorization':
      case 'proxy-authorization':
        return this.redactCredentials(value);
      case 'cookie':
        return this.redactCookieHeader(value);
      case 'set-cookie':
        return this.redactSetCookie(value);
      default:
        if (name !== 'www-authenticate' && SECRET_HEADER_RE.test(name)) return this.token(value);
        if (URL_HEADERS.has(name)) return redactUrl(value, this.tokenize);
        return value.length >= 13 ? redactCards(value, this.tokenize) : value;
    }
  }

  private redactCredentials(value: string): string {
    const v = value.trim();
    const space = v.indexOf(' ');
    if (space < 0) return this.token(v);
    const credentials = v.slice(space + 1).trim();
    if (credentials === '' || isRedacted(credentials)) return value;
    return v.slice(0, space) + ' ' + this.token(credentials);
  }

  private redactCookieHeader(value: string): string {
    const parts = value.split(';');
    let changed = false;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const v = part.slice(eq + 1).trim();
      if (v === '' || isRedacted(v)) continue;
      parts[i] = part.slice(0, eq + 1) + this.token(v);
      changed = true;
    }
    return changed ? parts.join(';') : value;
  }

  private redactSetCookie(value: string): string {
    const semi = value.indexOf(';');
    const pair = semi < 0 ? value : value.slice(0, semi);
    const eq = pair.indexOf('=');
    if (eq < 0) return value;
    let v = pair.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    if (v === '' || isRedacted(v)) return value;
    return pair.slice(0, eq + 1) + this.token(v) + (semi < 0 ? '' : value.slice(semi));
  }

  /**
   * Secret-named fields and card numbers in a JSON, form, multipart or text
   * body; binary types are not read. `contentEncoding` (`gzip`, `br`,
   * `deflate`) bodies are decompressed (bounded), redacted, and re-compressed
   * with the same encoding only if something changed. Returns `body` itself
   * when nothing changed.
   */
  redactBody(body: Uint8Array, contentType: string | undefined, contentEncoding: string | null): Uint8Array {
    return redactBodyBytes(body, contentType, contentEncoding, this.tokenize);
  }

  /** Secret-named query parameters (`password`, `token`, `api_key`…) and card numbers in path or query. */
  redactTarget(target: string): string {
    return redactUrl(target, this.tokenize);
  }

  /**
   * A copy of `ex` with headers, target and both bodies redacted. When a
   * complete (untruncated) body changes length, its byte count and any
   * `content-length` header follow, so the stored exchange stays consistent.
   */
  redactExchange(ex: Exchange): Exchange {
    let requestHeaders = this.redactHeaders(ex.requestHeaders);
    let responseHeaders = this.redactHeaders(ex.responseHeaders);
    let { requestBody, requestBodyBytes, responseBody, responseBodyBytes } = ex;
    if (requestBody !== null) {
      const red = this.redactBody(requestBody, headerValue(ex.requestHeaders, 'content-type'), headerValue(ex.requestHeaders, 'content-encoding') ?? null);
      if (red !== requestBody) {
        if (!ex.requestBodyTruncated) {
          requestBodyBytes = red.length;
          requestHeaders = withContentLength(requestHeaders, red.length);
        }
        requestBody = red;
      }
    }
    if (responseBody !== null) {
      const red = this.redactBody(responseBody, headerValue(ex.responseHeaders, 'content-type'), ex.responseEncoding);
      if (red !== responseBody) {
        if (!ex.responseBodyTruncated) {
          responseBodyBytes = red.length;
          responseHeaders = withContentLength(responseHeaders, red.length);
        }
        responseBody = red;
      }
    }
    return {
      ...ex,
      target: this.redactTarget(ex.target),
      requestHeaders,
      responseHeaders,
      requestBody,
      requestBodyBytes,
      responseBody,
      responseBodyBytes,
    };
  }
}

function withContentLength(headers: HeaderList, bytes: number): HeaderList {
  const i = headers.findIndex(([k]) => k === 'content-length');
  if (i < 0) return headers;
  const out = headers.slice();
  out[i] = ['content-length', String(bytes)];
  return out;
}

/**
 * Reads `<recording>.key` or creates it with {@link REDACTION_KEY_BYTES}
 * random bytes, mode 0600 (owner read/write only). The key is never stored in
 * the recording itself. Throws InputError naming the key file when it can't
 * be read or created, or holds the wrong number of bytes.
 */
export function loadOrCreateRedactionKey(recordingPath: string): Buffer {
  const path = `${recordingPath}.key`;
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readKey(path);
    throw new InputError(`Failed to create redaction key ${path}: ${messageOf(err)}`, { cause: err });
  }
  try {
    const key = randomBytes(REDACTION_KEY_BYTES);
    writeSync(fd, key);
    // The umask can only remove bits, but make sure nothing widened them.
    if ((fstatSync(fd).mode & 0o077) !== 0) chmodSync(path, 0o600);
    return key;
  } finally {
    closeSync(fd);
  }
}

function readKey(path: string): Buffer {
  let key: Buffer;
  try {
    key = readFileSync(path);
  } catch (err) {
    throw new InputError(`Failed to read redaction key ${path}: ${messageOf(err)}`, { cause: err });
  }
  if (key.length !== REDACTION_KEY_BYTES) {
    throw new InputError(`Failed to read redaction key ${path}: expected ${REDACTION_KEY_BYTES} bytes, found ${key.length}`, {
      hint: 'delete the file to start a new key (tokens will then differ from earlier recordings)',
    });
  }
  return key;
}
