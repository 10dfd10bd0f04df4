import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { ROOT } from './manifests.js';

interface Stage {
  from: string;
  name?: string;
  /** Instructions after FROM: [keyword, rest], continuation lines joined. */
  steps: Array<[string, string]>;
}

/** The Dockerfile's stages (comments dropped, `\` continuations joined). */
function stages(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const out: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      out.push({ from: m[1]!, name: m[2], steps: [] });
    } else out.at(-1)!.steps.push([keyword.toUpperCase(), rest]);
  }
  return out;
}

/** COPY instructions of a stage: `--from` (or null for the build context), sources and destination. */
function copies(stage: Stage): Array<{ from: string | null; sources: string[]; dest: string }> {
  return stage.steps
    .filter(([k]) => k === 'COPY')
    .map(([, rest]) => {
      const words = rest.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length) ?? null;
      const paths = words.filter((w) => !w.startsWith('--'));
      return { from, sources: paths.slice(0, -1).map((p) => p.replace(/^\.\/|^\/app\/|\/$/g, '')), dest: paths.at(-1)! };
    });
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
  engines: { node: string };
};
const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string; rootDir: string } };
const all = stages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const build = all[0]!;
const runtime = all.at(-1)!;
const run = (s: Stage): string[] => s.steps.filter(([k]) => k === 'RUN').map(([, r]) => r);

describe('Dockerfile', () => {
  it('has a build stage and a runtime stage on a Node that package.json allows', () => {
    expect(all).toHaveLength(2);
    const engineMajor = Number(/(\d+)/.exec(pkg.engines.node)![1]);
    for (const s of all) {
      const major = Number(/^node:(\d+)-/.exec(s.from)?.[1]);
      expect(major, s.from).toBeGreaterThanOrEqual(engineMajor);
    }
    // The compiled better-sqlite3 addon must meet the glibc it was built against.
    expect(runtime.from).toBe(build.from);
  });

  it('builds with the toolchain better-sqlite3 needs, from the lockfile, and drops dev dependencies', () => {
    const script = run(build).join(' && ');
    for (const tool of ['python3', 'make', 'g++']) expect(script).toContain(tool);
    expect(script).toMatch(/npm ci\b/);
    expect(script).toMatch(/npm run build\b/);
    expect(pkg.scripts['build']).toMatch(/^tsc -p tsconfig\.json/);
    expect(script).toMatch(/npm prune --omit=dev\b/);
    // The runtime stage installs and compiles nothing.
    expect(run(runtime).join(' ')).not.toMatch(/apt-get|npm (ci|install)/);
  });

  it('gives the build what tsc and npm ci read', () => {
    const fromContext = copies(build).filter((c) => c.from === null).flatMap((c) => c.sources);
    expect(fromContext).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.json', tsconfig.compilerOptions.rootDir]));
  });

  it('ships every published path but the demo recording, the production node_modules and package.json, under /app', () => {
    const shipped = copies(runtime).flatMap((c) => c.sources.map((s) => ({ s, dest: c.dest.replace(/\/$/, '') })));
    const published = pkg.files.filter((f) => !f.startsWith('recordings/'));
    expect(published).toContain(tsconfig.compilerOptions.outDir);
    for (const p of [...published, 'node_modules', 'package.json']) {
      const at = shipped.find((x) => x.s === p);
      expect(at, `${p} is copied into the runtime image`).toBeDefined();
      expect(['.', `./${p}`, `/app/${p}`]).toContain(at!.dest);
    }
    expect(runtime.steps.find(([k]) => k === 'WORKDIR')?.[1]).toBe('/app');
  });

  it('runs flashback as a non-root user, through the bin script package.json names', () => {
    const user = runtime.steps.filter(([k]) => k === 'USER').at(-1)?.[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const entry = JSON.parse(runtime.steps.find(([k]) => k === 'ENTRYPOINT')![1]) as string[];
    expect(entry).toEqual(['node', `/app/${pkg.bin['flashback']!.replace(/^\.\//, '')}`]);
  });

  it('.dockerignore keeps recordings, dependencies and build output out, and nothing the Dockerfile copies', () => {
    const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(patterns.some((p) => p.startsWith('!')), 'no exceptions: the check below reads patterns as plain excludes').toBe(false);
    const ignored = picomatch(patterns, { dot: true });
    /** Docker ignores a path when a pattern matches it or one of its parent directories. */
    const isIgnored = (path: string): boolean => path.split('/').some((_, i, parts) => ignored(parts.slice(0, i + 1).join('/')));
    for (const p of ['node_modules/x', 'dist/cli/main.js', '.git/HEAD', 'recordings/storefront.db', 'shop.db', 'reports/run.json']) expect(isIgnored(p), p).toBe(true);
    const needed = all.flatMap((s) => copies(s).filter((c) => c.from === null).flatMap((c) => c.sources));
    expect(needed.filter(isIgnored)).toEqual([]);
  });
});
