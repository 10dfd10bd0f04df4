// Replays a generated recording of 1,000,000 exchanges (100,000 sessions of
// 10 requests) and samples the replay process's RSS: the planner streams
// sessions, so RSS stays flat however long the recording is.
//
//   npm run build && node bench/replay-memory.mjs [--exchanges 1000000] [--duration 60s] [--speed 4]
//
// --duration bounds the run (the default replays the first two minutes at half speed, ~1,250 req/s;
// pass --duration 0 to replay the whole recording, which takes as long as the
// target needs for a million requests).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureRecording, measureChild, pinned, startTrivialServer } from './replay-fixtures.mjs';

const { values } = parseArgs({
  options: {
    exchanges: { type: 'string', default: '1000000' },
    duration: { type: 'string', default: '120s' },
    speed: { type: 'string', default: '0.5' },
  },
});
const perSession = 10;
const sessions = Math.ceil(Number(values.exchanges) / perSession);
const root = resolve(import.meta.dirname, '..');
const dir = '/tmp/flashback-bench';
mkdirSync(dir, { recursive: true });

const t0 = performance.now();
// sessions start 4 ms apart, 10 requests of 2 ms with 3 ms think time: 400 s of traffic at ~2,500 req/s
const rec = await ensureRecording(join(dir, `memory-${sessions}x${perSession}.db`), {
  sessions, perSession, durationUs: 2_000, gapUs: 3_000, sessionGapUs: 4_000,
});
console.log(`recording ${rec}: ${sessions * perSession} exchanges (ready in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

const server = await startTrivialServer('0');
const out = join(dir, 'memory-run.json');
const args = [join(root, 'bin/flashback.js'), 'replay', rec, '--target', server.url, '--workers', '1', '--speed', values.speed, '--quiet', '--out', out, '--max-send-lag', '1h'];
if (values.duration !== '0') args.push('--duration', values.duration);
const [cmd, cmdArgs] = pinned('1', process.execPath, args);
const m = await measureChild(cmd, cmdArgs, { sampleMs: 1000 });
server.close();
const { readFileSync } = await import('node:fs');
const run = JSON.parse(readFileSync(out, 'utf8'));
const s = m.rssSamples;
const at = (f) => s[Math.min(s.length - 1, Math.floor(f * (s.length - 1)))]?.toFixed(0);
console.log(`replayed ${run.totals.requests} requests in ${run.totals.sessions} sessions in ${(run.durationUs / 1e6).toFixed(1)} s (${m.wallSeconds.toFixed(1)} s with start-up), errors ${run.totals.errors}, valid ${run.valid}`);
console.log(`RSS MiB at 10% / 25% / 50% / 75% / 100% of the run: ${at(0.1)} / ${at(0.25)} / ${at(0.5)} / ${at(0.75)} / ${at(1)}; peak ${m.peakRssMiB.toFixed(0)} MiB (${s.length} samples, 1 s apart)`);
// RssAnon (heap, WASM, buffers) should be flat; RssFile grows with the recording's pages SQLite has mapped (page cache, reclaimable)
const sp = m.splitSamples;
const atSplit = (f, i) => sp[Math.min(sp.length - 1, Math.floor(f * (sp.length - 1)))]?.[i].toFixed(0);
if (sp.length > 0) {
  console.log(`RssAnon MiB at 10% / 50% / 100%: ${atSplit(0.1, 0)} / ${atSplit(0.5, 0)} / ${atSplit(1, 0)}; RssFile (mapped recording) ${atSplit(0.1, 1)} / ${atSplit(0.5, 1)} / ${atSplit(1, 1)}`);
}
