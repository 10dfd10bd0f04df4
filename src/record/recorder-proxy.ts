import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { UsageError, messageOf } from '../model/errors.js';
import type { Exchange } from '../model/exchange.js';
import type { Cohort } from '../model/session.js';
import { requestHeaders } from './headers.js';
import { ProxiedExchange, type ExchangeHost, type UpstreamTarget } from './proxied-exchange.js';
import { MitmTerminator } from './mitm.js';
import {
  DEFAULT_CLIENT_LIMITS,
  answerClientError,
  endWith,
  refusalBody,
  refusalResponse,
  guardedServer,
  refuseRequest,
  type ClientLimits,
} from './request-guard.js';
import { openTunnel } from './tunnel.js';
import { RelayConnection, type RelayedExchange, type RelayHost } from './relay.js';
import { relayUpgrade } from './upgrade-relay.js';
import { UpstreamResolver } from './upstream-target.js';
import type { CohortNamer, ExchangeSink, RecorderOptions, RecorderStats, RouteNamer, SessionAssigner } from './types.js';

/** An exchange in flight, whichever engine runs it. */
interface InFlight {
  shutdown(): void;
}

/**
 * The recording proxy. In reverse mode every request goes to `target`
 * through the relay (`relay.ts`: each client connection paired with one
 * target connection, both parsed by Node's HTTP parser). In forward mode
 * (and with `--mitm`) it is node:http in, an undici keep-alive `Agent`
 * out: absolute-URI
 * requests go where they say, and `CONNECT` is tunnelled unrecorded or, with
 * `mitmCa`, decrypted and recorded. `Upgrade` requests are relayed
 * unrecorded. Each finished exchange goes to the sink (see
 * {@link ProxiedExchange}); counts are in {@link RecorderProxy.stats}.
 * Malformed, ambiguous, oversized and too-slow requests are refused before
 * anything goes upstream (see `request-guard.ts`).
 *
 * `open()` listens; `close()` stops accepting, lets in-flight exchanges
 * finish for up to `drainMs`, aborts the rest (recorded as `aborted`), and
 * closes the upstream connections. The sink is not closed: its owner does that.
 */
export class RecorderProxy implements ExchangeHost, RelayHost {
  readonly maxBodyBytes: number;
  readonly upstreamTimeoutMs: number;
  readonly sessions: SessionAssigner;
  readonly routes: RouteNamer;
  readonly cohorts: CohortNamer;
  private readonly options: RecorderOptions;
  private readonly sink: ExchangeSink;
  private readonly agent: Agent;
  private readonly resolver: UpstreamResolver;
  readonly insecure: boolean;
  readonly limits: ClientLimits;
  private readonly server: Server;
  /** Reverse mode: the relay's listener (the node:http `server` is then created but never listens). */
  private readonly relayServer: NetServer | null;
  private readonly relays = new Set<RelayConnection>();
  /** Every client socket the relay accepted and that is not closed yet, for the end of a shutdown. */
  private readonly relaySockets = new Set<Socket>();
  private readonly inFlight = new Set<InFlight>();
  private readonly tunnels = new Set<Socket>();
  private readonly mitm: MitmTerminator | null;
  /** Connections that were refused a request: whatever they sent after it is never forwarded. */
  private readonly refused = new WeakSet<Socket>();
  private readonly counts: RecorderStats = {
    exchanges: 0,
    errors: 0,
    aborted: 0,
    inFlight: 0,
    requestBytes: 0,
    responseBytes: 0,
    tunnels: 0,
    upgrades: 0,
    rejected: 0,
    intercepted: 0,
    sinkFailures: 0,
  };
  private idleWaiters: Array<() => void> = [];
  private firstStartMs: number | null = null;
  private closingFlag = false;
  private closed: Promise<void> | null = null;
  private listenUrl: string | null = null;

  constructor(options: RecorderOptions) {
    if (!options.forward && !options.target) throw new UsageError('--target is required (or use --forward)');
    this.options = options;
    this.maxBodyBytes = options.maxBodyBytes;
    this.upstreamTimeoutMs = options.upstreamTimeoutMs ?? 30_000;
    this.sink = options.sink;
    this.resolver = new UpstreamResolver(options.target, options.forward === true);
    this.sessions = options.sessions;
    this.routes = options.routes;
    this.cohorts = options.cohorts;
    this.agent = new Agent({
      connections: options.connectionsPerOrigin ?? 128,
      keepAliveTimeout: 30_000,
      connect: { timeout: this.upstreamTimeoutMs, rejectUnauthorized: !options.insecure },
    });
    this.limits = { ...DEFAULT_CLIENT_LIMITS, ...options.limits };
    this.insecure = options.insecure === true;
    this.relayServer = options.forward
      ? null
      : createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
          this.relaySockets.add(socket);
          socket.once('close', () => this.relaySockets.delete(socket));
          this.relays.add(new RelayConnection(this, socket));
        });
    const onRefused = (): void => {
      this.counts.rejected++;
    };
    this.server = guardedServer(this.limits, (req, res) => this.onRequest(req, res, this.resolver.resolve(req.url ?? '/')));
    this.mitm = options.mitmCa
      ? new MitmTerminator(options.mitmCa, this.limits, onRefused, (req, res, authority) =>
          this.onRequest(req, res, mitmUpstream(authority, req.url ?? '/')),
        )
      : null;
    this.server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onConnect(req, socket, head));
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
    // A client speaking garbage must not take the proxy down: one status line, then the connection closes.
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket, onRefused));
  }

  /** True once close() has begun. */
  get closing(): boolean {
    return this.closingFlag;
  }

  /** Where the proxy listens (`http://127.0.0.1:8080`), once open. */
  get url(): string {
    if (!this.listenUrl) throw new Error('RecorderProxy is not open');
    return this.listenUrl;
  }

  /** Starts listening. Throws UsageError (exit 2) when the address is in use or cannot be bound. */
  async open(): Promise<{ url: string; host: string; port: number }> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : messageOf(err);
        reject(new UsageError(`Failed to listen on ${host}:${this.options.port}: ${why}`, { cause: err }));
      };
      const listener = this.relayServer ?? this.server;
      listener.once('error', onError);
      listener.listen(this.options.port, host, () => {
        listener.off('error', onError);
        resolve();
      });
    });
    const port = ((this.relayServer ?? this.server).address() as AddressInfo).port;
    this.listenUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return { url: this.listenUrl, host, port };
  }

  /** A snapshot of the running totals. */
  stats(): RecorderStats {
    return { ...this.counts, inFlight: this.inFlight.size };
  }

  /** Stops accepting, drains or aborts in-flight exchanges, closes upstream connections. Idempotent. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closingFlag = true;
    const relayServer = this.relayServer;
    const serverClosed = relayServer
      ? new Promise<void>((resolve) => relayServer.close(() => resolve()))
      : new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    for (const conn of [...this.relays]) conn.drain();
    this.mitm?.closeConnections(false);
    await this.whenIdle(this.options.drainMs ?? 5_000);
    for (const ex of [...this.inFlight]) ex.shutdown();
    // Cancelled exchanges finish asynchronously (undici calls back): let them reach the sink before it closes.
    await this.whenIdle(1_000);
    for (const socket of this.tunnels) socket.destroy();
    for (const conn of [...this.relays]) conn.destroy();
    for (const socket of this.relaySockets) socket.destroy();
    this.server.closeAllConnections();
    this.mitm?.closeConnections(true);
    await serverClosed;
    await this.agent.destroy();
  }

  /** Resolves when nothing is in flight, or after `timeoutMs`. */
  private whenIdle(timeoutMs: number): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.idleWaiters.push(done);
    });
  }

  /** {@link RelayHost}: where a request-target goes. */
  resolve(url: string): UpstreamTarget | string {
    return this.resolver.resolve(url);
  }

  /** {@link RelayHost}: µs since the recording's first request. */
  offsetUs(startMs: number): number {
    this.firstStartMs ??= startMs;
    return Math.round((startMs - this.firstStartMs) * 1000);
  }

  /** {@link RelayHost}: an exchange started. */
  began(ex: RelayedExchange): void {
    this.inFlight.add(ex);
  }

  /** {@link RelayHost}: the relay answered a request itself. */
  refusedOne(): void {
    this.counts.rejected++;
  }

  /** {@link RelayHost}: a reverse proxy answers CONNECT 405. */
  connectRefused(client: Socket): void {
    endWith(client, 'HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  }

  /** {@link RelayHost}: an `Upgrade` request, already checked by `refuseRequest`, relayed unrecorded. */
  upgrade(head: { method: string; url: string; rawHeaders: string[] }, client: Socket, rest: Buffer): void {
    const upstream = this.closingFlag ? 'the recorder is shutting down' : this.resolver.resolve(head.url);
    if (typeof upstream === 'string') {
      this.counts.rejected++;
      endWith(client, 'HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.counts.upgrades++;
    relayUpgrade(head, client, rest, upstream, this.insecure, this.tunnels);
  }

  /** {@link RelayHost}: a relayed connection closed. */
  forget(conn: RelayConnection): void {
    this.relays.delete(conn);
  }

  /** {@link ExchangeHost}, {@link RelayHost}: one exchange finished. */
  complete(source: InFlight, exchange: Exchange, cohort: Cohort, keyedBy: string | null = null): void {
    this.inFlight.delete(source);
    const c = this.counts;
    c.exchanges++;
    if (exchange.error === 'aborted') c.aborted++;
    else if (exchange.error !== null) c.errors++;
    c.requestBytes += exchange.requestBodyBytes;
    c.responseBytes += exchange.responseBodyBytes;
    try {
      this.sink.add(exchange, cohort, keyedBy);
    } catch {
      c.sinkFailures++;
    }
    if (this.inFlight.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private onRequest(req: IncomingMessage, res: ServerResponse, upstream: UpstreamTarget | string): void {
    // Pipelined behind a refused request: its framing is not to be trusted, so neither is this one's.
    // It is left unanswered; the connection closes once the refusal is written.
    if (this.refused.has(req.socket)) return;
    const refusal = refuseRequest(req, this.limits.maxHeaderCount);
    if (refusal) return this.refuse(req, res, refusal.status, refusalBody(refusal));
    if (typeof upstream === 'string') return this.refuse(req, res, 400, JSON.stringify({ error: 'bad_proxy_request', detail: upstream }));
    const startMs = performance.now();
    this.firstStartMs ??= startMs;
    const headers = requestHeaders(req.rawHeaders);
    const startOffsetUs = Math.round((startMs - this.firstStartMs) * 1000);
    const ex = new ProxiedExchange(this, req, res, upstream, headers, startMs, startOffsetUs);
    this.inFlight.add(ex);
    ex.start(this.agent);
  }

  /** Answers a request itself, unrecorded, and closes its connection. */
  private refuse(req: IncomingMessage, res: ServerResponse, status: number, body: string): void {
    this.counts.rejected++;
    this.refused.add(req.socket);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const refusal = refuseRequest(req, this.limits.maxHeaderCount, true);
    if (refusal) {
      this.counts.rejected++;
      endWith(socket, refusalResponse(refusal));
      return;
    }
    const upstream = this.closingFlag ? 'the recorder is shutting down' : this.resolver.resolve(req.url ?? '/');
    if (typeof upstream === 'string') {
      this.counts.rejected++;
      endWith(socket, 'HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.counts.upgrades++;
    relayUpgrade(req, socket, head, upstream, this.options.insecure === true, this.tunnels);
  }

  private onConnect(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const refusal = refuseRequest(req, this.limits.maxHeaderCount, true);
    if (refusal) {
      this.counts.rejected++;
      endWith(socket, refusalResponse(refusal));
      return;
    }
    if (!this.options.forward || this.closingFlag) {
      this.counts.rejected++;
      endWith(socket, 'HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (this.mitm) {
      this.counts.intercepted++;
      this.mitm.intercept(req.url ?? '', socket, head);
      return;
    }
    this.counts.tunnels++;
    openTunnel(req.url ?? '', socket, head, this.tunnels);
  }
}

/** Upstream of a request decrypted inside a CONNECT tunnel to `authority`. */
function mitmUpstream(authority: string, path: string): UpstreamTarget | string {
  if (!/^(\[[^\]]+\]|[^:/\s]+):\d{1,5}$/.test(authority)) return `CONNECT authority must be host:port (got "${authority.slice(0, 100)}")`;
  if (!path.startsWith('/')) return `request-target must start with "/" (got "${path.slice(0, 100)}")`;
  const host = authority.endsWith(':443') ? authority.slice(0, -4) : authority;
  return { origin: `https://${host}`, path, host: host.toLowerCase(), scheme: 'https' };
}
