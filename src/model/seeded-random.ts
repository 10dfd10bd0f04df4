/**
 * Seeded, platform-independent randomness (pure 32-bit integer arithmetic):
 * the same seed gives the same sequence everywhere, so catalogues, shoppers,
 * replay plans and bootstrap intervals are reproducible.
 */

/** mulberry32: small, fast, good enough for simulation and resampling (not for secrets); returns [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 32-bit FNV-1a of a string, its offset basis xor-ed with `seed`. */
export function fnv1a(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
