import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectWithTimeout, newUndiciClient, type Client } from '../../src/replay/undici-client.js';
import { startServer } from './helpers.js';

let close: (() => Promise<void>) | null = null;
afterEach(async () => {
  await close?.();
  close = null;
});

/** A free local port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** One GET through `client.dispatch` (the client module alone has no `request()`): status and body, or the error. */
function get(client: Client, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const chunks: Buffer[] = [];
    client.dispatch({ path, method: 'GET' }, {
      onConnect: () => undefined,
      onHeaders: (s: number) => ((status = s), true),
      onData: (c: Buffer) => (chunks.push(c), true),
      onComplete: () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }),
      onError: reject,
    } as never);
  });
}

describe('connectWithTimeout', () => {
  it('connects a Client and carries its requests', async () => {
    const srv = await startServer();
    const client = newUndiciClient(srv.url, { connect: connectWithTimeout(5_000) });
    close = async () => {
      await client.destroy();
      await srv.close();
    };
    expect(await get(client, '/x')).toEqual({ status: 200, body: 'ok' });
    expect(srv.hits.map((h) => h.url)).toEqual(['/x']);
  });

  it('passes a refused connection through as that error, not as a timeout', async () => {
    const port = await closedPort();
    const client = newUndiciClient(`http://127.0.0.1:${port}`, { connect: connectWithTimeout(5_000) });
    close = () => client.destroy();
    await expect(get(client, '/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
