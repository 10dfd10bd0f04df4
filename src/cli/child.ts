import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RunError } from '../model/errors.js';

/** Path of `bin/flashback.js`, from `dist/cli/`. */
const BIN = fileURLToPath(new URL('../../bin/flashback.js', import.meta.url));

/** A flashback subcommand running as a child process, its output read line by line. */
export interface FlashbackChild {
  readonly child: ChildProcess;
  /** Resolves with the first stdout/stderr line matching `re` (its match), or rejects on exit or timeout. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit status once the child ends. */
  readonly exited: Promise<number>;
  /** Every line the child printed so far (stdout and stderr, in order). */
  readonly lines: string[];
  /** Sends a signal and waits for the exit status. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/**
 * Starts `flashback <args>` with the same Node. `echo` gets every line, for
 * showing progress. Each child is its own process so a target and a load
 * generator get their own cores.
 */
export function spawnFlashback(args: string[], echo?: (line: string) => void): FlashbackChild {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  const onData = (buffered: { rest: string }) => (chunk: Buffer) => {
    const text = buffered.rest + chunk.toString('utf8');
    const parts = text.split(/\r?\n|\r/);
    buffered.rest = parts.pop() ?? '';
    for (const line of parts) {
      if (line === '') continue;
      lines.push(line);
      echo?.(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const m = waiters[i]!.re.exec(line);
        if (m) {
          waiters[i]!.resolve(m);
          waiters.splice(i, 1);
        }
      }
    }
  };
  child.stdout!.on('data', onData({ rest: '' }));
  child.stderr!.on('data', onData({ rest: '' }));
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.on('error', () => resolve(127));
  });
  return {
    child,
    lines,
    exited,
    waitFor(re, timeoutMs) {
      for (const line of lines) {
        const m = re.exec(line);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new RunError(`timed out after ${timeoutMs} ms waiting for \`flashback ${args[0]}\` to print ${re}`));
        }, timeoutMs);
        waiters.push({
          re,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          const tail = lines.slice(-3).join(' / ');
          reject(new RunError(`\`flashback ${args[0]}\` exited with status ${code} before it was ready: ${tail}`));
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
