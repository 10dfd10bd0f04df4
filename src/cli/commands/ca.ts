import type { Command } from 'commander';
import { out } from '../output.js';

/** Registers `flashback ca` (not yet available). */
export function registerCa(program: Command): void {
  program
    .command('ca')
    .description('ca (not yet available)')
    .allowUnknownOption()
    .action(() => {
      out('flashback ca: not yet available in this version');
    });
}
