import { connect, type Socket } from 'node:net';

const BAD_GATEWAY = 'HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

/**
 * Tunnels a `CONNECT host:port` request: connects to the authority, answers
 * `200 Connection Established`, then pipes bytes both ways. Nothing inside the
 * tunnel is recorded. Both sockets are tracked in `open` until they close, so
 * the proxy can destroy them on shutdown.
 */
export function openTunnel(authority: string, client: Socket, head: Buffer, open: Set<Socket>): void {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(authority);
  if (!m) {
    client.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  const upstream = connect(Number(m[2]), host);
  let established = false;
  open.add(client);
  open.add(upstream);
  const forget = (): void => {
    open.delete(client);
    open.delete(upstream);
    upstream.destroy();
    // Before the tunnel is up the client is owed its 502; after, both ends go together.
    if (established) client.destroy();
  };
  client.on('error', forget);
  client.on('close', forget);
  upstream.on('close', forget);
  upstream.on('error', () => {
    if (!established && client.writable) client.end(BAD_GATEWAY);
  });
  upstream.once('connect', () => {
    established = true;
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
}
