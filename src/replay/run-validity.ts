import type { RunTotals } from '../model/run-result.js';
import { formatUs } from '../model/units.js';
import type { ErrorKind } from '../model/exchange.js';

/** What decides whether a run is a valid measurement. */
export interface ValidityInput {
  totals: RunTotals;
  maxSendLagUs: number;
  interrupted: boolean;
  target: string;
  errorKinds: Partial<Record<ErrorKind, number>>;
}

/**
 * Reasons a run is not a valid measurement (empty when it is): the generator
 * fell behind (send lag p99 over the limit, requests never sent), the target
 * could not be reached at all, the run was interrupted, nothing was sent.
 */
export function invalidReasons(input: ValidityInput): string[] {
  const { totals } = input;
  const reasons: string[] = [];
  if (totals.requests === 0) reasons.push('no requests were sent (check --methods, --routes, --duration and --shard)');
  else if (totals.errors === totals.requests) {
    // every request failed without an HTTP status (errors counts exactly those)
    const kinds = Object.entries(input.errorKinds).map(([k, v]) => `${k} ${v}`).join(', ');
    reasons.push(`target ${input.target} could not be reached: all ${totals.requests} requests failed (${kinds})`);
  }
  if (totals.sendLagP99Us > input.maxSendLagUs) {
    reasons.push(
      `send lag p99 ${formatUs(totals.sendLagP99Us)} exceeds ${formatUs(input.maxSendLagUs)}: the load generator could not send on time (raise --concurrency or --workers, or lower --scale)`,
    );
  }
  if (totals.unsent > 0) reasons.push(`${totals.unsent} requests were due but never sent`);
  if (input.interrupted) reasons.push('the run was interrupted before the plan was done');
  return reasons;
}
