import { basename } from 'node:path';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import Table from 'cli-table3';
import { splitPairedRun } from '../../measure/paired-run.js';
import { writeRunResult } from '../../measure/run-file.js';
import { RunError, UsageError, type FlashbackError } from '../../model/errors.js';
import type { RunPlan, RunResult } from '../../model/run-result.js';
import { formatUs, parseDurationUs, parsePositiveInt, parsePositiveNumber } from '../../model/units.js';
import { chooseHttpClient, parseHttpClient } from '../../replay/http-client.js';
import { openRecordingSource } from '../../replay/open-recording.js';
import { defaultConcurrency } from '../../replay/plan-concurrency.js';
import { probeTarget } from '../../replay/probe-target.js';
import {
  autoWindowUs, parseConnections, parseHeaderFlag, parseMethods, parseOrigin, parseSecretFlag, parseSeed, parseStartAt, resolveShard, parseTarget,
} from '../../replay/replay-options.js';
import { plannedSpanUs, startReplay, type ReplayConfig, type RunningReplay } from '../../replay/replay.js';
import { pctText, percentileText } from '../../report/format.js';
import type { Gate } from '../../report/gates.js';
import { routeRows, type RouteRows } from '../../report/summary.js';
import type { PercentileName, RowSummary } from '../../report/types.js';
import { loadScenario, type Scenario } from '../../segment/scenario.js';
import { colour, err, out, tableStyle, warn } from '../output.js';
import { TOOL_VERSION } from '../version.js';
import { numberedRun, seriesVerdict, type RunVerdict } from './replay-repeat.js';

interface ReplayFlags {
  target?: string; scale?: string; speed?: string; duration?: string; ramp: string; jitter?: string;
  methods?: string; routes?: string; seed: string; shard: string; startAt?: string; concurrency?: string;
  timeout: string; workers?: string; header: string[]; secret: string[]; out?: string; label?: string; window: string;
  maxSendLag: string; scenario?: string; quiet?: boolean; json?: boolean; failOn: string[]; connections: string; httpClient?: string;
  against?: string; repeat: string;
}

type CliConfig = ReplayConfig & { out: string; thresholds: string[]; repeat: number };

/** SIGINT/SIGTERM during a series: the run going on stops, and no further run starts. */
interface Interrupt {
  requested: boolean;
  running: RunningReplay | null;
}


function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Registers `flashback replay <recording> --target URL [...]`. */
export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay a recording against a target at a multiple of its volume, with honest timing; writes run.json')
    .argument('<recording>', 'recording file (.db)')
    .option('--target <url>', 'origin to replay against, e.g. http://staging:3000 (required); the candidate of a paired run')
    .option('--against <url>', 'paired run: also send every request to this baseline origin at the same intended time; run.json nests its run as "against"')
    .option('--repeat <n>', 'make n complete runs one after another (same plan and seed): --out base.json writes base.1.json … base.n.json (zero-padded from 10), labels <label>.1 …', '1')
    .option('--scale <n>', 'copies of every session (fractions by seeded sampling)', undefined)
    .option('--speed <x>', 'time compression: 2 replays twice as fast')
    .option('--duration <d>', 'run length: loops the recording, or stops early (e.g. 5m)')
    .option('--ramp <d>', 'grow the scale linearly from 1 to --scale over this long', '0')
    .option('--jitter <d>', 'seeded random delay in [0, d) added to each copy\'s start (default 1s)', undefined)
    .option('--methods <list>', 'replay only these methods, e.g. GET,HEAD')
    .option('--routes <glob>', 'replay only routes whose template path matches, e.g. "/products/**"')
    .option('--seed <n>', 'seed of every random choice (sampling, jitter, shards)', '1')
    .option('--shard <i/N>', 'take shard i of N of the sessions (run the others elsewhere, then report merge); auto: the index from JOB_COMPLETION_INDEX (0-based) or FLASHBACK_SHARD_INDEX, the count from FLASHBACK_SHARD_COUNT or auto/N', '1/1')
    .option('--start-at <iso>', 'wall-clock time to start at, so shards begin together: an ISO time, or an epoch plus a delay (2026-01-31T12:00:00Z+90s)')
    .option('--concurrency <c>', 'requests in flight at most (default: sized for the plan, see docs/replay.md); queueing counts in response time')
    .option('--connections <mode>', 'per-clone: each copy of a session opens its own connections, like a real user; shared: one keep-alive pool', 'per-clone')
    .option('--http-client <kind>', 'lean: flashback\'s own HTTP/1.1 client (default for http: targets); undici (always for https:)')
    .option('--timeout <d>', 'per-request timeout', '10s')
    .option('--workers <w>', 'worker threads (default: cores - 1, at least 1)')
    .option('--header <h>', "header on every request, 'Name: value' ($VAR expanded); repeatable", collect, [])
    .option('--secret <name=value>', 'value to send for a redacted body field of that name, e.g. password=$TEST_PASSWORD; repeatable', collect, [])
    .option('--out <file>', 'where to write run.json (default reports/run-<time>.json)')
    .option('--label <text>', 'label of this run in reports (default: the out file name)')
    .option('--window <d>', 'time window of per-window counts: a duration, or auto (100 ms to 1 s, at most 100 windows over the planned run)', 'auto')
    .option('--max-send-lag <d>', 'send lag p99 above this makes the run invalid', '10ms')
    .option('--scenario <file>', 'scenario file with replay defaults and thresholds (flags win)')
    .option('--fail-on <gate>', 'exit 1 when this gate fails, e.g. p99<400ms, errors<1%, "route=POST /checkout: p99<800ms"; repeatable', collect, [])
    .option('--quiet', 'no progress or summary output')
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (recording: string, flags: ReplayFlags) => {
      const config = buildConfig(recording, flags);
      try {
        const gating = flags.failOn.length + config.thresholds.length > 0 ? await import('./replay-gates.js') : null;
        const gates = gating ? gating.prepareGates(flags.failOn, config.thresholds, flags.scenario) : [];
        await executeSeries(config, flags, gates, gating);
      } finally {
        config.source.close();
      }
    });
}

function buildConfig(recording: string, f: ReplayFlags): CliConfig {
  const scenario: Scenario = f.scenario ? loadScenario(f.scenario) : {};
  const sr = scenario.replay ?? {};
  const target = parseTarget(f.target);
  const against = f.against === undefined ? undefined : parseOrigin(f.against, '--against');
  const repeat = parsePositiveInt(f.repeat, '--repeat');
  const scale = f.scale !== undefined ? parsePositiveNumber(f.scale, '--scale') : (sr.scale ?? 1);
  const speed = f.speed !== undefined ? parsePositiveNumber(f.speed, '--speed') : (sr.speed ?? 1);
  const durationText = f.duration ?? sr.duration;
  const durationUs = durationText !== undefined ? parseDurationUs(durationText, '--duration') : null;
  if (durationUs === 0) throw new UsageError('--duration must be more than 0');
  const jitterUs = parseDurationUs(f.jitter ?? sr.jitter ?? '1s', '--jitter');
  const concurrencyFlag = f.concurrency !== undefined ? parsePositiveInt(f.concurrency, '--concurrency') : sr.concurrency;
  const workers = f.workers !== undefined ? parsePositiveInt(f.workers, '--workers') : Math.max(1, availableParallelism() - 1);
  const windowFlag = f.window === 'auto' ? null : parseDurationUs(f.window, '--window');
  const connections = parseConnections(f.connections);
  const timeoutUs = parseDurationUs(f.timeout, '--timeout');
  if ((windowFlag !== null && windowFlag <= 0) || timeoutUs <= 0) throw new UsageError('--window and --timeout must be more than 0');
  const rampUs = parseDurationUs(f.ramp, '--ramp');
  const seed = parseSeed(f.seed);
  const methods = f.methods !== undefined ? parseMethods(f.methods) : null;
  const shard = resolveShard(f.shard, process.env);
  const headers = f.header.map((h) => parseHeaderFlag(h, process.env));
  const httpClient = f.httpClient === undefined ? undefined : chooseHttpClient(parseHttpClient(f.httpClient), target, headers.map((h) => h.name));
  const againstClient = f.httpClient === undefined || against === undefined ? undefined : chooseHttpClient(parseHttpClient(f.httpClient), against, headers.map((h) => h.name));
  const flagSecrets = Object.fromEntries(f.secret.map((s) => parseSecretFlag(s, process.env)));
  const startAtMs = f.startAt !== undefined ? parseStartAt(f.startAt, Date.now()) : undefined;
  const maxSendLagUs = parseDurationUs(f.maxSendLag, '--max-send-lag', 'ms');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outPath = f.out ?? `reports/run-${stamp}.json`;
  const source = openRecordingSource(recording);
  const concurrency = concurrencyFlag ?? defaultConcurrency(source.peakSessions(), scale, shard.count);
  const plannedUs = plannedSpanUs(source, { durationUs, speed, jitterUs });
  const windowUs = windowFlag ?? autoWindowUs(plannedUs);
  // The run's plan, built once: replay reads it and run.json records it.
  const plan: RunPlan = {
    scale, speed, durationUs, rampUs, jitterUs, seed, methods, routes: f.routes ?? null,
    concurrency, timeoutUs, workers, shard, windowUs,
    plannedUs,
    connections,
  };
  for (const [flag, origin] of [['--target', target], ['--against', against]] as const) {
    if (origin !== undefined && source.upstream !== null && new URL(source.upstream).origin === origin) {
      warn(`${flag} ${origin} is the origin this recording was made from`);
    }
  }
  const secrets = { ...source.replaySecrets, ...flagSecrets };
  const defaulted = Object.keys(source.replaySecrets ?? {}).filter((name) => !(name in flagSecrets));
  if (defaulted.length > 0 && !f.quiet) {
    const fields = defaulted.map((n) => `"${n}"`).join(', ');
    err(`flashback: redacted body field${defaulted.length > 1 ? 's' : ''} ${fields} filled with the recording's replay default` +
      ` (flashback inspect shows it; --secret ${defaulted[0]}=... overrides)`);
  }
  return {
    source, target, plan, headers, secrets, maxSendLagUs,
    label: f.label ?? basename(outPath).replace(/\.json$/, ''),
    toolVersion: TOOL_VERSION,
    nodeVersion: process.version,
    out: outPath,
    thresholds: scenario.thresholds ?? [],
    repeat,
    ...(against === undefined ? {} : { against: { target: against, ...(againstClient === undefined ? {} : { httpClient: againstClient }) } }),
    ...(startAtMs === undefined ? {} : { startAtMs }),
    ...(httpClient === undefined ? {} : { httpClient }),
  };
}

/**
 * Runs the replay `config.repeat` times (`--repeat`), one complete run after
 * another, each written to its numbered file; every run is made and written
 * even when an earlier one was invalid or failed a gate, and the worst
 * verdict is thrown at the end. SIGINT stops the run going on and the series.
 */
async function executeSeries(config: CliConfig, f: ReplayFlags, gates: Gate[], gating: typeof import('./replay-gates.js') | null): Promise<void> {
  const probeMs = Math.min(5000, Math.round(config.plan.timeoutUs / 1000));
  await probeTarget(config.target, probeMs);
  if (config.against !== undefined) await probeTarget(config.against.target, probeMs);
  const interrupt: Interrupt = { requested: false, running: null };
  const onSignal = (): void => {
    interrupt.requested = true;
    interrupt.running?.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const verdicts: RunVerdict[] = [];
  const docs: unknown[] = [];
  try {
    for (let i = 1; i <= config.repeat && !interrupt.requested; i++) {
      const named = numberedRun(config.out, config.label, i, config.repeat);
      // only the first run waits for --start-at; the later ones start when the one before ends
      const { startAtMs, ...rest } = config;
      const run: CliConfig = { ...rest, ...named, ...(i === 1 && startAtMs !== undefined ? { startAtMs } : {}) };
      if (config.repeat > 1 && !f.quiet) err(`flashback replay: run ${i} of ${config.repeat} -> ${named.out}`);
      const { doc, error } = await execute(run, f, gates, gating, interrupt);
      docs.push(doc);
      verdicts.push({ out: named.out, error });
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // one JSON document on stdout: the run's summary, or a list of them for a series
  if (f.json) out(JSON.stringify(config.repeat === 1 ? docs[0] : docs, null, 2));
  const error = seriesVerdict(verdicts);
  if (error) throw error;
}

/** One run: replays, writes run.json, prints its summary; returns the `--json` summary and its verdict (invalid, or a gate failed). */
async function execute(
  config: CliConfig, f: ReplayFlags, gates: Gate[], gating: typeof import('./replay-gates.js') | null, interrupt: Interrupt,
): Promise<{ doc: unknown; error: FlashbackError | null }> {
  const running = startReplay(config);
  interrupt.running = running;
  const ticker = f.quiet ? null : startProgress(running, config.plan.plannedUs);
  let result: RunResult;
  try {
    result = await running.result;
  } finally {
    interrupt.running = null;
    if (ticker) clearInterval(ticker);
    if (!f.quiet && process.stderr.isTTY) process.stderr.write('\n');
  }
  writeRunResult(config.out, result);
  const summary = routeRows(result);
  const judged = result.valid && gating !== null ? gating.judgeRun(gates, result) : null;
  const doc = {
    out: config.out, valid: result.valid, invalidReasons: result.invalidReasons, totals: result.totals,
    overall: summary.overall, routes: summary.routes, gates: judged?.json ?? [],
    ...(result.against === undefined ? {} : { against: againstJson(result.against) }),
  };
  if (!f.json && !f.quiet) printSummary(result, summary, config.out);
  if (!result.valid) {
    return { doc, error: new RunError(`the run is not a valid measurement: ${result.invalidReasons.join('; ')}`, { hint: `figures written to ${config.out} anyway` }) };
  }
  if (judged === null) return { doc, error: null };
  if (!f.json && !f.quiet) for (const line of judged.lines) out(line);
  return { doc, error: judged.error };
}

/** The `--json` summary of a paired run's baseline: its target, validity, totals and overall figures. */
function againstJson(against: RunResult): Record<string, unknown> {
  return {
    target: against.target, label: against.label, valid: against.valid, invalidReasons: against.invalidReasons,
    totals: against.totals, overall: routeRows(against).overall,
  };
}

/** The lines saying a run was paired: each side's requests, p50/p95/p99, send lag and (own) validity. */
function pairedLines(result: RunResult, overall: RowSummary): string[] {
  const against = result.against!;
  const width = Math.max(result.target.length, against.target.length);
  // the candidate's own verdict: the paired result also lists the baseline's reasons
  const candidateValid = splitPairedRun(result).candidate.valid;
  const side = (name: string, r: RunResult, o: RowSummary, valid: boolean): string =>
    `  ${name} ${r.target.padEnd(width)}  ${o.requests} requests  p50 ${percentileText(o.percentiles.p50, 'p50')}  p95 ${percentileText(o.percentiles.p95, 'p95')}  p99 ${percentileText(o.percentiles.p99, 'p99')}` +
    `  send lag p99 ${formatUs(r.totals.sendLagP99Us)}${valid ? '' : '  (NOT valid)'}`;
  return [
    'Paired run: every request went to both targets at the same intended time (the table below is the candidate\'s)',
    side('candidate (--target) ', result, overall, candidateValid),
    side('baseline  (--against)', against, routeRows(against).overall, against.valid),
  ];
}

function progressLine(running: RunningReplay, plannedUs: number): string {
  const p = running.progress();
  const rate = p.elapsedUs > 0 ? Math.round(p.done / (p.elapsedUs / 1e6)) : 0;
  const el = (p.elapsedUs / 1e6).toFixed(0);
  const planned = (plannedUs / 1e6).toFixed(0);
  return `${el}s/${planned}s  ${p.done} requests  ${rate} req/s  ${p.inFlight} in flight  ${p.errors} errors  p99 ${formatUs(p.recentP99Us)} (last 10s)`;
}

function startProgress(running: RunningReplay, plannedUs: number): NodeJS.Timeout {
  const tty = Boolean(process.stderr.isTTY);
  const t = setInterval(() => {
    if (tty) process.stderr.write(`\r\x1b[2K${progressLine(running, plannedUs)}`);
    else process.stderr.write(`flashback replay: ${progressLine(running, plannedUs)}\n`);
  }, tty ? 500 : 10_000);
  t.unref();
  return t;
}

/** Routes the closing table shows (slowest P99 first); `report show` shows them all. */
const SUMMARY_ROUTES = 10;

/** One row of the closing table: the cells of `report show`'s row for the same figures. */
function summaryCells(label: string, r: RowSummary): string[] {
  const pc = (n: PercentileName): string => (r.percentiles[n].enough ? percentileText(r.percentiles[n], n) : colour.dim(percentileText(r.percentiles[n], n)));
  return [label, String(r.requests), pctText(r.errorPct), pctText(r.mismatchPct), pc('p50'), pc('p95'), pc('p99'), formatUs(r.maxUs)];
}

function printSummary(result: RunResult, s: RouteRows, outPath: string): void {
  const t = result.totals;
  out(`Replayed ${t.requests} requests in ${t.sessions} sessions against ${result.target} in ${formatUs(result.durationUs)}` +
    ` (${Math.round(t.requests / Math.max(result.durationUs / 1e6, 1e-6))} req/s); send lag p99 ${formatUs(t.sendLagP99Us)}`);
  if (result.against) for (const line of pairedLines(result, s.overall)) out(line);
  const table = new Table({
    head: ['route', 'requests', 'errors', 'mismatch', 'P50', 'P95', 'P99', 'max'],
    style: tableStyle(),
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  });
  table.push(summaryCells('overall', s.overall), ...s.routes.slice(0, SUMMARY_ROUTES).map((r) => summaryCells(r.label, r)));
  out(table.toString());
  const more = s.routes.length - SUMMARY_ROUTES;
  if (more > 0) out(`… ${more} more route${more === 1 ? '' : 's'}: flashback report show ${outPath}`);
  if (t.droppedRedactedHeaders > 0) {
    out(`${t.droppedRedactedHeaders} redacted values (headers, query or body fields) had no live value and were not sent (--secret fills body fields)`);
  }
  out(`${result.valid ? 'Valid measurement' : 'NOT a valid measurement: ' + result.invalidReasons.join('; ')}. Written to ${outPath}`);
}
