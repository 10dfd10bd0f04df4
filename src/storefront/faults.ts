/**
 * Fault injection: `payment-latency=800ms` (added to every payment call),
 * `payment-errors=20%` (extra failure probability), `cache-down` (the cache is
 * bypassed), `db-slow=5ms` (every SQL statement busy-waits this long, as a
 * slow disk would block SQLite's synchronous thread). Settable at start-up
 * (`--fault`, repeatable) and at run time (`POST /admin/faults`).
 */
import { UsageError } from '../model/errors.js';
import { parseDurationUs, parseFraction } from '../model/units.js';

/** The faults in force. */
export interface FaultState {
  paymentLatencyUs: number;
  /** Extra probability (0..1) that a payment call fails. */
  paymentErrorRate: number;
  cacheDown: boolean;
  dbSlowUs: number;
}

/** No faults. */
export function noFaults(): FaultState {
  return { paymentLatencyUs: 0, paymentErrorRate: 0, cacheDown: false, dbSlowUs: 0 };
}

const KNOWN = 'payment-latency=<duration>, payment-errors=<percent>, cache-down, db-slow=<duration>';

function parsePercent(text: string, spec: string): number {
  const value = parseFraction(text);
  if (!(value >= 0 && value <= 1)) {
    throw new UsageError(`--fault ${spec}: the error rate must be a percentage like 20% (got "${text}")`);
  }
  return value;
}

/** Applies one spec to `state` (mutating it); throws {@link UsageError} naming the spec. */
export function applyFault(state: FaultState, spec: string): void {
  const eq = spec.indexOf('=');
  const name = (eq < 0 ? spec : spec.slice(0, eq)).trim();
  const value = eq < 0 ? undefined : spec.slice(eq + 1).trim();
  const need = (): string => {
    if (value === undefined || value === '') throw new UsageError(`--fault ${spec}: "${name}" needs a value (${KNOWN})`);
    return value;
  };
  switch (name) {
    case 'payment-latency':
      state.paymentLatencyUs = parseDurationUs(need(), `--fault ${name}`, 'ms');
      return;
    case 'payment-errors':
      state.paymentErrorRate = parsePercent(need(), spec);
      return;
    case 'cache-down':
      if (value !== undefined && !['true', 'false', 'on', 'off'].includes(value)) {
        throw new UsageError(`--fault ${spec}: cache-down takes no value (or on/off)`);
      }
      state.cacheDown = value === undefined || value === 'true' || value === 'on';
      return;
    case 'db-slow':
      state.dbSlowUs = parseDurationUs(need(), `--fault ${name}`, 'ms');
      return;
    default:
      throw new UsageError(`--fault must be one of ${KNOWN} (got "${spec}")`);
  }
}

/** Parses a list of specs into a fresh state. */
export function parseFaults(specs: readonly string[]): FaultState {
  const state = noFaults();
  for (const spec of specs) applyFault(state, spec);
  return state;
}

/** The specs that describe `state` (for /admin/faults and /metrics). */
export function describeFaults(state: FaultState): string[] {
  const out: string[] = [];
  if (state.paymentLatencyUs > 0) out.push(`payment-latency=${state.paymentLatencyUs / 1000}ms`);
  if (state.paymentErrorRate > 0) out.push(`payment-errors=${+(state.paymentErrorRate * 100).toFixed(3)}%`);
  if (state.cacheDown) out.push('cache-down');
  if (state.dbSlowUs > 0) out.push(`db-slow=${state.dbSlowUs / 1000}ms`);
  return out;
}
