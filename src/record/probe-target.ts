import { connect } from 'node:net';

/**
 * Checks that something accepts TCP connections at `origin` (http or https).
 * Resolves to null when it does, or to a one-line reason when it does not
 * within `timeoutMs`. Never rejects.
 */
export function probeTarget(origin: string, timeoutMs = 2_000): Promise<string | null> {
  const url = new URL(origin);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reason: string | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => done(null));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ? `${err.code} ${host}:${port}` : err.message));
  });
}
