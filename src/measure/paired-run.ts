import type { RunResult } from '../model/run-result.js';

/** Starts each of the baseline's reasons in a paired result's `invalidReasons`. */
export const AGAINST_PREFIX = 'against: ';

/**
 * A paired result (`replay --against`): the candidate with the baseline
 * nested in `against`. It is valid only when both runs are; the baseline's
 * reasons follow the candidate's, each starting {@link AGAINST_PREFIX}.
 */
export function pairRuns(candidate: RunResult, against: RunResult): RunResult {
  const reasons = [...candidate.invalidReasons, ...against.invalidReasons.map((r) => AGAINST_PREFIX + r)];
  return { ...candidate, valid: candidate.valid && against.valid, invalidReasons: reasons, against };
}

/**
 * The two runs of a paired result as plain ones (for tools that compare two
 * files): the baseline as nested, and the candidate without `against`, its
 * validity its own again (the baseline's reasons left out). Throws
 * `RangeError` for a result that is not paired.
 */
export function splitPairedRun(paired: RunResult): { baseline: RunResult; candidate: RunResult } {
  const { against, ...rest } = paired;
  if (against === undefined) throw new RangeError(`run "${paired.label}" is not a paired run (no against)`);
  const own = paired.invalidReasons.filter((r) => !r.startsWith(AGAINST_PREFIX));
  return { baseline: against, candidate: { ...rest, valid: own.length === 0, invalidReasons: own } };
}
