import type { GateResult } from './gates.js';
import type { Comparison, RunSummary } from './types.js';

/** Format name and version of report JSON (`docs/report.md` documents the schema). */
export const REPORT_FORMAT = 'flashback.report';
export const REPORT_VERSION = 1;

/** A gate result as it appears in JSON. */
export interface GateJson {
  gate: string;
  metric: string;
  kind: 'absolute' | 'relative';
  op: '<' | '<=';
  /** µs for latency figures, % for errors/mismatches and for relative gates. */
  limit: number;
  scope: { route: string | null; cohort: Record<string, string> };
  segment: string;
  passed: boolean;
  actual: number | null;
  requests: number;
  note: string | null;
}

/** Gate results in their JSON shape. */
export function gatesJson(gates: GateResult[]): GateJson[] {
  return gates.map((r) => ({
    gate: r.gate.text,
    metric: r.gate.metric,
    kind: r.gate.kind,
    op: r.gate.op,
    limit: r.gate.limit,
    scope: r.gate.scope,
    segment: r.segment,
    passed: r.passed,
    actual: r.actual,
    requests: r.requests,
    note: r.note ?? null,
  }));
}

/** `report show --format json`: schema `flashback.report/1`, kind `show`. */
export function renderSummaryJson(summary: RunSummary, gates: GateResult[] = []): string {
  return JSON.stringify(
    { format: REPORT_FORMAT, version: REPORT_VERSION, kind: 'show', run: summary.run, views: summary.views, gates: gatesJson(gates) },
    null,
    2,
  ) + '\n';
}

/** `report diff --format json`: schema `flashback.report/1`, kind `diff`. */
export function renderDiffJson(c: Comparison, gates: GateResult[] = []): string {
  return JSON.stringify(
    {
      format: REPORT_FORMAT,
      version: REPORT_VERSION,
      kind: 'diff',
      baseline: c.base,
      baselines: c.baselines,
      candidate: c.cand,
      noise: c.noise,
      shift: c.shift,
      differentRecordings: c.differentRecordings,
      options: c.options,
      views: c.views,
      gates: gatesJson(gates),
    },
    null,
    2,
  ) + '\n';
}
