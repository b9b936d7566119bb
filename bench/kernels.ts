/**
 * Kernel benchmark (`npm run bench:kernels`): src/gpu/kernel-bench.ts on one adapter in
 * Node (Dawn), plus — with --browser — the same in headless Chromium (bench/kernels-browser.ts).
 * Writes bench/results/kernels.json with the adapter(s) recorded.
 *
 * Numbers on a software adapter (SwiftShader) are the CPU's: compare them only with each
 * other. Usage: npx tsx bench/kernels.ts [--adapter NAME] [--out FILE] [--quick] [--browser]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { benchSummary, runKernelBench } from '../src/gpu/kernel-bench.ts';
import { Kernels } from '../src/gpu/kernels.ts';
import { pickNodeAdapter } from '../src/gpu/node-gpu.ts';
import { openSession } from '../src/gpu/session.ts';
import { loadNodeShaders } from '../src/gpu/shaders-node.ts';
import { Timer } from '../src/gpu/timing.ts';

const { values: args } = parseArgs({
  options: {
    adapter: { type: 'string' },
    out: { type: 'string' },
    quick: { type: 'boolean' },
    browser: { type: 'boolean' },
  },
});
const out = args.out ?? 'bench/results/kernels.json';

const found = await pickNodeAdapter(args.adapter);
const session = await openSession(found.adapter);
const kernels = await Kernels.create(session, await loadNodeShaders());
const timer = new Timer(session);
console.error(`bench (Node, Dawn): ${found.name}, timing by ${timer.defaultMethod}`);
const node = await runKernelBench(kernels, timer, { quick: Boolean(args.quick), log: (l) => console.error(l) });
session.destroy();
console.log(`Node: ${benchSummary(found.name, node)}`);

let browser: unknown = undefined;
if (args.browser) {
  try {
    const { runBrowserBench } = await import('./kernels-browser.ts');
    browser = await runBrowserBench({ quick: Boolean(args.quick) });
  } catch (e) {
    // Chromium is optional: record why it did not run and keep the Node numbers.
    console.error(`Chromium bench skipped: ${(e as Error).message}`);
    browser = { ok: false, error: (e as Error).message };
  }
}

const result = {
  createdAt: new Date().toISOString(),
  precision: 'f32',
  node: {
    adapter: {
      name: found.name,
      ...found.info,
      features: [...(found.adapter.features as Iterable<string>)].sort(),
      shaderF16: found.adapter.features.has('shader-f16'),
    },
    runtime: `Node ${process.version}, npm webgpu (Dawn), VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? '(unset)'}`,
    ...node,
  },
  ...(browser !== undefined ? { chromium: browser } : {}),
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
console.log(`wrote ${out}`);
