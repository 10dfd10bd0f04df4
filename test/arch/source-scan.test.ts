import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanFile } from './source-scan.js';

const dir = mkdtempSync(join(tmpdir(), 'fb-arch-'));
let n = 0;
function scan(text: string): ReturnType<typeof scanFile> {
  const p = join(dir, `f${n++}.ts`);
  writeFileSync(p, text);
  return scanFile(p);
}

describe('scanFile', () => {
  it('sees every kind of module reference', () => {
    const refs = scan(`
      import a from './a.js';
      import type { B } from '../b/b.js';
      import './side-effect.js';
      export { c } from '../c/c.js';
      export * from './d.js';
      const e = await import('../e/e.js');
      type F = typeof import('../f/f.js');
      import g = require('../g/g.js');
      const h = require('../h/h.js');
      const i = await import(someName);
    `).references.map((r) => `${r.kind} ${r.specifier}`);
    expect(refs).toEqual([
      'import ./a.js',
      'import type ../b/b.js',
      'side-effect import ./side-effect.js',
      'export from ../c/c.js',
      'export from ./d.js',
      'dynamic import ../e/e.js',
      'import type ../f/f.js',
      'require ../g/g.js',
      'require ../h/h.js',
      'dynamic import null',
    ]);
  });

  it('does not take comments, strings or property names for process/console uses', () => {
    const uses = scan(`
      // process.exit(1) and console.log in a comment
      /** the process exit code */
      const text = 'process.env is read by cli/, console too';
      const o = { process: 1, console: 2 };
      o.process = o.console;
      type T = { process: number };
      const { process: p } = { process: 3 };
    `).globals;
    expect(uses).toEqual([]);
  });

  it('finds reads of the globals, however they are written', () => {
    const uses = scan(`
      const a = process.env['X'];
      console.error('x');
      process.nextTick(() => {});
      const p = process;
      const q = globalThis.console;
      const r = { process };
      import { argv } from 'node:process';
      import 'console';
      const t: typeof process.env = {};
    `).globals.map((g) => g.use);
    expect(uses.sort()).toEqual(
      [
        'process.env',
        'console.error',
        'process.nextTick',
        'process',
        'globalThis.console',
        'process',
        "import 'node:process'",
        "import 'console'",
        'process.env',
      ].sort(),
    );
  });
});
