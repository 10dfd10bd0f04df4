import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Har } from 'har-format';
import { describe, expect, it } from 'vitest';
import { exportHar, harEntryOf } from '../../src/export/har-export.js';
import { readHarExchanges } from '../../src/import/har-import.js';
import { DEFAULT_MAX_BODY_BYTES, importExchanges } from '../../src/import/import-pipeline.js';
import { ImportStats } from '../../src/import/raw-exchange.js';
import type { Exchange } from '../../src/model/exchange.js';
import { RecordingReader } from '../../src/store/recording-reader.js';
import { schemaValidator } from '../schema-validator.js';

const FIX = resolve(import.meta.dirname, '../fixtures/har');
const dir = mkdtempSync(join(tmpdir(), 'fb-har-schema-'));
const validateHar = schemaValidator(resolve(import.meta.dirname, 'har-1.2.schema.json'));

const exports = new Map<string, Promise<Har>>();

/** Imports a HAR fixture into a recording and exports it again (once per fixture); the exported document. */
function exported(fixture: string): Promise<Har> {
  let p = exports.get(fixture);
  if (!p) exports.set(fixture, (p = exportOnce(fixture)));
  return p;
}

async function exportOnce(fixture: string): Promise<Har> {
  const rec = join(dir, `${fixture}.db`);
  const stats = new ImportStats();
  await importExchanges(readHarExchanges(join(FIX, fixture), stats), stats, {
    outPath: rec, source: 'import:har', toolVersion: 'test', sessionKey: { kind: 'auto' }, redact: true,
    includeStatic: true, filterHosts: null, maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  });
  const out = join(dir, `${fixture}.out.har`);
  const reader = RecordingReader.open(rec);
  try {
    await exportHar(reader, out, '1.2.3');
  } finally {
    reader.close();
  }
  return JSON.parse(readFileSync(out, 'utf8')) as Har;
}

const binaryPost: Exchange = {
  sessionKey: 's', seq: 0, startOffsetUs: 0, durationUs: 2500, method: 'POST', target: '/upload', host: 'shop.example', scheme: 'https',
  route: 'POST /upload', requestHeaders: [['content-type', 'application/octet-stream']], requestBody: new Uint8Array([0, 255, 1]),
  requestBodyBytes: 3, requestBodyTruncated: false, status: null, responseHeaders: [], responseBody: null, responseBodyBytes: 0,
  responseBodyTruncated: false, responseEncoding: null, error: 'reset', errorDetail: 'socket hang up',
};

describe('exported HAR files follow HAR 1.2', () => {
  it.each(['chromium.har', 'devtools-h2.har'])('the export of %s validates against the HAR 1.2 schema', async (fixture) => {
    const har = await exported(fixture);
    expect(har.log.entries.length).toBeGreaterThan(0);
    expect(validateHar(har)).toEqual([]);
  });

  it('each entry\'s time is the sum of its timings, as HAR 1.2 defines it (-1: not applicable)', async () => {
    const har = await exported('devtools-h2.har');
    for (const e of har.log.entries) {
      const sum = Object.values(e.timings).filter((v): v is number => typeof v === 'number' && v >= 0).reduce((a, v) => a + v, 0);
      expect(sum).toBeCloseTo(e.time, 6);
    }
  });

  it('a failed exchange with a binary request body is a valid entry: status 0, _error, base64 body in _encoding', () => {
    const entry = harEntryOf(binaryPost, 1_700_000_000_000_000, 'x');
    expect(validateHar({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries: [entry] } })).toEqual([]);
    expect(entry.request.postData).toEqual({ mimeType: 'application/octet-stream', text: 'AP8B', _encoding: 'base64' });
    expect(entry.response).toMatchObject({ status: 0, httpVersion: '', _error: 'socket hang up' });
    expect(entry._flashbackError).toBe('reset');
  });

  it('the schema rejects what HAR 1.2 does not allow (so passing it means something)', () => {
    const entry = harEntryOf(binaryPost, 1_700_000_000_000_000, 'x');
    const broken = structuredClone(entry) as unknown as Record<string, Record<string, unknown>>;
    delete broken['timings'];
    (broken['request']!['postData'] as Record<string, unknown>)['encoding'] = 'base64';
    broken['response']!['status'] = '200';
    const problems = validateHar({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries: [broken] } });
    expect(problems).toEqual(expect.arrayContaining([
      "/log/entries/0 must have required property 'timings'",
      '/log/entries/0/request/postData must NOT have additional properties (encoding)',
      '/log/entries/0/response/status must be integer',
    ]));
  });
});
