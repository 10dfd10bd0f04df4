import type { Command } from 'commander';
import { UsageError } from '../../model/errors.js';
import { parseFaults, PROFILES, startStorefront } from '../../storefront/index.js';
import type { Profile } from '../../storefront/index.js';
import { err, out } from '../output.js';

interface StorefrontFlags {
  port: string;
  host: string;
  profile: string;
  fault: string[];
  db?: string;
  seed: string;
}

function wholeNumber(text: string, flag: string, max: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) > max) throw new UsageError(`${flag} must be a whole number from 0 to ${max} (got "${text}")`);
  return Number(text);
}

/** Registers `flashback storefront`: the reference storefront (runs until SIGINT/SIGTERM). */
export function registerStorefront(program: Command): void {
  program
    .command('storefront')
    .description('run the reference storefront (naive or tuned profile) on a seeded SQLite catalogue')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '3000')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--profile <name>', 'naive (the flash-sale failure modes) or tuned (the fixes)', 'naive')
    .option('--fault <spec>', 'inject a fault: payment-latency=800ms, payment-errors=20%, cache-down, db-slow=5ms (repeatable)',
      (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--db <file>', 'SQLite file for the catalogue and orders (default: in memory)')
    .option('--seed <n>', 'catalogue seed: same seed, same catalogue', '1')
    .action(async (flags: StorefrontFlags) => {
      const port = wholeNumber(flags.port, '--port', 65535);
      const seed = wholeNumber(flags.seed, '--seed', 0xffffffff);
      if (!PROFILES.includes(flags.profile as Profile)) throw new UsageError(`--profile must be naive or tuned (got "${flags.profile}")`);
      parseFaults(flags.fault); // reject bad specs before opening anything
      const store = await startStorefront({
        port, host: flags.host, profile: flags.profile as Profile, faults: flags.fault, seed,
        ...(flags.db === undefined ? {} : { dbPath: flags.db }),
      });
      out(`storefront (${store.profile}) listening on ${store.url}`);
      if (flags.fault.length > 0) err(`storefront: faults in force: ${flags.fault.join(', ')}`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onTerm);
          err(`storefront: ${signal}, shutting down`);
          resolve();
        };
        const onInt = () => stop('SIGINT');
        const onTerm = () => stop('SIGTERM');
        process.on('SIGINT', onInt);
        process.on('SIGTERM', onTerm);
      });
      await store.close();
    });
}
