/**
 * Drives seeded shoppers against a storefront, open-loop: shopper i arrives
 * at its scheduled time (Poisson arrivals at `shoppersPerSecond`) whatever
 * the server is doing, during `arrivalMs` (default `durationMs`). No request
 * starts after `durationMs`; requests still
 * in flight are aborted at the hard stop (`durationMs + graceMs`).
 */
import { Agent } from 'undici';
import { UsageError } from '../../model/errors.js';
import { createRng, mixSeed } from '../rng.js';
import type { FunnelOptions, ShopperPlan } from './plan.js';
import { planShopper } from './plan.js';
import { executeStep, newSession } from './step.js';
import { ShopTally } from './tally.js';
import type { ShopSummary } from './tally.js';

export type { ShopSummary, RouteFigures } from './tally.js';

/** Options of {@link runShoppers}. */
export interface ShopOptions extends FunnelOptions {
  /** Storefront origin, e.g. http://127.0.0.1:3000 (a `flashback record` proxy works too). */
  target: string;
  shoppersPerSecond: number;
  durationMs: number;
  /**
   * Shoppers arrive during the first `arrivalMs` only (default `durationMs`);
   * the rest of `durationMs` lets the last ones finish, so a run that ends
   * before `durationMs` cuts no shopper short and is the same run for the
   * same seed whatever the timing.
   */
  arrivalMs?: number;
  seed: number;
  /** Extra time for requests in flight after `durationMs` before they are aborted (default 5000). */
  graceMs?: number;
  /** Connections to the target at most (default 256). */
  connections?: number;
  /** Called about once a second with the figures so far. */
  onProgress?: (s: ShopSummary) => void;
  /** Called per response (or transport error, status 0) with the route template and latency in µs. */
  onResponse?: (route: string, status: number, latencyUs: number) => void;
}

/** Arrival offsets (ms from start) of shoppers in `[0, durationMs)`: seeded Poisson process. */
export function arrivalTimesMs(seed: number, shoppersPerSecond: number, durationMs: number): number[] {
  const rng = createRng(mixSeed(seed, 0x5eed));
  const out: number[] = [];
  let t = 0;
  for (;;) {
    t += (-Math.log(1 - rng.next()) * 1000) / shoppersPerSecond;
    if (t >= durationMs) return out;
    out.push(t);
  }
}

function validate(o: ShopOptions): URL {
  let url: URL;
  try {
    url = new URL(o.target);
  } catch {
    throw new UsageError(`--target must be an http:// URL like http://127.0.0.1:3000 (got "${o.target}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--target must be an http:// or https:// URL (got "${o.target}")`);
  if (!(o.shoppersPerSecond > 0 && o.shoppersPerSecond <= 10_000)) throw new UsageError(`--shoppers-per-second must be a number from 0 to 10000 (got "${o.shoppersPerSecond}")`);
  if (!(o.durationMs > 0 && o.durationMs <= 24 * 3600_000)) throw new UsageError(`--duration must be positive and at most 24h (got ${o.durationMs} ms)`);
  if (o.arrivalMs !== undefined && !(o.arrivalMs > 0 && o.arrivalMs <= o.durationMs)) {
    throw new UsageError(`--arrive-for must be positive and at most --duration (got ${o.arrivalMs} ms)`);
  }
  if (!Number.isInteger(o.seed) || o.seed < 0) throw new UsageError(`--seed must be a whole number (got "${o.seed}")`);
  return url;
}

/** Runs the shoppers; resolves with what they did once every session has ended or been cut. */
export async function runShoppers(options: ShopOptions): Promise<ShopSummary> {
  const url = validate(options);
  const origin = url.origin;
  const dispatcher = new Agent({ connections: options.connections ?? 256, headersTimeout: 60_000, bodyTimeout: 60_000, keepAliveTimeout: 10_000 });
  const tally = new ShopTally(options.onResponse);
  const start = performance.now();
  const endAt = start + options.durationMs;
  const hardStop = new AbortController();
  const hardTimer = setTimeout(() => hardStop.abort(), options.durationMs + (options.graceMs ?? 5000));
  const progress = options.onProgress ? setInterval(() => options.onProgress!(tally.summary(performance.now() - start)), 1000) : null;
  const sessions: Promise<void>[] = [];
  const funnel: FunnelOptions = { checkoutShare: options.checkoutShare, thinkMs: options.thinkMs };

  const sleepers = new Set<() => void>();
  hardStop.signal.addEventListener('abort', () => {
    for (const wake of sleepers) wake();
    void dispatcher.destroy().catch(() => undefined); // aborts the requests still in flight
  }, { once: true });
  const sleepUntil = (t: number) =>
    new Promise<boolean>((resolve) => {
      const ms = t - performance.now();
      if (ms <= 0 || hardStop.signal.aborted) return resolve(!hardStop.signal.aborted);
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve(!hardStop.signal.aborted);
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  const runSession = async (plan: ShopperPlan) => {
    tally.shopperStarted();
    const session = newSession(plan, origin, dispatcher, endAt, sleepUntil);
    let due = performance.now();
    for (const step of plan.steps) {
      due += step.thinkMs;
      if (due >= endAt || !(await sleepUntil(due))) return;
      await executeStep(session, step, tally);
      due = Math.max(due, performance.now());
    }
    tally.shopperFinished();
  };

  try {
    const arrivals = arrivalTimesMs(options.seed, options.shoppersPerSecond, options.arrivalMs ?? options.durationMs);
    for (let i = 0; i < arrivals.length; i++) {
      if (!(await sleepUntil(start + arrivals[i]!))) break;
      sessions.push(runSession(planShopper(options.seed, i, funnel)));
    }
    await Promise.all(sessions);
  } finally {
    clearTimeout(hardTimer);
    if (progress) clearInterval(progress);
    await dispatcher.destroy().catch(() => undefined);
  }
  return tally.summary(performance.now() - start);
}
