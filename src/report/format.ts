import { formatUs } from '../model/units.js';
import { MIN_SAMPLES, type Delta, type DeltaName, type PercentileFigure, type PercentileName, type RunInfo } from './types.js';

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
