/**
 * The serving policies on the GPU engine: `npm run bench:gpu-engine-serving [-- --budget=SECONDS]
 * [--reps=N] [--requests=N] [--policies=A,B] [--out=FILE]`.
 *
 * Replica-rounds per second of each policy (default: mcsf and vllm for reference, then
 * sarathi, mcsf-budget, orca) for R ∈ {1, 16} replicas of an lmsys instance (λ = 50 /s,
 * M = 16492, seconds mode, a100 cost model; seed = replica index + 1), GPU engine and CPU
 * engine in the same run, `reps` times each; medians reported. Each measurement runs until
 * done or until the time budget is spent (bench/engine-throughput.ts). Writes
 * bench/results/gpu-engine-serving.json with the adapter. On a CPU adapter (SwiftShader)
 * the GPU numbers are the CPU's: reported only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GpuEngine } from '../src/gpu-engine/engine.ts';
import { openNodeSession } from '../src/gpu/node-gpu.ts';
import { loadEngineShader } from '../src/gpu/shaders-node.ts';
import { measureThroughput, type ThroughputRow } from './engine-throughput.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const budget = Number(args.budget ?? 10);
const reps = Number(args.reps ?? 3);
const requests = Number(args.requests ?? 1000);
const policies = (args.policies ?? 'mcsf,vllm,sarathi,mcsf-budget,orca').split(',');
const out = path.resolve(args.out ?? path.join(here, 'results', 'gpu-engine-serving.json'));
const SIZES = [1, 16];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const session = await openNodeSession();
const threads = GpuEngine.defaultThreads(session.isFallbackAdapter);
const engine = await GpuEngine.create(session, await loadEngineShader(), threads);
console.log(
  `adapter: ${session.adapterName} (fallback: ${session.isFallbackAdapter}), ${threads} threads per replica; ` +
    `${requests} lmsys requests; budget ${budget} s per measurement; ${reps} reps`,
);

const results = [];
for (const policy of policies) {
  const all: ThroughputRow[] = [];
  for (let r = 0; r < reps; r++) {
    all.push(...(await measureThroughput(engine, { sizes: SIZES, budget, policy, requests })));
  }
  for (const R of SIZES) {
    for (const eng of ['gpu', 'cpu'] as const) {
      const rows = all.filter((x) => x.replicas === R && x.engine === eng);
      const row = {
        policy,
        replicas: R,
        engine: eng,
        medianReplicaRoundsPerSecond: median(rows.map((x) => x.replicaRoundsPerSecond)),
        medianSeconds: median(rows.map((x) => x.seconds)),
        replicaRounds: rows.map((x) => x.replicaRounds),
        finishedReplicas: rows.map((x) => x.finishedReplicas),
      };
      results.push(row);
      console.log(
        `${policy.padEnd(12)} R=${String(R).padStart(2)} ${eng}: ${row.medianReplicaRoundsPerSecond.toFixed(0).padStart(8)} replica-rounds/s, ` +
          `median ${row.medianSeconds.toFixed(2)} s (finished ${row.finishedReplicas.join('/')} of ${R})`,
      );
    }
  }
}
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
      workload: { kind: 'lmsys', requests, rate: 50, memory: 16492, mode: 'seconds', seeds: 'replica index + 1' },
      budgetSeconds: budget,
      reps,
      note: session.isFallbackAdapter
        ? 'CPU adapter (SwiftShader): GPU-engine numbers are CPU numbers, reported only'
        : 'hardware adapter',
      results,
    },
    null,
    1,
  ) + '\n',
);
console.log(`wrote ${out}`);
process.exit(0);
