import type { IncomingMessage } from 'node:http';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { UpstreamTarget } from './proxied-exchange.js';

const BAD_GATEWAY = 'HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

/**
 * Relays an `Upgrade` request (WebSocket and the like) to the target and
 * then pipes bytes both ways, unrecorded: the recording holds HTTP
 * exchanges, not the frames of a long-lived connection. The request goes
 * up as the client sent it (Connection and Upgrade included, as the
 * handshake needs them) with `Host` set to the target. Sockets are tracked
 * in `open` so the proxy can destroy them on shutdown.
 */
export function relayUpgrade(
  req: IncomingMessage,
  client: Socket,
  head: Buffer,
  upstream: UpstreamTarget,
  insecure: boolean,
  open: Set<Socket>,
): void {
  const url = new URL(upstream.origin);
  const port = Number(url.port || (upstream.scheme === 'https' ? 443 : 80));
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const target: Socket =
    upstream.scheme === 'https'
      ? connectTls({ host: hostname, port, servername: hostname, rejectUnauthorized: !insecure, ALPNProtocols: ['http/1.1'] })
      : connectTcp({ host: hostname, port });
  let established = false;
  open.add(client);
  open.add(target);
  const forget = (): void => {
    open.delete(client);
    open.delete(target);
    target.destroy();
    if (established) client.destroy();
  };
  client.on('error', forget);
  client.on('close', forget);
  target.on('close', forget);
  target.on('error', () => {
    if (!established && client.writable) client.end(BAD_GATEWAY);
  });
  target.once(upstream.scheme === 'https' ? 'secureConnect' : 'connect', () => {
    established = true;
    let text = `${req.method} ${upstream.path} HTTP/1.1\r\n`;
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      text += raw[i]!.toLowerCase() === 'host' ? `Host: ${url.host}\r\n` : `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    target.write(text + '\r\n', 'latin1');
    if (head.length > 0) target.write(head);
    target.pipe(client);
    client.pipe(target);
  });
}
