import type { Command } from 'commander';
import { out } from '../output.js';

/** Registers `flashback replay` (not yet available). */
export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay (not yet available)')
    .allowUnknownOption()
    .action(() => {
      out('flashback replay: not yet available in this version');
    });
}
