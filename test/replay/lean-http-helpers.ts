import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ErrorKind } from '../../src/model/exchange.js';
import { errorKindOf } from '../../src/replay/error-kind.js';
import { httpClientFactory, type HttpClient, type HttpClientKind } from '../../src/replay/http-client.js';
import type { LeanHandler } from '../../src/replay/lean-http/lean-client.js';
import type { RequestOptions } from '../../src/replay/session-plan.js';

/** What one request got, in a form two clients can be compared on. */
export interface Outcome {
  status: number;
  /** Header pairs as latin1 strings, in order. */
  headers: Array<[string, string]>;
  /** Body bytes as latin1. */
  body: string;
  error: ErrorKind | null;
  errorCode: string | null;
}

/** A handler that records what it is told and resolves when the request ends. */
export class Collector implements LeanHandler {
  status = 0;
  headers: Array<[string, string]> = [];
  chunks: Buffer[] = [];
  error: Error | null = null;
  abort: ((err: Error) => void) | null = null;
  readonly done: Promise<void>;
  private resolve!: () => void;

  constructor(readonly wantHeaders = true) {
    this.done = new Promise((r) => (this.resolve = r));
  }

  onConnect(abort: (err: Error) => void): void {
    this.abort = abort;
  }
  onHeaders(status: number, raw: Buffer[]): boolean {
    this.status = status;
    for (let i = 0; i + 1 < raw.length; i += 2) this.headers.push([raw[i]!.toString('latin1'), raw[i + 1]!.toString('latin1')]);
    return true;
  }
  onData(chunk: Buffer): boolean {
    this.chunks.push(Buffer.from(chunk));
    return true;
  }
  onComplete(): void {
    this.resolve();
  }
  onError(err: Error): void {
    this.error = err;
    this.resolve();
  }
  // undici's legacy interface has these too
  onResponseStarted(): void {}
  onUpgrade(): void {}
  onBodySent(): void {}
  onRequestSent(): void {}

  outcome(): Outcome {
    return {
      status: this.error ? 0 : this.status,
      headers: this.headers,
      body: Buffer.concat(this.chunks).toString('latin1'),
      error: this.error ? errorKindOf(this.error) : null,
      errorCode: this.error ? String((this.error as { code?: unknown }).code ?? '') : null,
    };
  }
}

/**
 * How the scripted server answers: called once per complete request (its
 * raw bytes) with the connection's socket and the request's number on it.
 */
export type Respond = (socket: Socket, request: Buffer, indexOnConnection: number) => void | Promise<void>;

/** A raw TCP server on 127.0.0.1:0 that hands each complete request to `respond`, and notes the bytes it got. */
export async function scriptedServer(respond: Respond): Promise<{ url: string; requests: Buffer[]; connections: number; sockets: Socket[]; close(): Promise<void>; server: Server }> {
  const requests: Buffer[] = [];
  const sockets: Socket[] = [];
  const state = { connections: 0 };
  const server = createServer((socket) => {
    state.connections++;
    sockets.push(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let n = 0;
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const m = /content-length: (\d+)/i.exec(buf.subarray(0, end).toString('latin1'));
        const total = end + 4 + (m ? Number(m[1]) : 0);
        if (buf.length < total) return;
        const req = buf.subarray(0, total);
        buf = buf.subarray(total);
        requests.push(req);
        void respond(socket, req, n++);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get connections() {
      return state.connections;
    },
    sockets,
    server,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Writes `bytes` one byte per TCP write, a turn of the event loop apart. */
export async function writeBytewise(socket: Socket, bytes: string | Buffer): Promise<void> {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  for (let i = 0; i < b.length; i++) {
    if (socket.destroyed) return;
    socket.write(b.subarray(i, i + 1));
    await new Promise((r) => setTimeout(r, 1));
  }
}

export const GET: RequestOptions = { path: '/a', method: 'GET', headers: ['accept', '*/*'], body: null };

/** What one client made of a sequence of requests against a fresh scripted server. */
export interface Run {
  outcomes: Outcome[];
  /** Raw request bytes the server received, in order, as latin1. */
  requests: string[];
  connections: number;
}

/**
 * Sends `requests` one after another through one client of `kind` (a fresh
 * scripted server answering with `respond`) and collects what came back.
 * `during` runs while each request is in flight (e.g. to abort it).
 */
export async function runClient(
  kind: HttpClientKind,
  respond: Respond,
  requests: RequestOptions[],
  during?: (c: Collector, i: number) => void | Promise<void>,
): Promise<Run> {
  const srv = await scriptedServer(respond);
  const client: HttpClient = httpClientFactory(kind, srv.url, { connectTimeout: 2000, keepAliveTimeout: 30_000 })();
  const outcomes: Outcome[] = [];
  try {
    for (let i = 0; i < requests.length; i++) {
      const c = new Collector();
      client.dispatch({ ...requests[i]! }, c);
      if (during) await during(c, i);
      await c.done;
      outcomes.push(c.outcome());
      // undici reuses a connection a turn of the event loop after a response: let both settle
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await client.destroy();
    await srv.close();
  }
  // the port differs between the two servers; the rest of the bytes must not
  const requestsSeen = srv.requests.map((b) => b.toString('latin1').replace(/^host: 127\.0\.0\.1:\d+\r$/m, 'host: 127.0.0.1:PORT\r'));
  return { outcomes, requests: requestsSeen, connections: srv.connections };
}

/** Runs the same requests through both clients. */
export async function runBoth(respond: Respond, requests: RequestOptions[], during?: (c: Collector, i: number) => void | Promise<void>): Promise<{ lean: Run; undici: Run }> {
  const undici = await runClient('undici', respond, requests, during);
  const lean = await runClient('lean', respond, requests, during);
  return { lean, undici };
}
