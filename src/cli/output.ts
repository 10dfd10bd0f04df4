import { Chalk } from 'chalk';

/**
 * Process-facing output helpers. Only `src/cli/` may use these (or touch
 * process/console at all); modules below return values or throw.
 */

/** True when stdout is a terminal (colours, live progress lines). */
export function stdoutIsTty(): boolean {
  return Boolean(process.stdout.isTTY);
}

/** chalk instance that colours only on a TTY (and never when NO_COLOR is set). */
export const colour = new Chalk({ level: stdoutIsTty() && !process.env['NO_COLOR'] ? 1 : 0 });

/** Styles for cli-table3: empty off a TTY, because cli-table3 colours even when piped. */
export function tableStyle(): { head: string[]; border: string[] } {
  return stdoutIsTty() ? { head: ['cyan'], border: ['grey'] } : { head: [], border: [] };
}

export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

export function err(line: string): void {
  process.stderr.write(line + '\n');
}

export function warn(line: string): void {
  process.stderr.write(`flashback: warning: ${line}\n`);
}

/** Prints when DEBUG is set. */
export function debug(...args: unknown[]): void {
  if (process.env['DEBUG']) console.error('[debug]', ...args);
}
