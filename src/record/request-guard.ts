import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The proxy's defences against hostile clients. node:http (llhttp) already
 * refuses most malformed messages and reports them as `clientError`; what
 * it lets through and the target could read differently from the proxy is
 * refused here, before anything goes upstream. See docs/record.md,
 * "Hostile input".
 */

/** Caps and timeouts on what clients send. */
export interface ClientLimits {
  /** Request line plus header fields, bytes (node:http `maxHeaderSize`). More answers 431. */
  maxHeaderBytes: number;
  /** Header fields per request. More answers 431. */
  maxHeaderCount: number;
  /**
   * Time for a request's line and headers to arrive, from the connection opening (a later request on a
   * kept-alive connection: from its first byte), ms (node:http `headersTimeout`). Expiry answers 408.
   */
  headersTimeoutMs: number;
  /** Time a client connection may sit idle while it owes the proxy bytes (a request body) or will not take them (a response), ms. */
  clientIdleTimeoutMs: number;
}

/** The defaults, documented in docs/record.md, "Hostile input". */
export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  maxHeaderBytes: 32 * 1024,
  maxHeaderCount: 256,
  headersTimeoutMs: 30_000,
  clientIdleTimeoutMs: 60_000,
};

/**
 * A node:http server that enforces `limits`. `handed`: its connections are
 * handed to it (`emit('connection')`) rather than accepted, so it never
 * listens.
 */
export function guardedServer(limits: ClientLimits, onRequest: RequestListener, handed = false): Server {
  const server = createServer(
    {
      keepAlive: true,
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      // No deadline for a whole request: a slow but steady upload is legitimate. One that stalls is cut by the idle timeout.
      requestTimeout: 0,
      // Checked by refuseRequest instead, so that the refusal is counted and says why like the others.
      requireHostHeader: false,
      // node:http looks for expired header deadlines on this period (default 30 s, which would let a 30 s deadline run to 60 s).
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    onRequest,
  );
  // node:http's own cap (default 2,000) drops the fields past it silently, Content-Length included;
  // refuseRequest counts them all and refuses past maxHeaderCount instead.
  server.maxHeadersCount = 0;
  // Idle: a stalled request body, a client that stops reading its response (a connection that sends
  // nothing is the headers deadline's). See ProxiedExchange for the exemption.
  server.timeout = limits.clientIdleTimeoutMs;
  // node:http starts tracking header deadlines when the server starts listening.
  if (handed) server.emit('listening');
  return server;
}

/** Why the proxy answers a request itself instead of forwarding it. */
export interface Refusal {
  status: 400 | 408 | 413 | 431 | 501 | 505;
  detail: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values are visible ASCII, SP, HTAB and obs-text: no CR, LF, NUL or other
// control byte, which also rules out obs-fold line continuations.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const BAD_TARGET = /[^\x21-\x7e\x80-\xff]/;
// uri-host [":" port]: an IP literal or a reg-name (unreserved, pct-encoded, sub-delims).
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::\d*)?$/;
const DIGITS = /^\d+$/;

/** What {@link refuseRequest} reads of a request (an `IncomingMessage` has it all). */
export type RequestHead = Pick<IncomingMessage, 'rawHeaders' | 'httpVersion' | 'url'>;

/**
 * Checks a parsed request head against what a strict HTTP/1.1 server
 * (RFC 9110/9112) refuses, for the cases node:http accepts: a refusal, or
 * null when the request can be forwarded as the proxy understood it.
 * `tunnel`: the request opens a tunnel (`Upgrade`, `CONNECT`) whose bytes
 * are relayed as they come, so it must not carry a body.
 */
export function refuseRequest(req: RequestHead, maxHeaderCount: number, tunnel = false): Refusal | null {
  // node:http also takes `HTTP/2.0` and version-less (0.9) request lines; they would go on as HTTP/1.1.
  if (req.httpVersion !== '1.1' && req.httpVersion !== '1.0') {
    return { status: 505, detail: `HTTP/${req.httpVersion} is not supported (only HTTP/1.0 and HTTP/1.1)` };
  }
  const raw = req.rawHeaders;
  if (raw.length > maxHeaderCount * 2) return { status: 431, detail: `more than ${maxHeaderCount} header fields` };
  if (BAD_TARGET.test(req.url ?? '')) return { status: 400, detail: 'the request-target contains a space or a control character' };
  let hosts = 0;
  let host = '';
  const lengths: string[] = [];
  let codings: string | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (!TOKEN.test(name)) return { status: 400, detail: 'a header name contains a character that is not allowed' };
    if (BAD_VALUE.test(value)) return { status: 400, detail: `header ${name} contains a control character or a folded line` };
    // Length first: this runs for every header of every request.
    if (name.length === 4 && name.toLowerCase() === 'host') {
      hosts++;
      host = value;
    } else if (name.length === 14 && name.toLowerCase() === 'content-length') {
      lengths.push(value);
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      codings = codings === null ? value : `${codings},${value}`;
    }
  }
  if (hosts === 0 && req.httpVersion === '1.1') return { status: 400, detail: 'no Host header' };
  if (hosts > 1) return { status: 400, detail: 'more than one Host header' };
  if (hosts === 1 && !HOST.test(host)) return { status: 400, detail: 'the Host header is not a valid host[:port]' };
  if (lengths.length > 1) return { status: 400, detail: 'more than one Content-Length header' };
  const length = lengths[0];
  if (length !== undefined) {
    if (!DIGITS.test(length)) return { status: 400, detail: 'Content-Length is not a number' };
    if (length.length > 15) return { status: 413, detail: 'Content-Length is too large' };
  }
  if (codings !== null) {
    if (length !== undefined) return { status: 400, detail: 'Content-Length and Transfer-Encoding together' };
    if (req.httpVersion === '1.0') return { status: 400, detail: 'Transfer-Encoding in an HTTP/1.0 request' };
    const refusal = refuseCodings(codings);
    if (refusal) return refusal;
  }
  if (tunnel && (codings !== null || (length !== undefined && Number(length) > 0))) {
    return { status: 400, detail: 'a request that opens a tunnel (Upgrade, CONNECT) cannot carry a body' };
  }
  return null;
}

/**
 * Only `chunked`, once, is forwarded: the body reaches the target re-framed,
 * so any other coding would arrive without its `Transfer-Encoding`.
 */
function refuseCodings(value: string): Refusal | null {
  const codings = value.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '');
  if (codings.length === 1 && codings[0] === 'chunked') return null;
  if (codings.at(-1) === 'chunked' && codings.indexOf('chunked') === codings.length - 1 && codings.every((c) => TOKEN.test(c))) {
    return { status: 501, detail: `transfer coding ${codings.slice(0, -1).join(', ').slice(0, 60)} is not supported (only chunked)` };
  }
  return { status: 400, detail: 'Transfer-Encoding must be a single "chunked"' };
}

const REASONS: Record<Refusal['status'], string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

const ERRORS: Record<Refusal['status'], string> = {
  400: 'bad_request',
  408: 'request_timeout',
  413: 'content_too_large',
  431: 'header_fields_too_large',
  501: 'not_implemented',
  505: 'http_version_not_supported',
};

/** The one-line JSON body of a refusal: `{"error":"bad_request","detail":"more than one Host header"}`. */
export function refusalBody(refusal: Refusal): string {
  return JSON.stringify({ error: ERRORS[refusal.status], detail: refusal.detail });
}

/** A whole `connection: close` response for a refusal, for writing straight to a socket. */
export function refusalResponse(refusal: Refusal, body = refusalBody(refusal)): string {
  return (
    `HTTP/1.1 ${refusal.status} ${REASONS[refusal.status]}\r\ncontent-type: application/json\r\n` +
    `connection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** What node:http's parser errors mean for the client (`clientError`). */
export function refusalOfClientError(err: NodeJS.ErrnoException): Refusal {
  const code = err.code ?? '';
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, detail: 'request line and headers are too large' };
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return { status: 413, detail: 'chunk extensions are too large' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, detail: 'the request headers did not arrive in time' };
  const reason = (err as { reason?: unknown }).reason;
  const why = typeof reason === 'string' ? reason : 'malformed request';
  return { status: 400, detail: code.startsWith('HPE_') ? `${why} (${code})` : why };
}

/** How long a refused connection may go on sending before it is cut: long enough for the client to read its answer. */
const LINGER_MS = 2_000;

const answered = new WeakSet<Socket>();

/**
 * A `clientError` handler: answers the parser's refusal once and closes (see
 * {@link endWith}). A connection whose previous response is still being
 * written is cut instead: a status line now would be read as the answer to
 * that earlier request.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket, onRefused: () => void): void {
  if (answered.has(socket)) return; // later bytes of a connection already refused: dropped until it closes
  answered.add(socket);
  const busy = (socket as Socket & { _httpMessage?: unknown })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || busy) {
    socket.destroy();
    return;
  }
  onRefused();
  endWith(socket, refusalResponse(refusalOfClientError(err)));
}

/**
 * Ends `socket` with `text`, then reads and drops what the client still
 * sends for a moment before cutting the connection: closing on unread
 * bytes resets it, and the client may lose `text` with them.
 */
export function endWith(socket: Socket, text: string): void {
  socket.end(text);
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
