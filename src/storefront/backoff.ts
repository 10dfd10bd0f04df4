/**
 * Exponential backoff with full jitter (the AWS architecture-blog variant):
 * the delay before retry `attempt` (0-based) is uniform in
 * [0, min(capMs, baseMs × 2^attempt)]. Jitter spreads retries of many
 * clients over time instead of synchronising them into waves.
 */
import type { Rng } from './rng.js';

/** Backoff parameters, in ms. */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/** Upper bound of the delay before retry `attempt` (0-based), in ms. */
export function backoffCeilingMs(attempt: number, policy: BackoffPolicy): number {
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
}

/** A full-jitter delay for retry `attempt` (0-based): uniform in [0, ceiling), in ms. */
export function fullJitterDelayMs(attempt: number, policy: BackoffPolicy, rng: Rng): number {
  return rng.next() * backoffCeilingMs(attempt, policy);
}
