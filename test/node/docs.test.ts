/**
 * The project is self-contained and its docs hold together: nothing points outside the
 * repository (../shared was the old home of the spec and the data), every relative link in
 * the README and docs/ resolves, and the README stays a short entry point.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const README_MAX_LINES = 250;

/** Files under `dir` (recursively), skipping generated and vendored folders. */
function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'results' || name === 'fixtures' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const markdown = [join(ROOT, 'README.md'), join(ROOT, 'data', 'README.md'), ...walk(join(ROOT, 'docs'))].filter((f) =>
  f.endsWith('.md'),
);

describe('self-contained', () => {
  it('no source, test, script, benchmark or doc refers to ../shared', () => {
    const dirs = ['src', 'test', 'scripts', 'bench', 'shaders', 'docs', 'bin', '.ci'];
    const files = [
      ...dirs.flatMap((d) => walk(join(ROOT, d))),
      ...['README.md', 'index.html', 'vite.config.ts', 'vitest.config.ts', 'package.json'].map((f) => join(ROOT, f)),
    ];
    const self = resolve(import.meta.filename);
    const offenders = files
      .filter((f) => f !== self && /\.(ts|js|mjs|md|wgsl|html|json|sh)$|\/run$/.test(f))
      .filter((f) => /\.\.\/shared\/|\bshared\/(docs|data)\//.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });
});

describe('docs', () => {
  it(`README.md is at most ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('every relative link in README.md, data/README.md and docs/ points to an existing file', () => {
    const broken: string[] = [];
    for (const file of markdown) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = (m[1] as string).split('#')[0] as string;
        if (target === '' || /^[a-z]+:/i.test(target)) continue;
        if (!existsSync(resolve(dirname(file), target))) broken.push(`${relative(ROOT, file)} → ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
