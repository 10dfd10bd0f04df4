import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fencedBlocks, repoFiles, ROOT } from './repo-files.js';

/** Markdown with its fenced code blocks blanked (a link-like text in a code sample is not a link). */
function prose(markdown: string): string {
  const lines = markdown.split('\n');
  for (const b of fencedBlocks(markdown)) {
    const n = b.text === '' ? 0 : b.text.split('\n').length;
    for (let i = b.line - 1; i <= b.line + n && i < lines.length; i++) lines[i] = '';
  }
  return lines.join('\n').replace(/`[^`\n]*`/g, '');
}

/** Relative link targets of a Markdown text: inline `[x](t)`, images, and reference definitions `[x]: t`. */
function linkTargets(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const refs = [...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!);
  return [...inline, ...refs].filter((t) => !/^([a-z][a-z0-9+.-]*:|#)/i.test(t));
}

const rel = (p: string): string => relative(ROOT, p).split('\\').join('/');

describe('the repository stands on its own', () => {
  const markdown = repoFiles(['.md']);

  it('finds the Markdown pages', () => {
    expect(markdown.map(rel)).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md', 'scenarios/README.md']));
  });

  it('every relative link in a Markdown page resolves to a file inside the repository', () => {
    const broken: string[] = [];
    for (const file of markdown) {
      for (const target of linkTargets(readFileSync(file, 'utf8'))) {
        const path = decodeURIComponent(target.replace(/[#?].*$/, ''));
        if (path === '') continue;
        const resolved = path.startsWith('/') ? resolve(ROOT, '.' + path) : resolve(dirname(file), path);
        if (relative(ROOT, resolved).startsWith('..')) broken.push(`${rel(file)}: ${target} points outside the repository`);
        else if (!existsSync(resolved)) broken.push(`${rel(file)}: ${target} does not exist`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('no page, source or test names a design file or a path outside the repository', () => {
    // Built from parts so that this file does not match itself.
    const outside = [['..', 'shared'].join('/'), ['', 'work', ''].join('/'), ['ARCHITECTURE', 'md'].join('.'), ['STYLE', 'md'].join('.'), ['INTERNALS', 'md'].join('.')];
    const hits: string[] = [];
    for (const file of repoFiles(['.md', '.ts', '.mjs', '.js', '.json', '.yml', '.yaml'])) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const o of outside) if (line.includes(o)) hits.push(`${rel(file)}:${i + 1}: ${o}`);
      });
    }
    expect(hits).toEqual([]);
  });

  it('the link check itself finds links and tells code from prose', () => {
    const sample = '[a](docs/x.md) ![i](img/p.png "t") [web](https://x.dev) [top](#t)\n\n```\n[not](a/link.md)\n```\n`[nor](this.md)`\n[ref]: ../up.md\n';
    expect(linkTargets(sample)).toEqual(['docs/x.md', 'img/p.png', '../up.md']);
  });
});
