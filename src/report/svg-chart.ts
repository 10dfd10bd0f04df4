/**
 * A small line-chart drawer producing inline SVG (no scripts, no external
 * fonts), used by the HTML report. Drawing only: the points come computed.
 */

/** One line of a chart. */
export interface Series {
  name: string;
  colour: string;
  points: Array<[x: number, y: number | null]>;
  dashed?: boolean;
}

/** What to draw. */
export interface ChartSpec {
  title: string;
  xLabel: string;
  /** Log-10 x axis (percentile curves) or linear (time). */
  xLog: boolean;
  /** Fixed x ticks `[value, label]`; computed when absent. */
  xTicks?: Array<[number, string]>;
  xFormat?: (v: number) => string;
  yFormat: (v: number) => string;
  series: Series[];
  width?: number;
  height?: number;
}

const M = { left: 62, right: 26, top: 34, bottom: 40 };

function esc(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** Round tick step for a span: 1, 2 or 5 × 10^k giving about `count` ticks. */
export function niceStep(span: number, count = 5): number {
  if (!(span > 0)) return 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** Draws a line chart as an `<svg>` element string. */
export function lineChart(spec: ChartSpec): string {
  const W = spec.width ?? 540;
  const H = spec.height ?? 270;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const all = spec.series.flatMap((s) => s.points.filter((p): p is [number, number] => p[1] !== null));
  const tx = (x: number): number => (spec.xLog ? Math.log10(Math.max(x, 1)) : x);
  // The x range covers every point, drawn or not, so charts of one run share their time axis.
  const xs = spec.series.flatMap((s) => s.points.map((p) => tx(p[0])));
  const xMin = spec.xLog ? 0 : Math.min(0, ...xs);
  const xMax = Math.max(xMin + 1e-9, ...xs, ...(spec.xTicks ?? []).map((t) => tx(t[0])));
  const yMaxRaw = Math.max(0, ...all.map((p) => p[1]));
  const yStep = niceStep(yMaxRaw || 1);
  const yMax = Math.max(yStep, Math.ceil((yMaxRaw * 1.05) / yStep) * yStep);
  const sx = (x: number): number => M.left + ((tx(x) - xMin) / (xMax - xMin)) * pw;
  const sy = (y: number): number => M.top + ph - (y / yMax) * ph;
  const parts: string[] = [];
  parts.push(`<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(spec.title)}">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" rx="8" fill="#ffffff"/>`);
  parts.push(`<text x="${M.left}" y="20" class="ct">${esc(spec.title)}</text>`);
  for (let y = 0; y <= yMax + 1e-9; y += yStep) {
    const py = sy(y).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py}" y2="${py}" class="grid"/>`);
    parts.push(`<text x="${M.left - 6}" y="${py}" class="yt" text-anchor="end" dominant-baseline="middle">${esc(spec.yFormat(y))}</text>`);
  }
  const xTicks = spec.xTicks ?? linearTicks(xMin, xMax, spec.xFormat ?? fmt);
  for (const [x, label] of xTicks) {
    const px = sx(x).toFixed(1);
    parts.push(`<line x1="${px}" x2="${px}" y1="${M.top}" y2="${M.top + ph}" class="grid v"/>`);
    parts.push(`<text x="${px}" y="${M.top + ph + 16}" class="xt" text-anchor="middle">${esc(label)}</text>`);
  }
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 6}" class="xl" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}" class="axis"/>`);
  for (const s of spec.series) {
    for (const run of segmentsOf(s.points)) {
      const d = run.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    }
  }
  let lx = W - M.right;
  for (const s of [...spec.series].reverse()) {
    const w = 26 + s.name.length * 6.4;
    lx -= w;
    parts.push(`<line x1="${lx.toFixed(1)}" x2="${(lx + 16).toFixed(1)}" y1="16" y2="16" stroke="${s.colour}" stroke-width="3"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${(lx + 20).toFixed(1)}" y="20" class="lg">${esc(s.name)}</text>`);
  }
  if (all.length === 0) parts.push(`<text x="${M.left + pw / 2}" y="${M.top + ph / 2}" class="xl" text-anchor="middle">no data</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/** Splits a series at null values so gaps are not bridged. */
function segmentsOf(points: Array<[number, number | null]>): Array<Array<[number, number]>> {
  const runs: Array<Array<[number, number]>> = [];
  let cur: Array<[number, number]> = [];
  for (const [x, y] of points) {
    if (y === null) {
      if (cur.length > 0) runs.push(cur);
      cur = [];
    } else cur.push([x, y]);
  }
  if (cur.length > 0) runs.push(cur);
  return runs;
}

function linearTicks(min: number, max: number, format: (v: number) => string): Array<[number, string]> {
  const step = niceStep(max - min, 6);
  const ticks: Array<[number, string]> = [];
  for (let x = Math.ceil(min / step) * step; x <= max + 1e-9; x += step) ticks.push([x, format(x)]);
  return ticks;
}

/** The x ticks of a percentile curve: 0%, 90%, 99%, 99.9%, 99.99%. */
export const PERCENTILE_TICKS: Array<[number, string]> = [
  [1, '0%'],
  [10, '90%'],
  [100, '99%'],
  [1_000, '99.9%'],
  [10_000, '99.99%'],
];
