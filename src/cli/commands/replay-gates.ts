import { GateError } from '../../model/errors.js';
import type { RunResult } from '../../model/run-result.js';
import { checkSingleRunGates, describeGateResult, evaluateGates, parseGates, type Gate, type GateResult } from '../../report/gates.js';
import { gateLines } from '../../report/render-table.js';
import { colour } from '../output.js';

/**
 * `replay --fail-on` and scenario thresholds, loaded only when a run has
 * gates (the report modules cost start-up time a plain replay need not pay).
 */

/** Parses the gates and refuses relative ones (they need a baseline): UsageError, before any traffic. */
export function prepareGates(failOn: string[], thresholds: string[], scenarioPath: string | undefined): Gate[] {
  const gates = [...parseGates(failOn, '--fail-on'), ...parseGates(thresholds, `threshold in ${scenarioPath ?? 'the scenario'}`)];
  checkSingleRunGates(gates);
  return gates;
}

/** The gates' results on a run: lines to print, JSON entries, and the GateError to throw when any failed. */
export function judgeRun(gates: Gate[], result: RunResult): { lines: string[]; json: Array<Record<string, unknown>>; error: GateError | null } {
  const results = evaluateGates(gates, result);
  const failed = results.filter((g) => !g.passed);
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : '';
  const error = failed.length === 0
    ? null
    : new GateError(`${failed.length} of ${results.length} gate${results.length === 1 ? '' : 's'} failed: ${describeGateResult(failed[0]!)}${more}`);
  return { lines: gateLines(results, colour), json: results.map(gateJson), error };
}

function gateJson(r: GateResult): Record<string, unknown> {
  return { gate: r.gate.text, passed: r.passed, segment: r.segment, actual: r.actual, limit: r.gate.limit, requests: r.requests, ...(r.note ? { note: r.note } : {}) };
}
