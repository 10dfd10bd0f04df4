import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { seededRandom } from '../../src/model/seeded-random.js';
import { RecordingWriter } from '../../src/store/recording-writer.js';
import { startServer } from '../replay/helpers.js';
import { makeExchange, tempDir, TEST_META } from './helpers.js';

/** What the damaged-recording tests share: a temp dir, the valid base recording, and a server to replay against. */
export interface DamageFixture {
  dir: string;
  base: string;
  target: string;
}

/** Registers beforeAll/afterAll hooks that build a {@link DamageFixture} (filled in once beforeAll has run) and clean it up. */
export function useDamageFixture(): DamageFixture {
  const fixture: DamageFixture = { dir: '', base: '', target: '' };
  let cleanup = (): void => undefined;
  let close = async (): Promise<void> => undefined;
  beforeAll(async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    fixture.dir = t.dir;
    fixture.base = await damageBase(t.dir);
    const server = await startServer();
    close = server.close;
    fixture.target = server.url;
  });
  afterAll(async () => {
    await close();
    cleanup();
  });
  return fixture;
}

/** A small valid recording over several 64 KiB pages: JSON and binary bodies, one big body (overflow pages), errors, cohorts. */
export async function damageBase(dir: string): Promise<string> {
  const path = join(dir, 'base.db');
  const w = await RecordingWriter.create(path, TEST_META);
  const rnd = seededRandom(7);
  const devices = ['mobile', 'desktop', 'bot'];
  for (let s = 0; s < 12; s++) {
    for (let i = 0; i < 5; i++) {
      const big = s === 3 && i === 2;
      const body = big ? Buffer.alloc(150_000, 'x') : Buffer.from(JSON.stringify({ s, i, items: Array.from({ length: 40 }, (_, k) => ({ k, name: `item-${k}` })) }));
      w.add(makeExchange({
        sessionKey: `sess-${s}`,
        startOffsetUs: s * 20_000 + i * 3_000,
        durationUs: 500 + Math.floor(rnd() * 2000),
        method: i === 3 ? 'POST' : 'GET',
        target: `/products/${s * 10 + i}?q=${i}`,
        route: i === 3 ? 'POST /cart' : 'GET /products/:id',
        requestBody: i === 3 ? Buffer.from('{"qty":1}') : null,
        requestBodyBytes: i === 3 ? 9 : 0,
        responseHeaders: [['content-type', big ? 'application/octet-stream' : 'application/json'], ['x-i', String(i)]],
        responseBody: body,
        responseBodyBytes: body.length,
        status: i === 4 && s % 4 === 0 ? null : 200,
        error: i === 4 && s % 4 === 0 ? 'timeout' : null,
      }), { device: devices[s % 3]!, region: s % 2 ? 'eu' : 'na' });
    }
  }
  await w.close();
  return path;
}

/** One seeded change to a file's bytes. */
export interface Mutation {
  name: string;
  apply(bytes: Buffer): Buffer;
}

const PAGE = 65_536;

/**
 * `count` seeded mutations of a `size`-byte file: cut at a random length,
 * random byte ranges overwritten with random or zero bytes, the header page
 * damaged, a page in the middle damaged, a few scattered bytes changed.
 */
export function mutations(seed: number, count: number, size: number): Mutation[] {
  const rnd = seededRandom(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const pages = Math.ceil(size / PAGE);
  const fill = (b: Buffer, at: number, len: number, zero: boolean): void => {
    for (let i = at; i < Math.min(b.length, at + len); i++) b[i] = zero ? 0 : int(256);
  };
  const list: Mutation[] = [];
  for (let n = 0; n < count; n++) {
    const kind = n % 6;
    if (kind === 0) {
      const at = int(size);
      list.push({ name: `cut at ${at}`, apply: (b) => b.subarray(0, at) });
    } else if (kind === 1 || kind === 2) {
      const at = int(size);
      const len = 1 + int(kind === 1 ? 64 : 8_192);
      const zero = rnd() < 0.4;
      list.push({ name: `${zero ? 'zero' : 'random'} bytes ${at}+${len}`, apply: (b) => (fill(b, at, len, zero), b) });
    } else if (kind === 3) {
      const at = int(rnd() < 0.5 ? 100 : PAGE);
      const len = 1 + int(rnd() < 0.5 ? 8 : 2_048);
      const zero = rnd() < 0.3;
      list.push({ name: `header page ${zero ? 'zero' : 'random'} ${at}+${len}`, apply: (b) => (fill(b, at, len, zero), b) });
    } else if (kind === 4) {
      const page = 1 + int(Math.max(1, pages - 2));
      const whole = rnd() < 0.3;
      const at = page * PAGE + (whole ? 0 : int(PAGE));
      const len = whole ? PAGE : 1 + int(4_096);
      const zero = rnd() < 0.5;
      list.push({ name: `page ${page} ${zero ? 'zero' : 'random'} ${at}+${len}`, apply: (b) => (fill(b, at, len, zero), b) });
    } else {
      const spots = Array.from({ length: 1 + int(6) }, () => [int(size), int(256)] as const);
      list.push({ name: `bytes ${spots.map(([a]) => a).join(',')}`, apply: (b) => (spots.forEach(([a, v]) => (b[a] = v)), b) });
    }
  }
  return list;
}

/** Writes `m` applied to a copy of `base` to `path`. */
export function writeMutation(base: string, m: Mutation, path: string): void {
  writeFileSync(path, m.apply(Buffer.from(readFileSync(base))));
}
