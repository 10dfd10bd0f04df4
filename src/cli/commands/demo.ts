import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { RunError } from '../../model/errors.js';
import { parseDurationUs, parsePositiveInt, parsePositiveNumber } from '../../model/units.js';
import { spawnFlashback, type FlashbackChild } from '../child.js';
import { colour, out, warn } from '../output.js';

interface DemoOptions {
  scale: string;
  duration: string;
  shoppers: string;
  seed: string;
  out: string;
}

const READY_TIMEOUT_MS = 60_000;

/** Registers `flashback demo`: the whole record → replay ×N → diff story on one machine. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the whole story on one machine: storefront, recorder, shoppers, replay at N× against naive and tuned, diff')
    .option('--scale <n>', 'replay scale', '10')
    .option('--duration <d>', 'how long shoppers are recorded', '20s')
    .option('--shoppers <n>', 'synthetic shoppers arriving per second while recording', '2')
    .option('--seed <n>', 'seed for the catalogue, the shoppers and the replay', '1')
    .option('--out <dir>', 'where the recording and the reports go', 'reports/demo')
    .action(async (opts: DemoOptions) => {
      await runDemo(opts);
    });
}

async function runDemo(opts: DemoOptions): Promise<void> {
  const scale = parsePositiveNumber(opts.scale, '--scale');
  const durationUs = parseDurationUs(opts.duration, '--duration');
  const shoppers = parsePositiveNumber(opts.shoppers, '--shoppers');
  const seed = parsePositiveInt(opts.seed, '--seed');
  const dir = resolve(opts.out);
  mkdirSync(dir, { recursive: true });
  const recording = join(dir, 'recording.db');
  // A demo starts from nothing: the previous demo's recording is replaced.
  for (const f of [recording, `${recording}.partial`, `${recording}-wal`, `${recording}-shm`]) rmSync(f, { force: true });
  const started = Date.now();
  const children: FlashbackChild[] = [];
  const step = (n: number, text: string) => out(colour.bold(`\n[${n}/6] ${text}`));
  const indent = (line: string) => out(colour.dim(`      ${line}`));

  const startStorefront = async (profile: 'naive' | 'tuned'): Promise<{ url: string; child: FlashbackChild }> => {
    const child = spawnFlashback(['storefront', '--port', '0', '--profile', profile, '--seed', String(seed)]);
    children.push(child);
    const m = await child.waitFor(/listening on (http:\/\/\S+)/, READY_TIMEOUT_MS);
    return { url: m[1]!, child };
  };

  try {
    step(1, 'Starting the reference storefront (naive profile)');
    const shop = await startStorefront('naive');
    indent(`storefront at ${shop.url}`);

    step(2, 'Starting the recorder in front of it');
    const recorder = spawnFlashback(['record', '--target', shop.url, '--listen', '127.0.0.1:0', '--out', recording]);
    children.push(recorder);
    const rm = await recorder.waitFor(/(http:\/\/127\.0\.0\.1:\d+)/, READY_TIMEOUT_MS);
    const proxyUrl = rm[1]!;
    indent(`recording ${proxyUrl} -> ${shop.url} into ${recording}`);

    step(3, `Driving synthetic shoppers through the recorder for ${opts.duration} (${shoppers}/s)`);
    const shoppersRun = spawnFlashback(
      ['shop', '--target', proxyUrl, '--shoppers-per-second', String(shoppers), '--duration', opts.duration, '--seed', String(seed)],
      indent,
    );
    children.push(shoppersRun);
    const shopStatus = await shoppersRun.exited;
    if (shopStatus !== 0) throw new RunError(`the synthetic shoppers failed (exit ${shopStatus})`);
    const recStatus = await recorder.stop('SIGINT');
    for (const line of recorder.lines.slice(-3)) indent(line);
    if (recStatus !== 0) throw new RunError(`the recorder failed (exit ${recStatus})`);
    await shop.child.stop();

    const replay = async (profile: 'naive' | 'tuned', file: string): Promise<void> => {
      const target = await startStorefront(profile);
      indent(`fresh ${profile} storefront at ${target.url}`);
      const run = spawnFlashback(
        ['replay', recording, '--target', target.url, '--scale', String(scale), '--seed', String(seed),
          '--label', profile, '--out', file],
        indent,
      );
      children.push(run);
      const status = await run.exited;
      await target.child.stop();
      if (status === 3) warn(`the ${profile} replay is not a valid measurement (see above); the comparison will say so`);
      else if (status !== 0) throw new RunError(`the ${profile} replay failed (exit ${status})`);
    };

    const baseline = join(dir, 'baseline.json');
    const candidate = join(dir, 'candidate.json');
    step(4, `Replaying the recording at ${scale}x against a fresh naive storefront (baseline)`);
    await replay('naive', baseline);
    step(5, `Replaying the recording at ${scale}x against a fresh tuned storefront (candidate)`);
    await replay('tuned', candidate);

    step(6, 'Comparing baseline and candidate by route and cohort');
    for (const [format, file] of [['markdown', 'report.md'], ['html', 'report.html']] as const) {
      const r = spawnFlashback(['report', 'diff', baseline, candidate, '--format', format, '--out', join(dir, file)]);
      const status = await r.exited;
      // 1: a gate failed; 3: a run is not a valid measurement (the report says so in a banner).
      if (status !== 0 && status !== 1 && status !== 3) {
        throw new RunError(`report diff --format ${format} failed (exit ${status}): ${r.lines.slice(-2).join(' / ')}`);
      }
    }
    const table = spawnFlashback(['report', 'diff', baseline, candidate, '--by', 'route'], (line) => out(line));
    await table.exited;

    const seconds = Math.round((Date.now() - started) / 1000);
    out('');
    out(`Done in ${seconds}s (recorded ${Math.round(durationUs / 1e6)}s of shoppers, replayed at ${scale}x). Wrote:`);
    for (const f of ['recording.db', 'baseline.json', 'candidate.json', 'report.md', 'report.html']) out(`  ${join(dir, f)}`);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}
