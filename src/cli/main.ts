import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableEnded) resolve();
    else stream.write('', () => resolve());
  });
}

await main();
// Every command has finished its work once main() returns (servers and proxies await their
// signal inside their action), so end the process here instead of letting the event loop
// drain. A natural exit first waits, in Node's NodePlatform::DrainTasks, for every queued V8
// background task to run to completion; one of those can wait in turn for the main thread,
// and then the process never exits (nodejs/node#54918, still open; seen here as `report show`
// hanging 1-5 times in 200). process.exit() drops the queued tasks instead of running them.
// Output still in flight (pipes are asynchronous on some platforms) is flushed first.
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
collectBeforeExit();
process.exit(process.exitCode ?? 0);

/**
 * process.exit() still joins V8's worker threads, and one of them can be waiting for the main
 * thread: a TurboFan job compiling in the background that hit the heap's limit asks the main
 * thread to collect and waits (V8's CollectionBarrier::AwaitCollectionBackground), while the
 * main thread, in exit, waits for it to end (WorkerThreadsTaskRunner::Shutdown). Thread dumps
 * of two `report show` runs hung that way under the test suite's load (1 in about 500 runs)
 * showed exactly those two stacks. A full collection here answers any such request and leaves
 * the heap room, so no job asks again in the moment exit takes. Best effort: without it the
 * process exits as before.
 */
function collectBeforeExit(): void {
  try {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    // Nothing to do: exit as before.
  }
}
