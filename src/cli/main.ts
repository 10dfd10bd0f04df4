import { Command, CommanderError } from 'commander';
import { FlashbackError } from '../model/errors.js';
import { err, oneLine } from './output.js';
import { TOOL_VERSION } from './version.js';

type Register = (program: Command) => void;

/**
 * Each command's module, loaded on demand: `flashback replay` should not pay
 * for node-forge, the storefront or the report renderers at start-up.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  record: async () => (await import('./commands/record.js')).registerRecord,
  inspect: async () => (await import('./commands/inspect.js')).registerInspect,
  replay: async () => (await import('./commands/replay.js')).registerReplay,
  report: async () => (await import('./commands/report.js')).registerReport,
  storefront: async () => (await import('./commands/storefront.js')).registerStorefront,
  shop: async () => (await import('./commands/shop.js')).registerShop,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  import: async () => (await import('./commands/import.js')).registerImport,
  export: async () => (await import('./commands/export.js')).registerExport,
  ca: async () => (await import('./commands/ca.js')).registerCa,
};

/**
 * Builds the commander program. With `only` naming a known command, just that
 * command is loaded; otherwise (root help, a typo) every command is.
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('flashback')
    .description('Record HTTP traffic, replay it at 10x, compare latency distributions by route and cohort.')
    .version(TOOL_VERSION, '-V, --version')
    .exitOverride()
    // commander's own errors quote argv (an unknown option, a bad argument): one line each, escaped
    .configureOutput({ outputError: (text, write) => write(text.replace(/\n+$/, '').split('\n').map(oneLine).join('\n') + '\n') });
  const versionOnly = only === '-V' || only === '--version';
  const names = versionOnly ? [] : only !== undefined && only in COMMANDS ? [only] : Object.keys(COMMANDS);
  const registers = await Promise.all(names.map((name) => COMMANDS[name]!()));
  for (const register of registers) register(program);
  // Subcommands inherit the error handling of the root.
  for (const cmd of program.commands) applyErrorHandling(cmd);
  return program;
}

function applyErrorHandling(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) applyErrorHandling(sub);
}

/**
 * Maps any thrown value to an exit status, printing one clear line (stack
 * only with DEBUG). Messages quote input (a HAR entry, a log line, a file
 * name): their control bytes are escaped so the line stays one line.
 */
export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // --help and --version exit 0 through here; usage errors are already printed by commander.
    if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    return 2;
  }
  if (e instanceof FlashbackError) {
    err(`flashback: ${oneLine(e.message)}`);
    if (e.hint) err(`  hint: ${oneLine(e.hint)}`);
    if (process.env['DEBUG']) console.error(e);
    return e.exitCode;
  }
  err(`flashback: internal error: ${oneLine(e instanceof Error ? e.message : String(e))}`);
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
    const program = await buildProgram(process.argv[2]);
    await program.parseAsync(process.argv);
  } catch (e) {
    process.exitCode = reportError(e);
  }
}

await main();
