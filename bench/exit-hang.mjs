// How often does a short flashback command fail to exit? Node can deadlock at
// exit while draining V8 background tasks (nodejs/node#54918); flashback ends
// with a full collection and process.exit() to stay out of that path (see
// docs/architecture.md: process.exit alone still joined a TurboFan job
// waiting for a collection). This runs the same command
// from two builds, interleaved A/B, and counts runs still alive after
// --watchdog seconds (killed, and with --gdb their threads are dumped first).
//
//   npm run build && node bench/exit-hang.mjs --runs 300 --base /path/to/other/checkout [--parallel 2] [--gdb]
//
// The command is `report show <run.json> --format json --by route`, on a
// run.json this bench makes with a short replay against a trivial server.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startTrivialServer } from './replay-fixtures.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    base: { type: 'string' },
    parallel: { type: 'string', default: '2' },
    watchdog: { type: 'string', default: '5' },
    gdb: { type: 'boolean', default: false },
  },
});
const root = resolve(import.meta.dirname, '..');
const dir = '/tmp/flashback-bench/exit-hang';
mkdirSync(dir, { recursive: true });
const builds = [['this', join(root, 'bin/flashback.js')]];
if (values.base) builds.push(['base', join(resolve(values.base), 'bin/flashback.js')]);

const runJson = join(dir, 'run.json');
if (!existsSync(runJson)) {
  const server = await startTrivialServer();
  const r = spawnSync(process.execPath, [join(root, 'bin/flashback.js'), 'replay', join(root, 'recordings/storefront.db'), '--target', server.url,
    '--scale', '10', '--quiet', '--out', runJson, '--max-send-lag', '1h'], { encoding: 'utf8' });
  server.close();
  if (r.status !== 0) throw new Error(`replay for the fixture failed: ${r.stderr}`);
}

function once(bin, tag) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, 'report', 'show', runJson, '--format', 'json', '--by', 'route'], { stdio: 'ignore' });
    const timer = setTimeout(() => {
      if (values.gdb) {
        const bt = spawnSync('gdb', ['-p', String(child.pid), '-batch', '-ex', 'thread apply all bt'], { encoding: 'utf8' });
        writeFileSync(join(dir, `hang-${tag}-${child.pid}.txt`), bt.stdout + bt.stderr);
      }
      child.kill('SIGKILL');
    }, Number(values.watchdog) * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      done({ hung: signal === 'SIGKILL', code });
    });
  });
}

const counts = Object.fromEntries(builds.map(([tag]) => [tag, { runs: 0, hung: 0, failed: 0 }]));
const parallel = Number(values.parallel);
for (let i = 0; i < Number(values.runs); i++) {
  for (const [tag, bin] of builds) {
    const rs = await Promise.all(Array.from({ length: parallel }, () => once(bin, tag)));
    for (const r of rs) {
      counts[tag].runs++;
      if (r.hung) counts[tag].hung++;
      else if (r.code !== 0) counts[tag].failed++;
    }
  }
}
for (const [tag, c] of Object.entries(counts)) console.log(`${tag}: ${c.hung} hung, ${c.failed} failed, of ${c.runs} runs`);
if (values.gdb) console.log(`thread dumps (if any): ${dir}/hang-*.txt`);
