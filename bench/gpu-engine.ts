/**
 * GPU engine benchmark: `npm run bench:gpu-engine [-- --budget=SECONDS] [--policy=P] [--out=FILE]`.
 *
 * Replica-rounds per second for R ∈ {1, 64, 1024} replicas of a 2,000-request lmsys
 * instance (λ = 50 /s, M = 16492, seconds mode, a100 cost model; seed = replica index + 1),
 * GPU engine and CPU engine measured in the same run on the same machine. Each
 * measurement runs until done or until the time budget (default 15 s) is spent, then
 * counts executed rounds (the GPU's per-replica round counters are read back after
 * every submit), so large R needs no full run. The CPU engine is single-threaded: its
 * replicas run one after another. Writes bench/results/gpu-engine.json with the adapter.
 * On a CPU adapter (SwiftShader) the GPU numbers are the CPU's: just reported.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { a100Llama2_70bTp2 } from '../src/cost/a100.ts';
import { GpuEngine } from '../src/gpu-engine/engine.ts';
import { openNodeSession } from '../src/gpu/node-gpu.ts';
import { loadEngineShader } from '../src/gpu/shaders-node.ts';
import { LMSYS_MEMORY } from '../src/workload/generators.ts';
import { measureThroughput } from './engine-throughput.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const budget = Number(args.budget ?? 15);
const policy = args.policy ?? 'mcsf';
const out = path.resolve(args.out ?? path.join(here, 'results', 'gpu-engine.json'));
const REQUESTS = 2000;
const SIZES = [1, 64, 1024];

const session = await openNodeSession();
const threads = GpuEngine.defaultThreads(session.isFallbackAdapter);
const engine = await GpuEngine.create(session, await loadEngineShader(), threads);
console.log(
  `adapter: ${session.adapterName} (fallback: ${session.isFallbackAdapter}), ${threads} threads per replica; policy ${policy}; budget ${budget} s per measurement`,
);

const rows = await measureThroughput(engine, {
  sizes: SIZES,
  budget,
  policy,
  requests: REQUESTS,
  log: (l) => console.log(l),
});
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(
  out,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      adapter: session.adapterName,
      isFallbackAdapter: session.isFallbackAdapter,
      threadsPerReplica: threads,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? '',
        node: process.version,
        loadavg: os.loadavg(),
      },
      workload: {
        kind: 'lmsys',
        requests: REQUESTS,
        rate: 50,
        memory: LMSYS_MEMORY,
        mode: 'seconds',
        costModel: a100Llama2_70bTp2.name,
        policy,
        seeds: 'replica index + 1',
      },
      budgetSeconds: budget,
      note: session.isFallbackAdapter
        ? 'CPU adapter (SwiftShader): GPU-engine numbers are CPU numbers, reported only'
        : 'hardware adapter',
      rows,
    },
    null,
    1,
  ) + '\n',
);
console.log(`wrote ${out}`);
process.exit(0);
