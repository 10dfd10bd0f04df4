import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { UpstreamTarget } from './proxied-exchange.js';
import { connectUpstream } from './upstream-target.js';

const BAD_GATEWAY = 'HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';
/** Largest response head awaited from the target before the relay gives up on it. */
const MAX_RESPONSE_HEAD = 64 * 1024;

/**
 * Relays an `Upgrade` request (WebSocket and the like) to the target and
 * then pipes bytes both ways, unrecorded: the recording holds HTTP
 * exchanges, not the frames of a long-lived connection. The request goes
 * up as the client sent it (Connection and Upgrade included, as the
 * handshake needs them) with `Host` set to the target. Sockets are tracked
 * in `open` so the proxy can destroy them on shutdown.
 *
 * Client bytes flow up only once the target has answered `101`. A target
 * that declines the upgrade still speaks HTTP on that connection, so
 * relaying the client's next bytes would hand it requests the proxy never
 * parsed (and never recorded): its answer goes back, and the connection
 * closes as soon as the client sends anything more.
 */
export function relayUpgrade(
  req: Pick<IncomingMessage, 'method' | 'rawHeaders'>,
  client: Socket,
  head: Buffer,
  upstream: UpstreamTarget,
  insecure: boolean,
  open: Set<Socket>,
): void {
  const url = new URL(upstream.origin);
  const target = connectUpstream(upstream, insecure);
  /** The target's answer has started reaching the client. */
  let answered = false;
  open.add(client);
  open.add(target);
  const forget = (): void => {
    open.delete(client);
    open.delete(target);
    target.destroy();
    // Until the target answers, the client is owed its 502; after, both ends go together.
    if (answered) client.destroy();
    else if (client.writable) client.end(BAD_GATEWAY);
  };
  client.on('error', forget);
  client.on('close', forget);
  target.on('close', forget);
  target.on('error', forget);
  target.once(upstream.scheme === 'https' ? 'secureConnect' : 'connect', () => {
    let text = `${req.method} ${upstream.path} HTTP/1.1\r\n`;
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      text += raw[i]!.toLowerCase() === 'host' ? `Host: ${url.host}\r\n` : `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    target.write(text + '\r\n', 'latin1');
    awaitSwitch(
      target,
      client,
      () => (answered = true),
      () => {
        if (head.length > 0) target.write(head);
        client.pipe(target);
      },
    );
  });
}

/** Passes the target's answer to the client (`answering` first); calls `switched` if it is `101 Switching Protocols`. */
function awaitSwitch(target: Socket, client: Socket, answering: () => void, switched: () => void): void {
  let seen = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    seen = Buffer.concat([seen, chunk]);
    if (seen.indexOf('\r\n\r\n') < 0) {
      if (seen.length > MAX_RESPONSE_HEAD) target.destroy();
      return;
    }
    target.off('data', onData);
    target.pause();
    answering();
    client.write(seen);
    if (/^HTTP\/1\.[01] 101[ \r]/.test(seen.subarray(0, 16).toString('latin1'))) switched();
    else client.on('data', () => client.destroy());
    target.pipe(client);
  };
  target.on('data', onData);
}
