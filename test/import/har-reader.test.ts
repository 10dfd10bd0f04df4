import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import { headerValue, headerValues } from '../../src/model/exchange.js';
import { harEntryToExchange, HarEntryError, parseIsoUs } from '../../src/import/har-entry.js';
import { readHar, type HarItem } from '../../src/import/har-reader.js';

const FIX = resolve(import.meta.dirname, '../fixtures/har');

async function collect(path: string): Promise<HarItem[]> {
  const out: HarItem[] = [];
  for await (const item of readHar(path)) out.push(item);
  return out;
}

describe('readHar', () => {
  it('streams the pages and entries of a HAR recorded by headless Chromium', async () => {
    const items = await collect(join(FIX, 'chromium.har'));
    const entries = items.filter((i) => i.kind === 'entry');
    expect(entries).toHaveLength(7);
    expect(items.filter((i) => i.kind === 'page').length).toBeGreaterThanOrEqual(1);
  });

  it('reads a gzipped HAR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-har-'));
    const p = join(dir, 'x.har.gz');
    writeFileSync(p, gzipSync(readFileSync(join(FIX, 'chromium.har'))));
    expect((await collect(p)).filter((i) => i.kind === 'entry')).toHaveLength(7);
  });

  it('rejects a truncated HAR with one line naming the file', async () => {
    const err = await collect(join(FIX, 'truncated.har')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^Failed to read HAR file .*truncated\.har: invalid or truncated JSON/);
  });

  it('rejects JSON that is not a HAR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-har-'));
    const p = join(dir, 'x.har');
    writeFileSync(p, JSON.stringify({ hello: [1, 2] }));
    await expect(collect(p)).rejects.toThrow(/not a HAR file \(no log\.entries array\)/);
  });

  it('rejects a file that is not JSON at all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-har-'));
    const p = join(dir, 'x.har');
    writeFileSync(p, 'GET / HTTP/1.1\r\n\r\n');
    await expect(collect(p)).rejects.toThrow(/invalid or truncated JSON after 0 entries/);
  });

  it('names a missing file', async () => {
    await expect(collect('/nonexistent/x.har')).rejects.toThrow(/x\.har: no such file/);
  });
});

describe('harEntryToExchange', () => {
  async function devtoolsEntries(): Promise<Array<Record<string, unknown>>> {
    const items = await collect(join(FIX, 'devtools-h2.har'));
    return items.flatMap((i) => (i.kind === 'entry' ? [i.entry] : []));
  }

  it('drops HTTP/2 pseudo-headers and merges duplicate cookie headers', async () => {
    const [first] = await devtoolsEntries();
    const ex = harEntryToExchange(first!);
    expect(ex.requestHeaders.some(([n]) => n.startsWith(':'))).toBe(false);
    expect(headerValues(ex.requestHeaders, 'cookie')).toEqual(['sid=abc123; theme=dark']);
    expect(headerValues(ex.responseHeaders, 'set-cookie')).toEqual(['seen=1; Path=/', 'ab=b; Path=/']);
    expect(ex.host).toBe('shop.example');
    expect(ex.scheme).toBe('https');
    expect(ex.target).toBe('/products/42?ref=home');
  });

  it('keeps sub-millisecond start times and the entry time as duration', async () => {
    const [first] = await devtoolsEntries();
    const ex = harEntryToExchange(first!);
    expect(ex.startUs).toBe(Date.UTC(2024, 4, 1, 10) * 1000 + 123_456);
    expect(ex.durationUs).toBe(85_250);
    expect(parseIsoUs('2024-05-01T10:00:00.5+02:00')).toBe(Date.UTC(2024, 4, 1, 8) * 1000 + 500_000);
  });

  it('decodes base64 request and response bodies', async () => {
    const entries = await devtoolsEntries();
    const upload = harEntryToExchange(entries[1]!);
    expect([...upload.requestBody!]).toEqual([0, 1, 2, 255]);
    const login = harEntryToExchange(entries[2]!);
    expect(Buffer.from(login.responseBody!).toString()).toBe('{"ok":true}');
  });

  it('builds a form body from postData.params and a cookie header from request.cookies', async () => {
    const login = harEntryToExchange((await devtoolsEntries())[2]!);
    expect(Buffer.from(login.requestBody!).toString()).toBe('user=ann&password=hunter2');
    expect(headerValue(login.requestHeaders, 'cookie')).toBe('sid=abc123');
  });

  it('turns a failed request (status 0, _error) into an error exchange', async () => {
    const failed = harEntryToExchange((await devtoolsEntries())[4]!);
    expect(failed.status).toBeNull();
    expect(failed.error).toBe('refused');
    expect(failed.errorDetail).toBe('net::ERR_CONNECTION_REFUSED');
  });

  it('refuses entries without a url or a start time', () => {
    expect(() => harEntryToExchange({ request: { method: 'GET' } })).toThrow(HarEntryError);
    expect(() => harEntryToExchange({ request: { method: 'GET', url: 'http://a/' } })).toThrow(/startedDateTime/);
  });
});
