import { UsageError } from '../model/errors.js';
import { LeanClient, leanOrigin, type LeanHandler } from './lean-http/lean-client.js';
import { UNSUPPORTED_HEADERS } from './lean-http/request-head.js';
import type { RequestOptions } from './session-plan.js';
import { connectWithTimeout, newUndiciClient } from './undici-client.js';

/** Which HTTP client sends the requests: flashback's lean HTTP/1.1 client (`http:` only) or undici's `Client`. */
export type HttpClientKind = 'lean' | 'undici';

/**
 * One connection to the target, as the runner uses it: undici's `Client`
 * (pipelining 1) or a {@link LeanClient}, which speak the same legacy
 * dispatch interface.
 */
export interface HttpClient {
  dispatch(opts: RequestOptions, handler: LeanHandler): boolean;
  /** Closes once the requests dispatched are done. */
  close(): Promise<void>;
  /** Closes now; requests in flight fail. */
  destroy(): Promise<void>;
}

/** Options of every connection of a run (ms). */
export interface HttpClientOptions {
  connectTimeout: number;
  keepAliveTimeout: number;
}

/** Makes the connections of a run: one {@link HttpClient} per call. */
export type HttpClientFactory = () => HttpClient;

/**
 * The factory of `kind` for `origin`. undici's clients run with pipelining 1
 * and no headers or body timers of their own (the runner's sweep enforces
 * `--timeout`; a timer per request would cost), like the lean client.
 */
export function httpClientFactory(kind: HttpClientKind, origin: string, options: HttpClientOptions): HttpClientFactory {
  if (kind === 'lean') {
    const parsed = leanOrigin(origin);
    return () => new LeanClient(parsed, options);
  }
  const undiciOptions = {
    keepAliveTimeout: options.keepAliveTimeout,
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
    // undici's own connect timer kept every connection alive across scavenges (see connectWithTimeout)
    connect: connectWithTimeout(options.connectTimeout),
  };
  return () => newUndiciClient(origin, undiciOptions) as unknown as HttpClient;
}

/** Parses `--http-client lean|undici`. */
export function parseHttpClient(text: string): HttpClientKind {
  const t = String(text).trim();
  if (t !== 'lean' && t !== 'undici') throw new UsageError(`--http-client must be lean or undici (got "${text}")`);
  return t;
}

/**
 * The client a run uses: the one asked for, else the lean client for an
 * `http:` target and undici for `https:` (the lean client has no TLS). The
 * lean client is refused for `https:`; when not asked for by name it also
 * steps aside for `--header` names undici rewrites or refuses
 * (`connection`, `expect`...), so such runs behave as they always did.
 */
export function chooseHttpClient(requested: HttpClientKind | undefined, target: string, headerNames: readonly string[]): HttpClientKind {
  const https = new URL(target).protocol === 'https:';
  if (requested === 'lean' && https) throw new UsageError(`--http-client lean speaks http: only; ${target} is https: (leave --http-client out to use undici)`);
  const odd = headerNames.find((n) => UNSUPPORTED_HEADERS.has(n.toLowerCase()));
  if (requested === 'lean' && odd !== undefined) throw new UsageError(`--http-client lean does not send a --header ${odd} (leave --http-client out to use undici)`);
  if (requested !== undefined) return requested;
  if (https || odd !== undefined) return 'undici';
  return 'lean';
}
