/**
 * The package's data/ folder is found from the package root, not the working directory,
 * so the CLI finds its shipped trace from src/ (tsx), from a bundle, and from any cwd.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { azureTracePath, dataPath, packageRoot } from '../../src/workload/data-path.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('packageRoot', () => {
  it('is the repository root from the source tree', () => {
    expect(packageRoot()).toBe(ROOT);
    expect(dataPath('traces', 'azure-conv-2023.csv')).toBe(azureTracePath());
    expect(existsSync(azureTracePath())).toBe(true);
  });

  it('is the same root from a bundle one folder down (dist-cli/)', () => {
    expect(packageRoot(pathToFileURL(join(ROOT, 'dist-cli', 'kvsched.mjs')).href)).toBe(ROOT);
  });

  it("skips another package's package.json and fails with a message above every package", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvsched-root-'));
    try {
      mkdirSync(join(dir, 'other', 'lib'), { recursive: true });
      writeFileSync(join(dir, 'other', 'package.json'), JSON.stringify({ name: 'other' }));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'kvsched' }));
      expect(packageRoot(join(dir, 'other', 'lib', 'x.mjs'))).toBe(dir);
      rmSync(join(dir, 'package.json'));
      expect(() => packageRoot(join(dir, 'other', 'lib', 'x.mjs'))).toThrow(/cannot find the package root/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
