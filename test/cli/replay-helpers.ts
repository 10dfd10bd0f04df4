import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingWriter } from '../../src/store/recording-writer.js';
import type { Exchange } from '../../src/model/exchange.js';

export { flashback } from './run-cli.js';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fb-replay-'));
}

/** Writes a recording of `sessions` sessions of `perSession` GETs, `gapUs` apart. */
export async function writeRecording(
  path: string,
  opts: { sessions: number; perSession: number; sessionGapUs: number; gapUs: number; upstream?: string },
): Promise<void> {
  const w = await RecordingWriter.create(path, { source: 'generated', upstream: opts.upstream ?? null, toolVersion: 'test', redacted: false });
  for (let s = 0; s < opts.sessions; s++) {
    for (let i = 0; i < opts.perSession; i++) {
      const ex: Exchange = {
        sessionKey: `s${s}`, seq: i, startOffsetUs: s * opts.sessionGapUs + i * opts.gapUs, durationUs: 1000,
        method: 'GET', target: `/item/${s}?step=${i}`, host: null, scheme: 'http', route: 'GET /item/:id',
        requestHeaders: [['accept', '*/*']], requestBody: null, requestBodyBytes: 0, requestBodyTruncated: false,
        status: 200, responseHeaders: [], responseBody: null, responseBodyBytes: 0, responseBodyTruncated: false,
        responseEncoding: null, error: null, errorDetail: null,
      };
      w.add(ex, { device: s % 2 ? 'mobile' : 'desktop' });
    }
  }
  await w.close();
}
