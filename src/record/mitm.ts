import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { certForHost, hostOnly, prepareLeafKey, type LocalCa } from './ca.js';
import { answerClientError, guardedServer, type ClientLimits } from './request-guard.js';

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

/**
 * Terminates TLS inside `CONNECT` tunnels (`record --forward --mitm`): the
 * client is answered `200 Connection Established`, then served a
 * certificate for the requested host signed by the local CA, and the
 * decrypted HTTP/1.1 requests go to `onRequest` together with the authority
 * of the tunnel (`shop.example:443`). Clients must trust the CA.
 *
 * Certificates are issued off the event loop (see {@link certForHost}): a
 * tunnel to a new host waits for its certificate, other traffic does not.
 */
export class MitmTerminator {
  private readonly ca: LocalCa;
  private readonly server: Server;
  private readonly authorities = new WeakMap<Socket, string>();
  private readonly contexts = new Map<string, Promise<SecureContext>>();
  /** Client sockets waiting for their host's certificate. */
  private readonly waiting = new Set<Socket>();

  /**
   * `onRequest` gets each decrypted request with the `host:port` its tunnel
   * was opened to; decrypted connections get the same `limits` as plain
   * ones, and `onRefused` is called for each one refused by the parser.
   */
  constructor(
    ca: LocalCa,
    limits: ClientLimits,
    onRefused: () => void,
    onRequest: (req: IncomingMessage, res: ServerResponse, authority: string) => void,
  ) {
    this.ca = ca;
    this.server = guardedServer(
      limits,
      (req, res) => onRequest(req, res, this.authorities.get(req.socket) ?? ''),
      true,
    );
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket, onRefused));
    // Generate the shared leaf key now (thread pool), not when the first host needs it.
    prepareLeafKey(ca).catch(() => {
      /* retried, and reported as a 502, on the first tunnel */
    });
  }

  /** Takes over a CONNECT's socket. Never throws: a failure closes the client's socket. */
  intercept(authority: string, client: Socket, head: Buffer): void {
    // The http server removed its error listener when it handed the socket over.
    client.on('error', () => client.destroy());
    this.waiting.add(client);
    this.contextFor(hostOnly(authority)).then(
      (context) => {
        this.waiting.delete(client);
        if (client.destroyed) return;
        client.write(ESTABLISHED);
        if (head.length > 0) client.unshift(head);
        const tls = new TLSSocket(client, { isServer: true, secureContext: context, ALPNProtocols: ['http/1.1'] });
        tls.on('error', () => tls.destroy());
        this.authorities.set(tls, authority);
        this.server.emit('connection', tls);
      },
      () => {
        this.waiting.delete(client);
        if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      },
    );
  }

  /** Closes idle decrypted connections now, busy ones when `all`. */
  closeConnections(all: boolean): void {
    if (all) {
      this.server.closeAllConnections();
      for (const socket of this.waiting) socket.destroy();
    } else this.server.closeIdleConnections();
  }

  /** The TLS context for `host`: cached, and shared by concurrent first tunnels. */
  private contextFor(host: string): Promise<SecureContext> {
    let context = this.contexts.get(host);
    if (!context) {
      const pending = certForHost(this.ca, host).then(({ key, cert }) => createSecureContext({ key, cert }));
      pending.catch(() => {
        if (this.contexts.get(host) === pending) this.contexts.delete(host);
      });
      this.contexts.set(host, pending);
      context = pending;
    }
    return context;
  }
}
