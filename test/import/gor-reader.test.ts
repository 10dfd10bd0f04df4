import { resolve, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { headerValue } from '../../src/model/exchange.js';
import { parseGorMeta, readGor } from '../../src/import/gor-reader.js';
import { ImportStats, type RawExchange } from '../../src/import/raw-exchange.js';

const FIX = resolve(import.meta.dirname, '../fixtures/gor');

async function collect(path: string, stats = new ImportStats()): Promise<RawExchange[]> {
  const out: RawExchange[] = [];
  for await (const ex of readGor(path, stats)) out.push(ex);
  return out;
}

describe('parseGorMeta', () => {
  it.each([
    ['1 a1b2 1714557600000000000', { type: 1, id: 'a1b2', timestampNs: 1714557600000000000n, latencyNs: null }],
    ['2 a1b2 1714557600012000000 12000000', { type: 2, id: 'a1b2', timestampNs: 1714557600012000000n, latencyNs: 12000000n }],
  ])('reads "%s"', (line, expected) => {
    expect(parseGorMeta(line)).toEqual(expected);
  });

  it('refuses a line that is not a payload header', () => {
    expect(parseGorMeta('GET / HTTP/1.1')).toBeNull();
    expect(parseGorMeta('4 abc 123')).toBeNull();
  });
});

describe('readGor', () => {
  it('pairs requests with responses by id, with ns timestamps and latencies', async () => {
    const stats = new ImportStats();
    const all = await collect(join(FIX, 'shop.gor'), stats);
    expect(all.map((e) => `${e.method} ${e.target} ${e.status}`)).toEqual([
      'GET /products?page=1 200',
      'GET /products/42 200',
      'POST /cart/items 201',
      'GET /search?q=mug 200',
      'GET /health null',
    ]);
    const [first, second, post] = all;
    expect(first!.startUs).toBe(1714557600000000);
    expect(first!.durationUs).toBe(12_000);
    expect(first!.clientAddress).toBe('198.51.100.4');
    expect(first!.host).toBe('shop.example');
    expect(headerValue(first!.responseHeaders, 'set-cookie')).toBe('sid=9f2c4e6a8b0d1f3e5a7c9e1b; Path=/');
    expect(Buffer.from(second!.responseBody!).toString()).toBe('{"id":42}');
    expect(Buffer.from(post!.requestBody!).toString()).toBe('{"sku":42,"qty":2}\r\n');
    expect(stats.skippedRecord()).toEqual({ 'replayed response (type 3)': 1 });
    expect(stats.notes.join(' ')).toMatch(/1 requests had no captured response/);
  });

  it('refuses a file whose payloads are not split on the GoReplay separator', async () => {
    await expect(collect(join(FIX, 'wrong-delimiter.gor'))).rejects.toThrow(
      /wrong-delimiter\.gor: payload 1 holds several messages: the file is not split on GoReplay's separator/,
    );
  });

  it('refuses a file without GoReplay meta lines', async () => {
    await expect(collect(join(FIX, 'garbage.gor'))).rejects.toThrow(/payload 1 does not start with a GoReplay meta line/);
  });
});
