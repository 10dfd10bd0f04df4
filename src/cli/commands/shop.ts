import type { Command } from 'commander';
import { out } from '../output.js';

/** Registers `flashback shop` (not yet available). */
export function registerShop(program: Command): void {
  program
    .command('shop')
    .description('shop (not yet available)')
    .allowUnknownOption()
    .action(() => {
      out('flashback shop: not yet available in this version');
    });
}
