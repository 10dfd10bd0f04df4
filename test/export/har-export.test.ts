import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/model/exchange.js';
import { decodeBody, bodyAsText } from '../../src/export/body-text.js';
import { exportHar, harEntryOf } from '../../src/export/har-export.js';
import { readGor } from '../../src/import/gor-reader.js';
import { readHarExchanges } from '../../src/import/har-import.js';
import { DEFAULT_MAX_BODY_BYTES, importExchanges, type ImportOptions } from '../../src/import/import-pipeline.js';
import { ImportStats, type RawExchange } from '../../src/import/raw-exchange.js';
import { RecordingReader } from '../../src/store/recording-reader.js';

const FIX = resolve(import.meta.dirname, '../fixtures');
const dir = mkdtempSync(join(tmpdir(), 'fb-export-'));

function options(outPath: string, over: Partial<ImportOptions> = {}): ImportOptions {
  return {
    outPath,
    source: 'import:gor',
    toolVersion: 'test',
    sessionKey: { kind: 'client', idleUs: 30 * 60 * 1e6 },
    redact: true,
    includeStatic: true,
    filterHosts: null,
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    ...over,
  };
}

async function importWith(path: string, read: (stats: ImportStats) => AsyncIterable<RawExchange>, over: Partial<ImportOptions> = {}): Promise<void> {
  const stats = new ImportStats();
  await importExchanges(read(stats), stats, options(path, over));
}

function exchangesOf(path: string): Exchange[] {
  const r = RecordingReader.open(path);
  try {
    return [...r.exchanges({ withBodies: true })];
  } finally {
    r.close();
  }
}

/** What must survive export → import: everything but row ids and on-the-wire body encoding. */
function comparable(ex: Exchange): Record<string, unknown> {
  return {
    sessionKey: ex.sessionKey,
    seq: ex.seq,
    startOffsetUs: ex.startOffsetUs,
    durationUs: ex.durationUs,
    method: ex.method,
    target: ex.target,
    host: ex.host,
    scheme: ex.scheme,
    route: ex.route,
    requestHeaders: ex.requestHeaders,
    requestBody: ex.requestBody ? Buffer.from(ex.requestBody).toString('base64') : null,
    status: ex.status,
    responseHeaders: ex.responseHeaders,
    responseBody: ex.responseBody ? Buffer.from(decodeBody(ex.responseBody, ex.responseEncoding)).toString('base64') : null,
    error: ex.error,
    errorDetail: ex.errorDetail,
  };
}

describe('export har', () => {
  it('round-trips: import(export(rec)) has the same exchanges, sessions and offsets', async () => {
    const rec = join(dir, 'gor.db');
    await importWith(rec, (s) => readGor(join(FIX, 'gor/shop.gor'), s));
    const har = join(dir, 'gor.har');
    const reader = RecordingReader.open(rec);
    const { entries } = await exportHar(reader, har, 'test');
    reader.close();
    expect(entries).toBe(5);
    const back = join(dir, 'gor-back.db');
    await importWith(back, (s) => readHarExchanges(har, s), { source: 'import:har' });
    const before = exchangesOf(rec).map(comparable);
    const after = exchangesOf(back).map(comparable);
    expect(after).toEqual(before);
  });

  it('re-derives sessions from the rule instead of the file when told to', async () => {
    const rec = join(dir, 'gor2.db');
    await importWith(rec, (s) => readGor(join(FIX, 'gor/shop.gor'), s));
    const har = join(dir, 'gor2.har');
    const reader = RecordingReader.open(rec);
    await exportHar(reader, har, 'test');
    reader.close();
    const back = join(dir, 'gor2-back.db');
    await importWith(back, (s) => readHarExchanges(har, s), { sessionKey: { kind: 'none' }, keepFileSessions: false });
    expect(new Set(exchangesOf(rec).map((e) => e.sessionKey)).size).toBe(3);
    expect(new Set(exchangesOf(back).map((e) => e.sessionKey)).size).toBe(5);
  });

  it('round-trips the Chromium HAR, failures and binary bodies included', async () => {
    const rec = join(dir, 'devtools.db');
    await importWith(rec, (s) => readHarExchanges(join(FIX, 'har/devtools-h2.har'), s), { sessionKey: { kind: 'auto' } });
    const har = join(dir, 'devtools.har');
    const reader = RecordingReader.open(rec);
    await exportHar(reader, har, 'test');
    reader.close();
    const back = join(dir, 'devtools-back.db');
    await importWith(back, (s) => readHarExchanges(har, s));
    expect(exchangesOf(back).map(comparable)).toEqual(exchangesOf(rec).map(comparable));
    expect(exchangesOf(back).find((e) => e.status === null)?.error).toBe('refused');
  });

  it('writes a HAR 1.2 document with the fields devtools needs', async () => {
    const rec = join(dir, 'chromium.db');
    await importWith(rec, (s) => readHarExchanges(join(FIX, 'har/chromium.har'), s), { sessionKey: { kind: 'auto' } });
    const har = join(dir, 'chromium.har');
    const reader = RecordingReader.open(rec);
    await exportHar(reader, har, '9.9.9');
    reader.close();
    const doc = JSON.parse(readFileSync(har, 'utf8'));
    expect(doc.log.version).toBe('1.2');
    expect(doc.log.creator).toEqual({ name: 'flashback', version: '9.9.9' });
    expect(doc.log.entries).toHaveLength(7);
    for (const e of doc.log.entries) {
      expect(Number.isNaN(Date.parse(e.startedDateTime))).toBe(false);
      expect(typeof e.time).toBe('number');
      expect(e.request).toMatchObject({ method: expect.any(String), url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//), httpVersion: 'HTTP/1.1' });
      expect(Array.isArray(e.request.headers) && Array.isArray(e.request.cookies) && Array.isArray(e.request.queryString)).toBe(true);
      expect(e.response).toMatchObject({ status: expect.any(Number), content: { size: expect.any(Number), mimeType: expect.any(String) } });
      expect(e.timings).toMatchObject({ send: expect.any(Number), wait: expect.any(Number), receive: expect.any(Number) });
      expect(e.cache).toEqual({});
    }
    const png = doc.log.entries.find((e: { request: { url: string } }) => e.request.url.endsWith('.png'));
    expect(png.response.content.encoding).toBe('base64');
    expect(doc.log.entries[0].request.queryString).toEqual([]);
  });

  it('decodes gzip bodies and keeps binary ones as base64', () => {
    const gz = gzipSync(Buffer.from('{"a":1}'));
    const ex = {
      sessionKey: 's', seq: 0, startOffsetUs: 0, durationUs: 1500, method: 'GET', target: '/x?q=1&r=2', host: null, scheme: 'http',
      route: 'GET /x', requestHeaders: [], requestBody: null, requestBodyBytes: 0, requestBodyTruncated: false, status: 200,
      responseHeaders: [['content-type', 'application/json'], ['content-encoding', 'gzip']], responseBody: gz, responseBodyBytes: gz.length,
      responseBodyTruncated: false, responseEncoding: 'gzip', error: null, errorDetail: null,
    } satisfies Exchange;
    const entry = harEntryOf(ex, 1_700_000_000_000_123, 'shop.example');
    expect(entry.response.content).toMatchObject({ text: '{"a":1}', size: 7 });
    expect(entry.request.url).toBe('http://shop.example/x?q=1&r=2');
    expect(entry.request.queryString).toEqual([{ name: 'q', value: '1' }, { name: 'r', value: '2' }]);
    expect(entry.time).toBe(1.5);
    expect(bodyAsText(new Uint8Array([0xff, 0xfe, 0x00]), 'application/json')).toEqual({ text: '//4A', base64: true });
  });
});
