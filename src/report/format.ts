import { formatUs } from '../model/units.js';
import { MIN_SAMPLES, type Comparison, type Delta, type DeltaName, type PercentileFigure, type PercentileName, type RunInfo } from './types.js';

/**
 * Text for figures, shared by every renderer so the table, Markdown and
 * HTML say the same thing the same way.
 */

/** Colouring functions a renderer may be given; identity functions for plain text. chalk fits. */
export interface Paint {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

/** No colour at all. */
export const PLAIN: Paint = { red: id, green: id, yellow: id, dim: id, bold: id };

function id(text: string): string {
  return text;
}

/** A percentile cell: `12.3ms`, or `n<1000` when the row has too few samples, `-` when empty. */
export function percentileText(fig: PercentileFigure, name: PercentileName): string {
  if (fig.us === null) return '-';
  if (!fig.enough) return `n<${MIN_SAMPLES[name]}`;
  return formatUs(fig.us);
}

/** A share in percent: `0.00%`, `1.25%`, `12.5%`. */
export function pctText(pct: number): string {
  return pct >= 10 ? `${pct.toFixed(1)}%` : `${pct.toFixed(2)}%`;
}

/** A rate: `1234/s`, `12.5/s`. */
export function rateText(perSec: number): string {
  return perSec >= 100 ? `${Math.round(perSec)}/s` : `${perSec.toFixed(1)}/s`;
}

/** A signed µs change: `+3.20ms`, `-850us`. */
export function signedUs(us: number): string {
  return `${us >= 0 ? '+' : '-'}${formatUs(Math.abs(us))}`;
}

/** A signed value of a delta: µs for latency, % points for error share. */
export function signedValue(name: DeltaName, v: number): string {
  if (name === 'errors') return `${v >= 0 ? '+' : ''}${v.toFixed(2)}pt`;
  return signedUs(v);
}

/** A value of a delta's side: `12.3ms` or `1.25%`. */
export function sideValue(name: DeltaName, v: number | null): string {
  if (v === null) return '-';
  return name === 'errors' ? pctText(v) : formatUs(v);
}

/** `+3.20ms (+26.4%)` */
export function changeText(name: DeltaName, d: Delta): string {
  if (d.abs === null) return '-';
  const rel = d.relPct === null ? '' : ` (${d.relPct >= 0 ? '+' : ''}${d.relPct.toFixed(1)}%)`;
  return `${signedValue(name, d.abs)}${rel}`;
}

/** `[+2.10ms, +4.00ms]`, or '' when there is no interval. */
export function intervalText(name: DeltaName, d: Delta): string {
  return d.ci ? `[${signedValue(name, d.ci[0])}, ${signedValue(name, d.ci[1])}]` : '';
}

/** A signed relative change: `+8.1%`, `-3.0%`. */
export function signedPct(pct: number): string {
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/**
 * The lines of a delta's cell after `base → cand`: the change and its
 * verdict, then the interval the verdict was on. When the verdict is on the
 * row's own change beyond the run-wide shift, the total change comes first
 * and the own change carries the verdict: `own +10.2% ▲ regression`.
 */
export function deltaLines(name: DeltaName, d: Delta): { change: string; verdict: string; interval: string } {
  if (d.judged === 'own' && d.own) {
    return {
      change: changeText(name, d),
      verdict: `own ${signedPct(d.own.relPct)} ${verdictText(d)}`,
      interval: `[${signedPct(d.own.ci[0])}, ${signedPct(d.own.ci[1])}] beyond shift`,
    };
  }
  return { change: '', verdict: `${changeText(name, d)} ${verdictText(d)}`, interval: intervalText(name, d) };
}

/** Where the diff's noise between runs came from, in one sentence. */
export function noiseText(c: Comparison): string {
  const n = c.baselines.length;
  if (c.noise === 'paired') return 'Paired replay: both targets were replayed at the same time, so the noise between runs is shared and cancels; intervals hold the noise within the run.';
  if (c.noise === 'set') return `Noise between runs: measured on a baseline set of ${n} runs (each interval is at least as wide as their spread predicts for one more run).`;
  return 'Noise between runs: not measured (one baseline), so intervals assume the figures in docs/report.md; pass several baseline runs (replay --repeat) to measure it, or use a paired replay (replay --against).';
}

/**
 * The run-wide shift in one sentence: `All routes +8.1% at P50 [-6.2%, +24%],
 * +9.0% at P95 …: within the noise between runs (the environment, or a change
 * to everything); route verdicts are on each route's change beyond it.`
 */
export function shiftText(c: Comparison): string | null {
  if (!c.shift) return null;
  const parts = (['p50', 'p95', 'p99'] as const)
    .filter((p) => c.shift![p])
    .map((p) => {
      const f = c.shift![p]!;
      return `${signedPct(f.relPct)} at ${p.toUpperCase()} [${signedPct(f.ci[0])}, ${signedPct(f.ci[1])}]`;
    });
  const figs = Object.values(c.shift);
  const routes = Math.max(...figs.map((f) => f!.routes));
  const attributed = figs.filter((f) => f!.attributed).length;
  const verdict =
    c.noise === 'paired'
      ? 'measured side by side, so it is a real change and stays in every route\'s verdict'
      : attributed === figs.length
        ? 'within the noise between runs (the environment, or a change to everything): route verdicts are on each route\'s change beyond it'
        : attributed === 0
          ? 'beyond the noise between runs: a real change of every route, which stays in their verdicts'
          : 'within the noise between runs where a route verdict says "own", beyond it (a real change of every route) elsewhere';
  return `Run-wide shift (the median route's change, over ${routes} routes): ${parts.join(', ')}; ${verdict}.`;
}

/** Short verdict word: `▲ regression`, `▼ improvement`, `~ same`, or the reason there is none. */
export function verdictText(d: Delta): string {
  switch (d.verdict) {
    case 'regression':
      return '▲ regression';
    case 'improvement':
      return '▼ improvement';
    case 'unchanged':
      return d.significant ? '~ within floors' : '~ noise';
    default:
      return d.note ?? 'not judged';
  }
}

/** Colours a verdict: red regression, green improvement, dim otherwise. */
export function paintVerdict(paint: Paint, d: Delta, text: string): string {
  if (d.verdict === 'regression') return paint.red(text);
  if (d.verdict === 'improvement') return paint.green(text);
  return paint.dim(text);
}

/** `12.0s` run duration. */
export function durationText(us: number): string {
  return formatUs(us);
}

/** The send-lag health of a run: whether the generator kept to schedule. */
export function sendLagText(info: RunInfo): string {
  const lag = `send lag P99 ${formatUs(info.sendLagP99Us)}`;
  const unsent = info.unsent > 0 ? `, ${info.unsent} requests never sent` : '';
  return `${lag}${unsent}`;
}

/** One header line of a run. */
export function runHeadline(info: RunInfo): string {
  const merged = info.mergedFrom ? `, merged from ${info.mergedFrom} shards` : '';
  return `${info.label} → ${info.target} · ${info.startedAt} · ${durationText(info.durationUs)} at ${info.scale}× · recording ${info.recordingDigest.slice(0, 12)}${merged}`;
}

/** The loud banner of an invalid run, or null for a valid one. */
export function invalidBanner(info: RunInfo): string | null {
  if (info.valid) return null;
  const why = info.invalidReasons.length > 0 ? info.invalidReasons.join('; ') : 'no reason recorded';
  return `INVALID RUN "${info.label}": not a valid measurement (${why})`;
}
