import type { Command } from 'commander';
import { out } from '../output.js';

/** Registers `flashback export` (not yet available). */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export (not yet available)')
    .allowUnknownOption()
    .action(() => {
      out('flashback export: not yet available in this version');
    });
}
