import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { certForHost, hostOnly, type LocalCa } from './ca.js';

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

/**
 * Terminates TLS inside `CONNECT` tunnels (`record --forward --mitm`): the
 * client is answered `200 Connection Established`, then served a
 * certificate for the requested host signed by the local CA, and the
 * decrypted HTTP/1.1 requests go to `onRequest` together with the authority
 * of the tunnel (`shop.example:443`). Clients must trust the CA.
 */
export class MitmTerminator {
  private readonly ca: LocalCa;
  private readonly server: Server;
  private readonly authorities = new WeakMap<Socket, string>();
  private readonly contexts = new Map<string, SecureContext>();

  /** `onRequest` gets each decrypted request with the `host:port` its tunnel was opened to. */
  constructor(ca: LocalCa, onRequest: (req: IncomingMessage, res: ServerResponse, authority: string) => void) {
    this.ca = ca;
    this.server = createServer({ keepAlive: true }, (req, res) => {
      onRequest(req, res, this.authorities.get(req.socket) ?? '');
    });
    this.server.on('clientError', (_err, socket: Socket) => socket.destroy());
  }

  /** Takes over a CONNECT's socket. Never throws: a failure closes the client's socket. */
  intercept(authority: string, client: Socket, head: Buffer): void {
    let context: SecureContext;
    try {
      context = this.contextFor(hostOnly(authority));
    } catch {
      client.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    client.write(ESTABLISHED);
    if (head.length > 0) client.unshift(head);
    const tls = new TLSSocket(client, { isServer: true, secureContext: context, ALPNProtocols: ['http/1.1'] });
    tls.on('error', () => tls.destroy());
    this.authorities.set(tls, authority);
    this.server.emit('connection', tls);
  }

  /** Closes idle decrypted connections now, busy ones when `all`. */
  closeConnections(all: boolean): void {
    if (all) this.server.closeAllConnections();
    else this.server.closeIdleConnections();
  }

  private contextFor(host: string): SecureContext {
    let context = this.contexts.get(host);
    if (!context) {
      const { key, cert } = certForHost(this.ca, host);
      context = createSecureContext({ key, cert });
      this.contexts.set(host, context);
    }
    return context;
  }
}
