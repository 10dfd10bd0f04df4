import { Command, CommanderError } from 'commander';
import { FlashbackError } from '../model/errors.js';
import { err } from './output.js';
import { TOOL_VERSION } from './version.js';
import { registerCa } from './commands/ca.js';
import { registerDemo } from './commands/demo.js';
import { registerExport } from './commands/export.js';
import { registerImport } from './commands/import.js';
import { registerInspect } from './commands/inspect.js';
import { registerRecord } from './commands/record.js';
import { registerReplay } from './commands/replay.js';
import { registerReport } from './commands/report.js';
import { registerShop } from './commands/shop.js';
import { registerStorefront } from './commands/storefront.js';

/** Builds the commander program with every command registered. */
export function buildProgram(): Command {
  const program = new Command('flashback')
    .description('Record HTTP traffic, replay it at 10x, compare latency distributions by route and cohort.')
    .version(TOOL_VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerRecord(program);
  registerInspect(program);
  registerReplay(program);
  registerReport(program);
  registerStorefront(program);
  registerShop(program);
  registerDemo(program);
  registerImport(program);
  registerExport(program);
  registerCa(program);
  // Subcommands inherit the error handling of the root.
  for (const cmd of program.commands) applyErrorHandling(cmd);
  return program;
}

function applyErrorHandling(cmd: Command): void {
  cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  for (const sub of cmd.commands) applyErrorHandling(sub);
}

/** Maps any thrown value to an exit status, printing one clear line (stack only with DEBUG). */
export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // --help and --version exit 0 through here; usage errors are already printed by commander.
    if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    return 2;
  }
  if (e instanceof FlashbackError) {
    err(`flashback: ${e.message}`);
    if (e.hint) err(`  hint: ${e.hint}`);
    if (process.env['DEBUG']) console.error(e);
    return e.exitCode;
  }
  err(`flashback: internal error: ${e instanceof Error ? e.message : String(e)}`);
  if (process.env['DEBUG']) console.error(e);
  else err('  hint: run again with DEBUG=1 for the stack trace, and report it');
  return 3;
}

async function main(): Promise<void> {
  // `flashback inspect x.db | head` closes our stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (e) {
    process.exitCode = reportError(e);
  }
}

await main();
