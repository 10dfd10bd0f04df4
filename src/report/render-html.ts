import { formatUs } from '../model/units.js';
import type { ChartData } from './charts.js';
import { deltaLines, invalidBanner, noiseText, pctText, percentileText, rateText, runHeadline, sendLagText, shiftText, verdictText } from './format.js';
import { describeGateResult, type GateResult } from './gates.js';
import { lineChart, PERCENTILE_TICKS, type Series } from './svg-chart.js';
import type { Comparison, DeltaName, DiffRow, RowSummary, RunInfo, RunSummary } from './types.js';

/** Everything the HTML page shows; computed beforehand (see `html-report.ts`). */
export interface HtmlDoc {
  title: string;
  runs: RunInfo[];
  summary?: RunSummary;
  comparison?: Comparison;
  charts: ChartData;
  gates: GateResult[];
}

const COLOURS = ['#2563eb', '#ea580c'];

/** Axis label of a µs value: `0`, `250us`, `2.5ms`, `500ms`, `1.5s` (no trailing .0). */
function axisUs(us: number): string {
  if (us === 0) return '0';
  const trim = (n: number): string => String(Number(n.toFixed(2)));
  if (us < 1_000) return `${trim(us)}us`;
  if (us < 1_000_000) return `${trim(us / 1_000)}ms`;
  return `${trim(us / 1_000_000)}s`;
}

function esc(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f3f4f6;--red:#b91c1c;--green:#15803d}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 20px 48px}h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 10px}h3{font-size:14px;margin:18px 0 6px;color:#374151}
.runs{color:var(--muted);margin:0;padding:0;list-style:none}.runs li{margin:2px 0}.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:middle}
.banner{background:#fee2e2;border:2px solid var(--red);color:var(--red);font-weight:700;padding:12px 14px;border-radius:8px;margin:14px 0}.warn{background:#fef3c7;border-color:#b45309;color:#92400e}
.chips{display:flex;gap:8px;margin:14px 0;flex-wrap:wrap}.chip{background:#fff;border:1px solid var(--line);border-radius:999px;padding:4px 12px;font-weight:600}.chip.bad{color:var(--red);border-color:#fca5a5}.chip.good{color:var(--green);border-color:#86efac}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:14px}.grid svg{width:100%;height:auto;border:1px solid var(--line);border-radius:8px}
svg .ct{font:600 13px system-ui,sans-serif;fill:#111827}svg .yt,svg .xt{font:11px system-ui,sans-serif;fill:#6b7280}svg .xl{font:11px system-ui,sans-serif;fill:#374151}svg .lg{font:12px system-ui,sans-serif;fill:#374151}
svg .grid{stroke:#eef0f3;stroke-width:1}svg .axis{stroke:#9ca3af;stroke-width:1}
table{border-collapse:collapse;background:#fff;width:100%;border:1px solid var(--line);border-radius:8px;font-variant-numeric:tabular-nums;font-size:13px}
th,td{padding:6px 9px;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}th{background:#f9fafb;font-weight:600;color:#374151}th:first-child,td:first-child{text-align:left}td:nth-child(2){white-space:nowrap}
td .d{display:block;font-size:12px}td .ci{display:block;font-size:11px;color:var(--muted)}.reg{color:var(--red);font-weight:600}.imp{color:var(--green);font-weight:600}.dim{color:var(--muted)}
.shift{font-weight:600;margin:6px 0}.gates li{margin:3px 0}.pass{color:var(--green)}.fail{color:var(--red);font-weight:600}footer{color:var(--muted);font-size:12px;margin-top:28px}
`;

/** A run's colour in the charts: the first run and the last (the candidate); a baseline set's other runs are not charted. */
function swatch(i: number, runs: number): string {
  if (i === 0) return COLOURS[0]!;
  return i === runs - 1 ? COLOURS[1]! : 'transparent';
}

function runsList(doc: HtmlDoc): string {
  const c = doc.comparison;
  const roles = c
    ? [...c.baselines.map((_, i) => (c.baselines.length > 1 ? `baseline ${i + 1}/${c.baselines.length}` : c.noise === 'paired' ? 'baseline (--against)' : 'baseline')), 'candidate']
    : [''];
  const items = doc.runs.map(
    (r, i) => `<li><span class="sw" style="background:${swatch(i, doc.runs.length)}"></span>${roles[i] ? `<b>${roles[i]}</b>: ` : ''}${esc(runHeadline(r))} — ${esc(sendLagText(r))}</li>`,
  );
  const banners = doc.runs.map((r) => invalidBanner(r)).filter((b): b is string => b !== null).map((b) => `<div class="banner">⚠ ${esc(b)}</div>`);
  if (doc.comparison?.differentRecordings) banners.push('<div class="banner warn">The runs replayed different recordings (compared with --force).</div>');
  return `<ul class="runs">${items.join('')}</ul>${banners.join('')}`;
}

function chipsOf(doc: HtmlDoc): string {
  const chips: string[] = [];
  if (doc.comparison) {
    const all = doc.comparison.views.flatMap((v) => v.rows.flatMap((r) => Object.values(r.deltas)));
    const reg = all.filter((d) => d.verdict === 'regression').length;
    const imp = all.filter((d) => d.verdict === 'improvement').length;
    const title = 'figures (P50, P95, P99, errors) called a change, counted over every view below';
    chips.push(
      `<span class="chip ${reg ? 'bad' : ''}" title="${title}">${reg} regression${reg === 1 ? '' : 's'}</span>`,
      `<span class="chip ${imp ? 'good' : ''}" title="${title}">${imp} improvement${imp === 1 ? '' : 's'}</span>`,
    );
  }
  if (doc.gates.length > 0) {
    const failed = doc.gates.filter((g) => !g.passed).length;
    chips.push(`<span class="chip ${failed ? 'bad' : 'good'}">gates: ${doc.gates.length - failed} passed, ${failed} failed</span>`);
  }
  const notes: string[] = [];
  if (doc.comparison) {
    const shift = shiftText(doc.comparison);
    if (shift) notes.push(`<p class="shift">${esc(shift)}</p>`);
    notes.push(`<p class="dim">${esc(noiseText(doc.comparison))}</p>`);
  }
  return (chips.length ? `<div class="chips">${chips.join('')}</div>` : '') + notes.join('');
}

function gatesList(gates: GateResult[]): string {
  if (gates.length === 0) return '';
  const items = gates.map((g) => `<li class="${g.passed ? 'pass' : 'fail'}">${g.passed ? '✓' : '✗'} ${esc(describeGateResult(g).replace(/^(pass|FAIL) /, ''))}</li>`);
  return `<h2>Gates</h2><ul class="gates">${items.join('')}</ul>`;
}

function charts(doc: HtmlDoc): string {
  const c = doc.charts;
  const curve = (key: string, title: string): string =>
    lineChart({
      title,
      xLabel: 'percentile',
      xLog: true,
      xTicks: PERCENTILE_TICKS,
      yFormat: axisUs,
      series: c.runs.map((r, i): Series => ({ name: r.label, colour: COLOURS[i]!, points: (r.curves[key] ?? []).map((p) => [p.x, p.us]) })),
    });
  const curves = [curve('all', 'All requests: response time by percentile'), ...c.routes.map((r) => curve(r, r))];
  const time = (title: string, pick: (p: { rps: number; p99Us: number | null }) => number | null, yFormat: (v: number) => string): string =>
    lineChart({
      title,
      xLabel: 'seconds into the run',
      xLog: false,
      yFormat,
      xFormat: (v) => `${Math.round(v)}s`,
      series: c.runs.map((r, i): Series => ({ name: r.label, colour: COLOURS[i]!, points: r.timeline.map((p) => [p.tSec, pick(p)]) })),
    });
  return [
    '<h2>Over time</h2><div class="grid">',
    time('Throughput (requests per second)', (p) => p.rps, (v) => (v >= 1000 ? `${(v / 1000).toFixed(1)}k` : String(Math.round(v)))),
    time('P99 response time per window', (p) => p.p99Us, axisUs),
    '</div><h2>Percentile curves</h2><div class="grid">',
    ...curves,
    '</div>',
  ].join('');
}

function showTable(rows: RowSummary[]): string {
  const head = ['segment', 'requests', 'rate', 'errors', 'mismatch', 'P50', 'P95', 'P99', 'P99.9', 'max', 'lag P99'];
  const body = rows.map((r) => {
    const pc = (n: 'p50' | 'p95' | 'p99' | 'p999'): string => `<td${r.percentiles[n].enough ? '' : ' class="dim"'}>${esc(percentileText(r.percentiles[n], n))}</td>`;
    return `<tr><td>${esc(r.label)}</td><td>${r.requests}</td><td>${rateText(r.ratePerSec)}</td><td${r.errorPct > 0 ? ' class="reg"' : ''}>${pctText(r.errorPct)}</td><td>${pctText(r.mismatchPct)}</td>${pc('p50')}${pc('p95')}${pc('p99')}${pc('p999')}<td>${formatUs(r.maxUs)}</td><td>${formatUs(r.sendLagP99Us)}</td></tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

function deltaTd(r: DiffRow, name: DeltaName): string {
  const d = r.deltas[name];
  const side = (s: RowSummary | null): string => (!s ? '-' : name === 'errors' ? pctText(s.errorPct) : percentileText(s.percentiles[name], name));
  const cls = d.verdict === 'regression' ? 'reg' : d.verdict === 'improvement' ? 'imp' : 'dim';
  if (d.verdict === 'insufficient') return `<td>${esc(side(r.base))} → ${esc(side(r.cand))}<span class="d dim">${esc(verdictText(d))}</span></td>`;
  const t = deltaLines(name, d);
  const total = t.change ? `<span class="d">${esc(t.change)}</span>` : '';
  return `<td>${esc(side(r.base))} → ${esc(side(r.cand))}${total}<span class="d ${cls}">${esc(t.verdict)}</span><span class="ci">${esc(t.interval)}</span></td>`;
}

function diffTable(rows: DiffRow[]): string {
  const body = rows.map(
    (r) => `<tr><td>${esc(r.label)}</td><td>${r.base?.requests ?? '-'} → ${r.cand?.requests ?? '-'}</td>${deltaTd(r, 'p50')}${deltaTd(r, 'p95')}${deltaTd(r, 'p99')}${deltaTd(r, 'errors')}</tr>`,
  );
  return `<table><thead><tr><th>segment</th><th>requests</th><th>P50</th><th>P95</th><th>P99</th><th>errors</th></tr></thead><tbody>${body.join('')}</tbody></table>`;
}

function tables(doc: HtmlDoc): string {
  const parts = ['<h2>Tables</h2>'];
  const title = (name: string): string => `<h3>${esc(name === 'overall' ? 'Overall' : `By ${name}`)}</h3>`;
  const more = (n: number): string => (n > 0 ? `<p class="dim">… ${n} more rows (raise --top to see them)</p>` : '');
  for (const v of doc.summary?.views ?? []) parts.push(title(v.name), showTable(v.rows), more(v.omitted));
  for (const v of doc.comparison?.views ?? []) parts.push(title(v.name), diffTable(v.rows), more(v.omitted));
  return parts.join('');
}

/** One self-contained HTML page: inline CSS and SVG, no scripts, fonts or links, so it works offline. */
export function renderHtml(doc: HtmlDoc): string {
  let foot = 'Response time is measured from each request\'s intended send time. Percentiles shown as n&lt;N need N samples.';
  if (doc.comparison) {
    const o = doc.comparison.options;
    foot += ` Changes are candidate − baseline with ${Math.round(o.confidence * 100)}% intervals from ${o.resamples} resamples of time windows; a change is called only when the whole interval is past ${o.minRelPct}% and ${esc(formatUs(o.minAbsUs))}.`;
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(doc.title)}</title><style>${CSS}</style></head>
<body><main>
<h1>${esc(doc.title)}</h1>${runsList(doc)}${chipsOf(doc)}${gatesList(doc.gates)}${charts(doc)}${tables(doc)}
<footer>${foot} Generated by flashback.</footer>
</main></body></html>
`;
}
