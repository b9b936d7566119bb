/**
 * Node-only: locates the data files shipped with the package (data/ at the package root),
 * whether the code runs from src/ (tsx, Vitest) or from a bundle in another folder: the
 * package root is the nearest folder above this module that holds kvsched's package.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'kvsched';

let root: string | undefined;

/** The package root: the nearest ancestor of `from` (default: this module) with kvsched's package.json. */
export function packageRoot(from: string = import.meta.url): string {
  if (from === import.meta.url && root !== undefined) return root;
  let dir = dirname(from.startsWith('file:') ? fileURLToPath(from) : resolve(from));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && isKvsched(manifest)) {
      if (from === import.meta.url) root = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`kvsched: cannot find the package root (package.json) above ${from}`);
    dir = up;
  }
}

function isKvsched(manifest: string): boolean {
  try {
    const json: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
    return typeof json === 'object' && json !== null && 'name' in json && json.name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** Absolute path of a file under the package's data/ folder, e.g. dataPath('traces', 'azure-conv-2023.csv'). */
export function dataPath(...segments: string[]): string {
  return join(packageRoot(), 'data', ...segments);
}

/** The Azure LLM inference trace (conversation service, 2023) shipped in data/traces/. */
export const AZURE_TRACE_FILE = 'data/traces/azure-conv-2023.csv';

/** Absolute path of the shipped Azure conversation trace. */
export function azureTracePath(): string {
  return join(packageRoot(), AZURE_TRACE_FILE);
}
