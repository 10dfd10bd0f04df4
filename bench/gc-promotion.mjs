// What a steady replay promotes, measured without timing (the counts of bench/replay-gc.mjs
// depend on whether the shared machine lets the replay keep to its schedule; these do not):
//  - connections: one undici Client per clone, one GET, closed; after every 100, two forced
//    scavenges; old-space growth per connection is what outlived two scavenges (promoted).
//    `undici` uses undici's own connect timeout, `flashback` the runner's connector, `lean`
//    the lean HTTP/1.1 client (the default for http: targets).
//  - plans: heap kept per planned session of bench/replay-memory's recording (10 GETs), and
//    bytes allocated to load and to plan one (no GC in between: a 128 MiB new space).
//
//   npm run build && node bench/gc-promotion.mjs [--root <checkout to measure>]
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { ensureRecording } from './replay-fixtures.mjs';

const { values } = parseArgs({ options: { root: { type: 'string' }, part: { type: 'string' } } });
const root = resolve(values.root ?? join(import.meta.dirname, '..'));
const rec = await ensureRecording('/tmp/flashback-bench/memory-100000x10.db', {
  sessions: 100_000, perSession: 10, durationUs: 2_000, gapUs: 3_000, sessionGapUs: 4_000,
});

if (values.part === undefined) {
  // each part in a fresh process, with the flags it needs
  const run = (part, flags) => {
    const r = spawnSync(process.execPath, [...flags, import.meta.filename, '--root', root, '--part', part], { encoding: 'utf8' });
    process.stdout.write(r.stdout + r.stderr);
  };
  console.log(`measuring ${root}`);
  run('connections:undici', ['--expose-gc']);
  run('connections:flashback', ['--expose-gc']);
  run('connections:lean', ['--expose-gc']);
  run('plans', ['--expose-gc', '--max-semi-space-size=128', '--min-semi-space-size=128']);
} else if (values.part.startsWith('connections')) {
  const uc = await import(join(root, 'dist/replay/undici-client.js'));
  const server = http.createServer((q, r) => r.end('ok'));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const own = values.part.endsWith('flashback') && typeof uc.connectWithTimeout === 'function';
  const opts = { pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0, ...(own ? { connect: uc.connectWithTimeout(10_000) } : { connectTimeout: 10_000 }) };
  const noop = () => true;
  const lean = values.part.endsWith('lean') ? await import(join(root, 'dist/replay/lean-http/lean-client.js')).catch(() => null) : null;
  if (values.part.endsWith('lean') && lean === null) {
    console.log(`${values.part}: no lean client in this build`);
    process.exit(0);
  }
  const one = () => new Promise((done) => {
    const c = lean ? new lean.LeanClient(origin, { connectTimeout: 10_000, keepAliveTimeout: 30_000 }) : new uc.Client(origin, opts);
    const end = () => c.close().then(done, done);
    c.dispatch({ path: '/', method: 'GET', headers: [], body: null }, { onConnect() {}, onHeaders: noop, onData: noop, onComplete: end, onError: end, onUpgrade() {}, onBodySent() {}, onRequestSent() {}, onResponseStarted() {} });
  });
  const oldUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_used_size;
  for (let i = 0; i < 200; i++) await one();
  gc();
  const before = oldUsed();
  const n = 2000;
  for (let i = 1; i <= n; i++) {
    await one();
    if (i % 100 === 0) {
      await new Promise((r) => setImmediate(r));
      gc({ type: 'minor' });
      gc({ type: 'minor' });
    }
  }
  console.log(`${values.part}${own || lean || values.part.endsWith('undici') ? '' : ' (no connectWithTimeout here: undici\'s)'}: ${((oldUsed() - before) / n).toFixed(0)} B promoted per connection (${n} connections)`);
  server.close();
} else {
  const { RecordingReader } = await import(join(root, 'dist/store/recording-reader.js'));
  const { planSession, exchangeFilter } = await import(join(root, 'dist/replay/session-plan.js'));
  const pool = await import(join(root, 'dist/replay/string-pool.js')).catch(() => null);
  const reader = RecordingReader.open(rec);
  const heads = [];
  for (const h of reader.sessionInfos()) if (heads.push(h) === 3000) break;
  const filter = exchangeFilter(null, null);
  const options = { speed: 2, methods: null, routes: null, headers: [], ...(pool ? { strings: new pool.StringPool() } : {}) };
  const load = (h) => ({ ...h, exchanges: reader.sessionExchanges(h.key) });
  for (let i = 0; i < 500; i++) planSession(load(heads[i]), filter, options);
  gc();
  const h0 = process.memoryUsage().heapUsed;
  const loaded = heads.slice(500, 1500).map(load);
  const h1 = process.memoryUsage().heapUsed;
  const kept = loaded.map((s) => planSession(s, filter, options));
  const h2 = process.memoryUsage().heapUsed;
  loaded.length = 0;
  gc();
  const h3 = process.memoryUsage().heapUsed;
  console.log(`plans: ${((h1 - h0) / 1000).toFixed(0)} B allocated to load a session, ${((h2 - h1) / 1000).toFixed(0)} B to plan it, ${((h3 - h0) / kept.length).toFixed(0)} B kept per plan (1,000 sessions of 10 GETs)`);
  reader.close();
}
