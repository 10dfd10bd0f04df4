import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Exchange, HeaderList } from '../../src/model/exchange.js';
import type { Cohort } from '../../src/model/session.js';
import { RecorderProxy } from '../../src/record/recorder-proxy.js';
import type { RecorderOptions } from '../../src/record/types.js';

/** Sink that keeps everything in memory. */
export class MemorySink {
  readonly exchanges: Exchange[] = [];
  readonly cohorts: Cohort[] = [];
  add(exchange: Exchange, cohort: Cohort): void {
    this.exchanges.push(exchange);
    this.cohorts.push(cohort);
  }
}

/** Stand-ins for segment/: session = `sid` cookie value or `req-N`; route = method + path; cohort = {auth}. */
export function fakeSegment(): Pick<RecorderOptions, 'sessions' | 'routes' | 'cohorts'> {
  let n = 0;
  return {
    sessions: {
      assign({ requestHeaders, responseHeaders }: { requestHeaders: HeaderList; responseHeaders: HeaderList }) {
        const cookie = requestHeaders.find(([k]) => k === 'cookie')?.[1] ?? responseHeaders.find(([k]) => k === 'set-cookie')?.[1];
        const sid = cookie ? /sid=([^;]+)/.exec(cookie)?.[1] : undefined;
        return { sessionKey: sid ? `sid:${sid}` : `req-${n++}`, signedIn: requestHeaders.some(([k]) => k === 'authorization') };
      },
    },
    routes: { route: (method: string, target: string) => `${method} ${target.split('?')[0]}` },
    cohorts: { classify: (_h: HeaderList, signedIn: boolean) => ({ auth: signedIn ? 'signed-in' : 'anonymous' }) },
  };
}

/** Starts a proxy with a memory sink in front of `target`. */
export async function startProxy(
  target: string | null,
  extra: Partial<RecorderOptions> = {},
): Promise<{ proxy: RecorderProxy; sink: MemorySink; url: string }> {
  const sink = new MemorySink();
  const proxy = new RecorderProxy({ target, port: 0, maxBodyBytes: 1024 * 1024, sink, ...fakeSegment(), ...extra });
  const { url } = await proxy.open();
  return { proxy, sink, url };
}

/** Starts an http server on 127.0.0.1:0. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string; port: number; close: () => Promise<void> }> {
  const server = createServer({ keepAlive: true }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads a request body whole (test servers only). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Resolves when `check()` is true (polls every 10 ms, fails after 5 s). */
export async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The built CLI (`npm test` builds `dist/` first). */
export const FLASHBACK_BIN = join(import.meta.dirname, '../../bin/flashback.js');

/** A `flashback record` child process, listening. */
export interface RecorderProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT`, as its banner printed it. */
  url: string;
  /** Everything it printed so far (stdout and stderr). */
  output: () => string;
  /** Resolves with its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Starts `flashback record --listen 127.0.0.1:0 ARGS` and resolves once it prints the URL it listens on (fails after 15 s). */
export function startRecorderProcess(args: string[]): Promise<RecorderProcess> {
  const child = spawn(process.execPath, [FLASHBACK_BIN, 'record', '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let text = '';
  child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`record did not start: ${text}`));
    }, 15_000);
    const check = (): void => {
      const m = /recording (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolve({ child, url: m[1]!, output: () => text, exited });
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`record exited early: ${text}`));
    });
  });
}
