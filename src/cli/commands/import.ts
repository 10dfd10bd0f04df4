import type { Command } from 'commander';
import { out } from '../output.js';

/** Registers `flashback import` (not yet available). */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import (not yet available)')
    .allowUnknownOption()
    .action(() => {
      out('flashback import: not yet available in this version');
    });
}
