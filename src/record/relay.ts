import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { HOP_BY_HOP, headerValue, type ErrorKind, type Exchange, type HeaderList } from '../model/exchange.js';
import type { Cohort } from '../model/session.js';
import { BodyCapture } from './body-capture.js';
import { connectionNamed, NOT_FORWARDED } from './headers.js';
import { HTTPParser, METHODS, type HeadersComplete, type NativeParser } from './native-parser.js';
import type { UpstreamTarget } from './proxied-exchange.js';
import { endWith, refusalBody, refusalOfClientError, refusalResponse, refuseRequest, type ClientLimits, type Refusal } from './request-guard.js';
import type { CohortNamer, RouteNamer, SessionAssigned, SessionAssigner } from './types.js';
import { classifyUpstreamError, failureBody } from './upstream-error.js';
import { connectUpstream } from './upstream-target.js';

/**
 * The reverse proxy's engine: each client connection is paired with one
 * upstream connection, and both directions are parsed by Node's own HTTP
 * parser (`native-parser.ts`) and written straight to the other socket. A
 * request head goes up rebuilt (hop-by-hop fields dropped, `Host` set to the
 * target), its body as it came (re-chunked when chunked); the response comes
 * back the same way. No node:http server, no `ServerResponse`, no HTTP
 * client library on the path: that is where the recorder's CPU went (see
 * docs/record.md, Performance). Everything a request must pass before it
 * goes up is `refuseRequest`'s, as with the node:http server; forward mode
 * and `--mitm` still use that server.
 */

/** What the relay needs from the proxy that owns it. */
export interface RelayHost {
  readonly maxBodyBytes: number;
  readonly upstreamTimeoutMs: number;
  readonly closing: boolean;
  readonly limits: ClientLimits;
  readonly sessions: SessionAssigner;
  readonly routes: RouteNamer;
  readonly cohorts: CohortNamer;
  readonly insecure: boolean;
  /** Where a request-target goes, or why it can't (answered 400). */
  resolve(url: string): UpstreamTarget | string;
  /** µs since the recording's first request, for a request that started at `startMs`. */
  offsetUs(startMs: number): number;
  began(ex: RelayedExchange): void;
  complete(ex: RelayedExchange, exchange: Exchange, cohort: Cohort, keyedBy: string | null): void;
  refusedOne(): void;
  /** An `Upgrade` request: the connection is handed over, with the bytes after its head. */
  upgrade(head: { method: string; url: string; rawHeaders: string[] }, client: Socket, rest: Buffer): void;
  /** A CONNECT request, which a reverse proxy answers 405. */
  connectRefused(client: Socket): void;
  forget(conn: RelayConnection): void;
}

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
/** Requests sent again when a kept-alive target connection closes under them (RFC 9110 §9.2.2: idempotent, and bodiless here). */
const RETRIED_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LAST_CHUNK = '0\r\n\r\n';
const STOPPING_BODY = JSON.stringify({ error: 'recorder_stopping', detail: 'the recorder shut down before the target answered' });
/** node:http's default: an idle kept-alive client connection is closed after this long. */
const KEEP_ALIVE_MS = 5_000;
/** One request/response pair on a relayed connection. */
export class RelayedExchange {
  readonly conn: RelayConnection;
  readonly method: string;
  readonly upstream: UpstreamTarget;
  readonly requestHeaders: HeaderList;
  readonly startMs: number;
  readonly startOffsetUs: number;
  readonly reqCapture: BodyCapture;
  readonly resCapture: BodyCapture;
  /** The request's body is chunked on the way up. */
  readonly chunkedUp: boolean;
  /** The client asked for the connection to close after this exchange (or is HTTP/1.0 without keep-alive). */
  readonly clientClose: boolean;
  readonly http10: boolean;
  requestDone = false;
  status: number | null = null;
  responseHeaders: HeaderList = [];
  /** The response head has been written to the client. */
  started = false;
  /** The response body is chunked on the way down. */
  chunkedDown = false;
  /** The client connection closes once this response is written. */
  closeAfter = false;
  /** The target said it closes its connection after this response. */
  upstreamCloses = false;
  session: SessionAssigned | null = null;
  done = false;
  /** The head as sent up, kept while the exchange could be sent again (see {@link RelayedExchange.retryable}). */
  upHead: string | null = null;
  retried = false;

  constructor(conn: RelayConnection, method: string, upstream: UpstreamTarget, requestHeaders: HeaderList, chunkedUp: boolean, clientClose: boolean, http10: boolean) {
    const host = conn.host;
    this.conn = conn;
    this.method = method;
    this.upstream = upstream;
    this.requestHeaders = requestHeaders;
    this.startMs = performance.now();
    this.startOffsetUs = host.offsetUs(this.startMs);
    this.reqCapture = new BodyCapture(host.maxBodyBytes);
    this.resCapture = new BodyCapture(host.maxBodyBytes);
    this.chunkedUp = chunkedUp;
    this.clientClose = clientClose;
    this.http10 = http10;
  }

  /**
   * A kept-alive target connection may close just as a request goes up on
   * it. A request without a body whose answer has not begun is then sent
   * again, once, on a new connection, as browsers and HTTP clients do.
   */
  get retryable(): boolean {
    return this.requestDone && !this.started && !this.retried && this.upHead !== null && this.reqCapture.totalBytes === 0 && !this.chunkedUp;
  }

  /** Aborts the exchange because the proxy is shutting down (recorded as `aborted`). */
  shutdown(): void {
    if (!this.done) this.conn.abortAll('aborted', 'recorder shut down before the exchange finished', failureResponse(503, STOPPING_BODY));
  }

  assignSession(): SessionAssigned {
    return (this.session ??= this.conn.host.sessions.assign({
      clientAddress: this.conn.clientAddress,
      requestHeaders: this.requestHeaders,
      responseHeaders: this.responseHeaders,
      startOffsetUs: this.startOffsetUs,
      method: this.method,
      target: this.upstream.path,
      status: this.status,
    }));
  }

  finish(error: ErrorKind | null, errorDetail: string | null): void {
    if (this.done) return;
    this.done = true;
    const host = this.conn.host;
    const session = this.assignSession();
    const target = this.upstream.path;
    const exchange: Exchange = {
      sessionKey: session.sessionKey,
      seq: 0,
      startOffsetUs: this.startOffsetUs,
      durationUs: Math.max(0, Math.round((performance.now() - this.startMs) * 1000)),
      method: this.method,
      target,
      host: this.upstream.host,
      scheme: this.upstream.scheme,
      route: host.routes.route(this.method, target),
      requestHeaders: this.requestHeaders,
      requestBody: this.reqCapture.bytes(),
      requestBodyBytes: this.reqCapture.totalBytes,
      requestBodyTruncated: this.reqCapture.truncated,
      status: this.status,
      responseHeaders: this.responseHeaders,
      responseBody: this.resCapture.bytes(),
      responseBodyBytes: this.resCapture.totalBytes,
      responseBodyTruncated: this.resCapture.truncated,
      responseEncoding: headerValue(this.responseHeaders, 'content-encoding') ?? null,
      error,
      errorDetail,
    };
    host.complete(this, exchange, host.cohorts.classify(this.requestHeaders, session.signedIn), session.keyedBy ?? null);
  }
}

/**
 * One client connection and its upstream connection. Requests may be
 * pipelined: they go up in order and their responses come back in order
 * (`queue`). A request the proxy refuses is answered once the responses
 * ahead of it are written, and the connection then closes: whatever the
 * client sent after it is never forwarded.
 */
export class RelayConnection {
  readonly host: RelayHost;
  readonly client: Socket;
  /** The client's address, read once (a system call each time; gone once the socket is). */
  readonly clientAddress: string;
  private upstream: Socket | null = null;
  /** Responses the current target connection has carried (only a reused connection's close is retried). */
  private served = 0;
  private readonly queue: RelayedExchange[] = [];
  private readonly req: NativeParser;
  private res: NativeParser | null = null;
  private headers: string[] = [];
  private url = '';
  private resHeaders: string[] = [];
  /** The exchange whose request is being read (head seen, body not finished). */
  private reading: RelayedExchange | null = null;
  /** A request has begun (first byte seen) and its head is not complete. */
  private inHead = false;
  private headTimer: NodeJS.Timeout | null = null;
  /** Set once: no more requests are taken (the client asked to close, or one was refused). */
  private stopReading = false;
  /** Set once: nothing more the client sends is parsed (refused, upgraded, closed). */
  private halted = false;
  private pendingRefusal: string | null = null;
  private clientEnded = false;
  private closed = false;
  private readonly onClientData = (chunk: Buffer): void => this.fromClient(chunk);
  private readonly onUpstreamData = (chunk: Buffer): void => this.fromUpstream(chunk);
  /** The target connection is paused until the client takes what was written to it. */
  private upstreamPaused = false;
  /** The client connection is paused until the target takes the request body written to it. */
  private clientPaused = false;
  private readonly resumeUpstream = (): void => {
    this.upstreamPaused = false;
    this.upstream?.resume();
  };
  private readonly resumeClient = (): void => {
    this.clientPaused = false;
    if (!this.halted) this.client.resume();
  };

  constructor(host: RelayHost, client: Socket) {
    this.host = host;
    this.client = client;
    this.clientAddress = client.remoteAddress ?? '';
    client.setNoDelay(true);
    const req = (this.req = new HTTPParser());
    req.initialize(HTTPParser.REQUEST, {}, host.limits.maxHeaderBytes, HTTPParser.kLenientNone);
    req[HTTPParser.kOnMessageBegin] = (): void => this.beginHead();
    req[HTTPParser.kOnHeaders] = (headers: string[], url: string): void => {
      for (const h of headers) this.headers.push(h);
      this.url += url;
    };
    req[HTTPParser.kOnHeadersComplete] = ((major, minor, headers, method, url, _s, _m, upgrade, keepAlive) =>
      this.requestHead(major, minor, headers ?? this.headers, METHODS[method ?? -1] ?? 'GET', url ?? this.url, upgrade, keepAlive)) as HeadersComplete;
    req[HTTPParser.kOnBody] = (chunk: Buffer): void => this.requestBody(chunk);
    req[HTTPParser.kOnMessageComplete] = (): void => this.requestEnd();
    client.on('data', this.onClientData);
    client.on('end', () => this.clientEnd());
    client.on('error', () => this.clientGone());
    client.on('close', () => this.clientGone());
    client.setTimeout(host.limits.clientIdleTimeoutMs, () => this.clientIdle());
    this.startHeadTimer();
  }

  /** No exchange in flight and no request half read. */
  get idle(): boolean {
    return this.queue.length === 0 && !this.inHead && this.reading === null;
  }

  /** Shutdown: an idle connection closes now, a busy one after its responses (each says `connection: close`). */
  drain(): void {
    if (this.idle) this.close();
  }

  /** Shutdown, after the drain: whatever is left is cut. */
  destroy(): void {
    this.client.destroy();
    this.close(false);
  }

  /**
   * Ends everything in flight with `kind`. A client still owed the first
   * byte of its answer gets `answer` (a whole `connection: close` response),
   * if given; otherwise its connection is cut.
   */
  abortAll(kind: ErrorKind, detail: string, answer: string | null): void {
    const first = this.queue[0];
    if (answer !== null && first && !first.started && !this.closed && this.client.writable && this.reading === null) {
      this.endClient(answer);
    } else {
      this.client.destroy();
    }
    this.finishLeft(kind, detail);
    this.close(false);
  }

  private finishLeft(kind: ErrorKind, detail: string): void {
    this.reading = null;
    for (const ex of this.queue.splice(0)) ex.finish(kind, detail);
  }

  // --- client side ---------------------------------------------------------

  private fromClient(chunk: Buffer): void {
    if (this.halted) return;
    const up = this.upstream;
    up?.cork();
    const r = this.req.execute(chunk);
    up?.uncork();
    if (this.upgradeHead !== null && !this.closed) this.handOverUpgrade(chunk.subarray(typeof r === 'number' ? r : (r.bytesParsed ?? chunk.length)));
    else if (typeof r !== 'number') this.parseError(r);
  }

  private beginHead(): void {
    this.inHead = true;
    if (this.headTimer === null) this.startHeadTimer();
    this.client.setTimeout(this.host.limits.clientIdleTimeoutMs);
  }

  private startHeadTimer(): void {
    this.headTimer = setTimeout(() => {
      this.headTimer = null;
      this.refuse({ status: 408, detail: 'the request headers did not arrive in time' });
    }, this.host.limits.headersTimeoutMs);
  }

  private clearHeadTimer(): void {
    if (this.headTimer !== null) clearTimeout(this.headTimer);
    this.headTimer = null;
  }

  private requestHead(major: number, minor: number, raw: string[], method: string, url: string, upgrade: boolean, keepAlive: boolean): number {
    this.headers = [];
    this.url = '';
    this.inHead = false;
    this.clearHeadTimer();
    if (this.stopReading || this.halted) return 1;
    const head = { rawHeaders: raw, httpVersion: `${major}.${minor}`, url, method };
    if (method === 'CONNECT') {
      this.halt();
      this.host.refusedOne();
      this.client.removeListener('data', this.onClientData);
      this.host.connectRefused(this.client);
      this.close(false);
      return 1;
    }
    const refusal = refuseRequest(head, this.host.limits.maxHeaderCount, upgrade);
    if (refusal) {
      this.refuse(refusal);
      return 1;
    }
    if (upgrade) {
      if (this.queue.length > 0) {
        this.refuse({ status: 400, detail: 'an Upgrade request pipelined behind others' });
        return 1;
      }
      // Handed over once execute returns (the bytes after the head are known then).
      this.halt();
      this.upgradeHead = head;
      return 0;
    }
    const target = this.host.resolve(url);
    if (typeof target === 'string') {
      this.refuse({ status: 400, detail: target }, JSON.stringify({ error: 'bad_proxy_request', detail: target }));
      return 1;
    }
    const named = connectionNamed(raw);
    const list: HeaderList = [];
    let text = `${method} ${target.path} HTTP/1.1\r\nhost: ${target.host}\r\n`;
    let chunked = false;
    let expectContinue = false;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      const lower = name.toLowerCase();
      const value = raw[i + 1]!;
      if (lower === 'transfer-encoding') chunked = true; // refuseRequest let only a single `chunked` through
      if (HOP_BY_HOP.has(lower) || (named !== null && named.has(lower))) continue;
      list.push([lower, value]);
      if (NOT_FORWARDED.has(lower)) {
        if (lower === 'expect' && value.toLowerCase() === '100-continue') expectContinue = true;
        continue;
      }
      text += `${name}: ${value}\r\n`;
    }
    if (chunked) text += 'transfer-encoding: chunked\r\n';
    const http10 = major === 1 && minor === 0;
    const ex = new RelayedExchange(this, method, target, list, chunked, !keepAlive, http10);
    this.queue.push(ex);
    this.reading = ex;
    this.host.began(ex);
    const up = this.upstream ?? this.connectUpstream(target);
    text += '\r\n';
    if (RETRIED_METHODS.has(method)) ex.upHead = text;
    up.write(text, 'latin1');
    if (expectContinue && this.queue.length === 1) this.client.write(CONTINUE, 'latin1');
    if (!keepAlive) this.stopReading = true;
    // HEAD and the rest are told apart on the response side; a request body is read as its head says.
    return 0;
  }

  private upgradeHead: { rawHeaders: string[]; httpVersion: string; url: string; method: string } | null = null;

  private requestBody(chunk: Buffer): void {
    const ex = this.reading;
    if (ex === null) return;
    ex.reqCapture.add(chunk);
    // The target may have answered early and closed: the rest of the body is read, and goes nowhere.
    const up = this.upstream;
    if (up === null) return;
    const ok = ex.chunkedUp ? writeChunk(up, chunk) : up.write(chunk);
    if (!ok && !this.clientPaused) {
      this.clientPaused = true;
      this.client.pause();
      up.once('drain', this.resumeClient);
    }
  }

  private requestEnd(): void {
    const ex = this.reading;
    if (ex === null) return;
    this.reading = null;
    ex.requestDone = true;
    if (ex.chunkedUp) this.upstream?.write(LAST_CHUNK, 'latin1');
    if (ex.reqCapture.totalBytes > 0) ex.upHead = null;
  }

  private parseError(err: Error & { code?: string; reason?: string; bytesParsed?: number }): void {
    this.refuse(refusalOfClientError(err as NodeJS.ErrnoException));
  }

  /**
   * The proxy answers the request itself and the connection closes: at once
   * when nothing is owed to the client, else after the responses ahead of it
   * (a request still being read up is cut).
   */
  private refuse(refusal: Refusal, body = refusalBody(refusal)): void {
    if (this.closed || this.halted) return;
    this.halt();
    if (this.reading !== null) {
      // A malformed body: the target has half a request, and the client gets no answer but the close.
      this.abortAll('aborted', `the client's request body was malformed (${refusal.detail})`, null);
      return;
    }
    this.host.refusedOne();
    const response = refusalResponse(refusal, body);
    if (this.queue.length === 0) {
      this.client.removeListener('data', this.onClientData);
      this.endClient(response);
      this.close(false);
    } else {
      this.pendingRefusal = response;
    }
  }

  /** Parses nothing more from the client. */
  private halt(): void {
    this.halted = true;
    this.stopReading = true;
    this.clearHeadTimer();
  }

  private clientEnd(): void {
    this.clientEnded = true;
    this.stopReading = true;
    this.clearHeadTimer();
    if (this.reading !== null) this.abortAll('aborted', 'client aborted the request body', null);
    else if (this.queue.length === 0) this.close();
  }

  private clientIdle(): void {
    const first = this.queue[0];
    // Waiting on a slow target is the upstream timeout's to end, with a 504.
    if (first && first.requestDone && !first.started && this.reading === null) return;
    if (this.idle && this.headTimer !== null) return; // a connection that sends nothing is the headers deadline's
    this.client.destroy();
  }

  private clientGone(): void {
    if (this.closed) return;
    this.finishLeft('aborted', 'client went away');
    this.close(false);
  }

  // --- upstream side -------------------------------------------------------

  private connectUpstream(target: UpstreamTarget): Socket {
    const up = connectUpstream(target, this.host.insecure);
    up.setNoDelay(true);
    this.upstreamPaused = false;
    // Idle-based: any byte either way restarts it; it only ends an exchange (see upstreamTimeout).
    up.setTimeout(this.host.upstreamTimeoutMs);
    this.upstream = up;
    this.served = 0;
    const res = (this.res = new HTTPParser());
    res.initialize(HTTPParser.RESPONSE, {}, 0, HTTPParser.kLenientNone);
    res[HTTPParser.kOnHeaders] = (headers: string[]): void => {
      for (const h of headers) this.resHeaders.push(h);
    };
    res[HTTPParser.kOnHeadersComplete] = ((major, minor, headers, _m, _u, status, message, _up, keepAlive) =>
      this.responseHead(major, minor, headers ?? this.resHeaders, status ?? 0, message ?? '', keepAlive)) as HeadersComplete;
    res[HTTPParser.kOnBody] = (chunk: Buffer): void => this.responseBody(chunk);
    res[HTTPParser.kOnMessageComplete] = (): void => this.responseEnd();
    up.on('data', this.onUpstreamData);
    up.on('end', () => this.upstreamGone(up, null));
    up.on('error', (err) => this.upstreamGone(up, err));
    up.on('close', () => this.upstreamGone(up, null));
    up.on('timeout', () => this.upstreamTimeout());
    return up;
  }

  private fromUpstream(chunk: Buffer): void {
    const client = this.client;
    const parser = this.res!;
    client.cork();
    const r = parser.execute(chunk);
    client.uncork();
    // An error from a connection already let go of (it said it closes, then sent more) is not this exchange's.
    if (typeof r !== 'number' && this.res === parser) this.upstreamFailed(r, 'protocol');
  }

  private responseHead(major: number, minor: number, raw: string[], status: number, message: string, keepAlive: boolean): number {
    this.resHeaders = [];
    const ex = this.queue[0];
    if (ex === undefined || status === 101) {
      this.upstreamFailed(new Error(ex ? 'the target switched protocols unasked' : 'the target answered a request that was not sent'), 'protocol');
      return 1;
    }
    if (status < 200) return 0; // interim answers (100, 103) are not passed on; 100 Continue is the proxy's own
    ex.status = status;
    const named = connectionNamed(raw);
    const list: HeaderList = [];
    let text = `HTTP/1.1 ${status} ${message}\r\n`;
    let length = false;
    let chunked = false;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      const lower = name.toLowerCase();
      const value = raw[i + 1]!;
      if (lower === 'content-length') length = true;
      else if (lower === 'transfer-encoding') chunked = value.toLowerCase().trimEnd().endsWith('chunked');
      if (HOP_BY_HOP.has(lower) || (named !== null && named.has(lower))) continue;
      list.push([lower, value]);
      text += `${name}: ${value}\r\n`;
    }
    ex.responseHeaders = list;
    ex.assignSession();
    const bodyless = ex.method === 'HEAD' || status === 204 || status === 304;
    const untilClose = !bodyless && !length && !chunked;
    ex.chunkedDown = !bodyless && chunked && !ex.http10;
    // The target closing its connection is no reason to close the client's: the next request opens a new
    // one. Requests already sent behind this one are lost with it, though, so then the client's goes too.
    const last = this.queue.length === 1 && this.reading === null;
    ex.upstreamCloses = !keepAlive;
    ex.closeAfter = (this.host.closing && last) || ex.clientClose || untilClose || (chunked && ex.http10) || (!keepAlive && !last);
    if (ex.chunkedDown) text += 'transfer-encoding: chunked\r\n';
    if (ex.closeAfter) text += 'connection: close\r\n';
    else if (ex.http10) text += 'connection: keep-alive\r\n';
    ex.started = true;
    this.client.write(`${text}\r\n`, 'latin1');
    return ex.method === 'HEAD' ? 1 : 0;
  }

  private responseBody(chunk: Buffer): void {
    const ex = this.queue[0];
    if (ex === undefined) return;
    ex.resCapture.add(chunk);
    const client = this.client;
    if (client.destroyed) return;
    const ok = ex.chunkedDown ? writeChunk(client, chunk) : client.write(chunk);
    if (!ok && !this.upstreamPaused) {
      this.upstreamPaused = true;
      this.upstream?.pause();
      client.once('drain', this.resumeUpstream);
    }
  }

  private responseEnd(): void {
    const ex = this.queue[0];
    if (ex === undefined || !ex.started) return; // the end of an interim answer
    this.queue.shift();
    if (ex.chunkedDown) this.client.write(LAST_CHUNK, 'latin1');
    this.served++;
    ex.finish(null, null);
    // Not to be written to again, whether or not its close has arrived yet.
    if (ex.upstreamCloses && !ex.closeAfter) this.dropUpstream();
    if (ex.closeAfter) {
      this.close();
    } else if (this.queue.length === 0 && this.reading === null) {
      if (this.pendingRefusal !== null) {
        this.endClient(this.pendingRefusal);
        this.close(false);
      } else if (this.clientEnded || this.stopReading) {
        this.close();
      } else if (!this.inHead) {
        this.client.setTimeout(KEEP_ALIVE_MS);
      }
    }
  }

  private upstreamTimeout(): void {
    if (this.queue.length === 0) return;
    const first = this.queue[0]!;
    const err = Object.assign(new Error(first.started ? 'the target stopped sending the response' : 'the target did not answer in time'), {
      code: first.started ? 'UND_ERR_BODY_TIMEOUT' : 'UND_ERR_HEADERS_TIMEOUT',
    });
    this.upstreamFailed(err, 'timeout');
  }

  private upstreamGone(up: Socket, err: Error | null): void {
    if (this.closed || this.upstream !== up) return;
    if (err === null && this.res !== null && this.queue[0]?.started === true) {
      // A body read until the close ends here; any other is cut short, as undici says: "other side closed".
      const client = this.client;
      client.cork();
      this.res.finish();
      client.uncork();
      if (this.closed) return;
    }
    const served = this.served;
    this.dropUpstream();
    // An idle target connection closed (its keep-alive timeout): the next request opens a new one.
    if (this.queue.length === 0) return;
    if (served > 0 && this.queue.every((ex) => ex.retryable)) return this.resend();
    this.upstreamFailed(err ?? Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }), null);
  }

  /** Forgets the target connection (closed, or being closed). */
  private dropUpstream(): void {
    const up = this.upstream;
    if (up === null) return;
    this.upstream = null;
    up.removeListener('data', this.onUpstreamData);
    up.destroy();
    if (this.res !== null) releaseParser(this.res);
    this.res = null;
    this.resHeaders = [];
  }

  /** Sends the queued requests again on a new connection (see {@link RelayedExchange.retryable}). */
  private resend(): void {
    const up = this.connectUpstream(this.queue[0]!.upstream);
    up.cork();
    for (const ex of this.queue) {
      ex.retried = true;
      up.write(ex.upHead!, 'latin1');
    }
    up.uncork();
  }

  /** The target failed the exchange at the head of the queue: 502/504 if nothing was answered yet, else a cut connection. */
  private upstreamFailed(err: Error, forced: ErrorKind | null): void {
    if (this.closed) return;
    const failure = classifyUpstreamError(err);
    const kind = forced ?? failure.kind;
    const status = kind === 'timeout' ? 504 : failure.status;
    this.abortAll(kind, failure.detail, failureResponse(status, failureBody({ ...failure, kind, status })));
  }

  /** Tears the pair down (`endClient`: also end the client connection). Exchanges still open end as `aborted`. */
  private close(endClient = true): void {
    if (this.closed) return;
    this.halt();
    this.closed = true;
    this.finishLeft('aborted', 'the connection closed before the exchange was answered');
    if (endClient && this.pendingRefusal === null) this.endClient('');
    this.client.setTimeout(0);
    this.dropUpstream();
    releaseParser(this.req);
    this.host.forget(this);
  }

  /**
   * Ends the client connection with `text`, once. endWith, not end: the
   * client may never close its side (the socket is half-open), so it is cut
   * after a moment.
   */
  private endClient(text: string): void {
    if (!this.client.destroyed && !this.client.writableEnded) endWith(this.client, text);
  }

  /** After `execute` returned for an Upgrade request: the connection is the upgrade relay's now. */
  private handOverUpgrade(rest: Buffer): void {
    const head = this.upgradeHead!;
    this.client.removeListener('data', this.onClientData);
    this.client.removeAllListeners('end');
    this.client.removeAllListeners('close');
    this.client.removeAllListeners('error');
    this.client.setTimeout(0);
    this.closed = true;
    this.dropUpstream();
    releaseParser(this.req);
    this.host.forget(this);
    this.host.upgrade(head, this.client, rest);
  }
}

/**
 * Deletes a parser's native half once the stack has unwound (it may be
 * releasing itself from one of its own callbacks). Without `close` the
 * native half outlives its JS object: ~2 KB a connection.
 */
function releaseParser(parser: NativeParser): void {
  setImmediate(closeParser, parser);
}

function closeParser(parser: NativeParser): void {
  parser.close();
}

/** Writes `data` as one chunk of a chunked body; false when the socket asks the writer to wait. */
function writeChunk(socket: Socket, data: Buffer): boolean {
  socket.write(`${data.length.toString(16)}\r\n`, 'latin1');
  socket.write(data);
  return socket.write('\r\n', 'latin1');
}

function failureResponse(status: number, body: string): string {
  const reason = status === 504 ? 'Gateway Timeout' : status === 503 ? 'Service Unavailable' : 'Bad Gateway';
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

