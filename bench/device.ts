/**
 * `npm run bench:device [-- --smoke] [--browser] [--out-dir=DIR]`: see ./device-lib.ts.
 * Writes bench/results/device-<adapter>.json (…-smoke.json with --smoke).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runDeviceBench } from './device-lib.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: { smoke: { type: 'boolean' }, browser: { type: 'boolean' }, 'out-dir': { type: 'string' } },
});
await runDeviceBench({
  smoke: Boolean(args.smoke),
  browser: Boolean(args.browser),
  outDir: path.resolve(args['out-dir'] ?? path.join(here, 'results')),
  log: (l) => console.log(l),
});
process.exit(0);
