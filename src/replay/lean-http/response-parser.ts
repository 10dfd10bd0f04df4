import { headersOverflow, otherSideClosed, parseError, type LeanHttpError } from './errors.js';

/** Where a {@link ResponseParser} delivers a response. Called synchronously from `execute`. */
export interface ResponseSink {
  /**
   * The final (status ≥ 200) response's head. `rawHeaders` holds name/value
   * Buffers (views of the socket's data): every `set-cookie` pair, and all
   * pairs when the response was started with `allHeaders`. The array is the
   * parser's own, reused: read it during the call only.
   */
  onResponseHead(status: number, rawHeaders: Buffer[]): void;
  /** A piece of the body (a view of the socket's data; never copied). */
  onResponseBody(chunk: Buffer): void;
  /** The response ended; `keepAlive`: the connection may carry another request. */
  onResponseEnd(keepAlive: boolean): void;
}

const IDLE = 0;
const HEAD = 1;
const LENGTH = 2;
const CHUNK_SIZE = 3;
const CHUNK_EXT = 4;
const CHUNK_SIZE_LF = 5;
const CHUNK_DATA = 6;
const CHUNK_DATA_CR = 7;
const CHUNK_DATA_LF = 8;
const TRAILERS = 9;
const UNTIL_CLOSE = 10;
/** The head said there is no body: the response ends once the head is handed out. */
const DONE = 11;

const CONTENT_LENGTH = Buffer.from('content-length');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding');
const CONNECTION = Buffer.from('connection');
const KEEP_ALIVE = Buffer.from('keep-alive');
const SET_COOKIE = Buffer.from('set-cookie');
const CHUNKED = Buffer.from('chunked');
const CLOSE = Buffer.from('close');
const TIMEOUT = Buffer.from('timeout=');

/** RFC 9110 token characters. */
const TOKEN_CHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN_CHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN_CHAR[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN_CHAR[c] = TOKEN_CHAR[c + 32] = 1;

/** Hex digit values, -1 for other bytes. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) HEX[65 + c] = HEX[97 + c] = 10 + c;

/** `buf[start, start + name.length)` equals the lower-case `name`, ignoring ASCII case. */
function named(buf: Buffer, start: number, name: Buffer): boolean {
  for (let i = 0; i < name.length; i++) if ((buf[start + i]! | 0x20) !== name[i]) return false;
  return true;
}

/** The comma-separated list `buf[start, end)` holds `token` (lower-case), ignoring case and spaces. */
function hasToken(buf: Buffer, start: number, end: number, token: Buffer): boolean {
  let i = start;
  while (i < end) {
    while (i < end && (buf[i] === 32 || buf[i] === 9 || buf[i] === 44)) i++;
    let j = i;
    while (j < end && buf[j] !== 44) j++;
    let e = j;
    while (e > i && (buf[e - 1] === 32 || buf[e - 1] === 9)) e--;
    if (e - i === token.length && named(buf, i, token)) return true;
    i = j + 1;
  }
  return false;
}

/**
 * A minimal HTTP/1.x response parser, one per connection, fed the socket's
 * chunks as they come (any split, down to one byte at a time). It reads the
 * status line and headers (keeping only the few it acts on: content-length,
 * transfer-encoding, connection, keep-alive, and set-cookie for the cookie
 * jar), then a body delimited by content-length, chunked encoding (chunk
 * extensions skipped, trailers read and dropped) or the connection's close.
 * 1xx interim responses (100, 103...) are skipped; HEAD, 204 and 304 have no
 * body. Errors carry undici's codes (see {@link LeanHttpError}). No closure
 * or allocation per response beyond the header views it hands out.
 */
export class ResponseParser {
  private state = IDLE;
  /** Head bytes received so far when the head spans chunks. */
  private pending: Buffer | null = null;
  private remaining = 0;
  private chunkSize = 0;
  private sawDigit = false;
  private trailerLine = 0;
  private trailerBytes = 0;
  private keepAlive = true;
  private isHead = false;
  private allHeaders = false;
  private readonly raw: Buffer[] = [];
  /** Seconds from the last response's `keep-alive: timeout=N`, or -1. */
  keepAliveTimeoutS = -1;

  constructor(
    private readonly sink: ResponseSink,
    private readonly maxHeaderSize: number,
  ) {}

  /** Expects the response to a request just sent (`isHead`: it was a HEAD; `allHeaders`: hand out every header). */
  start(isHead: boolean, allHeaders: boolean): void {
    this.state = HEAD;
    this.pending = null;
    this.isHead = isHead;
    this.allHeaders = allHeaders;
  }

  /** Forgets the response in progress (aborted, or the connection is gone). */
  reset(): void {
    this.state = IDLE;
    this.pending = null;
  }

  /** No response is expected or in progress. */
  get idle(): boolean {
    return this.state === IDLE;
  }

  /**
   * Parses a chunk. Returns an error when the response does not parse (the
   * connection is then unusable), else null. Bytes after the end of the
   * response are not parsed: the response ends with `keepAlive` false.
   */
  execute(chunk: Buffer): LeanHttpError | null {
    let buf = chunk;
    let pos = 0;
    while (pos < buf.length) {
      const state = this.state;
      if (state === IDLE) return null;
      if (state === HEAD) {
        if (this.pending !== null) {
          buf = Buffer.concat([this.pending, buf.subarray(pos)]);
          pos = 0;
          this.pending = null;
        }
        const next = this.parseHead(buf, pos);
        if (typeof next !== 'number') return next;
        if (next < 0) {
          // the head goes on in the next chunk: keep what came (bounded), parse it all again then
          if (buf.length - pos > 2 * this.maxHeaderSize) return headersOverflow();
          this.pending = buf.subarray(pos);
          return null;
        }
        pos = next;
        if (this.state === DONE) {
          this.state = IDLE;
          return this.ended(pos, buf.length);
        }
        continue;
      }
      if (state === LENGTH) {
        const n = Math.min(this.remaining, buf.length - pos);
        this.remaining -= n;
        this.sink.onResponseBody(pos === 0 && n === buf.length ? buf : buf.subarray(pos, pos + n));
        pos += n;
        if (this.state !== LENGTH) return null; // aborted from the sink
        if (this.remaining === 0) {
          this.state = IDLE;
          return this.ended(pos, buf.length);
        }
        continue;
      }
      if (state === UNTIL_CLOSE) {
        this.sink.onResponseBody(pos === 0 ? buf : buf.subarray(pos));
        return null;
      }
      if (state === CHUNK_DATA) {
        const n = Math.min(this.remaining, buf.length - pos);
        this.remaining -= n;
        this.sink.onResponseBody(pos === 0 && n === buf.length ? buf : buf.subarray(pos, pos + n));
        pos += n;
        if (this.state !== CHUNK_DATA) return null;
        if (this.remaining === 0) this.state = CHUNK_DATA_CR;
        continue;
      }
      const b = buf[pos++]!;
      switch (state) {
        case CHUNK_SIZE: {
          const h = HEX[b]!;
          if (h >= 0) {
            this.chunkSize = this.chunkSize * 16 + h;
            this.sawDigit = true;
            if (this.chunkSize > 2 ** 48) return parseError('chunk size too large', 'HPE_INVALID_CHUNK_SIZE');
          } else if (!this.sawDigit) return parseError('invalid chunk size', 'HPE_INVALID_CHUNK_SIZE');
          else if (b === 59 /* ; */ || b === 32 || b === 9) this.state = CHUNK_EXT;
          else if (b === 13) this.state = CHUNK_SIZE_LF;
          else return parseError('invalid chunk size', 'HPE_INVALID_CHUNK_SIZE');
          break;
        }
        case CHUNK_EXT:
          if (b === 13) this.state = CHUNK_SIZE_LF;
          else if (b === 10) return parseError('missing CR after chunk size', 'HPE_STRICT');
          break;
        case CHUNK_SIZE_LF:
          if (b !== 10) return parseError('missing LF after chunk size', 'HPE_STRICT');
          if (this.chunkSize === 0) {
            this.state = TRAILERS;
            this.trailerLine = 0;
            this.trailerBytes = 0;
          } else {
            this.state = CHUNK_DATA;
            this.remaining = this.chunkSize;
          }
          break;
        case CHUNK_DATA_CR:
          if (b !== 13) return parseError('missing CR after chunk data', 'HPE_STRICT');
          this.state = CHUNK_DATA_LF;
          break;
        case CHUNK_DATA_LF:
          if (b !== 10) return parseError('missing LF after chunk data', 'HPE_STRICT');
          this.state = CHUNK_SIZE;
          this.chunkSize = 0;
          this.sawDigit = false;
          break;
        case TRAILERS:
          if (b === 10) {
            if (this.trailerLine === 0) {
              this.state = IDLE;
              return this.ended(pos, buf.length);
            }
            this.trailerLine = 0;
          } else if (b !== 13) {
            this.trailerLine++;
            if (++this.trailerBytes >= this.maxHeaderSize) return headersOverflow();
          }
          break;
        default:
          return parseError('unexpected state');
      }
    }
    return null;
  }

  /**
   * The connection closed. A body delimited by the close ends here (the
   * response is complete); any other response in progress fails: `reset`
   * when the connection was to be kept alive, like undici ("other side
   * closed"), `protocol` when the server had said `connection: close`
   * (undici's parser then reports a premature end). Null when nothing was in
   * progress.
   */
  finish(): LeanHttpError | null {
    const state = this.state;
    if (state === IDLE) return null;
    this.state = IDLE;
    if (state === UNTIL_CLOSE) {
      this.sink.onResponseEnd(false);
      return null;
    }
    if (state === HEAD || this.keepAlive) return otherSideClosed();
    return parseError('the connection closed before the response ended', 'HPE_INVALID_EOF_STATE');
  }

  /** Ends the response; bytes after it (pipelining 1 expects none) make the connection unusable. */
  private ended(pos: number, length: number): null {
    this.sink.onResponseEnd(this.keepAlive && pos === length);
    return null;
  }

  /**
   * Parses the head starting at `buf[start]`, in one pass over its bytes.
   * Returns where the body starts, -1 when the head is not all there yet
   * (nothing is kept: it is parsed again with more bytes), or an error.
   * Skips an interim (1xx) response (back in the HEAD state); marks a
   * response without body DONE.
   */
  private parseHead(buf: Buffer, start: number): number | LeanHttpError {
    const len = buf.length;
    if (len - start < 13) return -1;
    if (
      buf[start] !== 72 || buf[start + 1] !== 84 || buf[start + 2] !== 84 || buf[start + 3] !== 80 ||
      buf[start + 4] !== 47 || buf[start + 5] !== 49 || buf[start + 6] !== 46
    ) {
      return parseError('expected HTTP/1.x', 'HPE_INVALID_CONSTANT');
    }
    const minor = buf[start + 7]! - 48;
    const s0 = buf[start + 9]! - 48;
    const s1 = buf[start + 10]! - 48;
    const s2 = buf[start + 11]! - 48;
    const after = buf[start + 12];
    if (
      minor < 0 || minor > 9 || buf[start + 8] !== 32 || s0 < 1 || s0 > 9 || s1 < 0 || s1 > 9 || s2 < 0 || s2 > 9 ||
      (after !== 32 && after !== 13)
    ) {
      return parseError('invalid status line', 'HPE_INVALID_STATUS');
    }
    const status = s0 * 100 + s1 * 10 + s2;
    let p = start + 12;
    while (p < len && buf[p] !== 10) p++;
    if (p === len) return -1;
    if (buf[p - 1] !== 13) return parseError('missing CR in the status line', 'HPE_STRICT');
    p++;
    const raw = this.raw;
    raw.length = 0;
    let size = 0;
    let contentLength = -1;
    let chunked = false;
    let encoded = false;
    let close = false;
    let keepAliveToken = false;
    const all = this.allHeaders;
    for (;;) {
      if (p >= len) return -1;
      if (buf[p] === 13) {
        if (p + 1 >= len) return -1;
        if (buf[p + 1] !== 10) return parseError('missing LF after the headers', 'HPE_STRICT');
        p += 2;
        break;
      }
      let c = p;
      while (c < len && TOKEN_CHAR[buf[c]!] === 1) c++;
      if (c === len) return -1;
      if (c === p || buf[c] !== 58 /* : */) return parseError('invalid header name', 'HPE_INVALID_HEADER_TOKEN');
      let vs = c + 1;
      while (vs < len && (buf[vs] === 32 || buf[vs] === 9)) vs++;
      let lf = vs;
      while (lf < len && buf[lf] !== 10) lf++;
      if (lf === len) return -1;
      // trailing spaces stay in the value, as undici (llhttp) keeps them
      const ve = lf - 1;
      if (buf[ve] !== 13) return parseError('missing CR in a header line', 'HPE_STRICT');
      if (vs > ve) vs = ve;
      const nameLength = c - p;
      size += nameLength + ve - vs;
      if (size >= this.maxHeaderSize) return headersOverflow();
      let keep = all;
      if (nameLength === 10) {
        if (named(buf, p, SET_COOKIE)) keep = true;
        else if (named(buf, p, CONNECTION)) {
          if (hasToken(buf, vs, ve, CLOSE)) close = true;
          if (hasToken(buf, vs, ve, KEEP_ALIVE)) keepAliveToken = true;
        } else if (named(buf, p, KEEP_ALIVE)) this.keepAliveTimeoutS = keepAliveTimeoutOf(buf, vs, ve);
      } else if (nameLength === 14 && named(buf, p, CONTENT_LENGTH)) {
        if (contentLength >= 0 || ve === vs) return parseError('duplicate or empty content-length', 'HPE_UNEXPECTED_CONTENT_LENGTH');
        let n = 0;
        let de = ve;
        while (de > vs && (buf[de - 1] === 32 || buf[de - 1] === 9)) de--;
        for (let i = vs; i < de; i++) {
          const d = buf[i]! - 48;
          if (d < 0 || d > 9) return parseError('invalid content-length', 'HPE_INVALID_CONTENT_LENGTH');
          n = n * 10 + d;
        }
        contentLength = n;
      } else if (nameLength === 17 && named(buf, p, TRANSFER_ENCODING)) {
        encoded = true;
        // chunked only as the last coding; anything else is read until the close
        chunked = ve - vs >= 7 && named(buf, ve - 7, CHUNKED) && (ve - vs === 7 || buf[ve - 8] === 44 || buf[ve - 8] === 32);
      }
      if (keep) raw.push(buf.subarray(p, c), buf.subarray(vs, ve));
      p = lf + 1;
    }
    const end = p;
    if (status < 200) {
      // 101 would switch protocols, which no replayed request asks for (undici: "bad upgrade")
      if (status === 101) return otherSideClosedBecause('bad upgrade');
      raw.length = 0;
      this.state = HEAD;
      return end;
    }
    if (encoded && contentLength >= 0) return parseError('content-length with transfer-encoding', 'HPE_UNEXPECTED_CONTENT_LENGTH');
    this.keepAlive = !this.isHead && (minor >= 1 ? !close : keepAliveToken && !close);
    this.sink.onResponseHead(status, raw);
    raw.length = 0;
    if (this.state !== HEAD) return end; // aborted from the sink
    if (this.isHead || status === 204 || status === 304 || contentLength === 0) {
      this.state = DONE;
    } else if (chunked) {
      this.state = CHUNK_SIZE;
      this.chunkSize = 0;
      this.sawDigit = false;
    } else if (contentLength > 0 && !encoded) {
      this.state = LENGTH;
      this.remaining = contentLength;
    } else {
      this.state = UNTIL_CLOSE;
      this.keepAlive = false;
    }
    return end;
  }
}

function otherSideClosedBecause(message: string): LeanHttpError {
  const e = otherSideClosed();
  e.message = message;
  return e;
}

/** `N` of `timeout=N` in a keep-alive header value, or -1. */
function keepAliveTimeoutOf(buf: Buffer, start: number, end: number): number {
  for (let i = start; i + TIMEOUT.length <= end; i++) {
    if (!named(buf, i, TIMEOUT)) continue;
    let n = 0;
    let j = i + TIMEOUT.length;
    if (j >= end || buf[j]! < 48 || buf[j]! > 57) return -1;
    for (; j < end && buf[j]! >= 48 && buf[j]! <= 57; j++) n = n * 10 + buf[j]! - 48;
    return n;
  }
  return -1;
}
