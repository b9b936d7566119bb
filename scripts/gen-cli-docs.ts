/** Regenerates the option lists in docs/cli.md from the CLI's option tables (src/cli/docs.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderOptionBlocks } from '../src/cli/docs.ts';

const file = new URL('../docs/cli.md', import.meta.url);
const before = readFileSync(file, 'utf8');
const after = await renderOptionBlocks(before);
if (after !== before) writeFileSync(file, after);
console.log(after === before ? 'docs/cli.md: option lists up to date' : 'docs/cli.md: option lists regenerated');
