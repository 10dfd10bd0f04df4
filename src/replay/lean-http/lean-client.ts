import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { RequestOptions } from '../session-plan.js';
import { LeanHttpError } from './errors.js';
import { hostLineOf, wireOf } from './request-head.js';
import { ResponseParser, type ResponseSink } from './response-parser.js';

/**
 * The dispatch handler the lean client calls: undici's legacy handler
 * (`onConnect/onHeaders/onData/onComplete/onError`), so one handler object
 * works with either client. `wantHeaders` false lets the client hand
 * `onHeaders` only the `set-cookie` pairs (the others are not sliced out).
 */
export interface LeanHandler {
  onConnect(abort: (err: Error) => void): void;
  /** `rawHeaders`: name/value Buffers, valid during the call only (the array is reused). */
  onHeaders(status: number, rawHeaders: Buffer[]): boolean | void;
  onData(chunk: Buffer): boolean | void;
  onComplete(): void;
  onError(err: Error): void;
  readonly wantHeaders?: boolean;
}

/** Options of a {@link LeanClient}; times in ms, defaults undici's. */
export interface LeanClientOptions {
  /** Time to establish the TCP connection (10,000). */
  connectTimeout?: number;
  /** How long an idle connection is reused without a server hint (4,000). */
  keepAliveTimeout?: number;
  /** Cap on a server's `keep-alive: timeout=` hint (600,000). */
  keepAliveMaxTimeout?: number;
  /** Taken off a server's hint, so the client gives up first (2,000). */
  keepAliveTimeoutThreshold?: number;
  /** Response headers larger than this (names and values) fail the request (16,384, Node's and undici's). */
  maxHeaderSize?: number;
}

const RESOLVED: Promise<void> = Promise.resolve();
const OWNER = Symbol('leanClient');
type OwnedSocket = Socket & { [OWNER]: LeanClient | null };

/** Where a {@link LeanClient} connects and the `host` line it sends: parse an origin once with {@link leanOrigin}, share it between clients. */
export interface LeanOrigin {
  host: string;
  port: number;
  hostLine: string;
}

/** Parses an `http:` origin for {@link LeanClient}s (throws on another scheme). */
export function leanOrigin(origin: string): LeanOrigin {
  const url = new URL(origin);
  if (url.protocol !== 'http:') throw new LeanHttpError(`the lean client speaks http: only (got ${url.protocol})`, 'UND_ERR_INVALID_ARG');
  return {
    host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port === '' ? 80 : Number(url.port),
    // one string per origin: a cached request's check is a pointer comparison
    hostLine: hostLineOf(url),
  };
}

// Socket listeners are shared functions (`this` is the socket): no closure per connection.
function onSocketConnect(this: OwnedSocket): void {
  this.setTimeout(0);
}
function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[OWNER]?.received(chunk);
}
function onSocketEnd(this: OwnedSocket): void {
  this[OWNER]?.ended();
}
function onSocketError(this: OwnedSocket, err: Error): void {
  this[OWNER]?.failed(err);
}
function onSocketClose(this: OwnedSocket): void {
  this[OWNER]?.failed(new LeanHttpError('closed', 'UND_ERR_SOCKET'));
}
function onSocketTimeout(this: OwnedSocket): void {
  this[OWNER]?.failed(new LeanHttpError('connect timeout', 'UND_ERR_CONNECT_TIMEOUT'));
}

/**
 * A minimal HTTP/1.1 client for one `http:` origin: one keep-alive
 * connection, one request at a time (undici's `Client` with pipelining 1),
 * with the part of undici's dispatch interface the replay runner uses. It
 * connects on the first dispatch (and again after the server or a response
 * closed the connection, or it sat idle past the keep-alive timeout), writes
 * each request as one pre-serialized buffer ({@link wireOf}), and parses the
 * response with {@link ResponseParser}. Requests dispatched while one is in
 * flight wait in order. No closure or promise per request: the `abort` given
 * to `onConnect` is the client's own and aborts whatever request it is
 * running, so call it only while yours is in flight (the runner's timeout
 * sweep does). Headers and body timeouts are the caller's (the runner's
 * sweep); only the connect timeout is the client's.
 */
export class LeanClient implements ResponseSink {
  private readonly host: string;
  private readonly port: number;
  private readonly hostLine: string;
  private readonly parser: ResponseParser;
  private readonly connectTimeoutMs: number;
  private readonly defaultKeepAliveMs: number;
  private readonly maxKeepAliveMs: number;
  private readonly keepAliveThresholdMs: number;
  private socket: OwnedSocket | null = null;
  private handler: LeanHandler | null = null;
  /** Requests waiting for the one in flight: options and handler, alternating. */
  private queue: Array<RequestOptions | LeanHandler> = [];
  /** The connection may carry another request after the one in flight (not a HEAD, say). */
  private reuse = true;
  private idleSinceMs = 0;
  private keepAliveMs: number;
  private closing = false;
  private destroyed = false;
  private closeResolve: (() => void) | null = null;
  private readonly abortFn = (err: Error): void => this.abort(err);

  /** `origin`: an `http:` origin, or one parsed by {@link leanOrigin} (cheaper when there are many clients). */
  constructor(origin: string | LeanOrigin, options: LeanClientOptions = {}) {
    const o = typeof origin === 'string' ? leanOrigin(origin) : origin;
    this.host = o.host;
    this.port = o.port;
    this.hostLine = o.hostLine;
    this.connectTimeoutMs = options.connectTimeout ?? 10_000;
    this.defaultKeepAliveMs = options.keepAliveTimeout ?? 4_000;
    this.maxKeepAliveMs = options.keepAliveMaxTimeout ?? 600_000;
    this.keepAliveThresholdMs = options.keepAliveTimeoutThreshold ?? 2_000;
    this.keepAliveMs = this.defaultKeepAliveMs;
    this.parser = new ResponseParser(this, options.maxHeaderSize ?? 16_384);
  }

  /**
   * Sends a request (or queues it behind the one in flight). The handler is
   * called back as undici calls it; a request that cannot be sent (bad
   * header, client closed) gets `onError` before this returns.
   */
  dispatch(opts: RequestOptions, handler: LeanHandler): boolean {
    if (this.destroyed || this.closing) {
      handler.onError(this.destroyed ? new LeanHttpError('the client is destroyed', 'UND_ERR_DESTROYED') : new LeanHttpError('the client is closed', 'UND_ERR_CLOSED'));
      return false;
    }
    if (this.handler !== null) {
      this.queue.push(opts, handler);
      return false;
    }
    this.send(opts, handler);
    return true;
  }

  /**
   * Closes the connection once the requests dispatched so far are done.
   * Dispatches fail meanwhile (`UND_ERR_CLOSED`, kind `reset`) and after
   * (`UND_ERR_DESTROYED`, kind `other`), like undici's.
   */
  close(): Promise<void> {
    if (this.destroyed || this.closing) return RESOLVED;
    this.closing = true;
    if (this.handler === null) {
      this.drop();
      this.destroyed = true;
      return RESOLVED;
    }
    return new Promise((resolve) => (this.closeResolve = resolve));
  }

  /** Closes the connection now: the request in flight and those queued fail (`UND_ERR_DESTROYED`). */
  destroy(): Promise<void> {
    if (this.destroyed) return RESOLVED;
    this.destroyed = true;
    this.closing = true;
    const waiting = this.queue;
    this.queue = [];
    const h = this.handler;
    this.handler = null;
    this.drop();
    const err = new LeanHttpError('the client is destroyed', 'UND_ERR_DESTROYED');
    h?.onError(err);
    for (let i = 1; i < waiting.length; i += 2) (waiting[i] as LeanHandler).onError(err);
    this.settleClose();
    return RESOLVED;
  }

  private send(opts: RequestOptions, handler: LeanHandler): void {
    const wire = wireOf(opts, this.hostLine);
    if (wire instanceof LeanHttpError) {
      handler.onError(wire);
      this.next();
      return;
    }
    let socket = this.socket;
    if (socket !== null && performance.now() - this.idleSinceMs > this.keepAliveMs) {
      // the server may be closing it right now: a fresh connection rather than a lost request
      this.drop();
      socket = null;
    }
    if (socket === null) socket = this.open();
    this.handler = handler;
    this.reuse = !wire.reset;
    this.parser.start(opts.method === 'HEAD', handler.wantHeaders !== false);
    handler.onConnect(this.abortFn);
    if (this.handler !== handler) return; // aborted in onConnect
    socket.write(wire.bytes);
  }

  private open(): OwnedSocket {
    // no TCP keep-alive probes (undici turns them on after 60 s idle): nothing HTTP sees, one syscall less per connection
    const s = connect({ host: this.host, port: this.port, noDelay: true }) as OwnedSocket;
    s[OWNER] = this;
    s.setTimeout(this.connectTimeoutMs);
    s.on('connect', onSocketConnect);
    s.on('timeout', onSocketTimeout);
    s.on('data', onSocketData);
    s.on('end', onSocketEnd);
    s.on('error', onSocketError);
    s.on('close', onSocketClose);
    this.socket = s;
    return s;
  }

  /** Forgets the connection (its late events are ignored) and closes it. */
  private drop(): void {
    const s = this.socket;
    if (s === null) return;
    this.socket = null;
    s[OWNER] = null;
    this.parser.reset();
    s.destroy();
  }

  /** Socket data (called by the socket listener). */
  received(chunk: Buffer): void {
    if (this.handler === null || this.parser.idle) {
      // bytes nobody asked for: the connection's framing cannot be trusted (undici: "bad response")
      this.drop();
      return;
    }
    const err = this.parser.execute(chunk);
    if (err !== null) this.failed(err);
  }

  /** The server closed its side (called by the socket listener). */
  ended(): void {
    const h = this.handler;
    if (h === null) {
      this.drop();
      return;
    }
    const err = this.parser.finish();
    if (err !== null) this.failed(err);
    else if (this.handler === h) this.failed(new LeanHttpError('other side closed', 'UND_ERR_SOCKET'));
  }

  /** The connection failed: the request in flight fails with `err` (called by the socket listeners and the parser). */
  failed(err: Error): void {
    const h = this.handler;
    this.handler = null;
    this.drop();
    if (h === null) return;
    h.onError(err);
    this.next();
  }

  private abort(err: Error): void {
    const h = this.handler;
    if (h === null) return;
    this.handler = null;
    this.drop();
    h.onError(err);
    this.next();
  }

  onResponseHead(status: number, rawHeaders: Buffer[]): void {
    this.handler!.onHeaders(status, rawHeaders);
  }

  onResponseBody(chunk: Buffer): void {
    this.handler!.onData(chunk);
  }

  onResponseEnd(keepAlive: boolean): void {
    const h = this.handler!;
    this.handler = null;
    const hintS = this.parser.keepAliveTimeoutS;
    if (hintS >= 0) {
      this.parser.keepAliveTimeoutS = -1;
      this.keepAliveMs = Math.min(hintS * 1000 - this.keepAliveThresholdMs, this.maxKeepAliveMs);
    } else {
      this.keepAliveMs = this.defaultKeepAliveMs;
    }
    if (!keepAlive || !this.reuse || this.keepAliveMs <= 0) this.drop();
    else this.idleSinceMs = performance.now();
    h.onComplete();
    this.next();
  }

  /** Sends the next queued request, or finishes a close once nothing is left. */
  private next(): void {
    if (this.handler !== null) return;
    if (this.queue.length > 0) {
      const opts = this.queue.shift() as RequestOptions;
      const handler = this.queue.shift() as LeanHandler;
      this.send(opts, handler);
      return;
    }
    if (this.closing) {
      // closed once its work is done; later dispatches fail as destroyed, as undici's do
      this.drop();
      this.destroyed = true;
      this.settleClose();
    }
  }

  private settleClose(): void {
    const r = this.closeResolve;
    this.closeResolve = null;
    r?.();
  }
}
