import type { Command } from 'commander';
import { out } from '../output.js';

/** Registers `flashback record` (not yet available). */
export function registerRecord(program: Command): void {
  program
    .command('record')
    .description('record (not yet available)')
    .allowUnknownOption()
    .action(() => {
      out('flashback record: not yet available in this version');
    });
}
