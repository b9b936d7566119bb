#!/usr/bin/env node
// Entry point of the `kvsched` CLI: runs the TypeScript sources through tsx's loader,
// so `npx kvsched` works right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
// `kvsched … | head` closes stdout early: that ends the output, it is not a crash.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
