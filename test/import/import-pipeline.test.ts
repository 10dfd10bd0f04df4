import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import { headerValue, type Exchange } from '../../src/model/exchange.js';
import { readAccessLog } from '../../src/import/access-log-reader.js';
import { readGor } from '../../src/import/gor-reader.js';
import { readHarExchanges } from '../../src/import/har-import.js';
import { DEFAULT_MAX_BODY_BYTES, importExchanges, type ImportOptions } from '../../src/import/import-pipeline.js';
import { ImportStats, type RawExchange } from '../../src/import/raw-exchange.js';
import { RecordingReader } from '../../src/store/recording-reader.js';
import type { Session } from '../../src/model/session.js';

const FIX = resolve(import.meta.dirname, '../fixtures');
const dir = mkdtempSync(join(tmpdir(), 'fb-import-'));
let n = 0;

function options(over: Partial<ImportOptions> = {}): ImportOptions {
  return {
    outPath: join(dir, `rec-${++n}.db`),
    source: 'import:har',
    toolVersion: 'test',
    sessionKey: { kind: 'auto' },
    redact: true,
    includeStatic: false,
    filterHosts: null,
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    ...over,
  };
}

function readBack(path: string): { sessions: Session[]; exchanges: Exchange[] } {
  const r = RecordingReader.open(path);
  try {
    const sessions = [...r.sessions({ withBodies: true })];
    return { sessions, exchanges: sessions.flatMap((s) => s.exchanges) };
  } finally {
    r.close();
  }
}

describe('importExchanges', () => {
  it('imports the Chromium HAR as one cookie session, static assets skipped, secrets redacted', async () => {
    const stats = new ImportStats();
    const opts = options();
    const summary = await importExchanges(readHarExchanges(join(FIX, 'har/chromium.har'), stats), stats, opts);
    expect(summary.exchanges).toBe(5);
    expect(summary.sessions).toBe(1);
    expect(summary.skipped).toEqual({ 'static asset (--include-static keeps them)': 2 });
    const { sessions, exchanges } = readBack(opts.outPath);
    expect(sessions[0]!.key).toMatch(/^cookie:sid:redacted:/);
    expect(exchanges.map((e) => e.route)).toEqual([
      'GET /',
      'GET /api/products',
      'GET /api/products/:id',
      'POST /api/cart/items',
      'GET /api/missing',
    ]);
    expect(exchanges[0]!.startOffsetUs).toBe(0);
    expect(exchanges.every((e, i) => i === 0 || e.startOffsetUs >= exchanges[i - 1]!.startOffsetUs)).toBe(true);
    const post = exchanges[3]!;
    expect(JSON.parse(Buffer.from(post.requestBody!).toString())).toEqual({ sku: 42, qty: 2 });
    expect(headerValue(post.requestHeaders, 'cookie')).toMatch(/^sid=redacted:/);
    expect(readFileSync(opts.outPath).includes('s3cr3t-session-42')).toBe(false);
    const meta = RecordingReader.open(opts.outPath);
    expect(meta.meta()).toMatchObject({ source: 'import:har', redacted: true });
    meta.close();
  });

  it('keeps static assets with includeStatic and filters by host glob', async () => {
    const stats = new ImportStats();
    const opts = options({ includeStatic: true, filterHosts: ['*.example'] });
    const summary = await importExchanges(readHarExchanges(join(FIX, 'har/devtools-h2.har'), stats), stats, opts);
    expect(summary.exchanges).toBe(5);
    const stats2 = new ImportStats();
    const summary2 = await importExchanges(
      readHarExchanges(join(FIX, 'har/devtools-h2.har'), stats2),
      stats2,
      options({ includeStatic: true, filterHosts: ['shop.example'] }),
    );
    expect(summary2.exchanges).toBe(4);
    expect(summary2.skipped).toEqual({ 'other host (--filter-host)': 1 });
  });

  it('imports GoReplay traffic with client-address sessions and cohorts from headers', async () => {
    const stats = new ImportStats();
    const opts = options({ source: 'import:gor', sessionKey: { kind: 'client', idleUs: 30 * 60 * 1e6 } });
    const summary = await importExchanges(readGor(join(FIX, 'gor/shop.gor'), stats), stats, opts);
    expect(summary.exchanges).toBe(5);
    // 198.51.100.4 (3 requests), 203.0.113.9 (1), and the /health probe without an address.
    expect(summary.sessions).toBe(3);
    const { sessions } = readBack(opts.outPath);
    expect(sessions.map((s) => s.exchanges.length).sort()).toEqual([1, 1, 3]);
    expect(sessions.find((s) => s.exchanges.length === 3)!.cohort).toMatchObject({ device: 'desktop' });
  });

  it('splits access-log sessions by client and user agent after 30 idle minutes', async () => {
    const stats = new ImportStats();
    const opts = options({ source: 'import:log', sessionKey: { kind: 'client', idleUs: 30 * 60 * 1e6 } });
    const summary = await importExchanges(readAccessLog(join(FIX, 'logs/access.log'), { skipBad: false }, stats), stats, opts);
    expect(summary.exchanges).toBe(5);
    const { sessions } = readBack(opts.outPath);
    // The iPhone client: 3 requests, then one 45 minutes later (a new session); the desktop client: 1.
    expect(sessions.map((s) => s.exchanges.map((e) => e.target))).toEqual([
      ['/products?page=1', '/products/42', '/products/43'],
      ['/search?q=mug'],
      ['/products/44'],
    ]);
    expect(sessions[0]!.cohort).toMatchObject({ device: 'mobile' });
    expect(sessions[2]!.startOffsetUs).toBe(45 * 60 * 1e6);
  });

  it('leaves no recording, partial file or key behind when the input is malformed', async () => {
    const stats = new ImportStats();
    const opts = options();
    const err = await importExchanges(readHarExchanges(join(FIX, 'har/truncated.har'), stats), stats, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(readdirSync(dir).filter((f) => f.startsWith(`rec-${n}.`))).toEqual([]);
  });

  it('aborts a recording already being written when a later item is fatal', async () => {
    async function* items(): AsyncGenerator<RawExchange> {
      const stats = new ImportStats();
      for await (const ex of readGor(join(FIX, 'gor/shop.gor'), stats)) yield ex;
      throw new InputError('Failed to read x: boom at the end');
    }
    const opts = options();
    await expect(importExchanges(items(), new ImportStats(), opts)).rejects.toThrow(/boom at the end/);
    expect(existsSync(opts.outPath)).toBe(false);
    expect(existsSync(`${opts.outPath}.partial`)).toBe(false);
    expect(existsSync(`${opts.outPath}.key`)).toBe(false);
  });

  it('refuses an import that keeps nothing, naming why', async () => {
    const stats = new ImportStats();
    const opts = options({ filterHosts: ['nowhere.example'] });
    await expect(importExchanges(readHarExchanges(join(FIX, 'har/chromium.har'), stats), stats, opts)).rejects.toThrow(
      /Nothing to import: all 7 requests were skipped \(other host \(--filter-host\): 7\)/,
    );
    expect(existsSync(opts.outPath)).toBe(false);
  });

  it('applies scenario route templates before the built-in templating', async () => {
    const stats = new ImportStats();
    const opts = options({ routes: ['/api/products/:productId'] });
    await importExchanges(readHarExchanges(join(FIX, 'har/chromium.har'), stats), stats, opts);
    expect(readBack(opts.outPath).exchanges.map((e) => e.route)).toContain('GET /api/products/:productId');
  });

  it('caps bodies at maxBodyBytes and flags them truncated', async () => {
    const stats = new ImportStats();
    const opts = options({ maxBodyBytes: 10 });
    await importExchanges(readHarExchanges(join(FIX, 'har/chromium.har'), stats), stats, opts);
    const home = readBack(opts.outPath).exchanges[0]!;
    expect(home.responseBody!.length).toBe(10);
    expect(home.responseBodyTruncated).toBe(true);
    expect(home.responseBodyBytes).toBeGreaterThan(10);
  });
});
