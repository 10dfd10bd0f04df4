import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/model/exchange.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { RecorderProxy } from '../../src/record/recorder-proxy.js';
import { RecordingReader } from '../../src/store/recording-reader.js';
import { RecordingWriter } from '../../src/store/recording-writer.js';
import { fakeSegment } from './helpers.js';
import { RawUpstream } from './raw-upstream.js';

/**
 * Seeded fuzzing of the recording proxy over raw sockets: 1,200 malformed
 * or adversarial HTTP/1.1 requests, with 400 well-formed ones interleaved
 * on other connections, through a real recorder writing a real file to a
 * strict raw upstream. The invariants: the proxy stays up; every
 * well-formed request is answered and recorded once; every malformed one
 * is refused (or its connection closed) and never completes upstream;
 * nothing smuggled inside one ever reaches the upstream; the upstream never
 * sees an ambiguously framed request; and every request that completed
 * upstream is in the recording.
 *
 * FLASHBACK_FUZZ_SEED picks another seed (a failure prints the seed and the
 * case, which replays it).
 */

const SEED = Number(process.env.FLASHBACK_FUZZ_SEED ?? 20_261_203);
const HOSTILE = 1_200;
const WELL_FORMED = 400;
const WORKERS = 24;

const rng = seededRandom;

type Kind = 'refused' | 'broken-body' | 'early-close' | 'pipelined' | 'garbage' | 'mutated';

interface Case {
  id: number;
  kind: Kind;
  /** Which generator made it, for failure messages. */
  name: string;
  raw: string;
  /** Statuses a refused case may get (its connection must close after). */
  statuses?: number[];
}

interface Outcome {
  statuses: number[];
  text: string;
  hung: boolean;
}

const MARK: Record<Kind, string> = { refused: 'm', 'broken-body': 'b', 'early-close': 'e', pipelined: 'p', garbage: 'g', mutated: 'x' };
const target = (c: { kind: Kind; id: number }): string => `/${MARK[c.kind]}/${c.id}`;

class Generator {
  private readonly r: () => number;
  constructor(seed: number) {
    this.r = rng(seed);
  }

  int(n: number): number {
    return Math.floor(this.r() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }

  noise(): string[] {
    const pool = ['Accept: */*', 'User-Agent: fuzz/1.0', 'X-Trace: abc123', 'Cookie: sid=s1', 'Accept-Encoding: gzip', 'X-Empty:'];
    return this.shuffle([...pool]).slice(0, this.int(4));
  }

  smuggled(id: number): string {
    return this.pick([
      `GET /smuggled/${id} HTTP/1.1\r\nHost: shop.example\r\n\r\n`,
      `POST /smuggled/${id} HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 2\r\n\r\nhi`,
      `GET /smuggled/${id} HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n`,
    ]);
  }

  head(method: string, path: string, lines: string[], version = '1.1'): string {
    return [`${method} ${path} HTTP/${version}`, ...lines, '', ''].join('\r\n');
  }

  /** A request the proxy must refuse at its head; `statuses` it may answer. */
  refused(id: number): { name: string; raw: string; statuses: number[] } {
    const path = `/m/${id}`;
    const s = this.smuggled(id);
    const host = 'Host: shop.example';
    const te = (v: string): string => `Transfer-Encoding: ${v}`;
    const chunkedBody = '0\r\n\r\n' + s;
    const variants: Array<() => { name: string; raw: string; statuses: number[] }> = [
      () => {
        const lines = this.shuffle([host, `Content-Length: ${this.int(60)}`, te(this.pick(['chunked', 'Chunked', 'CHUNKED', 'chunked ']))]);
        return { name: 'CL+TE', raw: this.head('POST', path, [...lines, ...this.noise()]) + chunkedBody, statuses: [400] };
      },
      () => {
        const a = this.int(50);
        const b = this.pick([a, a + 1 + this.int(50)]);
        return { name: 'two Content-Length', raw: this.head('POST', path, this.shuffle([host, `Content-Length: ${a}`, `Content-Length: ${b}`])) + s, statuses: [400] };
      },
      () => {
        const v = this.pick(['+5', '-1', '0x5', '5 5', '5,5', '5, 5', 'five', '1e3', '5.0', '']);
        return { name: `Content-Length "${v}"`, raw: this.head('POST', path, [host, `Content-Length: ${v}`]) + 'hello' + s, statuses: [400] };
      },
      () => {
        const v = this.pick(['gzip', 'identity', 'chunked, gzip', 'chunked, identity', 'chunked;q=1', 'chunked, chunked', 'x-custom', 'chunked,,gzip']);
        return { name: `Transfer-Encoding "${v}"`, raw: this.head('POST', path, [host, te(v)]) + chunkedBody, statuses: [400] };
      },
      () => {
        const v = this.pick(['gzip, chunked', 'deflate, chunked', 'br,chunked']);
        return { name: `Transfer-Encoding "${v}"`, raw: this.head('POST', path, [host, te(v)]) + chunkedBody, statuses: [501] };
      },
      () => {
        const [a, b, status] = this.pick([
          ['chunked', 'chunked', 400],
          ['gzip', 'chunked', 501],
          ['chunked', 'gzip', 400],
        ] as const);
        return { name: `two Transfer-Encoding ${a}+${b}`, raw: this.head('POST', path, [host, te(a), te(b)]) + chunkedBody, statuses: [status] };
      },
      () => {
        const fold = this.pick(['\r\n ', '\r\n\t', '\r\n  ']);
        const [line, body] = this.pick([
          [`Transfer-Encoding:${fold}chunked`, chunkedBody],
          [`X-Folded: one${fold}two`, ''],
          [`Content-Length:${fold}5`, 'hello' + s],
        ] as const);
        return { name: 'obs-fold', raw: this.head('POST', path, [host, line, ...this.noise()]) + body, statuses: [400] };
      },
      () => {
        const bad = this.pick([' ', '\t', '"', '(', ')', ',', '/', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '{', '}', '\x00', '\x01', '\x7f', '\x80', '\xe9', '\xff']);
        const at = this.int(3);
        const name = ['X', 'Tr', 'Content'][at]! + bad + 'ansfer-Encoding';
        return { name: `header name byte ${JSON.stringify(bad)}`, raw: this.head('POST', path, [host, `${name}: chunked`]) + chunkedBody, statuses: [400] };
      },
      () => {
        const bad = this.pick(['\x00', '\x01', '\x08', '\x0b', '\x0c', '\x0e', '\x1b', '\x1f', '\x7f', '\r']);
        const name = this.pick(['X-A', 'Transfer-Encoding', 'Content-Length', 'Cookie']);
        const value = name === 'Content-Length' ? `5${bad}` : name === 'Transfer-Encoding' ? `chunked${bad}` : `a${bad}b`;
        return { name: `header value byte ${JSON.stringify(bad)} in ${name}`, raw: this.head('POST', path, [host, `${name}: ${value}`]) + chunkedBody, statuses: [400] };
      },
      () => {
        const lines = this.pick([[host, 'Host: other.example'], ['Host: a b'], ['Host: x@y'], ['Host: [zz'], ['Host: a/b'], ['X-No-Host: 1']]);
        return { name: `Host ${JSON.stringify(lines)}`, raw: this.head('GET', path, lines) + s, statuses: [400] };
      },
      () => {
        if (this.int(2) === 0) {
          return { name: 'huge header', raw: this.head('GET', path, [host, `X-Big: ${'a'.repeat(33 * 1024 + this.int(8 * 1024))}`]) + s, statuses: [431] };
        }
        const n = 257 + this.int(60);
        return { name: `${n} header fields`, raw: this.head('GET', path, [host, ...Array.from({ length: n }, (_, i) => `X-${i}: ${i}`)]) + s, statuses: [431] };
      },
      () => {
        const [name, raw] = this.pick([
          ['unknown method', `BREW ${path} HTTP/1.1\r\n${host}\r\n\r\n`],
          ['NUL in target', `GET ${path}\x00 HTTP/1.1\r\n${host}\r\n\r\n`],
          ['DEL in target', `GET ${path}\x7f HTTP/1.1\r\n${host}\r\n\r\n`],
          ['tab in target', `GET ${path}\tx HTTP/1.1\r\n${host}\r\n\r\n`],
          ['HTTP/1.1 trailing junk', `GET ${path} HTTP/1.1 x\r\n${host}\r\n\r\n`],
          ['target without a slash', `GET m${id} HTTP/1.1\r\n${host}\r\n\r\n`],
        ] as const);
        return { name, raw: raw + s, statuses: [400] };
      },
      () => {
        const [name, raw] = this.pick([
          ['HTTP/2.0 request line', `GET ${path} HTTP/2.0\r\n${host}\r\n\r\n`],
          ['request line without a version', `GET ${path}\r\n${host}\r\n\r\n`],
        ] as const);
        return { name, raw: raw + s, statuses: [505] };
      },
      () => ({ name: 'Transfer-Encoding in HTTP/1.0', raw: this.head('POST', path, [host, te('chunked')], '1.0') + chunkedBody, statuses: [400] }),
      () => {
        const framing = this.pick(['Content-Length: 5', te('chunked')]);
        const raw = this.head('GET', path, [host, 'Connection: Upgrade', 'Upgrade: websocket', framing]) + (framing.startsWith('C') ? 'hello' : '0\r\n\r\n') + s;
        return { name: 'Upgrade with a body', raw, statuses: [400] };
      },
    ];
    return this.pick(variants)();
  }

  /** A chunked request whose body breaks after its head was accepted. */
  brokenBody(id: number): string {
    const good = this.int(2) === 0 ? '5\r\nhello\r\n' : '';
    const bad = this.pick(['zz\r\nabc\r\n', '-1\r\n', '0x5\r\nabcde\r\n', 'fffffffffffffffffffff\r\nabc\r\n', '3\r\nabcdef\r\n', '5\r\nabcde0\r\n\r\n', '5;\x01\r\nabcde\r\n']);
    return this.head('POST', `/b/${id}`, ['Host: shop.example', 'Transfer-Encoding: chunked', ...this.noise()]) + good + bad + '0\r\n\r\n' + this.smuggled(id);
  }

  /** A well-formed request (for early closes and mutations): POST with a Content-Length or chunked body, or GET. */
  valid(path: string): string {
    const body = 'x'.repeat(20 + this.int(200));
    const host = 'Host: shop.example';
    switch (this.int(3)) {
      case 0:
        return this.head('GET', path, [host, ...this.noise(), 'Connection: close']);
      case 1:
        return this.head('POST', path, [host, ...this.noise(), `Content-Length: ${body.length}`, 'Connection: close']) + body;
      default: {
        const cut = 1 + this.int(body.length - 1);
        const chunk = (b: string): string => `${b.length.toString(16)}\r\n${b}\r\n`;
        return this.head('POST', path, [host, ...this.noise(), 'Transfer-Encoding: chunked', 'Connection: close']) + chunk(body.slice(0, cut)) + chunk(body.slice(cut)) + '0\r\n\r\n';
      }
    }
  }

  /** Random bytes, some of them HTTP-ish; a prefix may name `path` (should the bytes happen to make a valid request). */
  garbage(path: string): string {
    const alphabet = ['G', 'E', 'T', ' ', '/', ':', '\r', '\n', '\r\n', '\t', '\x00', '\x7f', '\xff', 'a', '1', ',', ';', 'HTTP/1.1', 'Host', 'chunked'];
    const prefix = this.pick(['', 'GET ', `POST ${path} HTTP/1.1\r\n`, '\r\n']);
    return prefix + Array.from({ length: 1 + this.int(120) }, () => this.pick(alphabet)).join('');
  }

  /** `raw` with 1–3 random edits between the end of its request line and its blank line. */
  mutate(raw: string): string {
    const interesting = ['\x00', '\r', '\n', '\r\n', ' ', '\t', ':', ',', ';', '\x7f', '\xff', '\x80', '"', '(', '@', '=', '\r\n ', '\r\n\t', '\r\n\r\n',
      'Transfer-Encoding: chunked\r\n', 'Content-Length: 0\r\n', 'Content-Length: 7\r\n', 'Host: evil.example\r\n', 'Transfer-Encoding: gzip\r\n'];
    let s = raw;
    for (let n = 1 + this.int(3); n > 0; n--) {
      const from = s.indexOf('\r\n') + 2;
      const to = s.indexOf('\r\n\r\n');
      if (to <= from) break;
      const at = from + this.int(to - from);
      switch (this.int(4)) {
        case 0:
          s = s.slice(0, at) + this.pick(interesting) + s.slice(at + 1);
          break;
        case 1:
          s = s.slice(0, at) + this.pick(interesting) + s.slice(at);
          break;
        case 2:
          s = s.slice(0, at) + s.slice(at + 1);
          break;
        default: {
          const lineStart = s.lastIndexOf('\r\n', at) + 2;
          const lineEnd = s.indexOf('\r\n', at);
          s = s.slice(0, lineEnd + 2) + s.slice(lineStart, lineEnd + 2) + s.slice(lineEnd + 2);
        }
      }
    }
    return s;
  }

  case(id: number): Case {
    const roll = this.int(100);
    if (roll < 45) {
      const { name, raw, statuses } = this.refused(id);
      // Sometimes with a well-formed request pipelined behind: it must not be forwarded either.
      const tail = this.int(4) === 0 ? `GET /smuggled/${id} HTTP/1.1\r\nHost: shop.example\r\n\r\n` : '';
      return { id, kind: 'refused', name, raw: raw + tail, statuses };
    }
    if (roll < 55) return { id, kind: 'broken-body', name: 'broken chunk', raw: this.brokenBody(id) };
    if (roll < 65) {
      const raw = this.valid(`/e/${id}`);
      return { id, kind: 'early-close', name: 'early close', raw: raw.slice(0, 1 + this.int(raw.length - 1)) };
    }
    if (roll < 72) {
      const raw = this.head('GET', `/p/${id}`, ['Host: shop.example', ...this.noise()]);
      return { id, kind: 'pipelined', name: 'pipelined garbage', raw: raw + this.garbage(`/g/${id}`) };
    }
    if (roll < 80) return { id, kind: 'garbage', name: 'garbage', raw: this.garbage(`/g/${id}`) };
    return { id, kind: 'mutated', name: 'mutated', raw: this.mutate(this.valid(`/x/${id}`)) };
  }
}

/**
 * Sends one case on its own connection, in 1–3 writes, and collects the
 * reply until the proxy closes the connection (an early-close case closes
 * it itself; a case answered 200 is done once the response is whole).
 * `hung` is a liveness bound far above the proxy's 1 s deadlines, so that
 * a stuck case fails with its name instead of timing out the whole test.
 */
function runCase(port: number, c: Case, splits: number[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let hung = false;
    const finish = (): void => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      resolve({ statuses, text, hung });
    };
    const timer = setTimeout(() => {
      hung = true;
      socket.destroy();
    }, 20_000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text.slice(0, end));
      if (text.startsWith('HTTP/1.1 200') && end > 0 && length && text.length >= end + 4 + Number(length[1])) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', finish);
    socket.once('connect', async () => {
      const bytes = Buffer.from(c.raw, 'latin1');
      let from = 0;
      for (const to of [...splits.filter((s) => s < bytes.length), bytes.length]) {
        if (socket.destroyed) return;
        socket.write(bytes.subarray(from, to));
        from = to;
        await new Promise((r) => setImmediate(r));
      }
      if (c.kind === 'early-close') socket.destroy();
    });
  });
}

let dir: string;
let upstream: RawUpstream;
const cases: Case[] = [];
const outcomes = new Map<number, Outcome>();
const okSent = new Map<string, { status: number; body: string; sentBody: string | null }>();
const recorded: Exchange[] = [];
let rejected = 0;
let finalStatus = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fb-fuzz-'));
  upstream = await new RawUpstream().start();
  const file = join(dir, 'fuzz.db');
  const writer = await RecordingWriter.create(file, { source: 'record', upstream: upstream.url, toolVersion: 'test', redacted: false });
  // Deadlines of 1 s: cases whose head or body never completes end quickly.
  const proxy = new RecorderProxy({
    target: upstream.url,
    port: 0,
    maxBodyBytes: 64 * 1024,
    sink: writer,
    ...fakeSegment(),
    limits: { headersTimeoutMs: 1_000, clientIdleTimeoutMs: 1_000 },
  });
  const { url } = await proxy.open();
  const port = Number(new URL(url).port);
  const agent = new Agent({ connections: 8 });

  const gen = new Generator(SEED);
  for (let id = 0; id < HOSTILE; id++) cases.push(gen.case(id));
  // One queue: a well-formed request after every third hostile case, so they are always in flight together.
  type Task = { hostile: Case; splits: number[] } | { ok: number };
  const tasks: Task[] = [];
  let ok = 0;
  for (const c of cases) {
    const splits = Array.from({ length: gen.int(3) }, () => 1 + gen.int(Math.max(1, c.raw.length - 1))).sort((a, b) => a - b);
    tasks.push({ hostile: c, splits });
    if (c.id % 3 === 2 && ok < WELL_FORMED) tasks.push({ ok: ok++ });
  }
  while (ok < WELL_FORMED) tasks.push({ ok: ok++ });

  const sendOk = async (n: number): Promise<void> => {
    const path = `/ok/${n}`;
    const kind = n % 3;
    const sentBody = kind === 0 ? null : `body of ${n} `.repeat(1 + (n % 50));
    // GET, POST with a Content-Length, POST chunked (a stream of unknown length).
    const body = sentBody === null ? null : kind === 1 ? sentBody : Readable.from([Buffer.from(sentBody.slice(0, 5)), Buffer.from(sentBody.slice(5))]);
    const res = await request(url + path, { dispatcher: agent, method: kind === 0 ? 'GET' : 'POST', body, headers: { cookie: `sid=ok${n % 7}` } });
    okSent.set(path, { status: res.statusCode, body: await res.body.text(), sentBody });
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < tasks.length) {
        const t = tasks[next++]!;
        if ('ok' in t) await sendOk(t.ok);
        else outcomes.set(t.hostile.id, await runCase(port, t.hostile, t.splits));
      }
    }),
  );
  // Still up and serving after all that.
  const last = await request(`${url}/ok/final`, { dispatcher: agent });
  finalStatus = last.statusCode;
  await last.body.dump();
  await agent.close();
  rejected = proxy.stats().rejected;
  await proxy.close();
  await writer.close();
  const reader = RecordingReader.open(file);
  for (const ex of reader.exchanges()) recorded.push(ex);
  reader.close();
}, 120_000);

afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

const about = (c: Case, o?: Outcome): string => `seed ${SEED}, case ${c.id} (${c.kind}: ${c.name}) ${JSON.stringify(c.raw.slice(0, 300))} → ${JSON.stringify(o?.text.slice(0, 200))}`;

describe(`fuzzing the proxy with ${HOSTILE} hostile requests (seed ${SEED})`, () => {
  it('covers every kind of case, and refuses the malformed ones itself', () => {
    const kinds = new Map<Kind, number>();
    for (const c of cases) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
    expect([...kinds.keys()].sort()).toEqual(['broken-body', 'early-close', 'garbage', 'mutated', 'pipelined', 'refused']);
    expect(outcomes.size).toBe(HOSTILE);
    expect(rejected).toBeGreaterThanOrEqual(kinds.get('refused')!);
  });

  it('never hangs on a case', () => {
    const hung = cases.filter((c) => outcomes.get(c.id)!.hung);
    expect(hung.map((c) => about(c))).toEqual([]);
  });

  it('stays up: every well-formed request sent alongside is answered, in full', () => {
    expect(finalStatus).toBe(200);
    expect(okSent.size).toBe(WELL_FORMED);
    for (const [path, s] of okSent) {
      expect(s.status, path).toBe(200);
      expect(s.body, path).toBe(`ok ${path}`);
      const got = upstream.requests.filter((r) => r.target === path);
      expect(got, path).toHaveLength(1);
      expect(got[0]!.body.toString('latin1'), path).toBe(s.sentBody ?? '');
    }
  });

  it('refuses each malformed request with its status and closes the connection', () => {
    for (const c of cases.filter((x) => x.kind === 'refused')) {
      const o = outcomes.get(c.id)!;
      expect(o.statuses, about(c, o)).toHaveLength(1);
      expect(c.statuses, about(c, o)).toContain(o.statuses[0]);
    }
  });

  it('answers the other hostile cases with a refusal, a timeout or a closed connection, never a success it did not forward', () => {
    for (const c of cases.filter((x) => x.kind === 'broken-body')) {
      const o = outcomes.get(c.id)!;
      for (const s of o.statuses) expect([400, 408, 413, 431, 501], about(c, o)).toContain(s);
    }
    // Random edits and random bytes may leave a valid request: then it is answered 200 and reached the target once.
    for (const c of cases.filter((x) => x.kind === 'mutated' || x.kind === 'garbage')) {
      const o = outcomes.get(c.id)!;
      const completed = upstream.requests.filter((r) => r.target === target(c)).length;
      for (const s of o.statuses) expect([200, 400, 408, 413, 431, 501], about(c, o)).toContain(s);
      if (o.statuses[0] === 200) expect(completed, about(c, o)).toBe(1);
      else if (o.statuses.length > 0) expect(completed, about(c, o)).toBe(0);
      else expect(completed, about(c, o)).toBeLessThanOrEqual(1);
    }
  });

  it('never completes a malformed, broken or cut-off request upstream, nor anything smuggled inside one', () => {
    for (const c of cases.filter((x) => x.kind === 'refused' || x.kind === 'broken-body' || x.kind === 'early-close')) {
      expect(upstream.requests.filter((r) => r.target === target(c)), about(c, outcomes.get(c.id))).toEqual([]);
    }
    expect(upstream.requests.filter((r) => r.target.startsWith('/smuggled')).map((r) => r.target)).toEqual([]);
    for (const c of cases.filter((x) => x.kind === 'pipelined')) {
      expect(upstream.requests.filter((r) => r.target === target(c)).length, about(c)).toBeLessThanOrEqual(1);
    }
    // Only requests the generator made well-formed (or left well-formed) ever complete upstream.
    expect(upstream.requests.map((r) => r.target).filter((t) => !/^\/(ok\/(\d+|final)|[pxg]\/\d+)$/.test(t))).toEqual([]);
  });

  it('never lets an ambiguously framed request reach the upstream', () => {
    expect(upstream.violations).toEqual([]);
  });

  it('records every well-formed request once, and every request that completed upstream', () => {
    const ok = recorded.filter((e) => /^\/ok\/\d+$/.test(e.target));
    expect(ok).toHaveLength(WELL_FORMED);
    expect(new Set(ok.map((e) => e.target)).size).toBe(WELL_FORMED);
    for (const e of ok) expect(e.status, e.target).toBe(200);
    expect(recorded.filter((e) => /^\/(m|smuggled)\//.test(e.target)).map((e) => e.target)).toEqual([]);
    const recordedTargets = new Map<string, number>();
    for (const e of recorded) recordedTargets.set(`${e.method} ${e.target}`, (recordedTargets.get(`${e.method} ${e.target}`) ?? 0) + 1);
    for (const r of upstream.requests) expect(recordedTargets.get(`${r.method} ${r.target}`), `${r.method} ${r.target}`).toBeGreaterThanOrEqual(1);
    for (const e of recorded.filter((x) => x.status === 200)) {
      expect(upstream.requests.filter((r) => r.target === e.target), e.target).toHaveLength(1);
    }
  });
});
