import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/model/exchange.js';
import { startRecording } from '../../src/record/start-recording.js';
import { parseSessionKey } from '../../src/segment/session-key.js';
import { RecordingReader } from '../../src/store/recording-reader.js';
import { readBody, startServer } from './helpers.js';

/**
 * The foundation's "must show": 2,000 requests from 50 concurrent clients
 * through a real recorder writing a real file; then the file is read back.
 */

const CLIENTS = 50;
const PER_CLIENT = 40;
const CAP = 1024 * 1024;
const BEARER = 'tok-PLANTED-9f8e7d6c5b4a3210';
const PASSWORD = 'hunter2-PLANTED-pw';
const CARD = '4539578763621486';
const BIG = randomBytes(3 * 1024 * 1024);
const GZ = gzipSync(Buffer.from(JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}` })) })));

interface Sent {
  client: number;
  sentHash: string;
  receivedHash: string;
  secret: boolean;
  status: number;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const capped = (b: Buffer): Buffer => (b.length > CAP ? b.subarray(0, CAP) : b);

let dir: string;
let upstream: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fb-record-'));
  let nextSid = 0;
  upstream = await startServer(async (req, res) => {
    const body = await readBody(req).catch(() => null);
    if (body === null) return;
    const path = (req.url ?? '/').split('?')[0]!;
    if (!/sid=/.test(req.headers.cookie ?? '')) res.setHeader('set-cookie', `sid=s${nextSid++}-${randomBytes(6).toString('hex')}; Path=/; HttpOnly`);
    if (path === '/reset') return req.socket.destroy();
    if (path === '/missing') {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end('{"error":"not found"}');
    }
    if (path === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BIG.length) });
      return res.end(BIG);
    }
    if (path === '/gz') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      return res.end(GZ);
    }
    if (path === '/upload') {
      res.writeHead(201, { 'content-type': 'application/octet-stream' });
      return res.end(body); // binary echo
    }
    if (path === '/login') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ ok: true, user: 'u1' }));
    }
    if (path === '/api/json') {
      // echoes the JSON back, so secrets go both ways
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(body);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path, auth: req.headers.authorization ? 'yes' : 'no' }));
  });
});

afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The i-th request of a client: method, path, headers, body, and whether it carries a planted secret. */
function plan(client: number, i: number): { method: 'GET' | 'POST' | 'PUT'; path: string; headers: Record<string, string>; body: Buffer | null; secret: boolean } {
  const rid = `rid=${client}-${i}`;
  if (client === 7 && i === 21) return { method: 'GET', path: `/reset?${rid}`, headers: {}, body: null, secret: false };
  if ((client === 3 || client === 30) && i === 20) return { method: 'GET', path: `/big?${rid}`, headers: {}, body: null, secret: false };
  switch (i % 10) {
    case 0: {
      const secret = i % 20 === 0;
      const doc = secret ? { note: 'pay', password: PASSWORD, card: CARD, qty: i } : { note: 'hello', qty: i, tags: ['a', 'b'] };
      return { method: 'POST', path: `/api/json?${rid}`, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(doc)), secret };
    }
    case 1:
      return {
        method: 'POST',
        path: `/login?${rid}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(`user=u${client}&password=${encodeURIComponent(PASSWORD)}&remember=1`),
        secret: true,
      };
    case 2:
      return { method: 'PUT', path: `/upload?${rid}`, headers: { 'content-type': 'application/octet-stream' }, body: randomBytes(2000 + ((client * 37 + i) % 9000)), secret: false };
    case 3:
      return { method: 'GET', path: `/gz?${rid}`, headers: { 'accept-encoding': 'gzip' }, body: null, secret: false };
    case 4:
      return { method: 'GET', path: `/missing?${rid}`, headers: {}, body: null, secret: false };
    default:
      return { method: 'GET', path: `/items/${client * 100 + i}?${rid}`, headers: i % 2 ? { authorization: `Bearer ${BEARER}` } : {}, body: null, secret: i % 2 === 1 };
  }
}

async function runClient(base: string, agent: Agent, client: number, sent: Map<string, Sent>): Promise<void> {
  let cookie = '';
  for (let i = 0; i < PER_CLIENT; i++) {
    const p = plan(client, i);
    const headers = { ...p.headers, 'x-client': String(client), ...(cookie ? { cookie } : {}) };
    const res = await request(base + p.path, { dispatcher: agent, method: p.method, headers, body: p.body });
    const received = Buffer.from(await res.body.arrayBuffer());
    const setCookie = res.headers['set-cookie'];
    if (setCookie && !cookie) cookie = String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0]!;
    sent.set(`${client}-${i}`, {
      client,
      sentHash: sha(capped(p.body ?? Buffer.alloc(0))),
      receivedHash: sha(capped(received)),
      secret: p.secret,
      status: res.statusCode,
    });
  }
}

describe('recording 2,000 requests from 50 concurrent clients', () => {
  const sent = new Map<string, Sent>();
  const exchanges: Exchange[] = [];
  let file: string;

  beforeAll(async () => {
    file = join(dir, 'rec.db');
    const rec = await startRecording({
      target: upstream.url,
      forward: false,
      host: '127.0.0.1',
      port: 0,
      out: file,
      maxBodyBytes: CAP,
      sessionKey: parseSessionKey('auto'),
      routes: [],
      cohortRules: [],
      redact: true,
      insecure: false,
      overwrite: false,
      toolVersion: 'test',
    });
    const agent = new Agent({ connections: CLIENTS });
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => runClient(rec.url, agent, c, sent)));
    await agent.close();
    await rec.stop();
    const reader = RecordingReader.open(file);
    for (const ex of reader.exchanges({ withBodies: true })) exchanges.push(ex);
    reader.close();
  }, 120_000);

  it('holds exactly 2,000 exchanges, one per request sent', () => {
    expect(sent.size).toBe(CLIENTS * PER_CLIENT);
    expect(exchanges).toHaveLength(CLIENTS * PER_CLIENT);
    const rids = new Set(exchanges.map((e) => /rid=(\d+-\d+)/.exec(e.target)?.[1]));
    expect(rids.size).toBe(CLIENTS * PER_CLIENT);
  });

  it('stores bodies that hash to what the client sent and received (up to the cap), where nothing was redacted', () => {
    let compared = 0;
    for (const ex of exchanges) {
      const rid = /rid=(\d+-\d+)/.exec(ex.target)![1]!;
      const s = sent.get(rid)!;
      if (ex.error !== null || s.secret) continue;
      expect(sha(ex.requestBody ?? new Uint8Array()), `request body of ${rid}`).toBe(s.sentHash);
      expect(sha(ex.responseBody ?? new Uint8Array()), `response body of ${rid}`).toBe(s.receivedHash);
      compared++;
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('flags the 3 MiB responses as truncated at the cap and keeps their full size', () => {
    const big = exchanges.filter((e) => e.target.startsWith('/big'));
    expect(big).toHaveLength(2);
    for (const e of big) {
      expect(e.responseBodyTruncated).toBe(true);
      expect(e.responseBodyBytes).toBe(BIG.length);
      expect(Buffer.from(e.responseBody!).equals(BIG.subarray(0, CAP))).toBe(true);
    }
  });

  it('stores gzip responses as received, with their encoding noted', () => {
    const gz = exchanges.filter((e) => e.target.startsWith('/gz'));
    expect(gz.length).toBe(CLIENTS * 4);
    for (const e of gz) {
      expect(e.responseEncoding).toBe('gzip');
      expect(Buffer.from(e.responseBody!).equals(GZ)).toBe(true);
    }
  });

  it('records the reset upstream as an error, 404s as 404s', () => {
    const reset = exchanges.filter((e) => e.target.startsWith('/reset'));
    expect(reset).toHaveLength(1);
    expect(reset[0]!.error).toBe('reset');
    expect(sent.get('7-21')!.status).toBe(502);
    expect(exchanges.filter((e) => e.status === 404)).toHaveLength(CLIENTS * 4);
  });

  it('groups sessions by the cookie the server set: one session per client', () => {
    const byClient = new Map<number, Set<string>>();
    for (const ex of exchanges) {
      const client = Number(/rid=(\d+)-/.exec(ex.target)![1]);
      if (!byClient.has(client)) byClient.set(client, new Set());
      byClient.get(client)!.add(ex.sessionKey);
    }
    expect(byClient.size).toBe(CLIENTS);
    for (const [client, keys] of byClient) expect([...keys], `sessions of client ${client}`).toHaveLength(1);
    const all = new Set([...byClient.values()].map((k) => [...k][0]));
    expect(all.size).toBe(CLIENTS);
    const reader = RecordingReader.open(file);
    expect(reader.summary().sessionRules).toEqual([{ rule: 'cookie-set:sid', sessions: CLIENTS, exchanges: CLIENTS * PER_CLIENT }]);
    reader.close();
  });

  it('leaves no planted secret anywhere in the database bytes', () => {
    const files = [file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f));
    expect(files.length).toBeGreaterThan(0);
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    expect(bytes.length).toBeGreaterThan(CAP);
    // The strings are there in what was sent (sanity), and absent from the file in every form.
    for (const secret of [BEARER, PASSWORD, encodeURIComponent(PASSWORD), CARD]) {
      expect(bytes.includes(Buffer.from(secret)), secret).toBe(false);
      expect(bytes.includes(Buffer.from(secret, 'utf16le')), `${secret} (utf-16)`).toBe(false);
    }
    expect(bytes.includes(Buffer.from('redacted:'))).toBe(true);
    const secretOnes = exchanges.filter((e) => sent.get(/rid=(\d+-\d+)/.exec(e.target)![1]!)!.secret);
    expect(secretOnes.length).toBeGreaterThan(500);
  });
});
