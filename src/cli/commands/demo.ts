import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { splitPairedRun } from '../../measure/paired-run.js';
import { readRunResult, writeRunResult } from '../../measure/run-file.js';
import { RunError, UsageError } from '../../model/errors.js';
import type { RunResult } from '../../model/run-result.js';
import { formatUs, parseDurationUs, parsePositiveInt, parsePositiveNumber } from '../../model/units.js';
import { percentileText } from '../../report/format.js';
import { routeRows } from '../../report/summary.js';
import type { RowSummary } from '../../report/types.js';
import { spawnFlashback, type FlashbackChild } from '../child.js';
import { colour, out, warn } from '../output.js';

interface DemoOptions {
  scale?: string;
  duration?: string;
  shoppers?: string;
  checkoutShare?: string;
  think?: string;
  seed: string;
  out: string;
  workers?: string;
  quick?: boolean;
  paired?: boolean;
}

/** Settings of one demo run, after presets and flags. */
interface DemoSettings {
  scale: number;
  duration: string;
  shoppers: number;
  checkoutShare: number;
  think: string;
  seed: number;
  dir: string;
  workers: number | null;
  /** One paired replay (tuned --target, naive --against) instead of two replays one after the other. */
  paired: boolean;
}

/**
 * Defaults: 3 shoppers/s for 50 s, every human shopper heading for checkout
 * (flash-sale style), short think times. That records about 1,300 requests
 * and 110–120 checkouts, so the 10× replays have over 1,000 checkouts each:
 * enough for a P99 (the report refuses one from fewer samples).
 */
const FULL = { scale: '10', duration: '50s', shoppers: '3', checkoutShare: '1', think: '500ms' };
/** `--quick`: a small end-to-end run for CI, well under a minute of traffic. */
const QUICK = { scale: '2', duration: '10s', shoppers: '3', checkoutShare: '1', think: '300ms' };

const READY_TIMEOUT_MS = 60_000;
/** The routes the headline compares: the lock-bound one and the N+1-bound one. */
const HEADLINE_ROUTES = ['POST /checkout', 'GET /products/:id'];

/** Registers `flashback demo`: the whole record → replay ×N → diff story on one machine. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the whole story on one machine: storefront, recorder, shoppers, replay at N× against naive and tuned, diff')
    .option('--scale <n>', `replay scale (default ${FULL.scale}; --quick ${QUICK.scale})`)
    .option('--duration <d>', `how long shoppers are recorded (default ${FULL.duration}; --quick ${QUICK.duration})`)
    .option('--shoppers <n>', `synthetic shoppers arriving per second while recording (default ${FULL.shoppers})`)
    .option('--checkout-share <f>', `share of shoppers who check out (default ${FULL.checkoutShare})`)
    .option('--think <d>', `median think time between a shopper's steps (default ${FULL.think})`)
    .option('--seed <n>', 'seed for the catalogue, the shoppers and the replay', '1')
    .option('--workers <n>', 'replay worker threads (default: replay\'s own, cores - 1)')
    .option('--quick', `small preset for CI: --scale ${QUICK.scale} --duration ${QUICK.duration} (flags still win)`)
    .option('--paired', 'replay once, paired: fresh tuned and naive storefronts side by side, every request sent to both at the same time (replay --target tuned --against naive)')
    .option('--out <dir>', 'where the recording and the reports go', 'reports/demo')
    .action(async (opts: DemoOptions) => {
      await runDemo(settingsOf(opts));
    });
}

function settingsOf(opts: DemoOptions): DemoSettings {
  const preset = opts.quick ? QUICK : FULL;
  const share = Number(opts.checkoutShare ?? preset.checkoutShare);
  if (!(share >= 0 && share <= 1)) {
    throw new UsageError(`--checkout-share must be a fraction from 0 to 1 (got "${opts.checkoutShare}")`);
  }
  const duration = opts.duration ?? preset.duration;
  const think = opts.think ?? preset.think;
  parseDurationUs(duration, '--duration');
  parseDurationUs(think, '--think', 'ms');
  return {
    scale: parsePositiveNumber(opts.scale ?? preset.scale, '--scale'),
    duration,
    shoppers: parsePositiveNumber(opts.shoppers ?? preset.shoppers, '--shoppers'),
    checkoutShare: share,
    think,
    seed: parsePositiveInt(opts.seed, '--seed'),
    dir: resolve(opts.out),
    workers: opts.workers === undefined ? null : parsePositiveInt(opts.workers, '--workers'),
    paired: Boolean(opts.paired),
  };
}

async function runDemo(s: DemoSettings): Promise<void> {
  mkdirSync(s.dir, { recursive: true });
  const recording = join(s.dir, 'recording.db');
  // A demo starts from nothing: the previous demo's recording is replaced.
  for (const f of [recording, `${recording}.partial`, `${recording}-wal`, `${recording}-shm`]) rmSync(f, { force: true });
  const started = Date.now();
  const children: FlashbackChild[] = [];
  const steps = s.paired ? 5 : 6;
  const step = (n: number, text: string) => out(colour.bold(`\n[${n}/${steps}] ${text}`));
  const indent = (line: string) => out(colour.dim(`      ${line}`));

  const startStorefront = async (profile: 'naive' | 'tuned'): Promise<{ url: string; child: FlashbackChild }> => {
    const child = spawnFlashback(['storefront', '--port', '0', '--profile', profile, '--seed', String(s.seed)]);
    children.push(child);
    const m = await child.waitFor(/listening on (http:\/\/\S+)/, READY_TIMEOUT_MS);
    return { url: m[1]!, child };
  };

  try {
    step(1, 'Starting the reference storefront (naive profile)');
    const shop = await startStorefront('naive');
    indent(`storefront at ${shop.url}`);

    step(2, 'Starting the recorder in front of it');
    // The recording holds no passwords or payment tokens (redacted). Like a staging test
    // account, the demo stores public values the storefront accepts as replay defaults.
    const recorder = spawnFlashback(['record', '--target', shop.url, '--listen', '127.0.0.1:0', '--out', recording,
      '--replay-secret', 'password=demo-shopper-password', '--replay-secret', 'token=tok_visa']);
    children.push(recorder);
    const rm = await recorder.waitFor(/(http:\/\/127\.0\.0\.1:\d+)/, READY_TIMEOUT_MS);
    const proxyUrl = rm[1]!;
    indent(`recording ${proxyUrl} -> ${shop.url} into ${recording}`);

    step(3, `Driving synthetic shoppers through the recorder for ${s.duration} (${s.shoppers}/s, checkout share ${s.checkoutShare})`);
    const shoppersRun = spawnFlashback(
      ['shop', '--target', proxyUrl, '--shoppers-per-second', String(s.shoppers), '--duration', s.duration,
        '--checkout-share', String(s.checkoutShare), '--think', s.think, '--seed', String(s.seed)],
      indent,
    );
    children.push(shoppersRun);
    const shopStatus = await shoppersRun.exited;
    if (shopStatus !== 0) throw new RunError(`the synthetic shoppers failed (exit ${shopStatus})`);
    const recStatus = await recorder.stop('SIGINT');
    for (const line of recorder.lines.slice(-3)) indent(line);
    if (recStatus !== 0) throw new RunError(`the recorder failed (exit ${recStatus})`);
    await shop.child.stop();

    /** Replays against `profiles` (fresh storefronts: the first is --target, a second --against) into `file`. */
    const replay = async (profiles: Array<'naive' | 'tuned'>, file: string): Promise<void> => {
      const targets = [];
      for (const profile of profiles) {
        const target = await startStorefront(profile);
        indent(`fresh ${profile} storefront at ${target.url}`);
        targets.push(target);
      }
      const name = profiles.join(' vs ');
      const run = spawnFlashback(
        ['replay', recording, '--target', targets[0]!.url, ...(targets[1] ? ['--against', targets[1].url] : []),
          '--scale', String(s.scale), '--seed', String(s.seed),
          '--label', profiles[0]!, '--out', file, ...(s.workers === null ? [] : ['--workers', String(s.workers)])],
        // progress and verdict lines; the replay's own per-route table is left for the comparison
        (line) => {
          if (!/^[┌│├└]/.test(line)) indent(line);
        },
      );
      children.push(run);
      const status = await run.exited;
      await Promise.all(targets.map((t) => t.child.stop()));
      if (status === 3 && run.lines.some((l) => l.includes('not a valid measurement'))) {
        warn(`the ${name} replay is not a valid measurement (see above); the comparison will say so`);
      } else if (status !== 0) throw new RunError(`the ${name} replay failed (exit ${status})`);
    };

    const baseline = join(s.dir, 'baseline.json');
    const candidate = join(s.dir, 'candidate.json');
    const pair = join(s.dir, 'pair.json');
    if (s.paired) {
      step(4, `Replaying the recording once at ${s.scale}x, paired: fresh tuned (candidate) and naive (baseline) storefronts side by side, every request sent to both`);
      await replay(['tuned', 'naive'], pair);
      // each side on its own too, for report show and the headline; the diff reads pair.json (a paired diff)
      const { baseline: naive, candidate: tuned } = splitPairedRun(readRunResult(pair));
      writeRunResult(baseline, { ...naive, label: 'naive' });
      writeRunResult(candidate, tuned);
    } else {
      step(4, `Replaying the recording at ${s.scale}x against a fresh naive storefront (baseline)`);
      await replay(['naive'], baseline);
      step(5, `Replaying the recording at ${s.scale}x against a fresh tuned storefront (candidate)`);
      await replay(['tuned'], candidate);
    }

    step(steps, 'Comparing baseline and candidate by route and cohort');
    const files = ['report.md', 'report.html'];
    const compared = s.paired ? [pair] : [baseline, candidate];
    const r = spawnFlashback(['report', 'diff', ...compared, ...files.flatMap((f) => ['--out', join(s.dir, f)])]);
    const status = await r.exited;
    // 1: a gate failed; 3: a run is not a valid measurement (the report says so in a banner).
    if (status !== 0 && status !== 1 && status !== 3) {
      throw new RunError(`report diff failed (exit ${status}): ${r.lines.slice(-2).join(' / ')}`);
    }
    // the route view and one cohort view here; report.md and report.html have every view
    for (const by of ['route', 'device']) {
      const table = spawnFlashback(['report', 'diff', ...compared, '--by', by, '--top', '12'], (line) => out(line));
      await table.exited;
    }

    const runs = { naive: readRunResult(baseline), tuned: readRunResult(candidate) };
    out('');
    out(colour.bold(`Headline (P99 of response time at ${s.scale}x, naive -> tuned):`));
    const naive = headlineRows(runs.naive);
    const tuned = headlineRows(runs.tuned);
    for (const route of HEADLINE_ROUTES) out(`  ${headline(route, naive.get(route), tuned.get(route))}`);
    const caution = checkoutCaution(tuned.get('POST /checkout'));
    if (caution) out(`  ${caution}`);
    for (const [name, run] of Object.entries(runs)) {
      out(`  ${name} run: ${run.valid ? 'valid measurement' : `NOT a valid measurement (${run.invalidReasons.join('; ')})`}`);
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    out('');
    out(`Done in ${seconds}s (recorded ${s.duration} of shoppers, replayed at ${s.scale}x${s.paired ? ', paired' : ''}). Wrote:`);
    for (const f of ['recording.db', ...(s.paired ? ['pair.json'] : []), 'baseline.json', 'candidate.json', ...files]) out(`  ${join(s.dir, f)}`);
    const invalid = Object.entries(runs).filter(([, run]) => !run.valid).map(([name]) => name);
    if (invalid.length > 0) {
      throw new RunError(`the ${invalid.join(' and ')} replay is not a valid measurement: the load generator fell behind`, {
        hint: 'the reports were written anyway; on a busy machine run the demo again when it is quieter (check `uptime`)',
      });
    }
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

/** The headline routes' rows of a run, as `report show` has them (one summary per run). */
function headlineRows(run: RunResult): Map<string, RowSummary> {
  return new Map(routeRows(run).routes.filter((r) => HEADLINE_ROUTES.includes(r.route ?? '')).map((r) => [r.route ?? '', r]));
}

/** The P99 as `report show` prints it (`n<1000` from too few samples). */
function p99Text(row: RowSummary | undefined): string {
  return row ? percentileText(row.percentiles.p99, 'p99') : 'no requests';
}

/** `POST /checkout  10.04s -> 412.3ms  (24.4x lower)`, or why there is no ratio. */
function headline(route: string, a: RowSummary | undefined, b: RowSummary | undefined): string {
  const pa = a?.percentiles.p99;
  const pb = b?.percentiles.p99;
  let ratio = '';
  if (pa?.enough && pb?.enough && pa.us !== null && pb.us !== null && pb.us > 0) {
    const x = pa.us / pb.us;
    ratio = x >= 1 ? `  (${x.toFixed(1)}x lower)` : `  (${(1 / x).toFixed(1)}x higher)`;
  }
  return `${route.padEnd(18)} ${p99Text(a)} -> ${p99Text(b)}${ratio}`;
}

/**
 * Replayed checkouts that the tuned storefront answered with another status
 * than recorded (a 409 sold out, or a 422 for an Idempotency-Key that several
 * replayed copies of one session share) are fast answers, not checkouts: say
 * so when they are a large share, so the headline is not over-read.
 */
function checkoutCaution(row: RowSummary | undefined): string | null {
  if (!row || row.requests === 0 || row.mismatchPct < 20) return null;
  return `caution: ${Math.round(row.mismatchPct)}% of the tuned checkouts got another status than recorded (sold out, or a reused Idempotency-Key); see docs/demo.md`;
}
