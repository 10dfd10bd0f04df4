import { Command, CommanderError } from 'commander';
import { registerReplay } from '../../src/cli/commands/replay.js';
import { registerReport } from '../../src/cli/commands/report.js';

/** One flashback command line as commander parsed it. */
export interface ParsedCommand {
  /** The subcommand path: `replay`, `report merge`, `report diff`, `report show`. */
  command: string;
  /** Positional arguments, flattened (`report merge a b c` gives [a, b, c]). */
  args: string[];
  /** Options by commander's attribute name (`--start-at` → `startAt`), defaults included. */
  opts: Record<string, unknown>;
  /** Long flags written on the command line, in order. */
  flags: string[];
}

/** The commands a deployment file may run; each is registered by the CLI's own code, so a flag renamed there fails here. */
const DEPLOYABLE = ['replay', 'report merge', 'report diff', 'report show'];

/**
 * Parses `argv` (what follows `flashback`) with the CLI's real command
 * definitions (src/cli/commands/*), every action replaced by a recorder, so
 * nothing runs. Throws with commander's own message on an unknown command or
 * flag, a flag without its value, or a missing argument or required option.
 */
export async function parseFlashback(argv: readonly string[]): Promise<ParsedCommand> {
  const program = new Command('flashback').exitOverride();
  registerReplay(program);
  registerReport(program);
  let parsed: ParsedCommand | undefined;
  const errors: string[] = [];
  const arm = (cmd: Command, path: string): void => {
    cmd.exitOverride().configureOutput({ writeErr: (t) => errors.push(t.trim()), writeOut: () => {} });
    if (DEPLOYABLE.includes(path)) {
      cmd.action((...actionArgs: unknown[]) => {
        const positional = actionArgs.slice(0, cmd.registeredArguments.length).flatMap((a) => (Array.isArray(a) ? a.map(String) : [String(a)]));
        parsed = { command: path, args: positional, opts: cmd.opts(), flags: argv.filter((a) => a.startsWith('--')).map((a) => a.replace(/=.*$/, '')) };
      });
    }
    for (const sub of cmd.commands) arm(sub, path === '' ? sub.name() : `${path} ${sub.name()}`);
  };
  arm(program, '');
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) throw new Error(`flashback ${argv.join(' ')}: ${errors.join(' ') || e.message}`);
    throw e;
  }
  if (!parsed) throw new Error(`flashback ${argv.join(' ')}: not one of ${DEPLOYABLE.join(', ')}`);
  return parsed;
}
