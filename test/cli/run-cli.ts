import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The built CLI (`npm test` builds `dist/` first). */
export const BIN = resolve(import.meta.dirname, '../../bin/flashback.js');

/** Runs the built CLI without blocking this process's event loop (test servers live here). */
export function flashback(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}
