/**
 * Wires one storefront instance together for a profile: database, catalogue,
 * carts, checkout, payment provider and client, caches, limiter, metrics.
 */
import type { IncomingMessage } from 'node:http';
import { TtlCache } from './cache.js';
import { CartService } from './cart.js';
import type { Catalogue } from './catalogue.js';
import { createCatalogue } from './catalogue.js';
import type { CheckoutInput } from './checkout.js';
import { checkoutNaive, checkoutTuned } from './checkout.js';
import { StoreDb } from './db.js';
import type { QueryScope } from './db.js';
import type { FaultState } from './faults.js';
import { describeFaults } from './faults.js';
import { IdempotencyGuard } from './idempotency.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { PaymentClient } from './payment-client.js';
import { createNaivePaymentClient, createTunedPaymentClient } from './payment-client.js';
import { PaymentProvider } from './payment-provider.js';
import { priceBatched, priceNaive } from './pricing.js';
import { createRng, mixSeed } from './rng.js';
import type { Params } from './router.js';
import { seedCatalogue } from './seed-catalogue.js';
import type { StorefrontMetrics } from './storefront-metrics.js';
import { createStorefrontMetrics } from './storefront-metrics.js';
import { KeyedTokenBuckets } from './token-bucket.js';
import type { PaymentProviderTuning, Profile, Reply } from './types.js';

/** One storefront's state. */
export interface App {
  profile: Profile;
  db: StoreDb;
  faults: FaultState;
  metrics: StorefrontMetrics;
  catalogue: Catalogue;
  carts: CartService;
  provider: PaymentProvider;
  payment: PaymentClient;
  checkout(scope: QueryScope, input: CheckoutInput): Promise<Reply>;
  /** Per-client limiter on /search (tuned only). */
  searchLimiter: KeyedTokenBuckets | null;
  /** Session token → signed-in email. */
  sessions: Map<string, string>;
  inFlight: number;
  close(): void;
}

/** What a handler gets. */
export interface RequestCtx {
  req: IncomingMessage;
  scope: QueryScope;
  params: Params;
  query: URLSearchParams;
  /** The visitor cookie's value (set on first contact). */
  visitor: string;
  /** Signed-in email, or null. */
  user: string | null;
  body(): Promise<unknown>;
}

/** A route handler. */
export type Handler = (ctx: RequestCtx, app: App) => Promise<Reply> | Reply;

/** Tuned cache TTL (ms) and search limit (per client). */
const CACHE_TTL_MS = 3000;
const SEARCH_BURST = 10;
const SEARCH_PER_SEC = 2;

/** Builds the app: opens (and if empty seeds) the database. Throws when the file holds another seed. */
export function createApp(profile: Profile, faults: FaultState, dbPath: string, seed: number, providerTuning: PaymentProviderTuning = {}): App {
  const db = new StoreDb(dbPath, faults);
  try {
    seedCatalogue(db, seed);
  } catch (e) {
    db.close();
    throw e;
  }
  const mutex = new KeyedMutex();
  const provider = new PaymentProvider({ ...providerTuning, rng: createRng(mixSeed(seed, 101)), faults });
  let payment: PaymentClient | null = null;
  const state = { inFlight: 0 };
  const metrics = createStorefrontMetrics({
    profile,
    breakerState: () => payment?.breakerState() ?? null,
    lockWaiters: () => mutex.waiting,
    paymentInFlight: () => provider.inFlight,
    faults: () => describeFaults(faults),
    inFlightRequests: () => state.inFlight,
  });
  const tuned = profile === 'tuned';
  payment = tuned ? createTunedPaymentClient(provider, metrics, createRng(mixSeed(seed, 102))) : createNaivePaymentClient(provider, metrics);
  const cache = tuned
    ? new TtlCache<unknown>({
        ttlMs: CACHE_TTL_MS, ttlJitter: 0.3, maxEntries: 20_000, rng: createRng(mixSeed(seed, 103)),
        enabled: () => !faults.cacheDown,
        onEvent: (e) => metrics.cache.inc({ cache: 'catalogue', result: e }),
      })
    : null;
  const price = tuned ? priceBatched : priceNaive;
  const catalogue = createCatalogue(db, price, tuned ? { defaultSize: 20, maxSize: 48 } : { defaultSize: 20, maxSize: null }, cache);
  const carts = new CartService(db, price);
  const deps = { db, carts, catalogue, payment, metrics };
  const guard = new IdempotencyGuard<Reply>({ ttlMs: 24 * 3600_000, maxEntries: 100_000, keep: (r) => r.status < 500 });
  const app: App = {
    profile, db, faults, metrics, catalogue, carts, provider, payment,
    checkout: (scope, input) => (tuned ? checkoutTuned(deps, guard, scope, input) : checkoutNaive(deps, mutex, scope, input)),
    searchLimiter: tuned ? new KeyedTokenBuckets({ capacity: SEARCH_BURST, refillPerSec: SEARCH_PER_SEC, maxKeys: 50_000 }) : null,
    sessions: new Map(),
    get inFlight() {
      return state.inFlight;
    },
    set inFlight(n: number) {
      state.inFlight = n;
    },
    close: () => {
      provider.close();
      db.close();
    },
  };
  return app;
}
