import { UsageError } from '../model/errors.js';
import type { RunResult } from '../model/run-result.js';
import type { Cohort } from '../model/session.js';
import { formatUs } from '../model/units.js';
import { newFrame, type DiffFrame, type DiffInput } from './diff.js';
import { summarizeGroup } from './summary.js';
import { MIN_SAMPLES, type DiffOptions, type PercentileName, type RowSummary } from './types.js';
import { decodeSegments, mergeGroup, rowKey, rowLabel, type DecodedSegment, type MergedGroup } from './views.js';

/**
 * Gates: expressions that turn results into an exit status.
 *
 *   p99<400ms                      absolute, on the whole run
 *   errors<1%   mismatches<=5%     shares of requests
 *   p99:+10%                       relative (diff only): fail if P99 got more than 10% worse, significantly
 *   route=POST /checkout: p99<800ms            scoped to a route (`route=/checkout` matches any method)
 *   cohort.device=mobile: p95<300ms            scoped to a cohort attribute
 *   route=GET /cart, cohort.region=eu: p95<1s  both
 */

/** Figures a gate can test. */
export type GateMetric = PercentileName | 'max' | 'errors' | 'mismatches';

/** Which requests a gate looks at: all of them when empty. */
export interface GateScope {
  route: string | null;
  cohort: Cohort;
}

/** A parsed gate. Limits are µs for latency figures and percent for shares and relative gates. */
export interface Gate {
  text: string;
  scope: GateScope;
  metric: GateMetric;
  kind: 'absolute' | 'relative';
  op: '<' | '<=';
  limit: number;
}

/** The outcome of one gate. */
export interface GateResult {
  gate: Gate;
  passed: boolean;
  /** The scope as a row label: `all`, `POST /checkout · device=mobile`. */
  segment: string;
  /** Measured value (µs, % or relative %), null when nothing matched. */
  actual: number | null;
  /** Requests the figure rests on. */
  requests: number;
  /** Why the figure is weak or missing, when it is. */
  note?: string;
}

const METRICS: Record<string, GateMetric> = {
  p50: 'p50', p95: 'p95', p99: 'p99', 'p99.9': 'p999', p999: 'p999', max: 'max', errors: 'errors', mismatches: 'mismatches',
};
const LATENCY_METRICS = new Set<GateMetric>(['p50', 'p95', 'p99', 'p999', 'max']);
const UNIT_US: Record<string, number> = { us: 1, µs: 1, ms: 1_000, s: 1_000_000 };
const CONDITION_START = /^[A-Za-z][\w.]*\s*(?:<=|<|>=|>|==|=|:\s*[+-])/;

/** Parses one gate expression; UsageError naming the expression and what is wrong with it. */
export function parseGate(text: string, what = '--fail-on'): Gate {
  const fail = (why: string): never => {
    throw new UsageError(`${what} "${text}" is not a valid gate: ${why}`, {
      hint: 'gates look like p99<400ms, errors<1%, p99:+10% or "route=POST /checkout: p99<800ms"',
    });
  };
  const trimmed = text.trim();
  if (trimmed === '') fail('it is empty');
  let scopeText = '';
  let condition = trimmed;
  for (let i = trimmed.lastIndexOf(':'); i > 0; i = trimmed.lastIndexOf(':', i - 1)) {
    const rest = trimmed.slice(i + 1).trim();
    if (CONDITION_START.test(rest)) {
      scopeText = trimmed.slice(0, i).trim();
      condition = rest;
      break;
    }
  }
  const m = /^([A-Za-z][\w.]*)\s*(<=|<|>=|>|==|=|:)\s*(.*)$/.exec(condition);
  if (!m) return fail('expected a figure, a comparison and a limit, like p99<400ms');
  const [, name, op, value] = m as unknown as [string, string, string, string];
  const metric = METRICS[name.toLowerCase()];
  if (!metric) {
    return fail(`unknown figure "${name}" (use p50, p95, p99, p99.9, max, errors or mismatches; a scope ends with ":")`);
  }
  const scope = parseScope(scopeText, fail);
  if (op === ':') {
    if (metric !== 'p50' && metric !== 'p95' && metric !== 'p99') fail(`relative gates apply to p50, p95 and p99 (got ${name})`);
    const rel = /^\+\s*(\d+(?:\.\d+)?)\s*%$/.exec(value);
    if (!rel) fail(`a relative gate is how much worse the figure may get, like ${name}:+10% (got "${value}")`);
    return { text: trimmed, scope, metric, kind: 'relative', op: '<=', limit: Number(rel![1]) };
  }
  if (op !== '<' && op !== '<=') fail(`gates are upper limits: use < or <= (got "${op}")`);
  if (LATENCY_METRICS.has(metric)) {
    const t = /^(\d+(?:\.\d+)?)\s*(us|µs|ms|s)$/.exec(value);
    if (!t) fail(`${name} needs a time with a unit (us, ms or s), like ${name}${op}400ms (got "${value}")`);
    return { text: trimmed, scope, metric, kind: 'absolute', op: op as '<' | '<=', limit: Math.round(Number(t![1]) * UNIT_US[t![2]!]!) };
  }
  const p = /^(\d+(?:\.\d+)?)\s*%$/.exec(value);
  if (!p) fail(`${name} needs a percentage, like ${name}${op}1% (got "${value}")`);
  return { text: trimmed, scope, metric, kind: 'absolute', op: op as '<' | '<=', limit: Number(p![1]) };
}

function parseScope(text: string, fail: (why: string) => never): GateScope {
  const scope: GateScope = { route: null, cohort: {} };
  if (text === '') return scope;
  for (const term of text.split(/,\s*(?=route\s*=|cohort\.)/)) {
    const route = /^route\s*=\s*(.+)$/.exec(term.trim());
    const cohort = /^cohort\.([\w-]+)\s*=\s*(.+)$/.exec(term.trim());
    if (route) {
      if (scope.route !== null) fail('it names two routes');
      scope.route = route[1]!.trim();
    } else if (cohort) {
      scope.cohort[cohort[1]!] = cohort[2]!.trim();
    } else {
      fail(`a scope is route=<route> or cohort.<attribute>=<value> (got "${term.trim()}")`);
    }
  }
  return scope;
}

/** Parses many gates (from repeated `--fail-on`, or a scenario's `thresholds`). */
export function parseGates(texts: readonly string[], what = '--fail-on'): Gate[] {
  return texts.map((t) => parseGate(t, what));
}

/** Whether a segment's route matches a scope route: exact, or by path alone when the scope names no method. */
function routeMatches(route: string, want: string): boolean {
  if (route === want) return true;
  if (want.includes(' ')) return false;
  return route.slice(route.indexOf(' ') + 1) === want;
}

function inScope(d: DecodedSegment, scope: GateScope): boolean {
  if (scope.route !== null && !routeMatches(d.segment.route, scope.route)) return false;
  for (const [k, v] of Object.entries(scope.cohort)) if (d.segment.cohort[k] !== v) return false;
  return true;
}

function scopeRow(decoded: DecodedSegment[], scope: GateScope, durationUs: number): RowSummary | null {
  const parts = decoded.filter((d) => inScope(d, scope));
  if (parts.length === 0) return null;
  return summarizeGroup(mergeGroup(rowKey(scope.route, scope.cohort), scope.route, scope.cohort, parts), durationUs);
}

function absolute(gate: Gate, row: RowSummary | null): GateResult {
  const segment = rowLabel(gate.scope.route, gate.scope.cohort);
  if (!row || row.requests === 0) return { gate, passed: false, segment, actual: null, requests: 0, note: 'no requests matched this scope' };
  let actual: number;
  let note: string | undefined;
  if (gate.metric === 'errors') actual = row.errorPct;
  else if (gate.metric === 'mismatches') actual = row.mismatchPct;
  else if (gate.metric === 'max') actual = row.maxUs;
  else {
    const fig = row.percentiles[gate.metric];
    actual = fig.us ?? 0;
    if (!fig.enough) note = `only ${row.requests} requests: ${gate.metric.toUpperCase()} wants ${MIN_SAMPLES[gate.metric]}`;
  }
  const passed = gate.op === '<' ? actual < gate.limit : actual <= gate.limit;
  return { gate, passed, segment, actual, requests: row.requests, ...(note ? { note } : {}) };
}

/**
 * Throws UsageError when a gate needs a baseline (`p99:+10%`): call it right
 * after parsing, before a replay spends minutes, wherever one run is gated.
 */
export function checkSingleRunGates(gates: readonly Gate[]): void {
  const rel = gates.find((g) => g.kind === 'relative');
  if (rel) throw new UsageError(`gate "${rel.text}" compares with a baseline: use it with report diff, not on a single run`);
}

/**
 * Evaluates gates on one run (`report show --fail-on`, `replay --fail-on`).
 * A relative gate needs a baseline: UsageError. A scope that matches no
 * request fails (a typo in a route must not pass silently).
 */
export function evaluateGates(gates: readonly Gate[], run: RunResult): GateResult[] {
  checkSingleRunGates(gates);
  const decoded = decodeSegments(run);
  return gates.map((g) => absolute(g, scopeRow(decoded, g.scope, run.durationUs)));
}

/**
 * Evaluates gates on a diff: absolute gates on the candidate; a relative gate
 * fails when the figure got worse by more than its limit and the change is
 * significant. A gate scoped to routes or cohorts judges the scope's own
 * change beyond the run-wide shift while that shift is within run-to-run
 * noise (see `report/diff`); an unscoped gate judges the whole run's change
 * against the noise between runs.
 */
export function evaluateDiffGates(gates: readonly Gate[], input: DiffInput, options: Partial<DiffOptions> = {}, frame: DiffFrame = newFrame(input, options)): GateResult[] {
  const cand = input.candidate;
  const dc = decodeSegments(cand);
  const decoded = frame.decoded();
  return gates.map((g) => {
    if (g.kind === 'absolute') return absolute(g, scopeRow(dc, g.scope, cand.durationUs));
    const segment = rowLabel(g.scope.route, g.scope.cohort);
    const pb = decoded.base.map((run) => run.filter((d) => inScope(d, g.scope)));
    const pc = decoded.cand.filter((d) => inScope(d, g.scope));
    if (pb.every((parts) => parts.length === 0) || pc.length === 0) {
      const where = pc.length === 0 ? 'candidate' : 'baseline';
      return { gate: g, passed: false, segment, actual: null, requests: 0, note: `no requests matched this scope in the ${where}` };
    }
    const key = rowKey(g.scope.route, g.scope.cohort);
    const merge = (parts: DecodedSegment[]): MergedGroup | null => (parts.length === 0 ? null : mergeGroup(key, g.scope.route, g.scope.cohort, parts));
    const [row] = frame.rows([
      {
        key,
        label: segment,
        route: g.scope.route,
        cohort: g.scope.cohort,
        base: pb.map(merge),
        cand: merge(pc),
      },
    ]);
    const d = row!.deltas[g.metric as 'p50' | 'p95' | 'p99'];
    const requests = row!.cand?.requests ?? 0;
    if (d.verdict === 'insufficient' || d.relPct === null) {
      return { gate: g, passed: true, segment, actual: d.relPct, requests, note: `not judged: ${d.note ?? 'no baseline value'}` };
    }
    const own = d.judged === 'own' && d.own ? d.own.relPct : null;
    const actual = own ?? d.relPct;
    const passed = !(actual > g.limit && d.significant);
    const notes: string[] = [];
    if (own !== null) notes.push(`own change beyond a run-wide shift; total ${d.relPct >= 0 ? '+' : ''}${d.relPct.toFixed(1)}%`);
    if (actual > g.limit && !d.significant) notes.push('worse by more than the limit, but within the noise');
    return { gate: g, passed, segment, actual, requests, ...(notes.length > 0 ? { note: notes.join('; ') } : {}) };
  });
}

/** The measured value of a result as text: `512ms`, `2.10%`, `+14.2%`. */
export function formatGateValue(gate: Gate, value: number): string {
  if (gate.kind === 'relative') return `${value >= 0 ? '+' : ''}${value.toFixed(1)}%`;
  if (gate.metric === 'errors' || gate.metric === 'mismatches') return `${value.toFixed(2)}%`;
  return formatUs(value);
}

/** One line per result: `FAIL p99<400ms on POST /checkout: 512ms (limit 400ms, 1200 requests)`. */
export function describeGateResult(r: GateResult): string {
  const head = `${r.passed ? 'pass' : 'FAIL'} ${r.gate.text} on ${r.segment}`;
  const limit = formatGateValue(r.gate, r.gate.limit);
  const value = r.actual === null ? 'no value' : formatGateValue(r.gate, r.actual);
  return `${head}: ${value} (limit ${r.gate.kind === 'relative' ? '+' + limit.replace(/^\+/, '') : limit}, ${r.requests} requests)${r.note ? ` — ${r.note}` : ''}`;
}
