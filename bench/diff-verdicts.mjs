// Issue 11: are `report diff` verdicts and relative gates right on real
// replays? A real server (child process pinned to core 0) answers GET /a /b /c
// after a lognormal delay made with timers (no CPU burn): medians 24/20/16 ms,
// sigma --sigma (0.4), so a 10% change of any route (>= 1.6 ms) exceeds the
// diff's default 1 ms absolute floor (and 5% of each median is >= 0.8 ms). Each
// run gets an "environment" multiplier on all routes drawn uniformly in
// [1 - shift, 1 + shift] (--shift, default 0.1; 0 = natural drift only), and
// slowdown runs multiply /b by 1.10 on top. Replays (pinned to core 1, one
// worker) of a generated recording (100 sessions of 6 GETs over /a /b /c,
// 150 ms think time, sessions 100 ms apart, ~60 req/s per copy) at --rate
// req/s for --duration each.
//
//   npm run build && node bench/diff-verdicts.mjs [--pairs 20] [--duration 10s] [--short 10s] [--shift 0.1]
//     [--rate 300] [--sigma 0.4] [--seed 1] [--scenarios aa,set,slow,paired,short] [--tag NAME] [--reuse]
//     [--idle-below 0.3]   (before each run, wait until other processes use < 0.3 cores)
//
// Scenarios (N = --pairs comparisons each), from runs replayed in the order
// aa0 slow0 aa1 slow1 ... (aaK: no slowdown, slowK: /b x1.10):
//   aa      A/A, one baseline: aa(i) vs aa(i+1); false alarm = `report diff
//           --fail-on p50:+10% --fail-on p95:+10%` exits 1; also pairs where any
//           route-view row gets a regression/improvement verdict.
//   set     A/A, baseline set of 3: `report diff aa(i) aa(i+1) aa(i+2) aa(i+3)`
//           (last = candidate); skipped when report diff takes only two runs.
//   slow    /b +10%: aa(i) vs slow(i) (and aa(i..i+2) vs slow(i+2) with a set):
//           detected = GET /b p50 or p95 'regression'; other routes flagged =
//           any regression/improvement on GET /a or GET /c.
//   paired  `replay --target cand --against base` with two servers, `report diff
//           pair.json`; A/A and /b +10%; skipped when replay has no --against.
//   short   --short runs: route P50 deltas that get a verdict (not
//           'insufficient'); uses the aa/slow pairs when --short = --duration.
// Plus the run-to-run spread of A/A pairs: |ln(cand/base)| of each route's
// P50/P95, raw and with the known environment multipliers divided out.
//
// Runs are kept under /tmp/flashback-bench/diff-verdicts/<tag>/ (tag defaults
// to shift<shift>-<duration>) with manifest.json; --reuse re-runs only the
// diffs on those saved runs (no replay), e.g. after the diff statistics change.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measureChild, median, pinned } from './replay-fixtures.mjs';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '20' },
    duration: { type: 'string', default: '10s' },
    short: { type: 'string', default: '10s' },
    shift: { type: 'string', default: '0.1' },
    rate: { type: 'string', default: '300' },
    sigma: { type: 'string', default: '0.4' },
    seed: { type: 'string', default: '1' },
    scenarios: { type: 'string', default: 'aa,set,slow,paired,short' },
    tag: { type: 'string' },
    dir: { type: 'string', default: '/tmp/flashback-bench/diff-verdicts' },
    reuse: { type: 'boolean', default: false },
    'idle-below': { type: 'string', default: '0.3' },
    attempts: { type: 'string', default: '3' },
  },
});

const root = resolve(import.meta.dirname, '..');
const { seededRandom } = await import(join(root, 'dist/model/seeded-random.js'));
const bin = join(root, 'bin/flashback.js');
const GATES = ['--fail-on', 'p50:+10%', '--fail-on', 'p95:+10%'];
const SLOW = 1.1;
const MEDIAN_MS = { '/a': 24, '/b': 20, '/c': 16 };
const ROUTES = ['GET /a', 'GET /b', 'GET /c'];
const SESSIONS = 100;
const PER_SESSION = 6;
const RECORDED_RATE = (SESSIONS * PER_SESSION) / 10; // req/s of one copy of the recording

const seconds = (d) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d);
  if (!m) throw new Error(`bad duration ${d}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60 }[m[2]];
};
const t0 = performance.now();
const loadBefore = readFileSync('/proc/loadavg', 'utf8').trim();
const command = `node bench/diff-verdicts.mjs ${process.argv.slice(2).join(' ')}`.trim();

// --- settings: from the flags, or from the saved manifest with --reuse -----------------------
const tag = values.tag ?? `shift${values.shift}-${values.duration}`;
const runDir = join(values.dir, tag);
const manifestPath = join(runDir, 'manifest.json');
let manifest;
if (values.reuse) {
  if (!existsSync(manifestPath)) throw new Error(`--reuse: no ${manifestPath}; run without --reuse first`);
  manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
} else {
  manifest = {
    pairs: Number(values.pairs),
    duration: values.duration,
    short: values.short,
    shift: Number(values.shift),
    rate: Number(values.rate),
    sigma: Number(values.sigma),
    seed: Number(values.seed),
    scenarios: values.scenarios.split(','),
    mediansMs: MEDIAN_MS,
    slow: SLOW,
    runs: [],
    invalidAttempts: [],
  };
}
const scenarios = new Set(manifest.scenarios);
const N = values.reuse ? Math.min(Number(values.pairs), manifest.pairs) : manifest.pairs;
const shortSame = seconds(manifest.short) === seconds(manifest.duration);
const scale = manifest.rate / RECORDED_RATE;

// --- the recording: 100 sessions, each /a /b /c twice in a seeded order ----------------------

async function ensureAbcRecording(path) {
  if (existsSync(path)) return path;
  const { RecordingWriter } = await import('../dist/store/recording-writer.js');
  const partial = `${path}.gen`;
  rmSync(partial, { force: true });
  const w = await RecordingWriter.create(partial, { source: 'generated', upstream: null, toolVersion: 'bench', redacted: false });
  const rnd = seededRandom(7);
  for (let s = 0; s < SESSIONS; s++) {
    const order = ['/a', '/a', '/b', '/b', '/c', '/c'];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let t = s * 100_000;
    order.forEach((p, i) => {
      w.add(
        {
          sessionKey: `s${s}`, seq: i, startOffsetUs: t, durationUs: 20_000, method: 'GET', target: `${p}?s=${s}&i=${i}`,
          host: null, scheme: 'http', route: `GET ${p}`, requestHeaders: [['accept', '*/*']],
          requestBody: null, requestBodyBytes: 0, requestBodyTruncated: false, status: 200,
          responseHeaders: [['content-type', 'text/plain']], responseBody: null, responseBodyBytes: 0,
          responseBodyTruncated: false, responseEncoding: null, error: null, errorDetail: null,
        },
        { device: s % 2 ? 'mobile' : 'desktop' },
      );
      t += 20_000 + 150_000;
    });
  }
  await w.close();
  renameSync(partial, path);
  return path;
}

// --- the server: lognormal delays by timer; stdin line "<env> <bMult>" sets the multipliers ---
function startDelayServer(sigma) {
  const code = `
    const http = require('node:http');
    const MEDIAN = ${JSON.stringify(MEDIAN_MS)};
    let env = 1, bMult = 1;
    const gauss = () => { let u = 0; while (u === 0) u = Math.random(); return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random()); };
    const s = http.createServer((req, res) => {
      const q = req.url.indexOf('?');
      const path = q < 0 ? req.url : req.url.slice(0, q);
      const med = MEDIAN[path];
      if (med === undefined) { res.statusCode = 404; res.end(); return; }
      const ms = med * env * (path === '/b' ? bMult : 1) * Math.exp(${sigma} * gauss());
      setTimeout(() => { res.setHeader('content-type', 'text/plain'); res.end('ok'); }, ms);
    });
    s.keepAliveTimeout = 60000;
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));
    let buf = '';
    process.stdin.on('data', (d) => {
      buf += d;
      for (let i; (i = buf.indexOf('\\n')) >= 0; buf = buf.slice(i + 1)) {
        [env, bMult] = buf.slice(0, i).split(' ').map(Number);
        console.log('ok ' + env + ' ' + bMult);
      }
    });
    process.stdin.on('end', () => process.exit(0));`;
  const [cmd, args] = pinned('0', process.execPath, ['-e', code]);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  let waiting = null;
  child.stdout.on('data', (d) => {
    for (const l of String(d).split('\n').filter(Boolean)) {
      lines.push(l);
      waiting?.();
    }
  });
  const nextLine = () => new Promise((r) => (lines.length ? r(lines.shift()) : (waiting = () => { waiting = null; r(lines.shift()); })));
  return nextLine().then((port) => ({
    url: `http://127.0.0.1:${port.trim()}`,
    async set(env, bMult) {
      child.stdin.write(`${env} ${bMult}\n`);
      await nextLine();
    },
    close: () => child.stdin.end(),
  }));
}

// --- the machine: wait until other processes leave the cores alone before each run ------------
/** [busy, total] jiffies of all CPUs from /proc/stat. */
function cpuTimes() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  const total = f.reduce((a, b) => a + b, 0);
  return [total - idle, total];
}
/** Busy cores (0..cores) between two cpuTimes() samples. */
const busyCores = (a, b) => ((b[0] - a[0]) / Math.max(1, b[1] - a[1])) * (readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? 1);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let waitedSeconds = 0;
/** Waits (up to 10 min per run) until the machine is idle: < --idle-below busy cores over 2 s. */
async function waitIdle() {
  const limit = Number(values['idle-below']);
  for (let waited = 0; ; waited += 2) {
    const a = cpuTimes();
    await sleep(2000);
    const busy = busyCores(a, cpuTimes());
    if (busy < limit) return busy;
    if (waited >= 600) {
      console.error(`machine still busy (${busy.toFixed(2)} cores) after 10 min: running anyway`);
      return busy;
    }
    if (waited % 30 === 0) console.error(`waiting for the machine to go idle (${busy.toFixed(2)} busy cores from other processes)`);
    waitedSeconds += 2;
  }
}

// --- replays ---------------------------------------------------------------------------------
async function replay(rec, target, out, duration, extra = []) {
  const [cmd, args] = pinned('1', process.execPath, [bin, 'replay', rec, '--target', target, '--scale', String(scale), '--duration', duration, '--workers', '1', '--quiet', '--out', out, '--label', out.split('/').pop().replace(/\.json$/, ''), ...extra]);
  rmSync(out, { force: true });
  const idleBefore = await waitIdle();
  const c0 = cpuTimes();
  const m = await measureChild(cmd, args);
  // busy cores during the run, all processes: the replay's own CPU and the server's are in it
  const busy = busyCores(c0, cpuTimes());
  if (!existsSync(out)) throw new Error(`replay wrote no ${out} (exit ${m.code}): ${m.stderr}`);
  const run = JSON.parse(readFileSync(out, 'utf8'));
  const valid = run.valid && (run.against ? run.against.valid : true);
  const reasons = [...run.invalidReasons, ...(run.against?.invalidReasons ?? []).map((r) => `against: ${r}`)];
  return { code: m.code, valid, reasons, requests: run.totals.requests, reqPerS: run.totals.requests / (run.durationUs / 1e6), sendLagP99Us: run.totals.sendLagP99Us, wallSeconds: m.wallSeconds, idleBefore, busy, replayCpu: m.cpuSeconds / m.wallSeconds };
}

const helpText = spawnSync(process.execPath, [bin, 'replay', '--help'], { encoding: 'utf8' }).stdout;
const pairedAvailable = /--against\b/.test(helpText);

if (!values.reuse) {
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const rec = await ensureAbcRecording(join(values.dir, 'abc-100x6.db'));
  const rnd = seededRandom(manifest.seed);
  const drawEnv = () => 1 + manifest.shift * (2 * rnd() - 1);
  const plan = [];
  const main = scenarios.has('aa') || scenarios.has('set') || scenarios.has('slow') || (scenarios.has('short') && shortSame);
  if (main) {
    const wantSlow = scenarios.has('slow');
    for (let k = 0; k < N + 3; k++) {
      plan.push({ kind: 'aa', k, env: drawEnv(), bMult: 1, duration: manifest.duration });
      if (wantSlow && k < N + 2) plan.push({ kind: 'slow', k, env: drawEnv(), bMult: SLOW, duration: manifest.duration });
    }
  }
  if (scenarios.has('short') && !shortSame) {
    for (let k = 0; k < N + 1; k++) plan.push({ kind: 'short', k, env: drawEnv(), bMult: 1, duration: manifest.short });
  }
  if (scenarios.has('paired') && pairedAvailable) {
    for (let k = 0; k < N; k++) plan.push({ kind: 'paired-aa', k, env: drawEnv(), bMult: 1, duration: manifest.duration });
    for (let k = 0; k < N; k++) plan.push({ kind: 'paired-slow', k, env: drawEnv(), bMult: SLOW, duration: manifest.duration });
  }
  const server = await startDelayServer(manifest.sigma);
  const baseServer = plan.some((p) => p.kind.startsWith('paired')) ? await startDelayServer(manifest.sigma) : null;
  // warm-up (not kept): the server's JIT and the page cache of the recording
  await server.set(1, 1);
  await replay(rec, server.url, join(runDir, 'warmup.json'), '3s');
  rmSync(join(runDir, 'warmup.json'), { force: true });
  for (let i = 0, attempt = 1; i < plan.length; ) {
    const p = plan[i];
    const file = join(runDir, `${p.kind}-${String(p.k).padStart(2, '0')}.json`);
    let r;
    if (p.kind.startsWith('paired')) {
      // both servers share the environment of the moment; only the candidate has the slowdown
      await server.set(p.env, p.bMult);
      await baseServer.set(p.env, 1);
      r = await replay(rec, server.url, file, p.duration, ['--against', baseServer.url]);
    } else {
      await server.set(p.env, p.bMult);
      r = await replay(rec, server.url, file, p.duration);
    }
    // an invalid run is kept (renamed), counted and reported, and measured again (same multipliers)
    if (!r.valid && attempt < Number(values.attempts)) {
      const kept = file.replace(/\.json$/, `.invalid-${attempt}.json`);
      renameSync(file, kept);
      manifest.invalidAttempts.push({ ...p, file: kept, reasons: r.reasons, sendLagP99Us: r.sendLagP99Us, busyDuring: r.busy });
      console.error(`run ${i + 1}/${plan.length} ${p.kind}-${p.k} INVALID (${r.reasons.join('; ')}), busy cores during ${r.busy.toFixed(2)}: kept as ${kept}, measuring again`);
      attempt++;
      continue;
    }
    attempt = 1;
    i++;
    manifest.runs.push({ ...p, file, valid: r.valid, reasons: r.reasons, requests: r.requests, reqPerS: r.reqPerS, sendLagP99Us: r.sendLagP99Us, exit: r.code, busyBefore: r.idleBefore, busyDuring: r.busy, replayCpu: r.replayCpu });
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    console.error(`run ${i}/${plan.length} ${p.kind}-${p.k} env ${p.env.toFixed(3)} b x${p.bMult} ${r.requests} req ${r.reqPerS.toFixed(0)} req/s send lag p99 ${(r.sendLagP99Us / 1000).toFixed(2)} ms, busy cores ${r.idleBefore.toFixed(2)} before / ${r.busy.toFixed(2)} during (replay ${r.replayCpu.toFixed(2)}) ${r.valid ? 'valid' : 'INVALID: ' + r.reasons.join('; ')} (${r.wallSeconds.toFixed(1)} s)`);
  }
  server.close();
  baseServer?.close();
}

// --- diffs -----------------------------------------------------------------------------------
const runOf = (kind, k) => manifest.runs.find((r) => r.kind === kind && r.k === k);

function diff(runs, gates = true) {
  const r = spawnSync(process.execPath, [bin, 'report', 'diff', ...runs.map((x) => x.file), '--format', 'json', '--top', 'all', ...(gates ? GATES : [])], { encoding: 'utf8', maxBuffer: 256 << 20 });
  let json = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    // not JSON: a usage error, reported by the caller
  }
  const valid = runs.every((x) => x.valid);
  if (json === null) return { code: r.status, json, valid, error: r.stderr.trim().split('\n')[0] };
  const routeView = json.views.find((v) => v.name === 'route');
  const rows = Object.fromEntries(routeView.rows.map((row) => [row.route, row]));
  const called = (row) => row && Object.values(row.deltas).some((d) => d.verdict === 'regression' || d.verdict === 'improvement');
  return {
    code: r.status,
    valid,
    json,
    rows,
    gateFailed: json.gates.some((g) => !g.passed),
    anyRouteCalled: ROUTES.some((rt) => called(rows[rt])),
    otherCalled: called(rows['GET /a']) || called(rows['GET /c']),
    detected: ['p50', 'p95'].some((p) => rows['GET /b']?.deltas[p].verdict === 'regression'),
    p50Judged: ROUTES.filter((rt) => rows[rt] && rows[rt].deltas.p50.verdict !== 'insufficient').length,
    p50WithCi: ROUTES.filter((rt) => rows[rt] && rows[rt].deltas.p50.ci !== null).length,
    gates: json.gates.map((g) => ({ gate: g.gate, passed: g.passed, actual: g.actual, note: g.note })),
    routes: Object.fromEntries(ROUTES.map((rt) => [rt, Object.fromEntries(['p50', 'p95'].map((p) => { const d = rows[rt]?.deltas[p]; return [p, d && { base: d.base, cand: d.cand, relPct: d.relPct, ci: d.ci, verdict: d.verdict }]; }))])),
    notes: [...new Set(ROUTES.map((rt) => rows[rt]?.deltas.p50.note).filter(Boolean))],
  };
}

const pairsOf = (make) => Array.from({ length: N }, (_, i) => make(i)).filter((runs) => runs.every(Boolean));
const results = {};
const have = (kind) => manifest.runs.some((r) => r.kind === kind);

// does report diff take a baseline set? try it once
let setAvailable = false;
let setWhy = 'no A/A runs';
if (have('aa') && manifest.runs.filter((r) => r.kind === 'aa').length >= 4) {
  const probe = diff([runOf('aa', 0), runOf('aa', 1), runOf('aa', 2), runOf('aa', 3)], false);
  setAvailable = probe.json !== null && (probe.code === 0 || probe.code === 1 || probe.code === 3);
  setWhy = setAvailable ? '' : `not available in this build (${probe.error})`;
}

if (have('aa')) {
  results.aa = pairsOf((i) => [runOf('aa', i), runOf('aa', i + 1)]).map((runs) => ({ runs, ...diff(runs) }));
  if (setAvailable) results.aaSet = pairsOf((i) => [runOf('aa', i), runOf('aa', i + 1), runOf('aa', i + 2), runOf('aa', i + 3)]).map((runs) => ({ runs, ...diff(runs) }));
}
if (have('slow')) {
  results.slow = pairsOf((i) => [runOf('aa', i), runOf('slow', i)]).map((runs) => ({ runs, ...diff(runs) }));
  if (setAvailable) results.slowSet = pairsOf((i) => [runOf('aa', i), runOf('aa', i + 1), runOf('aa', i + 2), runOf('slow', i + 2)]).map((runs) => ({ runs, ...diff(runs) }));
}
if (have('short')) results.short = pairsOf((i) => [runOf('short', i), runOf('short', i + 1)]).map((runs) => ({ runs, ...diff(runs) }));
if (have('paired-aa')) results.pairedAa = pairsOf((i) => [runOf('paired-aa', i)]).map((runs) => ({ runs, ...diff(runs) }));
if (have('paired-slow')) results.pairedSlow = pairsOf((i) => [runOf('paired-slow', i)]).map((runs) => ({ runs, ...diff(runs) }));

// --- the table -------------------------------------------------------------------------------
const count = (xs, f) => xs.filter(f).length;
/** "k of n" over valid comparisons, plus how many involved an invalid run (diff exits 3 there) and what their gates said. */
function figure(xs, f, what = 'pairs') {
  if (!xs) return null;
  const ok = xs.filter((x) => x.valid);
  const bad = xs.filter((x) => !x.valid);
  let s = `${count(ok, f)} of ${ok.length} ${what}`;
  if (bad.length) s += ` (+${bad.length} with an invalid run: ${count(bad, f)} of them)`;
  return s;
}
const alarm = (x) => x.code === 1 || (!x.valid && x.gateFailed);
const skipped = (why) => `skipped: ${why}`;
const pairedWhy = pairedAvailable ? 'not in --scenarios' : 'not available in this build (replay has no --against)';

const rows = [];
const row = (fig, now, goal) => rows.push(`| ${fig} | ${now} | ${goal} |`);
row('A/A, one baseline: false alarms (gates exit 1)', results.aa ? figure(results.aa, alarm) : skipped('not in --scenarios'), '—');
row('A/A, one baseline: pairs with any route called (regression/improvement, route view)', figure(results.aa, (x) => x.anyRouteCalled) ?? '—', '—');
row('A/A, baseline set of 3: false alarms', results.aaSet ? figure(results.aaSet, alarm) : skipped(setWhy), '≤ 1 of 20');
if (results.aaSet) row('A/A, baseline set of 3: pairs with any route called', figure(results.aaSet, (x) => x.anyRouteCalled), '—');
row('A/A, paired replay: false alarms', results.pairedAa ? figure(results.pairedAa, alarm, 'runs') : skipped(pairedWhy), '0 of 20');
if (results.pairedAa) row('A/A, paired replay: runs with any route called', figure(results.pairedAa, (x) => x.anyRouteCalled, 'runs'), '0 of 20');
row('/b +10%, one baseline: detected (GET /b p50 or p95 regression)', results.slow ? figure(results.slow, (x) => x.detected) : skipped('not in --scenarios'), '≥ 19 of 20');
row('/b +10%, one baseline: other routes flagged (GET /a or /c called)', figure(results.slow, (x) => x.otherCalled) ?? '—', '0 of 20');
row('/b +10%, one baseline: gates exit 1', figure(results.slow, alarm) ?? '—', '—');
row('/b +10%, baseline set of 3: detected', results.slowSet ? figure(results.slowSet, (x) => x.detected) : skipped(setWhy), '≥ 19 of 20');
if (results.slowSet) row('/b +10%, baseline set of 3: other routes flagged', figure(results.slowSet, (x) => x.otherCalled), '0 of 20');
row('/b +10%, paired replay: detected', results.pairedSlow ? figure(results.pairedSlow, (x) => x.detected, 'runs') : skipped(pairedWhy), '≥ 19 of 20');
if (results.pairedSlow) row('/b +10%, paired replay: other routes flagged', figure(results.pairedSlow, (x) => x.otherCalled, 'runs'), '0 of 20');
const shortPairs = shortSame ? [...(results.aa ?? []), ...(results.slow ?? [])] : results.short;
if (shortPairs && scenarios.has('short')) {
  const judged = shortPairs.reduce((a, x) => a + x.p50Judged, 0);
  const withCi = shortPairs.reduce((a, x) => a + x.p50WithCi, 0);
  const notes = [...new Set(shortPairs.flatMap((x) => x.notes))];
  row(
    `${manifest.short} runs: route P50 deltas with a verdict (not 'insufficient')${shortSame ? ' (the A/A and /b pairs above)' : ''}`,
    `${judged} of ${shortPairs.length * ROUTES.length}, ${withCi} with an interval${notes.length ? `; notes: ${notes.join('; ')}` : ''}`,
    'all, with the interval shown',
  );
} else row(`${manifest.short} runs: verdict given`, skipped('not in --scenarios'), 'always');

// run-to-run spread of the A/A pairs
function q(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
}
const spread = [];
if (results.aa) {
  const ok = results.aa.filter((x) => x.valid);
  for (const p of ['p50', 'p95']) {
    const raw = [];
    const fact = [];
    for (const x of ok) {
      const [b, c] = x.runs;
      for (const rt of ROUTES) {
        const d = x.rows[rt]?.deltas[p];
        if (!d || !d.base || !d.cand) continue;
        raw.push(Math.abs(Math.log(d.cand / d.base)));
        fact.push(Math.abs(Math.log(d.cand / c.env / (d.base / b.env))));
      }
    }
    const pct = (v) => `${(v * 100).toFixed(1)}%`;
    if (raw.length) {
      spread.push(`| ${p.toUpperCase()} | raw | ${raw.length} | ${pct(median(raw))} | ${pct(q(raw, 0.9))} | ${pct(Math.max(...raw))} |`);
      spread.push(`| ${p.toUpperCase()} | environment divided out | ${fact.length} | ${pct(median(fact))} | ${pct(q(fact, 0.9))} | ${pct(Math.max(...fact))} |`);
    }
  }
}

const runs = manifest.runs;
const invalid = runs.filter((r) => !r.valid);
const retried = manifest.invalidAttempts ?? [];
const minutes = ((performance.now() - t0) / 60000).toFixed(1);
console.log(`\n### report diff verdicts on real replays (issue 11)\n`);
console.log(`\`${command}\`${values.reuse ? ` (diffs re-run on the saved runs in ${runDir})` : ''}\n`);
console.log(`${runs.length} replays of ${manifest.duration}${have('short') ? ` (short: ${manifest.short})` : ''} at ${manifest.rate} req/s (scale ${scale}), env shift ±${(manifest.shift * 100).toFixed(0)}%, sigma ${manifest.sigma}, medians /a ${MEDIAN_MS['/a']} /b ${MEDIAN_MS['/b']} /c ${MEDIAN_MS['/c']} ms, ${N} comparisons per scenario; gates ${GATES.filter((g) => g !== '--fail-on').join(' ')}\n`);
console.log('| figure | now (this build) | goal |');
console.log('|---|---|---|');
for (const r of rows) console.log(r);
if (spread.length) {
  console.log(`\nRun-to-run spread, A/A consecutive pairs: |ln(cand/base)| per route (${ROUTES.length} routes x pairs)\n`);
  console.log('| figure | | n | median | p90 | max |');
  console.log('|---|---|---|---|---|---|');
  for (const s of spread) console.log(s);
}
console.log(`\nruns: ${runs.length}, invalid (after up to ${values.attempts} attempts, counted above as pairs with an invalid run): ${invalid.length}${invalid.length ? ' — ' + invalid.map((r) => `${r.kind}-${r.k}: ${r.reasons.join('; ')}`).join(' | ') : ''}`);
console.log(`invalid replays measured again: ${retried.length}${retried.length ? ' — ' + retried.map((r) => `${r.kind}-${r.k} (send lag p99 ${(r.sendLagP99Us / 1000).toFixed(1)} ms, ${r.busyDuring.toFixed(2)} busy cores)`).join(', ') : ''}`);
if (runs.length && runs[0].busyDuring !== undefined) {
  const disturbed = runs.filter((r) => r.busyDuring > 0.7);
  console.log(`runs with more than 0.7 busy cores (replay + server use ~0.3): ${disturbed.length}${disturbed.length ? ' — ' + disturbed.map((r) => `${r.kind}-${r.k} ${r.busyDuring.toFixed(2)}`).join(', ') : ''}`);
}
if (runs.length) console.log(`achieved req/s median ${median(runs.map((r) => r.reqPerS)).toFixed(0)}, send lag p99 max ${(Math.max(...runs.map((r) => r.sendLagP99Us)) / 1000).toFixed(2)} ms`);
if (runs.length && runs[0].busyDuring !== undefined) console.log(`busy cores during runs (replay + server + anything else) median ${median(runs.map((r) => r.busyDuring)).toFixed(2)}, max ${Math.max(...runs.map((r) => r.busyDuring)).toFixed(2)}; replay process alone median ${median(runs.map((r) => r.replayCpu)).toFixed(2)}; waited ${waitedSeconds} s for the machine to go idle`);
console.log(`load average before: ${loadBefore}; after: ${readFileSync('/proc/loadavg', 'utf8').trim()}; took ${minutes} min`);

const strip = (xs) => xs?.map(({ json, ...x }) => ({ ...x, runs: x.runs.map((r) => r.file) }));
writeFileSync(join(runDir, `results${values.reuse ? '-reuse' : ''}.json`), JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, strip(v)])), null, 2));
