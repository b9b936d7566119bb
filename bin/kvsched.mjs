#!/usr/bin/env node
// Entry point of the `kvsched` CLI. Uses the esbuild bundle build/cli/main.mjs (built by
// scripts/build-cli.mjs from npm's `prepare` hook, i.e. on `npm ci`) when it is newer than
// every file under src/ and package.json; otherwise runs the TypeScript sources through
// tsx's loader (seconds slower to start, always current). KVSCHED_DEBUG=1 says which.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'build', 'cli', 'main.mjs');

/** Newest modification time (ms) of the files under dir; stops early past `limit`. */
function newest(dir, limit) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p, limit) : statSync(p).mtimeMs);
    if (t > limit) break;
  }
  return t;
}

function bundleState() {
  if (process.env.KVSCHED_TSX) return 'KVSCHED_TSX is set';
  let built;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    return 'no bundle (run: npm run build:cli)';
  }
  try {
    if (newest(join(root, 'src'), built) > built || statSync(join(root, 'package.json')).mtimeMs > built) {
      return 'the bundle is older than src/ (run: npm run build:cli)';
    }
  } catch {
    return null; // no sources shipped: the bundle is all there is
  }
  return null;
}

// `kvsched … | head` closes stdout early: that ends the output, it is not a crash.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const stale = bundleState();
let main;
if (stale === null) {
  if (process.env.KVSCHED_DEBUG) process.stderr.write(`kvsched: using the bundle ${bundle}\n`);
  ({ main } = await import(bundle));
} else {
  if (process.env.KVSCHED_DEBUG) process.stderr.write(`kvsched: using tsx on src/ (${stale})\n`);
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
