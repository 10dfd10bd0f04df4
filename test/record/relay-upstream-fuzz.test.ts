import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Agent, request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/model/exchange.js';
import { createRng, pick, randInt, type Rng } from '../../src/storefront/rng.js';
import { startProxy, until } from './helpers.js';

/**
 * The reverse proxy's relay against a target that misbehaves in every way a
 * real one does, seeded: answers cut at any byte, garbage, interim answers,
 * early answers to uploads, close-delimited bodies, connections dropped
 * between requests, answers in one-byte writes. What must hold: the
 * recorder stays up, every client request ends (an answer or a closed
 * connection, never a hang), each one is recorded exactly once, and what
 * the client got is what was recorded.
 */

const SEED = Number(process.env.FLASHBACK_FUZZ_SEED ?? 20_261_203);
const REQUESTS = 600;
const WORKERS = 16;

const KINDS = [
  'length',
  'chunked',
  'until-close',
  'continue-then-length',
  'early-hints',
  'drop',
  'cut-head',
  'cut-body',
  'garbage',
  'close-after',
  'no-content',
  'slow',
  'bytewise',
  'early-answer',
] as const;
type Kind = (typeof KINDS)[number];

/** What the target writes for `kind`; `then`: after writing, 'keep' the connection, 'end' it, or 'destroy' it. */
function answer(kind: Kind, rnd: Rng, id: number): { parts: string[]; then: 'keep' | 'end' | 'destroy'; delayMs?: number } {
  const body = `answer ${id} `.repeat(1 + randInt(rnd, 0, 39));
  const length = `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  switch (kind) {
    case 'length':
      return { parts: [length], then: 'keep' };
    case 'chunked': {
      const cut = 1 + randInt(rnd, 0, body.length - 2);
      const chunk = (b: string): string => `${b.length.toString(16)}\r\n${b}\r\n`;
      return { parts: [`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunk(body.slice(0, cut))}${chunk(body.slice(cut))}0\r\n\r\n`], then: 'keep' };
    }
    case 'until-close':
      return { parts: [`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n${body}`], then: 'end' };
    case 'continue-then-length':
      return { parts: ['HTTP/1.1 100 Continue\r\n\r\n', length], then: 'keep' };
    case 'early-hints':
      return { parts: ['HTTP/1.1 103 Early Hints\r\nlink: </app.css>; rel=preload\r\n\r\n', length], then: 'keep' };
    case 'drop':
      return { parts: [], then: 'destroy' };
    case 'cut-head':
      return { parts: [length.slice(0, 1 + randInt(rnd, 0, length.indexOf('\r\n\r\n') - 1))], then: 'destroy' };
    case 'cut-body':
      return { parts: [length.slice(0, length.indexOf('\r\n\r\n') + 4 + randInt(rnd, 0, body.length - 1))], then: 'destroy' };
    case 'garbage':
      return { parts: [pick(rnd, ['HTTP/1.1 2x0 OK\r\n\r\n', 'SPDY/3 200\r\n\r\n', '\x00\xff\r\n\r\n', 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\nhello'])], then: 'keep' };
    case 'close-after':
      return { parts: [`HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`], then: 'end' };
    case 'no-content':
      return { parts: ['HTTP/1.1 204 No Content\r\n\r\n'], then: 'keep' };
    case 'slow':
      return { parts: [length], then: 'keep', delayMs: 5 + randInt(rnd, 0, 59) };
    case 'bytewise':
      return { parts: [...length], then: 'keep' };
    case 'early-answer':
      return { parts: [length], then: pick(rnd, ['keep', 'destroy'] as const) };
  }
}

/** A target that reads request heads (bodies skipped by content-length) and answers as the path's kind says. */
async function misbehavingTarget(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = '';
    let skip = 0;
    let busy = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, buf.length);
          skip -= n;
          buf = buf.slice(n);
          if (skip > 0) return;
        }
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const m = /^\S+ \/case\/([a-z-]+)\/(\d+)/.exec(head);
        const kind = (m?.[1] ?? 'length') as Kind;
        const id = Number(m?.[2] ?? 0);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        // The body is skipped as it comes; the answer goes out at once (for an upload, an early answer).
        skip = length;
        const rnd = createRng(SEED + id);
        const a = answer(kind, rnd, id);
        busy = busy.then(async () => {
          if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
          for (const part of a.parts) {
            if (socket.destroyed) return;
            socket.write(part, 'latin1');
            if (a.parts.length > 4) await new Promise((r) => setImmediate(r));
          }
          if (a.then === 'end') socket.end();
          else if (a.then === 'destroy') socket.destroy();
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Sent {
  path: string;
  method: string;
  status: number | null;
  body: string | null;
}

const sent: Sent[] = [];
let recorded: Exchange[] = [];
let finalStatus = 0;

beforeAll(async () => {
  const target = await misbehavingTarget();
  const rec = await startProxy(target.url, { upstreamTimeoutMs: 2_000 });
  const agent = new Agent({ connections: WORKERS, keepAliveTimeout: 10_000 });
  const rnd = createRng(SEED);
  const plan = Array.from({ length: REQUESTS }, (_, id) => {
    const kind = pick(rnd, KINDS);
    const method = kind === 'no-content' ? 'GET' : pick(rnd, ['GET', 'GET', 'POST', 'HEAD'] as const);
    const upload = method === 'POST' ? 'x'.repeat(pick(rnd, [10, 1_000, 100_000])) : null;
    return { path: `/case/${kind}/${id}`, method, upload };
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < plan.length) {
        const p = plan[next++]!;
        const s: Sent = { path: p.path, method: p.method, status: null, body: null };
        sent.push(s);
        try {
          const res = await request(rec.url + p.path, { dispatcher: agent, method: p.method, body: p.upload, headersTimeout: 10_000, bodyTimeout: 10_000 });
          s.status = res.statusCode;
          s.body = await res.body.text();
        } catch {
          s.status = s.status ?? null; // the connection closed under it: an answer of its own
        }
      }
    }),
  );
  const last = await request(`${rec.url}/case/length/999999`, { dispatcher: agent });
  finalStatus = last.statusCode;
  await last.body.dump();
  await until(() => rec.sink.exchanges.length >= REQUESTS + 1, `${REQUESTS + 1} exchanges`).catch(() => undefined);
  recorded = [...rec.sink.exchanges];
  await agent.close();
  await rec.proxy.close();
  await target.close();
}, 120_000);

describe(`the relay against a misbehaving target (${REQUESTS} requests, seed ${SEED})`, () => {
  it('stays up, and serves a well-behaved request after all that', () => {
    expect(finalStatus).toBe(200);
  });

  it('records every request exactly once', () => {
    const byPath = new Map<string, number>();
    for (const e of recorded) byPath.set(e.target, (byPath.get(e.target) ?? 0) + 1);
    const missing = sent.filter((s) => !byPath.has(s.path)).map((s) => s.path);
    const twice = [...byPath].filter(([, n]) => n > 1).map(([p]) => p);
    expect(missing).toEqual([]);
    expect(twice).toEqual([]);
    expect(recorded).toHaveLength(REQUESTS + 1);
  });

  it('records what the client got: the target status, or an error where the proxy answered 502/504 or cut the connection', () => {
    const byPath = new Map(recorded.map((e) => [e.target, e]));
    const wrong: string[] = [];
    for (const s of sent) {
      const e = byPath.get(s.path);
      if (!e) continue;
      if (s.status === 502 || s.status === 504 || s.status === null) {
        if (e.error === null && s.status !== null) wrong.push(`${s.path}: client ${s.status}, recorded ${e.status} without error`);
      } else if (e.status !== s.status) {
        wrong.push(`${s.path}: client ${s.status}, recorded ${e.status} ${e.error}`);
      } else if (s.method !== 'HEAD' && e.error === null && s.body !== null && e.responseBody !== null && Buffer.from(e.responseBody).toString() !== s.body) {
        wrong.push(`${s.path}: body differs`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('passes well-formed answers through whatever the connection did before', () => {
    const good = sent.filter((s) => /\/case\/(length|chunked|continue-then-length|early-hints|slow|bytewise)\//.test(s.path));
    const failed = good.filter((s) => s.status !== 200 && !(s.method === 'POST' && s.status === 502)).map((s) => `${s.method} ${s.path} → ${s.status}`);
    // A request on a connection the target dropped mid-exchange for the request ahead of it may fail with it;
    // a well-formed answer to a request that reached the target on its own connection may not.
    expect(failed.length).toBeLessThanOrEqual(Math.ceil(good.length * 0.02));
  });
});
