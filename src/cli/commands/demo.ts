import type { Command } from 'commander';
import { out } from '../output.js';

/** Registers `flashback demo` (not yet available). */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('demo (not yet available)')
    .allowUnknownOption()
    .action(() => {
      out('flashback demo: not yet available in this version');
    });
}
