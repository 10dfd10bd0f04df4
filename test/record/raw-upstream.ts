import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** One request as the upstream read it off the wire. */
export interface WireRequest {
  method: string;
  target: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * A test upstream on node:net that parses what it receives itself, strictly
 * (RFC 9112 framing, no leniency), so a test sees exactly which requests
 * reached the target and whether any of them was framed ambiguously.
 * Every complete request is answered `200` with the body `ok <target>`;
 * an `Upgrade` request `101` (then the connection is not read any more),
 * or `426` when its target starts with `/decline`. A target `/slow/<ms>/…`
 * is answered after that many milliseconds.
 * Anything a strict server would refuse is noted in `violations` and the
 * connection is closed.
 */
export class RawUpstream {
  readonly requests: WireRequest[] = [];
  readonly violations: string[] = [];
  /** Bytes received, all connections together (to search for markers). */
  received = Buffer.alloc(0);
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Complete requests whose target contains `marker`. */
  count(marker: string): number {
    return this.requests.filter((r) => r.target.includes(marker)).length;
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = Buffer.alloc(0);
    let upgraded = false;
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      if (upgraded) return;
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const parsed = this.parseOne(buf);
        if (parsed === null) return;
        if (typeof parsed === 'string') {
          this.violations.push(parsed);
          socket.destroy();
          return;
        }
        buf = buf.subarray(parsed.used);
        const req = parsed.request;
        this.requests.push(req);
        const upgrade = req.headers.find(([k]) => k === 'upgrade');
        if (upgrade && req.target.startsWith('/decline')) {
          // A target that declines the upgrade and keeps talking HTTP on the connection.
          socket.write('HTTP/1.1 426 Upgrade Required\r\ncontent-length: 4\r\n\r\nnope');
          continue;
        }
        if (upgrade) {
          upgraded = true;
          socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${upgrade[1]}\r\nconnection: upgrade\r\n\r\n`);
          return;
        }
        const body = `ok ${req.target}`;
        const response = `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`;
        const delay = /^\/slow\/(\d+)\//.exec(req.target);
        if (delay) setTimeout(() => socket.write(response, 'latin1'), Number(delay[1]));
        else socket.write(response, 'latin1');
      }
    });
  }

  /** One request from the front of `buf`: the request and the bytes it took, null if incomplete, or a violation. */
  private parseOne(buf: Buffer): { request: WireRequest; used: number } | string | null {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return /(^|[^\r])\n/.test(buf.toString('latin1')) ? 'bare LF in the head' : null;
    const head = buf.subarray(0, end).toString('latin1');
    if (/(^|[^\r])\n|\r(?!\n)/.test(head)) return 'bare LF or CR in the head';
    const [line, ...fields] = head.split('\r\n');
    const m = /^([A-Z]+) (\S+) HTTP\/1\.1$/.exec(line!);
    if (!m) return `bad request line: ${JSON.stringify(line)}`;
    const headers: Array<[string, string]> = [];
    for (const field of fields) {
      const colon = field.indexOf(':');
      const name = field.slice(0, colon);
      if (colon <= 0 || !TOKEN.test(name)) return `bad header line: ${JSON.stringify(field)}`;
      const value = field.slice(colon + 1).trim();
      if (BAD_VALUE.test(value)) return `bad header value: ${JSON.stringify(field)}`;
      headers.push([name.toLowerCase(), value]);
    }
    const lengths = headers.filter(([k]) => k === 'content-length');
    const codings = headers.filter(([k]) => k === 'transfer-encoding');
    const hosts = headers.filter(([k]) => k === 'host');
    if (hosts.length !== 1) return `${hosts.length} Host headers`;
    if (lengths.length > 1) return 'more than one Content-Length';
    if (lengths.length > 0 && codings.length > 0) return 'Content-Length with Transfer-Encoding';
    if (codings.length > 1 || (codings.length === 1 && codings[0]![1].toLowerCase() !== 'chunked')) return `Transfer-Encoding ${JSON.stringify(codings)}`;
    const request = (body: Buffer): WireRequest => ({ method: m[1]!, target: m[2]!, headers, body });
    let at = end + 4;
    if (codings.length === 1) {
      const chunks: Buffer[] = [];
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', at);
        if (lineEnd < 0) return null;
        const sizeText = buf.subarray(at, lineEnd).toString('latin1');
        if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return `bad chunk size ${JSON.stringify(sizeText)}`;
        const size = parseInt(sizeText, 16);
        at = lineEnd + 2;
        if (size === 0) {
          if (buf.length < at + 2) return null;
          if (buf.subarray(at, at + 2).toString('latin1') !== '\r\n') return 'trailers after the last chunk';
          return { request: request(Buffer.concat(chunks)), used: at + 2 };
        }
        if (buf.length < at + size + 2) return null;
        chunks.push(buf.subarray(at, at + size));
        if (buf.subarray(at + size, at + size + 2).toString('latin1') !== '\r\n') return 'chunk data longer than its size';
        at += size + 2;
      }
    }
    const length = lengths.length === 1 ? lengths[0]![1] : '0';
    if (!/^\d+$/.test(length)) return `Content-Length ${JSON.stringify(length)}`;
    const n = Number(length);
    if (buf.length < at + n) return null;
    return { request: request(Buffer.from(buf.subarray(at, at + n))), used: at + n };
  }
}

/** What a raw client got back: everything the proxy sent until it closed the connection. */
export interface RawReply {
  text: string;
  /** Status code of the first response, or null when the connection closed without one. */
  status: number | null;
}

/**
 * Opens a connection to `port`, writes `pieces` (waiting `gapMs` between
 * them), and resolves with everything received once the proxy closes the
 * connection. `close: true` closes from this side after the last piece.
 */
export function rawExchange(port: number, pieces: Array<string | Buffer>, options: { gapMs?: number; close?: boolean } = {}): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      resolve({ text, status: m ? Number(m[1]) : null });
    });
    socket.once('connect', async () => {
      for (let i = 0; i < pieces.length; i++) {
        if (i > 0 && options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
        if (socket.destroyed) return;
        socket.write(typeof pieces[i] === 'string' ? Buffer.from(pieces[i] as string, 'latin1') : (pieces[i] as Buffer));
      }
      if (options.close) socket.destroy();
    });
  });
}
