import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Which modules each module may import (besides itself), from ARCHITECTURE.md. */
const ALLOWED: Record<string, string[]> = {
  cli: ['*'],
  model: [],
  store: ['model'],
  segment: ['model'],
  record: ['store', 'segment', 'model'],
  import: ['store', 'segment', 'model'],
  export: ['store', 'segment', 'model'],
  replay: ['store', 'segment', 'model', 'measure'],
  measure: ['model'],
  report: ['measure', 'model'],
  storefront: ['model'],
};

const SRC = resolve(import.meta.dirname, '../../src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    out.push((m[1] ?? m[2])!);
  }
  return out;
}

describe('module dependency direction', () => {
  const files = tsFiles(SRC);

  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it('every import crosses only the seams ARCHITECTURE.md allows', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = relative(SRC, file).split('/')[0]!;
      const allowed = ALLOWED[from];
      if (!allowed) {
        violations.push(`${relative(SRC, file)}: module "${from}" is not in the architecture`);
        continue;
      }
      for (const spec of importsOf(file)) {
        const target = relative(SRC, resolve(dirname(file), spec)).split('/')[0]!;
        if (target === from || target.startsWith('..')) continue;
        if (allowed.includes('*') && target !== 'cli') continue;
        if (!allowed.includes(target)) violations.push(`${relative(SRC, file)} imports ${target}/ (${spec})`);
      }
    }
    expect(violations).toEqual([]);
  });
});
