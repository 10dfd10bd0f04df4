import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecording } from '../../src/record/start-recording.js';
import { parseSessionKey } from '../../src/segment/session-key.js';
import { RecordingReader } from '../../src/store/recording-reader.js';
import { startServer } from './helpers.js';

/** `record` started while visits were under way: the clients carry `sid`, the server never sets it. */
describe('record: sessions from request cookies', () => {
  let dir: string;
  let upstream: Awaited<ReturnType<typeof startServer>>;
  let keys: Map<string, Set<string>>;
  let rules: Array<{ rule: string | null; sessions: number; exchanges: number }> | null;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-record-sessions-'));
    upstream = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'AWSALB=c2hhcmVkYmFja2VuZDE; Path=/' });
      res.end('{}');
    });
    const file = join(dir, 'rec.db');
    const rec = await startRecording({
      target: upstream.url,
      forward: false,
      host: '127.0.0.1',
      port: 0,
      out: file,
      maxBodyBytes: 1024,
      sessionKey: parseSessionKey('auto'),
      routes: [],
      cohortRules: [],
      redact: true,
      insecure: false,
      overwrite: false,
      toolVersion: 'test',
    });
    for (let i = 0; i < 9; i++) {
      const sid = `v${i % 3}a7c9e1b3d5f`;
      const r = await request(`${rec.url}/page/${i}?visitor=${i % 3}`, { headers: { cookie: `sid=${sid}; AWSALB=c2hhcmVkYmFja2VuZDE` } });
      await r.body.dump();
    }
    await rec.stop();
    const reader = RecordingReader.open(file);
    keys = new Map();
    for (const ex of reader.exchanges()) {
      const visitor = /visitor=(\d)/.exec(ex.target)![1]!;
      if (!keys.has(visitor)) keys.set(visitor, new Set());
      keys.get(visitor)!.add(ex.sessionKey);
    }
    rules = reader.summary().sessionRules;
    reader.close();
  }, 60_000);

  afterAll(async () => {
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives one session per sid value, not one per request, with no --session-key', () => {
    expect([...keys.values()].map((k) => k.size)).toEqual([1, 1, 1]);
    expect(new Set([...keys.values()].map((k) => [...k][0])).size).toBe(3);
  });

  it('stores that the request cookie keyed them (not the stickiness cookie the server set)', () => {
    expect(rules).toEqual([{ rule: 'cookie-request:sid', sessions: 3, exchanges: 9 }]);
  });
});
