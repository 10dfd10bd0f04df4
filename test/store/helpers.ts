import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Exchange } from '../../src/model/exchange.js';

/** A fresh temporary directory and a function removing it. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'flashback-store-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Meta for test recordings. */
export const TEST_META = { source: 'generated', upstream: 'http://127.0.0.1:3000', toolVersion: '0.0.0-test', redacted: false };

/** An exchange with sensible defaults; override what the test cares about. */
export function makeExchange(over: Partial<Exchange> = {}): Exchange {
  return {
    sessionKey: 's1',
    seq: 0,
    startOffsetUs: 0,
    durationUs: 1_000,
    method: 'GET',
    target: '/products/1',
    host: '127.0.0.1:3000',
    scheme: 'http',
    route: 'GET /products/:id',
    requestHeaders: [['user-agent', 'test']],
    requestBody: null,
    requestBodyBytes: 0,
    requestBodyTruncated: false,
    status: 200,
    responseHeaders: [['content-type', 'application/json']],
    responseBody: new TextEncoder().encode('{"ok":true}'),
    responseBodyBytes: 11,
    responseBodyTruncated: false,
    responseEncoding: null,
    error: null,
    errorDetail: null,
    ...over,
  };
}
