import { GateError, RunError, type FlashbackError } from '../../model/errors.js';

/**
 * `replay --repeat N`: the file and label of each run, and the verdict of
 * the series.
 */

/** Where run `i` (1-based) of `n` goes and what it is called. */
export interface NumberedRun {
  out: string;
  label: string;
}

/**
 * Run `i` of `n`: `base.json` → `base.<i>.json` (no `.json`: `base.<i>`),
 * label `<label>.<i>`, `i` zero-padded to the width of `n` so that the
 * files sort in run order in a shell glob (`base.01.json` … `base.10.json`).
 * With `n` = 1 the names are left as they are.
 */
export function numberedRun(out: string, label: string, i: number, n: number): NumberedRun {
  if (n === 1) return { out, label };
  const idx = String(i).padStart(String(n).length, '0');
  const file = out.endsWith('.json') ? `${out.slice(0, -'.json'.length)}.${idx}.json` : `${out}.${idx}`;
  return { out: file, label: `${label}.${idx}` };
}

/** One finished run of a series: its file, and the error its verdict is (invalid: exit 3; a failed gate: exit 1), or null. */
export interface RunVerdict {
  out: string;
  error: FlashbackError | null;
}

/**
 * The error a series ends with: the worst of its runs' (3, a run that is
 * not a valid measurement, outranks 1, a failed gate), naming the runs that
 * had it when there were several runs; null when every run passed.
 */
export function seriesVerdict(runs: readonly RunVerdict[]): FlashbackError | null {
  const failed = runs.filter((r) => r.error !== null);
  if (failed.length === 0) return null;
  if (runs.length === 1) return failed[0]!.error;
  const worst = Math.max(...failed.map((r) => r.error!.exitCode));
  const hit = failed.filter((r) => r.error!.exitCode === worst);
  const first = hit[0]!.error!;
  // "2 of 3 runs (base.1.json, base.3.json): the run is not a valid measurement: send lag p99 ..."
  const message = `${hit.length} of ${runs.length} runs (${hit.map((r) => r.out).join(', ')}): ${first.message}`;
  if (worst === 3) return new RunError(message, { hint: 'every run\'s figures were written anyway' });
  return new GateError(message, first.hint === undefined ? {} : { hint: first.hint });
}
