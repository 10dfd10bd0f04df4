import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanFile, tsFiles } from './source-scan.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');
const ARCHITECTURE = join(ROOT, 'docs/architecture.md');

/**
 * `process`/`console` uses allowed outside `src/cli/`, each with its reason.
 * docs/architecture.md ("Process and console outside cli/") lists the same
 * pairs; a test below checks they agree and that none is stale.
 */
const PROCESS_EXCEPTIONS: Array<{ file: string; use: string; reason: string }> = [
  {
    file: 'src/record/proxied-exchange.ts',
    use: 'process.nextTick',
    reason:
      'a scheduling primitive, not process I/O: the corked response is uncorked after the current ' +
      'undici callback, so head, body and end of a small response leave in one write (the pattern ' +
      "Node's stream docs give for cork/uncork)",
  },
];

/** The rows of the markdown table that follows `heading` in `doc` (cells trimmed, header and rule dropped). */
function tableAfter(doc: string, heading: string): string[][] {
  const lines = doc.split('\n');
  const at = lines.findIndex((l) => l.trim() === heading);
  if (at < 0) throw new Error(`docs/architecture.md has no "${heading}" heading`);
  const rows: string[][] = [];
  let i = at + 1;
  while (i < lines.length && !lines[i]!.startsWith('|')) i++;
  for (; i < lines.length && lines[i]!.startsWith('|'); i++) {
    rows.push(lines[i]!.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows.slice(2);
}

/** The dependency table of docs/architecture.md: module → modules it may import (`*`: any but cli). */
function allowedFromDoc(): Record<string, string[]> {
  const allowed: Record<string, string[]> = {};
  for (const [moduleCell, mayCell] of tableAfter(readFileSync(ARCHITECTURE, 'utf8'), '## Dependency rules')) {
    const name = /^`(\w+)\/`$/.exec(moduleCell ?? '')?.[1];
    if (!name) throw new Error(`dependency table: bad module cell "${moduleCell}"`);
    allowed[name] = /^every module/.test(mayCell ?? '')
      ? ['*']
      : [...(mayCell ?? '').matchAll(/`(\w+)\/`/g)].map((m) => m[1]!);
  }
  return allowed;
}

const rel = (file: string): string => relative(ROOT, file).split('\\').join('/');
const moduleOf = (file: string): string => relative(SRC, file).split(/[\\/]/)[0]!;

describe('module dependency direction (the table in docs/architecture.md)', () => {
  const files = tsFiles(SRC);
  const allowed = allowedFromDoc();

  it('finds the source tree and the table', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(allowed['cli']).toEqual(['*']);
    expect(allowed['model']).toEqual([]);
    expect(allowed['report']).not.toContain('replay');
  });

  it('the table names exactly the modules under src/', () => {
    const modules = [...new Set(files.map(moduleOf))].sort();
    expect(Object.keys(allowed).sort()).toEqual(modules);
  });

  it('every module reference (imports, import type, side-effect imports, export … from, import()) crosses only allowed seams', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = moduleOf(file);
      const may = allowed[from] ?? [];
      for (const ref of scanFile(file).references) {
        if (ref.specifier === null) {
          violations.push(`${rel(file)}:${ref.line}: ${ref.kind} of a computed specifier (cannot be checked)`);
          continue;
        }
        if (!ref.specifier.startsWith('.')) continue;
        const targetPath = resolve(dirname(file), ref.specifier);
        const target = relative(SRC, targetPath).split(/[\\/]/)[0]!;
        if (target.startsWith('..')) {
          violations.push(`${rel(file)}:${ref.line}: ${ref.kind} reaches outside src/ (${ref.specifier})`);
          continue;
        }
        if (target === from) continue;
        if (target === 'cli' || !(may.includes('*') || may.includes(target))) {
          violations.push(`${rel(file)}:${ref.line}: ${ref.kind} of ${target}/ (${ref.specifier})`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});

describe('only src/cli/ touches process and console', () => {
  const files = tsFiles(SRC).filter((f) => moduleOf(f) !== 'cli');

  it('no process/console use outside src/cli/ but the listed exceptions', () => {
    const violations: string[] = [];
    for (const file of files) {
      for (const g of scanFile(file).globals) {
        if (PROCESS_EXCEPTIONS.some((x) => x.file === rel(file) && x.use === g.use)) continue;
        violations.push(`${rel(file)}:${g.line}: ${g.use}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('every exception is still needed', () => {
    for (const x of PROCESS_EXCEPTIONS) {
      const uses = scanFile(join(ROOT, x.file)).globals.map((g) => g.use);
      expect(uses, `${x.file} no longer uses ${x.use}: drop the exception here and in docs/architecture.md`).toContain(x.use);
    }
  });

  it('docs/architecture.md lists the same exceptions', () => {
    const rows = tableAfter(readFileSync(ARCHITECTURE, 'utf8'), '## Process and console outside cli/');
    const inDoc = rows.map(([file, use]) => `${file?.replace(/`/g, '')} ${use?.replace(/`/g, '')}`).sort();
    expect(inDoc).toEqual(PROCESS_EXCEPTIONS.map((x) => `${x.file} ${x.use}`).sort());
  });
});
