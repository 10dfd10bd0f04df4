#!/usr/bin/env node
// The recording writer's cost per exchange as the number of sessions grows:
// a long capture of one-exchange sessions (health checks, API clients with no
// cookie, bots), the shape where keeping `sessions` current per commit got
// slower with every session (see src/store/schema.ts, CREATE_SESSION_LOG_SQL).
// Adds `--rows` exchanges, each its own session (a random 22-character
// token, as redaction makes), in commits of `--per` rows (a recorder at
// 5,000 exchanges/s commits ~250 every 50 ms), and prints the wall time per
// exchange for each slice of 50,000. Wall time, because the writer thread's
// commit is what a flush waits for.
//
//   npm run build && node bench/writer-sessions.mjs [--rows 400000] [--per 250] [--rounds 2] [--before <checkout>]
// --before: a checkout (built) whose writer runs interleaved with this one's, round by round.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '400000' },
    per: { type: 'string', default: '250' },
    rounds: { type: 'string', default: '2' },
    before: { type: 'string' },
  },
});
const ROWS = Number(values.rows);
const PER = Number(values.per);
const SLICE = 50_000;
const builds = [['after', resolve(import.meta.dirname, '..')]];
if (values.before) builds.unshift(['before', resolve(values.before)]);
const dir = mkdtempSync(join(tmpdir(), 'fb-bench-writer-sessions-'));
const headers = [['host', '127.0.0.1:3000'], ['user-agent', 'kube-probe/1.29'], ['accept', '*/*']];
const body = Buffer.alloc(60, 97);

async function once(root, file) {
  const { RecordingWriter } = await import(join(root, 'dist/store/recording-writer.js'));
  const w = await RecordingWriter.create(file, { source: 'record', upstream: 'http://127.0.0.1:3000', toolVersion: 'bench', redacted: true }, { flushMs: 50 });
  const slices = [];
  let t0 = performance.now();
  for (let i = 0; i < ROWS; ) {
    for (let j = 0; j < PER && i < ROWS; j++, i++) {
      w.add({ id: 0, sessionKey: `redacted:${randomBytes(16).toString('base64url')}`, seq: 0, startOffsetUs: i * 200, durationUs: 300, method: 'GET',
        target: `/healthz?i=${i % 50}`, host: '127.0.0.1:3000', scheme: 'http', route: 'GET /healthz', requestHeaders: headers, requestBody: null,
        requestBodyBytes: 0, requestBodyTruncated: false, status: 200, responseHeaders: headers, responseBody: body, responseBodyBytes: body.length,
        responseBodyTruncated: false, responseEncoding: null, error: null, errorDetail: null }, { device: 'bot' }, 'request');
    }
    await w.flush();
    if (i % SLICE === 0 || i === ROWS) {
      const t = performance.now();
      slices.push(((t - t0) * 1000) / SLICE);
      t0 = t;
    }
  }
  const c0 = performance.now();
  await w.close();
  return { slices, closeMs: performance.now() - c0 };
}

console.log(`# writer, one-exchange sessions — ${new Date().toISOString()}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`${ROWS} exchanges, commits of ${PER}; µs per exchange (wall) per slice of ${SLICE}\n`);
console.log(`| round | build | ${Array.from({ length: Math.ceil(ROWS / SLICE) }, (_, k) => `to ${((k + 1) * SLICE) / 1000}k`).join(' | ')} | close |`);
console.log(`|---|---|${'---|'.repeat(Math.ceil(ROWS / SLICE))}---|`);
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const [name, root] of builds) {
      const file = join(dir, `${name}-${round}.db`);
      const r = await once(root, file);
      console.log(`| ${round} | ${name} | ${r.slices.map((x) => x.toFixed(1)).join(' | ')} | ${(r.closeMs / 1000).toFixed(1)} s |`);
      rmSync(file, { force: true });
      rmSync(`${file}.partial`, { force: true });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
