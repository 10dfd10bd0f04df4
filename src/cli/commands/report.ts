import type { Command } from 'commander';
import { out } from '../output.js';

/** Registers `flashback report` (not yet available). */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('report (not yet available)')
    .allowUnknownOption()
    .action(() => {
      out('flashback report: not yet available in this version');
    });
}
