/**
 * The storefront's metrics: what /metrics shows, named so the reasons a
 * profile is slow can be read off it (lock waits, queries per request,
 * payment retries and failures, breaker state, cache hits, rejections).
 */
import { Counter, Gauge, Histogram, MetricsRegistry } from './metrics.js';

const LATENCY_BOUNDS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const QUERY_BOUNDS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];

/** Sources read at scrape time. */
export interface MetricsSources {
  profile: string;
  breakerState: () => number | null;
  lockWaiters: () => number;
  paymentInFlight: () => number;
  faults: () => string[];
  inFlightRequests: () => number;
}

/** Creates the registry and the metrics the storefront updates. */
export function createStorefrontMetrics(src: MetricsSources) {
  const registry = new MetricsRegistry();
  const m = {
    registry,
    requests: registry.add(new Counter('storefront_requests_total', 'HTTP requests by route and status')),
    latency: registry.add(new Histogram('storefront_request_duration_seconds', 'Request latency by route', LATENCY_BOUNDS_S)),
    dbQueries: registry.add(new Counter('storefront_db_queries_total', 'SQL statements run, by route')),
    dbQueriesPerRequest: registry.add(new Histogram('storefront_db_queries_per_request', 'SQL statements per request, by route (N+1 shows here)', QUERY_BOUNDS)),
    cache: registry.add(new Counter('storefront_cache_lookups_total', 'Cache lookups by cache and result (hit, miss, coalesced, bypass)')),
    lockAcquisitions: registry.add(new Counter('storefront_inventory_lock_acquisitions_total', 'Per-SKU inventory lock acquisitions (naive profile)')),
    lockWaits: registry.add(new Counter('storefront_inventory_lock_waits_total', 'Lock acquisitions that had to wait for another checkout')),
    lockWaitSeconds: registry.add(new Histogram('storefront_inventory_lock_wait_seconds', 'Time spent waiting for per-SKU inventory locks', LATENCY_BOUNDS_S)),
    reservations: registry.add(new Counter('storefront_inventory_reservations_total', 'Inventory reservations by result (reserved, sold_out, released)')),
    paymentCalls: registry.add(new Counter('storefront_payment_calls_total', 'Calls to the payment provider by outcome (ok, error, timeout, declined)')),
    paymentRetries: registry.add(new Counter('storefront_payment_retries_total', 'Payment calls that were retries')),
    paymentFailures: registry.add(new Counter('storefront_payment_failures_total', 'Checkouts whose payment finally failed, by reason')),
    paymentTimeout: registry.add(new Gauge('storefront_payment_attempt_timeout_seconds', 'Current per-attempt payment timeout (tuned: adaptive)')),
    paymentSeconds: registry.add(new Histogram('storefront_payment_call_duration_seconds', 'Payment call latency as the storefront waited for it', LATENCY_BOUNDS_S)),
    breakerTransitions: registry.add(new Counter('storefront_circuit_breaker_transitions_total', 'Circuit breaker state changes')),
    rejected: registry.add(new Counter('storefront_rejected_requests_total', 'Requests refused on purpose, by reason (rate_limited, breaker_open, idempotency_conflict)')),
    idempotentReplays: registry.add(new Counter('storefront_idempotent_replays_total', 'Checkouts answered from an earlier request with the same Idempotency-Key')),
    orders: registry.add(new Counter('storefront_orders_total', 'Orders created')),
  };
  registry.add(new Gauge('storefront_profile_info', 'The profile this storefront runs', () => [[{ profile: src.profile }, 1]]));
  registry.add(new Gauge('storefront_circuit_breaker_state', 'Payment circuit breaker: 0 closed, 1 open, 2 half-open (absent: no breaker)', () => {
    const s = src.breakerState();
    return s === null ? [] : [[{}, s]];
  }));
  registry.add(new Gauge('storefront_inventory_lock_waiters', 'Checkouts waiting for a per-SKU lock now', () => [[{}, src.lockWaiters()]]));
  registry.add(new Gauge('storefront_payment_in_flight', 'Payment provider calls in flight now (its own view, timed-out calls included)', () => [[{}, src.paymentInFlight()]]));
  registry.add(new Gauge('storefront_requests_in_flight', 'HTTP requests being handled now', () => [[{}, src.inFlightRequests()]]));
  registry.add(new Gauge('storefront_fault_active', 'Injected faults in force', () => src.faults().map((f) => [{ fault: f }, 1])));
  return m;
}

/** The storefront's metric handles. */
export type StorefrontMetrics = ReturnType<typeof createStorefrontMetrics>;
