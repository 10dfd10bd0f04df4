import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { RunError } from '../model/errors.js';

/**
 * Opens (and closes) one connection to `origin` so a replay against a target
 * that is down fails at once instead of after its whole plan. Throws
 * {@link RunError} (exit 3) naming the target and the cause.
 */
export function probeTarget(origin: string, timeoutMs: number): Promise<void> {
  const url = new URL(origin);
  const https = url.protocol === 'https:';
  const port = Number(url.port || (https ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = https
      ? tlsConnect({ host, port, servername: host, rejectUnauthorized: false })
      : connect({ host, port });
    const fail = (cause: string): void => {
      socket.destroy();
      reject(new RunError(`Failed to reach target ${origin}: ${cause}`, { hint: 'is the target running, and is --target right?' }));
    };
    socket.setTimeout(timeoutMs, () => fail(`no connection within ${timeoutMs} ms`));
    socket.once('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
    socket.once(https ? 'secureConnect' : 'connect', () => {
      socket.destroy();
      resolve();
    });
  });
}
