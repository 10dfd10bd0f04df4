/**
 * What the shoppers did: counts by status and route, and exact latency
 * percentiles per route (runs are bounded, so keeping each latency is fine).
 */

/** Figures of one route as the shoppers saw them. */
export interface RouteFigures {
  requests: number;
  /** Transport errors and 5xx answers. */
  errors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** What a shopper run did. */
export interface ShopSummary {
  /** Shoppers that arrived (started). */
  shoppers: number;
  /** Shoppers whose every step ran before the end. */
  completedShoppers: number;
  requests: number;
  orders: number;
  /** Transport errors (status 0) and 5xx answers. */
  errors: number;
  /** Responses by status code; `error` for transport errors. */
  byStatus: Record<string, number>;
  byRoute: Record<string, RouteFigures>;
  elapsedMs: number;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Accumulates responses; {@link summary} computes the figures. */
export class ShopTally {
  private shoppers = 0;
  private completed = 0;
  private orders = 0;
  private readonly byStatus = new Map<string, number>();
  private readonly routes = new Map<string, { errors: number; latenciesUs: number[] }>();

  constructor(private readonly onResponse?: (route: string, status: number, latencyUs: number) => void) {}

  /** A shopper arrived. */
  shopperStarted(): void {
    this.shoppers += 1;
  }

  /** A shopper ran every step before the end. */
  shopperFinished(): void {
    this.completed += 1;
  }

  /** A checkout answered 201. */
  orderPlaced(): void {
    this.orders += 1;
  }

  /** Records one response (`status` 0 for a transport error). */
  record(route: string, status: number, latencyUs: number): void {
    const key = status === 0 ? 'error' : String(status);
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1);
    let r = this.routes.get(route);
    if (!r) {
      r = { errors: 0, latenciesUs: [] };
      this.routes.set(route, r);
    }
    if (status === 0 || status >= 500) r.errors += 1;
    r.latenciesUs.push(latencyUs);
    this.onResponse?.(route, status, latencyUs);
  }

  /** The figures so far. */
  summary(elapsedMs: number): ShopSummary {
    const byRoute: Record<string, RouteFigures> = {};
    let requests = 0;
    let errors = 0;
    for (const [route, r] of [...this.routes].sort(([a], [b]) => a.localeCompare(b))) {
      const sorted = Float64Array.from(r.latenciesUs).sort();
      requests += sorted.length;
      errors += r.errors;
      byRoute[route] = {
        requests: sorted.length, errors: r.errors,
        p50Ms: percentile(sorted, 0.5) / 1000, p95Ms: percentile(sorted, 0.95) / 1000, p99Ms: percentile(sorted, 0.99) / 1000,
        maxMs: (sorted[sorted.length - 1] ?? 0) / 1000,
      };
    }
    return {
      shoppers: this.shoppers, completedShoppers: this.completed, requests, orders: this.orders, errors,
      byStatus: Object.fromEntries([...this.byStatus].sort(([a], [b]) => a.localeCompare(b))), byRoute, elapsedMs: Math.round(elapsedMs),
    };
  }
}
