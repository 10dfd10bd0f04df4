import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { buildConnector, Client as ClientClass } from 'undici';

/**
 * undici's `Client` class alone, loaded on first use: a run on the lean
 * client (every `http:` target by default) never loads undici.
 * `import { Client } from 'undici'` loads all of undici (fetch, WebSocket,
 * caches...): about 180 ms of CPU at start-up on the bench machine, against
 * about 60 ms for the client module by itself (undici 7 has no `exports`
 * map, so the deep path resolves; its types are those of the package).
 */
const load = createRequire(import.meta.url);

/** An undici `Client`. */
export type Client = ClientClass;
/** Options of an undici `Client`. */
export type ClientOptions = ClientClass.Options;

type Connector = buildConnector.connector;
type ConnectorWithSocket = (...args: Parameters<Connector>) => Socket;

interface UndiciParts {
  Client: typeof ClientClass;
  buildConnector: (options: buildConnector.BuildOptions) => ConnectorWithSocket;
  ConnectTimeoutError: new (message: string) => Error;
}
let parts: UndiciParts | null = null;

function undici(): UndiciParts {
  parts ??= {
    Client: load('undici/lib/dispatcher/client.js') as typeof ClientClass,
    buildConnector: load('undici/lib/core/connect.js') as UndiciParts['buildConnector'],
    ConnectTimeoutError: (load('undici/lib/core/errors.js') as { ConnectTimeoutError: UndiciParts['ConnectTimeoutError'] }).ConnectTimeoutError,
  };
  return parts;
}

/** A new undici `Client` for `origin` (undici is loaded on the first call). */
export function newUndiciClient(origin: string, options: ClientOptions): Client {
  return new (undici().Client)(origin, options);
}

function onConnectTimeout(socket: Socket, where: string): void {
  socket.destroy(new (undici().ConnectTimeoutError)(`Connect Timeout Error (attempted address: ${where})`));
}

/**
 * undici's TCP/TLS connector with its connect timeout on a plain Node timer,
 * cleared as soon as the socket connects or fails (error code
 * `UND_ERR_CONNECT_TIMEOUT`, as undici's own). undici's timer instead sits
 * in its fast-timer list for up to half a second after the connect, holding
 * a `WeakRef` to the socket, and V8's scavenger (Node 20) treats WeakRef
 * targets as strong: every connection (socket, `Client`, parser, buffers)
 * outlived two scavenges and was promoted to old space, which with a new
 * connection per clone fed the mark-compacts. Pass as the `connect` option
 * of a `Client`; one timer and closure per connection, none per request.
 * TLS sessions are not cached (every connection does a full handshake).
 */
export function connectWithTimeout(timeoutMs: number): Connector {
  // One connector serves every Client of a runner: no TLS session cache, so no connection
  // resumes another one's session (each Client used to have a cache of its own, empty at first).
  const base = undici().buildConnector({ timeout: 0, maxCachedSessions: 0 });
  return (options, callback) => {
    let timer: NodeJS.Timeout | null = null;
    const socket = base(options, (...args) => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      callback(...args);
    });
    timer = setTimeout(onConnectTimeout, timeoutMs, socket, `${options.hostname}:${options.port}, timeout: ${timeoutMs}ms`);
  };
}
