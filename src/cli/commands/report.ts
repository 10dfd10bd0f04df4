import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import type { Command } from 'commander';
import { mergeRuns, offStartShards } from '../../measure/merge.js';
import { readRunResult, writeRunResult } from '../../measure/run-file.js';
import { GateError, InputError, RunError, UsageError, messageOf } from '../../model/errors.js';
import type { RunResult } from '../../model/run-result.js';
import { formatUs, parseDurationUs, parsePositiveInt } from '../../model/units.js';
import { compareRuns, diffInput, newFrame } from '../../report/diff.js';
import { checkSingleRunGates, describeGateResult, evaluateDiffGates, evaluateGates, parseGates, type Gate, type GateResult } from '../../report/gates.js';
import { buildDiffHtml, buildShowHtml } from '../../report/html-report.js';
import { renderDiffJson, renderSummaryJson } from '../../report/render-json.js';
import { renderJunit } from '../../report/render-junit.js';
import { renderDiffMarkdown, renderSummaryMarkdown } from '../../report/render-markdown.js';
import { renderDiffTable, renderSummaryTable, type TableLook } from '../../report/render-table.js';
import { parseSort, summarizeRun } from '../../report/summary.js';
import { PLAIN } from '../../report/format.js';
import { loadScenario } from '../../segment/scenario.js';
import { colour, err, out, tableStyle, warn } from '../output.js';

type Format = 'table' | 'json' | 'markdown' | 'junit' | 'html';
const FORMATS: Format[] = ['table', 'json', 'markdown', 'junit', 'html'];
const EXT_FORMAT: Record<string, Format> = { '.json': 'json', '.md': 'markdown', '.xml': 'junit', '.html': 'html', '.htm': 'html' };

interface CommonFlags {
  by?: string;
  top: string;
  sort: string;
  format?: string;
  out: string[];
  failOn: string[];
  scenario?: string;
}
interface DiffFlags extends CommonFlags {
  minRel: string;
  minAbs: string;
  minAbsErrors: string;
  resamples: string;
  seed: string;
  force?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseFormat(text: string | undefined): Format | undefined {
  if (text === undefined) return undefined;
  if ((FORMATS as string[]).includes(text)) return text as Format;
  throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got "${text}")`);
}

/** `--top`: rows per view, 20 unless told; `all` for every row. */
function parseTop(text: string): number | undefined {
  return text === 'all' ? undefined : parsePositiveInt(text, '--top');
}

function parsePercent(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text.trim());
  if (!m) throw new UsageError(`${what} must be a percentage like 5% (got "${text}")`);
  return Number(m[1]);
}

/** Gates from --fail-on and the scenario's thresholds, parsed before any run is read. */
function gatesOf(flags: CommonFlags): Gate[] {
  const gates = parseGates(flags.failOn, '--fail-on');
  if (flags.scenario) {
    const scenario = loadScenario(flags.scenario);
    gates.push(...parseGates(scenario.thresholds ?? [], `threshold in ${flags.scenario}`));
  }
  return gates;
}

/** What each output gets: files by extension (else --format), stdout the --format, or the table when only files were asked for. */
function plan(flags: CommonFlags): { stdout: Format | null; files: Array<[string, Format]> } {
  const format = parseFormat(flags.format);
  const files = flags.out.map((f): [string, Format] => [f, EXT_FORMAT[extname(f).toLowerCase()] ?? format ?? 'table']);
  if (files.length === 0) return { stdout: format ?? 'table', files };
  return { stdout: format === undefined ? 'table' : null, files };
}

function writeOut(path: string, text: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  } catch (e) {
    throw new InputError(`Failed to write report ${path}: ${messageOf(e)}`, { cause: e });
  }
  err(`flashback: wrote ${path}`);
}

/** Exit status after printing: a bad run (3) outranks a failed gate (1). */
function finish(runs: Array<{ path: string; run: RunResult }>, gates: GateResult[]): void {
  const invalid = runs.filter((r) => !r.run.valid);
  const failed = gates.filter((g) => !g.passed);
  for (const g of failed) err(`flashback: gate failed: ${describeGateResult(g).replace(/^FAIL /, '')}`);
  if (invalid.length > 0) {
    const r = invalid[0]!;
    throw new RunError(`${r.path} is not a valid measurement: ${r.run.invalidReasons.join('; ') || 'marked invalid'}`, {
      hint: 'the report above is for diagnosis only; measure again before trusting its figures',
    });
  }
  if (failed.length > 0) throw new GateError(`${failed.length} of ${gates.length} gate${gates.length === 1 ? '' : 's'} failed`);
}

function look(forTerminal: boolean): TableLook {
  return forTerminal ? { style: tableStyle(), paint: colour } : { style: { head: [], border: [] }, paint: PLAIN };
}

function commonOptions(cmd: Command): Command {
  return cmd
    .option('--by <views>', 'views: route, cohort, route,cohort, or a cohort attribute such as device (default: all of them)')
    .option('--top <n>', 'rows per view, or all', '20')
    .option('--sort <key>', 'row order in show: p99, errors, requests, name', 'p99')
    .option('--format <f>', `output format: ${FORMATS.join(', ')} (default table)`)
    .option('--out <file>', 'write to a file instead, format from the extension (.json .md .xml .html; other names take --format); repeatable', collect, [])
    .option('--fail-on <gate>', 'gate, e.g. p99<400ms, errors<1%, "route=POST /checkout: p99<800ms"; repeatable', collect, [])
    .option('--scenario <file>', 'scenario file whose thresholds are gates too');
}

/** Registers `flashback report show|diff|merge`. */
export function registerReport(program: Command): void {
  const report = program.command('report').description('latency distributions by route and cohort: show a run, diff two, merge shards');

  commonOptions(report.command('show').description('one run: requests, errors, P50/P95/P99/P99.9 by route and cohort').argument('<run>', 'run.json'))
    .action((path: string, flags: CommonFlags) => {
      const gates = gatesOf(flags);
      checkSingleRunGates(gates);
      const top = parseTop(flags.top);
      const sort = parseSort(flags.sort);
      const { stdout, files } = plan(flags);
      const run = readRunResult(path);
      const summary = summarizeRun(run, { ...(flags.by ? { by: flags.by } : {}), ...(top ? { top } : {}), sort });
      const results = evaluateGates(gates, run);
      const render = (f: Format, terminal: boolean): string => {
        if (f === 'table') return renderSummaryTable(summary, look(terminal), results) + '\n';
        if (f === 'json') return renderSummaryJson(summary, results);
        if (f === 'markdown') return renderSummaryMarkdown(summary, results);
        if (f === 'junit') return renderJunit(results, `flashback report show ${run.label}`);
        return buildShowHtml(run, summary, results);
      };
      for (const [file, f] of files) writeOut(file, render(f, false));
      if (stdout) process.stdout.write(render(stdout, true));
      finish([{ path, run }], results);
    });

  commonOptions(
    report
      .command('diff')
      .description('baseline(s) vs candidate: P50/P95/P99 and error changes with intervals and verdicts')
      .argument('<runs...>', 'baseline run.json file(s), then the candidate (several baselines: a baseline set whose spread measures the noise between runs); or one paired run from replay --against'),
  )
    .option('--min-rel <pct>', 'relative floor: smaller changes are not called', '5%')
    .option('--min-abs <time>', 'absolute floor for latency changes', '1ms')
    .option('--min-abs-errors <pts>', 'absolute floor for error-share changes, percentage points', '0.1')
    .option('--resamples <n>', 'bootstrap resamples', '1000')
    .option('--seed <n>', 'bootstrap seed (same seed, same intervals)', '1')
    .option('--force', 'compare runs of different recordings')
    .action((paths: string[], flags: DiffFlags) => {
      const gates = gatesOf(flags);
      const top = parseTop(flags.top);
      const options = {
        minRelPct: parsePercent(flags.minRel, '--min-rel'),
        minAbsUs: parseDurationUs(flags.minAbs, '--min-abs', 'ms'),
        minAbsErrorPts: parsePercent(flags.minAbsErrors, '--min-abs-errors'),
        resamples: parsePositiveInt(flags.resamples, '--resamples'),
        seed: /^\d+$/.test(flags.seed) ? Number(flags.seed) : Number.NaN,
      };
      if (Number.isNaN(options.seed)) throw new UsageError(`--seed must be a whole number (got "${flags.seed}")`);
      const { stdout, files } = plan(flags);
      const runs = paths.map((p) => readRunResult(p));
      const input = diffInput(runs, paths);
      const base = input.baselines[0]!;
      const cand = input.candidate;
      const frame = newFrame(input, options);
      const c = compareRuns(input, { ...(flags.by ? { by: flags.by } : {}), ...(top ? { top } : {}), force: Boolean(flags.force) }, frame);
      const results = evaluateDiffGates(gates, input, options, frame);
      const render = (f: Format, terminal: boolean): string => {
        if (f === 'table') return renderDiffTable(c, look(terminal), results) + '\n';
        if (f === 'json') return renderDiffJson(c, results);
        if (f === 'markdown') return renderDiffMarkdown(c, results);
        if (f === 'junit') return renderJunit(results, `flashback report diff ${base.label} ${cand.label}`);
        return buildDiffHtml(base, cand, c, results);
      };
      for (const [file, f] of files) writeOut(file, render(f, false));
      if (stdout) process.stdout.write(render(stdout, true));
      const checked = input.paired
        ? [{ path: `${paths[0]} (against)`, run: base }, { path: paths[0]!, run: cand }]
        : runs.map((run, i) => ({ path: paths[i]!, run }));
      finish(checked, results);
    });

  report
    .command('merge')
    .description('merge shard results of one run (same recording and plan) into one run.json')
    .argument('<runs...>', 'run.json files of the shards')
    .requiredOption('--out <file>', 'where to write the merged run.json')
    .action((paths: string[], flags: { out: string }) => {
      if (paths.length < 2) throw new UsageError(`report merge needs at least two run files (got ${paths.length})`);
      const merged = mergeRuns(paths.map((p) => readRunResult(p)));
      writeRunResult(flags.out, merged);
      out(`merged ${paths.length} runs (${merged.totals.requests} requests, ${merged.segments.length} segments) into ${flags.out}`);
      const count = merged.plan.shard.count;
      const withStart = new Set((merged.start?.shards ?? []).map((s) => s.shard));
      for (const s of offStartShards(merged)) {
        warn(
          `shard ${s.shard}/${count} ("${s.label}") started ${formatUs(Math.abs(s.skewUs))} ${s.skewUs > 0 ? 'late' : 'early'} against --start-at ${merged.start!.intended} (more than its ${formatUs(s.limitUs)} send-lag limit): the shards did not send together at first`,
        );
      }
      if (merged.start && merged.mergedShards) {
        const without = merged.mergedShards.filter((i) => !withStart.has(i));
        if (without.length > 0) warn(`shard${without.length > 1 ? 's' : ''} ${without.map((i) => `${i}/${count}`).join(', ')} had no --start-at: their start against the others is unknown`);
      }
    });
}
