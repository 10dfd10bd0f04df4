import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

const SKIP = new Set(['node_modules', '.git', 'dist', 'reports', 'tmp']);

/** Files under the repository (build output, dependencies and reports left out) whose names end in one of `exts`, sorted. */
export function repoFiles(exts: string[], dir = ROOT): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      if (SKIP.has(name)) return [];
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return repoFiles(exts, p);
      return exts.some((e) => name.endsWith(e)) ? [p] : [];
    });
}

/** One fenced code block of a Markdown file. */
export interface FencedBlock {
  /** The info string after the opening fence (`json scenario`). */
  info: string;
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** The fenced (```) code blocks of a Markdown text, in order. */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ info: open[1]!.trim(), text: body.join('\n'), line: start + 1 });
  }
  return blocks;
}
