import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { headerValue, type ErrorKind, type Exchange, type HeaderList } from '../model/exchange.js';
import type { Cohort } from '../model/session.js';
import { BodyCapture, CaptureStream } from './body-capture.js';
import { requestHasBody, responseHeaders, type SplitHeaders } from './headers.js';
import type { CohortNamer, RouteNamer, SessionAssigned, SessionAssigner } from './types.js';
import { classifyUpstreamError, failureBody } from './upstream-error.js';

/** Where one request goes upstream. */
export interface UpstreamTarget {
  /** `http://127.0.0.1:3000` */
  origin: string;
  /** Path and query sent upstream (and recorded). */
  path: string;
  /** Authority recorded as the exchange's `host`. */
  host: string;
  scheme: 'http' | 'https';
}

/** What a {@link ProxiedExchange} needs from the proxy that runs it. */
export interface ExchangeHost {
  readonly maxBodyBytes: number;
  readonly upstreamTimeoutMs: number;
  /** True once the proxy stops accepting: responses then ask the client to close the connection. */
  readonly closing: boolean;
  readonly sessions: SessionAssigner;
  readonly routes: RouteNamer;
  readonly cohorts: CohortNamer;
  /** Called exactly once per exchange, when it is finished (completed, failed or aborted). */
  complete(source: ProxiedExchange, exchange: Exchange, cohort: Cohort, keyedBy: string | null): void;
}

/** Thrown into undici to cancel an upstream request; the `code` says why. */
class CancelError extends Error {
  readonly code: 'FB_CLIENT_ABORTED' | 'FB_SHUTDOWN';
  constructor(code: 'FB_CLIENT_ABORTED' | 'FB_SHUTDOWN', message: string) {
    super(message);
    this.code = code;
  }
}

const JSON_HEADERS = ['content-type', 'application/json'];
const STOPPING_BODY = JSON.stringify({ error: 'recorder_stopping', detail: 'the recorder shut down before the target answered' });

function uncork(res: ServerResponse): void {
  res.uncork();
}

/**
 * One client request proxied to the target: an undici dispatch handler that
 * streams the response to the client with backpressure while capturing the
 * first `maxBodyBytes` of each body, then builds the {@link Exchange}.
 * Upstream failures answer 502/504 (when no response has started) and are
 * recorded with their kind; a client that goes away aborts the upstream
 * request and is recorded as `aborted`.
 */
export class ProxiedExchange implements Dispatcher.DispatchHandler {
  private readonly host: ExchangeHost;
  private readonly req: IncomingMessage;
  private readonly res: ServerResponse;
  private readonly upstream: UpstreamTarget;
  private readonly reqHeaders: SplitHeaders;
  private readonly startMs: number;
  private readonly startOffsetUs: number;
  private readonly reqCapture: BodyCapture;
  private readonly resCapture: BodyCapture;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private drainHook: (() => void) | null = null;
  private cancelReason: CancelError | null = null;
  private status: number | null = null;
  private resHeaders: HeaderList = [];
  private session: SessionAssigned | null = null;
  private done = false;

  constructor(
    host: ExchangeHost,
    req: IncomingMessage,
    res: ServerResponse,
    upstream: UpstreamTarget,
    reqHeaders: SplitHeaders,
    startMs: number,
    startOffsetUs: number,
  ) {
    this.host = host;
    this.req = req;
    this.res = res;
    this.upstream = upstream;
    this.reqHeaders = reqHeaders;
    this.startMs = startMs;
    this.startOffsetUs = startOffsetUs;
    this.reqCapture = new BodyCapture(host.maxBodyBytes);
    this.resCapture = new BodyCapture(host.maxBodyBytes);
  }

  /** Sends the request upstream through `dispatcher`. */
  start(dispatcher: Dispatcher): void {
    this.res.on('close', () => {
      if (!this.done && !this.res.writableFinished) this.cancel(new CancelError('FB_CLIENT_ABORTED', 'client went away'));
    });
    // The client idle timeout (server.timeout) would also fire while the client waits for a slow target;
    // that wait is the upstream timeout's to end, with a 504. Any other idle client is cut.
    this.res.on('timeout', () => {
      if (this.req.complete && this.status === null && !this.done) return;
      this.req.socket.destroy();
    });
    let body: CaptureStream | null = null;
    if (requestHasBody(this.req.headers)) {
      body = new CaptureStream(this.reqCapture);
      // pipe, not pipeline: undici destroying the body on an upstream error must not
      // destroy the client's socket before it gets its 502.
      const stream = body;
      const clientGone = (): void => {
        // Marked before undici hears of it, so the failure is recorded as the client's, not the target's.
        this.cancelReason ??= new CancelError('FB_CLIENT_ABORTED', 'client aborted the request body');
        stream.destroy(this.cancelReason);
      };
      this.req.on('error', clientGone);
      this.req.on('aborted', clientGone);
      this.req.pipe(body);
    }
    try {
      dispatcher.dispatch(
        {
          origin: this.upstream.origin,
          path: this.upstream.path,
          method: this.req.method as Dispatcher.HttpMethod,
          headers: this.reqHeaders.flat,
          body,
          headersTimeout: this.host.upstreamTimeoutMs,
          bodyTimeout: this.host.upstreamTimeoutMs,
        },
        this,
      );
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** Aborts the exchange because the proxy is shutting down (recorded as `aborted`). */
  shutdown(): void {
    if (!this.done) this.cancel(new CancelError('FB_SHUTDOWN', 'recorder shut down before the exchange finished'));
  }

  private cancel(reason: CancelError): void {
    this.cancelReason ??= reason;
    if (this.abortUpstream) this.abortUpstream(reason);
    else if (reason.code === 'FB_SHUTDOWN') this.onError(reason);
    // else: undici has not connected yet; onConnect aborts at once.
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.cancelReason) abort(this.cancelReason);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true;
    const split = responseHeaders(rawHeaders);
    this.status = statusCode;
    this.resHeaders = split.list;
    this.resumeUpstream = resume;
    this.session = this.assignSession();
    if (this.cancelReason) return true;
    if (this.host.closing) split.flat.push('connection', 'close');
    this.res.writeHead(statusCode, statusText, split.flat);
    // Small responses arrive whole in one read: cork so head, body and end leave in one write.
    this.res.cork();
    process.nextTick(uncork, this.res);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.resCapture.add(chunk);
    if (this.cancelReason || this.res.destroyed) return true;
    if (this.res.write(chunk)) return true;
    this.res.once('drain', (this.drainHook ??= () => this.resumeUpstream?.()));
    return false;
  }

  onComplete(): void {
    if (this.done) return;
    if (this.cancelReason) return this.finish('aborted', this.cancelReason.message);
    this.res.end();
    this.finish(null, null);
  }

  onError(err: Error): void {
    if (this.done) return;
    const failure = classifyUpstreamError(err);
    let kind: ErrorKind = failure.kind;
    let detail = failure.detail;
    if (this.cancelReason) {
      kind = 'aborted';
      detail = this.cancelReason.message;
      if (!this.res.headersSent && this.cancelReason.code === 'FB_SHUTDOWN') this.respondFailure(503, STOPPING_BODY);
      else this.res.destroy();
    } else if (!this.res.headersSent) {
      this.respondFailure(failure.status, failureBody(failure));
    } else {
      // The response had started: the client must see it cut, not a clean end.
      this.res.destroy();
    }
    this.finish(kind, detail);
  }

  private respondFailure(status: number, body: string): void {
    if (this.res.destroyed) return;
    const headers = [...JSON_HEADERS, 'content-length', String(Buffer.byteLength(body))];
    if (this.host.closing) headers.push('connection', 'close');
    this.res.writeHead(status, headers);
    this.res.end(body);
  }

  private assignSession(): SessionAssigned {
    return this.host.sessions.assign({
      clientAddress: this.req.socket.remoteAddress ?? '',
      requestHeaders: this.reqHeaders.list,
      responseHeaders: this.resHeaders,
      startOffsetUs: this.startOffsetUs,
      method: this.req.method ?? 'GET',
      target: this.upstream.path,
      status: this.status,
    });
  }

  private finish(error: ErrorKind | null, errorDetail: string | null): void {
    this.done = true;
    const durationUs = Math.max(0, Math.round((performance.now() - this.startMs) * 1000));
    const session = this.session ?? this.assignSession();
    const method = this.req.method ?? 'GET';
    const target = this.upstream.path;
    const exchange: Exchange = {
      sessionKey: session.sessionKey,
      seq: 0,
      startOffsetUs: this.startOffsetUs,
      durationUs,
      method,
      target,
      host: this.upstream.host,
      scheme: this.upstream.scheme,
      route: this.host.routes.route(method, target),
      requestHeaders: this.reqHeaders.list,
      requestBody: this.reqCapture.bytes(),
      requestBodyBytes: this.reqCapture.totalBytes,
      requestBodyTruncated: this.reqCapture.truncated,
      status: this.status,
      responseHeaders: this.resHeaders,
      responseBody: this.resCapture.bytes(),
      responseBodyBytes: this.resCapture.totalBytes,
      responseBodyTruncated: this.resCapture.truncated,
      responseEncoding: headerValue(this.resHeaders, 'content-encoding') ?? null,
      error,
      errorDetail,
    };
    this.host.complete(this, exchange, this.host.cohorts.classify(this.reqHeaders.list, session.signedIn), session.keyedBy ?? null);
  }
}
