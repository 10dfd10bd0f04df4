import { formatUs } from '../model/units.js';
import {
  deltaLines,
  noiseText,
  shiftText,
  changeText,
  intervalText,
  invalidBanner,
  pctText,
  percentileText,
  rateText,
  runHeadline,
  sendLagText,
  verdictText,
} from './format.js';
import { describeGateResult, type GateResult } from './gates.js';
import type { Comparison, DeltaName, DiffRow, RowSummary, RunInfo, RunSummary } from './types.js';

/** Escapes text for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
}

function row(cells: string[]): string {
  return `| ${cells.map(cell).join(' | ')} |`;
}

function runLines(info: RunInfo, role?: string): string[] {
  const lines = [`- ${role ? `**${role}**: ` : ''}${runHeadline(info)} — ${sendLagText(info)}`];
  const banner = invalidBanner(info);
  if (banner) lines.unshift('', '> [!CAUTION]', `> **${banner}**`, '');
  return lines;
}

function gatesSection(gates: GateResult[]): string[] {
  if (gates.length === 0) return [];
  const failed = gates.filter((g) => !g.passed).length;
  const lines = ['', `### Gates: ${gates.length - failed} passed, ${failed} failed`, ''];
  for (const g of gates) lines.push(`- ${g.passed ? '✅' : '❌'} ${describeGateResult(g).replace(/^(pass|FAIL) /, '')}`);
  return lines;
}

/** `report show --format markdown`: for a pull request or `$GITHUB_STEP_SUMMARY`. */
export function renderSummaryMarkdown(summary: RunSummary, gates: GateResult[] = []): string {
  const out = [`## flashback: ${summary.run.label}`, '', ...runLines(summary.run)];
  for (const view of summary.views) {
    out.push('', `### ${view.name === 'overall' ? 'Overall' : `By ${view.name}`}`, '');
    out.push(row(['segment', 'requests', 'rate', 'errors', 'mismatch', 'P50', 'P95', 'P99', 'P99.9', 'max', 'lag P99']));
    out.push('|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
    for (const r of view.rows) out.push(row(showCells(r)));
    if (view.omitted > 0) out.push('', `_… ${view.omitted} more rows (raise --top to see them)_`);
  }
  out.push(...gatesSection(gates));
  out.push('', `<sub>Percentiles shown as n<N need N samples. Times are response times from the intended send time.</sub>`);
  return out.join('\n') + '\n';
}

function showCells(r: RowSummary): string[] {
  return [
    r.label,
    String(r.requests),
    rateText(r.ratePerSec),
    pctText(r.errorPct),
    pctText(r.mismatchPct),
    percentileText(r.percentiles.p50, 'p50'),
    percentileText(r.percentiles.p95, 'p95'),
    percentileText(r.percentiles.p99, 'p99'),
    percentileText(r.percentiles.p999, 'p999'),
    formatUs(r.maxUs),
    formatUs(r.sendLagP99Us),
  ];
}

function deltaCell(r: DiffRow, name: DeltaName): string {
  const d = r.deltas[name];
  const side = (s: RowSummary | null): string => (!s ? '-' : name === 'errors' ? pctText(s.errorPct) : percentileText(s.percentiles[name], name));
  const head = `${side(r.base)} → ${side(r.cand)}`;
  if (d.verdict === 'insufficient') return `${head}\n_${verdictText(d)}_`;
  const t = deltaLines(name, d);
  const strong = d.verdict === 'regression' || d.verdict === 'improvement' ? `**${t.verdict}**` : t.verdict;
  return [head, ...(t.change ? [t.change] : []), strong, t.interval].join('\n');
}

/** `report diff --format markdown`: verdict counts, then per view base → candidate with changes and intervals. */
export function renderDiffMarkdown(c: Comparison, gates: GateResult[] = []): string {
  const all = c.views.flatMap((v) => v.rows.flatMap((r) => Object.values(r.deltas)));
  const reg = all.filter((d) => d.verdict === 'regression').length;
  const imp = all.filter((d) => d.verdict === 'improvement').length;
  const out = [
    `## flashback: ${c.cand.label} vs ${c.base.label}`,
    '',
    `**${reg} regression${reg === 1 ? '' : 's'}, ${imp} improvement${imp === 1 ? '' : 's'}** across the views below.`,
    '',
    ...c.baselines.flatMap((b, i) => runLines(b, c.baselines.length > 1 ? `baseline ${i + 1}/${c.baselines.length}` : c.noise === 'paired' ? 'baseline (--against)' : 'baseline')),
    ...runLines(c.cand, 'candidate'),
    '',
    noiseText(c),
  ];
  const shift = shiftText(c);
  if (shift) out.push('', `**${shift}**`);
  if (c.differentRecordings) out.push('', '> [!WARNING]', '> The runs replayed different recordings (compared with --force).');
  for (const view of c.views) {
    out.push('', `### ${view.name === 'overall' ? 'Overall' : `By ${view.name}`}`, '');
    out.push(row(['segment', 'requests', 'P50', 'P95', 'P99', 'errors']));
    out.push('|:--|--:|--:|--:|--:|--:|');
    for (const r of view.rows) {
      out.push(row([r.label, `${r.base?.requests ?? '-'} → ${r.cand?.requests ?? '-'}`, deltaCell(r, 'p50'), deltaCell(r, 'p95'), deltaCell(r, 'p99'), deltaCell(r, 'errors')]));
    }
    if (view.omitted > 0) out.push('', `_… ${view.omitted} more rows (raise --top to see them)_`);
  }
  out.push(...gatesSection(gates));
  const o = c.options;
  out.push(
    '',
    `<sub>Change = candidate − baseline, with its ${Math.round(o.confidence * 100)}% interval from ${o.resamples} resamples of time windows. ` +
      `Called a regression or improvement only when the whole interval is past ${o.minRelPct}% and ${formatUs(o.minAbsUs)} (errors: ${o.minAbsErrorPts} points).</sub>`,
  );
  return out.join('\n') + '\n';
}
