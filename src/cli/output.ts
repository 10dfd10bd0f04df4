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

/**
 * One line, whatever it quotes: control bytes (C0 including \n \r \t, ESC,
 * DEL, C1, and the U+2028/2029 line separators) become visible escapes
 * (`\n`, `\r`, `\t`, `\x1b`, `\x7f`, `\x85`, `\u2028`), so a bad header, log line or file name cannot split an error
 * line, fake another one, or send terminal escape sequences. Apply it to
 * text that may hold input, never to colour codes the CLI adds itself.
 */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

export function err(line: string): void {
  process.stderr.write(line + '\n');
}

/** `flashback: warning: <line>`, with control bytes in `line` escaped ({@link oneLine}). */
export function warn(line: string): void {
  process.stderr.write(`flashback: warning: ${oneLine(line)}\n`);
}

/** Prints when DEBUG is set. */
export function debug(...args: unknown[]): void {
  if (process.env['DEBUG']) console.error('[debug]', ...args);
}
