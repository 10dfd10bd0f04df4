/**
 * Deterministic hashing for the plan: every random choice (fractional scale,
 * jitter, shard, worker) is a pure function of the seed and the clone's
 * identity, never of a shared random stream, so shards and workers agree on
 * the plan without talking to each other.
 */

import { fnv1a } from './seeded-random.js';

/** 32-bit FNV-1a of a string, mixed with `seed`. */
export function hashString(seed: number, text: string): number {
  return mix32(fnv1a(text, seed));
}

/** A 32-bit avalanche mix (murmur3 finaliser) of `h` combined with `n`. */
export function mix32(h: number, n = 0): number {
  let x = (h ^ Math.imul(n + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** A uniform number in [0, 1) from a 32-bit hash. */
export function unitOf(h: number): number {
  return h / 4294967296;
}
