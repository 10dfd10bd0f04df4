/**
 * Seeded shopper plans: what one shopper will do, decided before it starts
 * (so the same seed gives the same sessions whatever the server answers).
 * Humans follow the funnel home → browse/search → product pages (Zipf
 * popularity: rank r is product r, so products 1..10 are the flash-sale hot
 * spots) → cart → checkout for a few; about 30% sign in. Bots crawl listings
 * with large pages and product pages, and never buy.
 */
import type { Rng } from '../rng.js';
import { createRng, createZipf, lognormal, mixSeed, pick, randInt } from '../rng.js';
import { CATEGORIES, NAME_WORDS, PRODUCT_COUNT } from '../seed-catalogue.js';
import type { ShopperDevice } from './cohorts.js';
import { drawCohort } from './cohorts.js';

/** One thing a shopper does. */
export type ShopperAction =
  | { kind: 'home' }
  | { kind: 'login'; email: string }
  | { kind: 'browse'; category: string; page: number; size: number | null }
  | { kind: 'search'; q: string }
  | { kind: 'product'; productId: number }
  | { kind: 'create-cart' }
  | { kind: 'add'; productId: number; qty: number }
  | { kind: 'remove'; productId: number }
  | { kind: 'view-cart' }
  | { kind: 'checkout'; idempotencyKey: string; token: string };

/** One thing a shopper does, after thinking for `thinkMs`. */
export type ShopperStep = { thinkMs: number } & ShopperAction;

/** A shopper's cohort and steps. */
export interface ShopperPlan {
  index: number;
  device: ShopperDevice;
  userAgent: string;
  region: string;
  signedIn: boolean;
  steps: ShopperStep[];
}

/** Knobs of the funnel. */
export interface FunnelOptions {
  /** Share of shoppers who check out (default 0.05). */
  checkoutShare?: number;
  /** Median think time of humans, ms (default 1500; bots think 10× less). */
  thinkMs?: number;
}

// A flash sale: a steep Zipf, so products 1..3 draw about 45% of product views.
const zipf = createZipf(PRODUCT_COUNT, 1.3);
const CART_SHARE = 0.35;

/** The plan of shopper `index` for `seed`: a pure function of its arguments. */
export function planShopper(seed: number, index: number, funnel: FunnelOptions = {}): ShopperPlan {
  const rng = createRng(mixSeed(seed, index + 1));
  const cohort = drawCohort(rng);
  const thinkMedian = (funnel.thinkMs ?? 1500) * (cohort.device === 'bot' ? 0.1 : 1);
  const think = () => Math.round(Math.min(lognormal(rng, thinkMedian, 0.8), thinkMedian * 10));
  const steps: ShopperStep[] = [];
  const push = (s: ShopperAction) => steps.push({ thinkMs: steps.length === 0 ? 0 : think(), ...s });
  if (cohort.device === 'bot') {
    planBot(rng, push);
    return { index, ...cohort, signedIn: false, steps };
  }
  push({ kind: 'home' });
  const signedIn = rng.next() < 0.3;
  if (signedIn) push({ kind: 'login', email: `shopper${index}@example.com` });
  const viewed: number[] = [];
  for (let i = randInt(rng, 1, 2); i > 0; i--) {
    if (rng.next() < 0.7) push({ kind: 'browse', category: pick(rng, CATEGORIES), page: randInt(rng, 1, 3), size: cohort.device === 'desktop' && rng.next() < 0.3 ? 48 : null });
    else push({ kind: 'search', q: searchWords(rng) });
  }
  for (let i = randInt(rng, 1, 5); i > 0; i--) {
    const productId = zipf(rng);
    viewed.push(productId);
    push({ kind: 'product', productId });
  }
  const checkoutShare = funnel.checkoutShare ?? 0.05;
  const cartShare = Math.max(CART_SHARE, checkoutShare); // a flash sale converts more browsers into buyers
  if (rng.next() < cartShare) {
    push({ kind: 'create-cart' });
    const adds = [...new Set(viewed)].filter(() => rng.next() < 0.7);
    if (adds.length === 0) adds.push(viewed[0]!);
    for (const productId of adds.slice(0, 3)) push({ kind: 'add', productId, qty: rng.next() < 0.85 ? 1 : 2 });
    if (adds.length > 1 && rng.next() < 0.15) push({ kind: 'remove', productId: adds[adds.length - 1]! });
    push({ kind: 'view-cart' });
    if (rng.next() < checkoutShare / cartShare) {
      push({ kind: 'checkout', idempotencyKey: `shop-${seed}-${index}`, token: rng.next() < 0.02 ? 'tok_decline' : 'tok_visa' });
    }
  }
  return { index, ...cohort, signedIn, steps };
}

function searchWords(rng: Rng): string {
  const words: string[] = [pick(rng, NAME_WORDS.materials)];
  if (rng.next() < 0.7) words.push(pick(rng, NAME_WORDS.colours));
  return words.join(' ');
}

function planBot(rng: Rng, push: (s: ShopperAction) => void): void {
  push({ kind: 'browse', category: pick(rng, CATEGORIES), page: 1, size: 200 });
  for (let i = randInt(rng, 3, 8); i > 0; i--) {
    if (rng.next() < 0.25) push({ kind: 'browse', category: pick(rng, CATEGORIES), page: randInt(rng, 1, 4), size: 200 });
    else if (rng.next() < 0.2) push({ kind: 'search', q: pick(rng, NAME_WORDS.adjectives) });
    else push({ kind: 'product', productId: randInt(rng, 1, PRODUCT_COUNT) });
  }
}
