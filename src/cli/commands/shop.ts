import type { Command } from 'commander';
import Table from 'cli-table3';
import { RunError, UsageError } from '../../model/errors.js';
import { parseDurationUs, parsePositiveNumber } from '../../model/units.js';
import { runShoppers } from '../../storefront/index.js';
import type { ShopSummary } from '../../storefront/index.js';
import { err, out, stdoutIsTty, tableStyle } from '../output.js';

interface ShopFlags {
  target: string;
  shoppersPerSecond: string;
  duration: string;
  arriveFor?: string;
  seed: string;
  checkoutShare: string;
  think: string;
  json?: boolean;
}

/** The human summary of a shopper run. */
export function renderShopSummary(s: ShopSummary): string[] {
  const statuses = Object.entries(s.byStatus).map(([k, v]) => `${k} ${v}`).join(' · ') || '-';
  const table = new Table({ head: ['route', 'requests', 'errors', 'p50', 'p95', 'p99'], style: tableStyle() });
  for (const [route, r] of Object.entries(s.byRoute)) {
    table.push([route, r.requests, r.errors, ms(r.p50Ms), ms(r.p95Ms), ms(r.p99Ms)]);
  }
  return [
    `shop: ${s.shoppers} shoppers (${s.completedShoppers} finished), ${s.requests} requests, ${s.orders} orders, ${s.errors} errors in ${(s.elapsedMs / 1000).toFixed(1)}s`,
    `status: ${statuses}`,
    table.toString(),
  ];
}

function ms(v: number): string {
  return v < 10 ? `${v.toFixed(2)}ms` : v < 1000 ? `${v.toFixed(1)}ms` : `${(v / 1000).toFixed(2)}s`;
}

/** Registers `flashback shop`: seeded synthetic shoppers against a storefront (or a record proxy). */
export function registerShop(program: Command): void {
  program
    .command('shop')
    .description('drive seeded synthetic shoppers (open-loop arrivals, cohorts, funnel) against a storefront')
    .requiredOption('--target <url>', 'storefront or record proxy origin, e.g. http://127.0.0.1:3000')
    .option('--shoppers-per-second <n>', 'new shoppers arriving per second (Poisson)', '5')
    .option('--duration <d>', 'how long shoppers keep arriving and acting, e.g. 30s or 2m', '30s')
    .option('--arrive-for <d>', 'shoppers arrive only during the first <d> of --duration (default: all of it); the rest lets them finish')
    .option('--seed <n>', 'same seed, same shoppers', '1')
    .option('--checkout-share <fraction>', 'share of shoppers who check out', '0.05')
    .option('--think <d>', 'median think time between a human shopper\'s steps', '1500ms')
    .option('--json', 'print the summary as JSON')
    .action(async (flags: ShopFlags) => {
      const rate = parsePositiveNumber(flags.shoppersPerSecond, '--shoppers-per-second');
      const durationMs = parseDurationUs(flags.duration, '--duration') / 1000;
      if (durationMs <= 0) throw new UsageError(`--duration must be positive (got "${flags.duration}")`);
      const arrivalMs = flags.arriveFor === undefined ? undefined : parseDurationUs(flags.arriveFor, '--arrive-for') / 1000;
      if (!/^\d+$/.test(flags.seed)) throw new UsageError(`--seed must be a whole number (got "${flags.seed}")`);
      const share = Number(flags.checkoutShare);
      if (flags.checkoutShare.trim() === '' || !(share >= 0 && share <= 1)) {
        throw new UsageError(`--checkout-share must be a fraction from 0 to 1 (got "${flags.checkoutShare}")`);
      }
      const thinkMs = parseDurationUs(flags.think, '--think', 'ms') / 1000;
      const live = stdoutIsTty() && !flags.json;
      const summary = await runShoppers({
        target: flags.target, shoppersPerSecond: rate, durationMs, ...(arrivalMs === undefined ? {} : { arrivalMs }), seed: Number(flags.seed), checkoutShare: share, thinkMs,
        ...(live ? { onProgress: (s: ShopSummary) => process.stderr.write(`\rshop: ${s.shoppers} shoppers, ${s.requests} requests, ${s.orders} orders, ${s.errors} errors   `) } : {}),
      });
      if (live) process.stderr.write('\n');
      if (summary.requests > 0 && summary.byStatus['error'] === summary.requests) {
        throw new RunError(`Failed to reach ${flags.target}: all ${summary.requests} requests failed to connect`, { hint: 'is the storefront running? (flashback storefront --port 3000)' });
      }
      if (flags.json) out(JSON.stringify(summary, null, 2));
      else for (const line of renderShopSummary(summary)) out(line);
      if (summary.requests === 0) err('shop: no shopper made a request (duration too short for the arrival rate?)');
    });
}
