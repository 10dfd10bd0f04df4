import type { RunResult } from '../model/run-result.js';
import { chartData } from './charts.js';
import type { GateResult } from './gates.js';
import { renderHtml } from './render-html.js';
import type { Comparison, RunSummary } from './types.js';

/** The HTML report of one run: its charts and tables. */
export function buildShowHtml(run: RunResult, summary: RunSummary, gates: GateResult[] = []): string {
  return renderHtml({ title: `flashback: ${run.label}`, runs: [summary.run], summary, charts: chartData([run]), gates });
}

/** The HTML report of a diff: both runs' percentile curves per route, throughput and P99 over time, and the tables. */
export function buildDiffHtml(base: RunResult, cand: RunResult, comparison: Comparison, gates: GateResult[] = []): string {
  return renderHtml({
    title: `flashback: ${cand.label} vs ${base.label}`,
    runs: [...comparison.baselines, comparison.cand],
    comparison,
    charts: chartData([base, cand]),
    gates,
  });
}
