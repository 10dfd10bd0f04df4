import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Exchange, HeaderList } from '../../src/model/exchange.js';
import type { Cohort, Session } from '../../src/model/session.js';
import { memorySource } from '../../src/replay/recording-source.js';
import { plannedSpanUs, startReplay, type ReplayConfig } from '../../src/replay/replay.js';
import type { RunPlan, RunResult } from '../../src/model/run-result.js';

/** An exchange with sensible defaults. */
export function ex(p: Partial<Exchange> & { target: string; startOffsetUs: number }): Exchange {
  const method = p.method ?? 'GET';
  return {
    sessionKey: p.sessionKey ?? 's',
    seq: p.seq ?? 0,
    durationUs: 1000,
    method,
    host: null,
    scheme: 'http',
    route: `${method} ${p.target.split('?')[0]}`,
    requestHeaders: [],
    requestBody: null,
    requestBodyBytes: 0,
    requestBodyTruncated: false,
    status: 200,
    responseHeaders: [],
    responseBody: null,
    responseBodyBytes: 0,
    responseBodyTruncated: false,
    responseEncoding: null,
    error: null,
    errorDetail: null,
    ...p,
  };
}

/** A session from exchanges (keys, seq and bounds filled in). */
export function session(key: string, exchanges: Exchange[], cohort: Cohort = { device: 'desktop' }): Session {
  const list = exchanges.map((e, i) => ({ ...e, sessionKey: key, seq: i }));
  return {
    key,
    cohort,
    startOffsetUs: Math.min(...list.map((e) => e.startOffsetUs)),
    endOffsetUs: Math.max(...list.map((e) => e.startOffsetUs + e.durationUs)),
    exchanges: list,
  };
}

/** What a test server saw. */
export interface Hit {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  atMs: number;
}

/** A server on 127.0.0.1:0 that records every request and answers with `handler` (default 200 "ok"). */
export async function startServer(
  handler?: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ url: string; hits: Hit[]; close(): Promise<void>; server: Server }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      hits.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, atMs: performance.now() });
      if (handler) handler(req, res, body);
      else res.end('ok');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A test plan: scale 1, no jitter, 100 in flight, one worker (`plannedUs` 0: {@link replaySessions} fills it). */
export function planOf(p: Partial<RunPlan> = {}): RunPlan {
  return {
    scale: 1, speed: 1, durationUs: null, rampUs: 0, jitterUs: 0, seed: 1,
    methods: null, routes: null, concurrency: 100, timeoutUs: 5_000_000, workers: 1,
    shard: { index: 1, count: 1 }, windowUs: 1_000_000, plannedUs: 0,
    ...p,
  };
}

/** Replays sessions in memory on this thread against `target`. */
export async function replaySessions(
  sessions: Session[],
  target: string,
  plan: Partial<RunPlan> = {},
  extra: Partial<ReplayConfig> = {},
): Promise<RunResult> {
  const source = memorySource(sessions, 'memory.db', 'digest-1');
  const full = planOf(plan);
  const running = startReplay({
    source,
    target,
    plan: { ...full, plannedUs: plannedSpanUs(source, full) },
    headers: [],
    label: 'test',
    toolVersion: '0.0.0-test',
    nodeVersion: process.version,
    maxSendLagUs: 1_000_000,
    ...extra,
  });
  return running.result;
}

/** Header list helper. */
export function headers(...pairs: Array<[string, string]>): HeaderList {
  return pairs;
}
