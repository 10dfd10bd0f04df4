import type { Command } from 'commander';
import { out } from '../output.js';

/** Registers `flashback inspect` (not yet available). */
export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('inspect (not yet available)')
    .allowUnknownOption()
    .action(() => {
      out('flashback inspect: not yet available in this version');
    });
}
