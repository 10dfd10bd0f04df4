import type { Command } from 'commander';
import { out } from '../output.js';

/** Registers `flashback storefront` (not yet available). */
export function registerStorefront(program: Command): void {
  program
    .command('storefront')
    .description('storefront (not yet available)')
    .allowUnknownOption()
    .action(() => {
      out('flashback storefront: not yet available in this version');
    });
}
