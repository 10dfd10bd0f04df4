#!/usr/bin/env node
// Throughput of RecordingWriter and the main thread's event-loop delay while it writes.
//
//   npm run build && node bench/store-write.mjs [rows=100000] [rate=5000] [seconds=5]
//
// Three runs, each on a fresh file in a temp dir, after 2 s of idle measurement (the noise floor):
//   burst    add `rows` exchanges as fast as the main thread can (yielding every 200 rows), then close();
//            reports rows/s end to end (first add → file renamed) and main-thread event-loop delay.
//   paced    add `rate` exchanges per second for `seconds` (setInterval every 10 ms), like a busy proxy;
//            reports event-loop delay and how far the writer lagged (queued) at the end.
//   read     streams the burst file back: sessions() with and without bodies, exchanges(), summary().
//   inline   the naive alternative for comparison: better-sqlite3 on the main thread, same schema,
//            1,000-row transactions; reports the same event-loop delay.
// Rows are ~500 B request body and ~2 KB response body (as in PERFORMANCE-NOTES).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { RecordingReader } from '../dist/store/recording-reader.js';
import { RecordingWriter } from '../dist/store/recording-writer.js';
import { CREATE_TABLES_SQL, INSERT_EXCHANGE_SQL, RECORDING_PAGE_SIZE } from '../dist/store/schema.js';

const ROWS = Number(process.argv[2] ?? 100_000);
const RATE = Number(process.argv[3] ?? 5_000);
const SECONDS = Number(process.argv[4] ?? 5);
const META = { source: 'generated', upstream: 'http://127.0.0.1:3000', toolVersion: 'bench', redacted: false };
const pool = randomBytes(1 << 20);

function exchange(i) {
  const at = (i * 2_617) % (pool.length - 3_000);
  return {
    sessionKey: `redacted:session${i % 1_000}`,
    seq: 0,
    startOffsetUs: i * 200,
    durationUs: 1_000 + (i % 50_000),
    method: i % 5 ? 'GET' : 'POST',
    target: `/products/${i % 5_000}?ref=home`,
    host: '127.0.0.1:3000',
    scheme: 'http',
    route: i % 5 ? 'GET /products/:id' : 'POST /cart/:id/items',
    requestHeaders: [['user-agent', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)'], ['accept', 'application/json'], ['cookie', 'sid=redacted:AAAAAAAAAAAAAAAA']],
    requestBody: pool.subarray(at, at + 500),
    requestBodyBytes: 500,
    requestBodyTruncated: false,
    status: 200,
    responseHeaders: [['content-type', 'application/json'], ['content-length', '2048'], ['cache-control', 'no-store']],
    responseBody: pool.subarray(at + 500, at + 2_548),
    responseBodyBytes: 2_048,
    responseBodyTruncated: false,
    responseEncoding: null,
    error: null,
    errorDetail: null,
  };
}
const COHORT = { device: 'mobile', region: 'eu', auth: 'anonymous' };
const yieldNow = () => new Promise((resolve) => setImmediate(resolve));
const ms = (ns) => (ns / 1e6).toFixed(1);
const perCpuSecond = (rows, cpu) => Math.round(rows / ((cpu.user + cpu.system) / 1e6));

function delayMonitor() {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  return () => {
    h.disable();
    return `event-loop delay p50 ${ms(h.percentile(50))} ms, p99 ${ms(h.percentile(99))} ms, max ${ms(h.max)} ms`;
  };
}

async function idle() {
  const stop = delayMonitor();
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  console.log(`idle    2 s doing nothing (the machine's noise floor); ${stop()}`);
}

async function burst(dir) {
  const w = await RecordingWriter.create(join(dir, 'burst.db'), META);
  const stop = delayMonitor();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < ROWS; i++) {
    w.add(exchange(i), COHORT);
    if (i % 200 === 199) await yieldNow();
  }
  const tAdded = performance.now();
  const { exchanges } = await w.close();
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `burst   ${exchanges} rows: ${perCpuSecond(exchanges, cpu)} rows per CPU-second (both threads, close included);` +
      ` added in ${(tAdded - t0).toFixed(0)} ms (${Math.round(ROWS / ((tAdded - t0) / 1e3))} rows/s on the main thread), ` +
      `in the file after ${(t1 - t0).toFixed(0)} ms (${Math.round(exchanges / ((t1 - t0) / 1e3))} rows/s end to end, close() ${(t1 - tAdded).toFixed(0)} ms); ${stop()}`,
  );
}

function read(dir) {
  const r = RecordingReader.open(join(dir, 'burst.db'));
  const parts = [];
  for (const [name, run] of [
    ['sessions()', () => { let n = 0; for (const s of r.sessions()) n += s.exchanges.length; return n; }],
    ['sessions({withBodies})', () => { let n = 0; for (const s of r.sessions({ withBodies: true })) n += s.exchanges.length; return n; }],
    ['exchanges()', () => { let n = 0; for (const _ of r.exchanges()) n++; return n; }],
    ['summary()', () => r.summary().exchanges],
  ]) {
    const t = performance.now();
    const n = run();
    parts.push(`${name} ${Math.round(n / ((performance.now() - t) / 1e3))} rows/s`);
  }
  r.close();
  console.log(`read    ${parts.join(', ')}`);
}

async function paced(dir) {
  const w = await RecordingWriter.create(join(dir, 'paced.db'), META);
  const stop = delayMonitor();
  const perTick = Math.max(1, Math.round(RATE / 100));
  const total = RATE * SECONDS;
  let i = 0;
  let maxQueued = 0;
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      for (let k = 0; k < perTick && i < total; k++) w.add(exchange(i++), COHORT);
      maxQueued = Math.max(maxQueued, w.queued);
      if (i >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  const delay = stop();
  const queuedAtEnd = w.queued;
  const t = performance.now();
  const { exchanges } = await w.close();
  console.log(
    `paced   ${RATE} rows/s for ${SECONDS} s = ${exchanges} rows; ${delay}; writer lag max ${maxQueued} rows, ${queuedAtEnd} at the end; close() ${(performance.now() - t).toFixed(0)} ms`,
  );
}

async function inline(dir) {
  const db = new Database(join(dir, 'inline.db'));
  db.pragma(`page_size = ${RECORDING_PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(CREATE_TABLES_SQL);
  const ins = db.prepare(INSERT_EXCHANGE_SQL);
  const commit = db.transaction((rows) => {
    for (const e of rows) {
      ins.run(e.sessionKey, 0, e.startOffsetUs, e.durationUs, e.method, e.target, e.host, e.scheme, e.route, e.status, null, null,
        500, 0, 2048, 0, null, JSON.stringify(e.requestHeaders), JSON.stringify(e.responseHeaders), e.requestBody, e.responseBody);
    }
  });
  const stop = delayMonitor();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let batch = [];
  for (let i = 0; i < ROWS; i++) {
    batch.push(exchange(i));
    if (batch.length === 1_000) {
      commit(batch);
      batch = [];
    }
    if (i % 200 === 199) await yieldNow();
  }
  commit(batch);
  const t1 = performance.now();
  db.close();
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `inline  ${ROWS} rows on the main thread: ${perCpuSecond(ROWS, cpu)} rows per CPU-second, ${Math.round(ROWS / ((t1 - t0) / 1e3))} rows/s; ${stop()}`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'flashback-bench-'));
try {
  console.log(`node ${process.version}, ${ROWS} rows for burst/inline, page size ${RECORDING_PAGE_SIZE}`);
  await idle();
  await burst(dir);
  read(dir);
  await paced(dir);
  await inline(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
