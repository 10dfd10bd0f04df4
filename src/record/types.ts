import type { Cohort } from '../model/session.js';
import type { Exchange, HeaderList } from '../model/exchange.js';
import type { SessionInput } from '../segment/session-key.js';
import type { LocalCa } from './ca.js';
import type { ClientLimits } from './request-guard.js';

/**
 * Where the proxy hands each finished exchange. `RecordingWriter` satisfies
 * this; tests use an in-memory array. Must not block: called on the request
 * path once per exchange, after the client got its last byte (or the error).
 */
export interface ExchangeSink {
  /** `keyedBy`: the rule that keyed the exchange's session (stored per session, shown by `inspect`). */
  add(exchange: Exchange, cohort: Cohort, keyedBy?: string | null): void;
}

/** What a {@link SessionAssigner} says about one exchange. */
export interface SessionAssigned {
  sessionKey: string;
  signedIn: boolean;
  /** The rule that keyed it (`cookie-set:sid`, `cookie-request:sid`, `auth`, `request`, …). */
  keyedBy?: string;
}

/** Assigns a session key to an exchange when its response headers are known (`segment/`'s `Sessionizer`). */
export interface SessionAssigner {
  assign(input: SessionInput): SessionAssigned;
}

/** Names the route of a request (`segment/`'s `RouteMatcher`). */
export interface RouteNamer {
  route(method: string, target: string): string;
}

/** Gives a session's cohort from its request headers (`segment/`'s `CohortClassifier`). */
export interface CohortNamer {
  classify(requestHeaders: HeaderList, signedIn: boolean): Cohort;
}

/** Options of a {@link RecorderProxy}. */
export interface RecorderOptions {
  /** Reverse mode: origin every request goes to (`http://127.0.0.1:3000`). Null in forward mode. */
  target: string | null;
  /** Forward mode: absolute-URI requests (`GET http://host/path`) go where they say; CONNECT is tunnelled. */
  forward?: boolean;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (0 picks a free one). */
  port: number;
  /** Bytes of each body kept in the exchange; the rest is streamed but not kept (truncation flagged). */
  maxBodyBytes: number;
  sink: ExchangeSink;
  sessions: SessionAssigner;
  routes: RouteNamer;
  cohorts: CohortNamer;
  /** Forward mode: terminate TLS inside CONNECT with certificates from this CA and record what is inside. */
  mitmCa?: LocalCa | null;
  /** Accept self-signed / invalid TLS certificates from an https target. */
  insecure?: boolean;
  /** Upstream connect / headers / idle-body timeout in ms (default 30 000). Expiry answers 504. */
  upstreamTimeoutMs?: number;
  /** How long close() waits for in-flight exchanges before aborting them, ms (default 5 000). */
  drainMs?: number;
  /** Forward mode: keep-alive connections per upstream origin (default 128). Reverse mode pairs each client connection with its own. */
  connectionsPerOrigin?: number;
  /** Caps and timeouts on what clients send (defaults: `DEFAULT_CLIENT_LIMITS`). */
  limits?: Partial<ClientLimits>;
}

/** Running totals of a {@link RecorderProxy}. Byte counts are body bytes, headers excluded. */
export interface RecorderStats {
  /** Exchanges handed to the sink (failed and aborted ones included). */
  exchanges: number;
  /** Of those, exchanges that ended with an upstream error (not counting client aborts). */
  errors: number;
  /** Of those, exchanges the client abandoned mid-request or mid-response. */
  aborted: number;
  inFlight: number;
  requestBytes: number;
  responseBytes: number;
  /** CONNECT tunnels opened (their traffic is not recorded). */
  tunnels: number;
  /** Upgrade requests (WebSocket…) relayed to the target; what flows after the handshake is not recorded. */
  upgrades: number;
  /** CONNECT tunnels decrypted and recorded (`--mitm`). */
  intercepted: number;
  /** Requests answered by the proxy itself and not recorded: malformed or ambiguous requests (400/408/413/431/501), bad forward-proxy requests. */
  rejected: number;
  /** Exchanges the sink threw on (lost). */
  sinkFailures: number;
}
