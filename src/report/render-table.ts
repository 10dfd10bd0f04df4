import Table from 'cli-table3';
import { formatUs } from '../model/units.js';
import {
  deltaLines,
  noiseText,
  shiftText,
  changeText,
  intervalText,
  invalidBanner,
  paintVerdict,
  pctText,
  percentileText,
  rateText,
  runHeadline,
  sendLagText,
  verdictText,
  type Paint,
} from './format.js';
import { describeGateResult, type GateResult } from './gates.js';
import type { Comparison, DeltaName, DiffRow, RowSummary, RunInfo, RunSummary } from './types.js';

/** cli-table3 styles (the CLI passes empty arrays off a TTY) and colours. */
export interface TableLook {
  style: { head: string[]; border: string[] };
  paint: Paint;
}

function header(info: RunInfo, look: TableLook, role?: string): string[] {
  const lines = [look.paint.bold(`${role ? role + ': ' : ''}${runHeadline(info)}`)];
  const lag = sendLagText(info);
  // The run's own verdict decides: replay judged send lag against its --max-send-lag.
  lines.push(!info.valid || info.unsent > 0 ? look.paint.yellow(`  ${lag} (generator fell behind)`) : look.paint.dim(`  ${lag} (ok)`));
  const banner = invalidBanner(info);
  if (banner) lines.push(look.paint.red(look.paint.bold(`!!! ${banner} !!!`)));
  return lines;
}

/** A segment's send-lag cell turns yellow past half of replay's default --max-send-lag. */
const SEND_LAG_WARN_US = 5_000;

function lagCell(row: RowSummary, paint: Paint): string {
  const t = formatUs(row.sendLagP99Us);
  return row.sendLagP99Us > SEND_LAG_WARN_US ? paint.yellow(t) : t;
}

/** `report show` as terminal tables: a header, then one table per view. */
export function renderSummaryTable(summary: RunSummary, look: TableLook, gates: GateResult[] = []): string {
  const out = header(summary.run, look);
  for (const view of summary.views) {
    out.push('', look.paint.bold(view.name === 'overall' ? 'Overall' : `By ${view.name}`));
    const table = new Table({
      head: ['segment', 'requests', 'rate', 'errors', 'mismatch', 'P50', 'P95', 'P99', 'P99.9', 'max', 'lag P99'],
      style: { ...look.style, compact: true },
      colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    });
    for (const r of view.rows) {
      const pc = (n: 'p50' | 'p95' | 'p99' | 'p999'): string => {
        const t = percentileText(r.percentiles[n], n);
        return r.percentiles[n].enough ? t : look.paint.dim(t);
      };
      table.push([
        r.label,
        String(r.requests),
        rateText(r.ratePerSec),
        r.errorPct > 0 ? look.paint.red(pctText(r.errorPct)) : pctText(r.errorPct),
        pctText(r.mismatchPct),
        pc('p50'),
        pc('p95'),
        pc('p99'),
        pc('p999'),
        formatUs(r.maxUs),
        lagCell(r, look.paint),
      ]);
    }
    out.push(table.toString());
    if (view.omitted > 0) out.push(look.paint.dim(`  … ${view.omitted} more rows (raise --top to see them)`));
  }
  out.push(...gateLines(gates, look.paint));
  return out.join('\n');
}

function deltaCell(row: DiffRow, name: DeltaName, paint: Paint): string {
  const d = row.deltas[name];
  const side = (r: RowSummary | null): string => {
    if (!r) return '-';
    if (name === 'errors') return pctText(r.errorPct);
    return percentileText(r.percentiles[name], name);
  };
  const lines = [`${side(row.base)} → ${side(row.cand)}`];
  if (d.verdict !== 'insufficient') {
    const t = deltaLines(name, d);
    if (t.change) lines.push(t.change);
    lines.push(paintVerdict(paint, d, t.verdict));
    lines.push(paint.dim(t.interval));
  } else {
    if (d.abs !== null && name === 'errors') lines.push(paint.dim(changeText(name, d)));
    lines.push(paint.dim(verdictText(d)));
  }
  return lines.join('\n');
}

/** `report diff` as terminal tables: both headers, then per view base → cand with deltas, intervals and verdicts. */
export function renderDiffTable(c: Comparison, look: TableLook, gates: GateResult[] = []): string {
  const out = [
    ...c.baselines.flatMap((b, i) => header(b, look, c.baselines.length > 1 ? `baseline ${i + 1}/${c.baselines.length}` : c.noise === 'paired' ? 'baseline (--against)' : 'baseline')),
    ...header(c.cand, look, 'candidate'),
  ];
  if (c.differentRecordings) out.push(look.paint.yellow('  warning: the runs replayed different recordings (compared with --force)'));
  const o = c.options;
  out.push(
    look.paint.dim(
      `  change = candidate − baseline; [${Math.round(o.confidence * 100)}% interval from ${o.resamples} window resamples]; called a change only when the interval clears ${o.minRelPct}% and ${formatUs(o.minAbsUs)} (errors: ${o.minAbsErrorPts}pt)`,
    ),
  );
  out.push(look.paint.dim(`  ${noiseText(c)}`));
  const shift = shiftText(c);
  if (shift) out.push(`  ${shift}`);
  for (const view of c.views) {
    out.push('', look.paint.bold(view.name === 'overall' ? 'Overall' : `By ${view.name}`));
    const table = new Table({
      head: ['segment', 'requests', 'P50', 'P95', 'P99', 'errors'],
      style: { ...look.style },
      colAligns: ['left', 'right', 'right', 'right', 'right', 'right'],
    });
    for (const r of view.rows) {
      table.push([
        r.label,
        `${r.base?.requests ?? '-'} → ${r.cand?.requests ?? '-'}`,
        deltaCell(r, 'p50', look.paint),
        deltaCell(r, 'p95', look.paint),
        deltaCell(r, 'p99', look.paint),
        deltaCell(r, 'errors', look.paint),
      ]);
    }
    out.push(table.toString());
    if (view.omitted > 0) out.push(look.paint.dim(`  … ${view.omitted} more rows (raise --top to see them)`));
  }
  out.push(...gateLines(gates, look.paint));
  return out.join('\n');
}

/** Gate results as lines, failures in red. */
export function gateLines(gates: GateResult[], paint: Paint): string[] {
  if (gates.length === 0) return [];
  const failed = gates.filter((g) => !g.passed).length;
  const lines = ['', paint.bold(`Gates: ${gates.length - failed} passed, ${failed} failed`)];
  for (const g of gates) lines.push(`  ${g.passed ? paint.green(describeGateResult(g)) : paint.red(describeGateResult(g))}`);
  return lines;
}

