/**
 * GPU engine benchmark: `npm run bench:gpu-engine [-- --budget=SECONDS] [--policy=P] [--reps=N] [--out=FILE]`.
 *
 * Replica-rounds per second for R ∈ {1, 64, 1024} replicas of a 2,000-request lmsys
 * instance (λ = 50 /s, M = 16492, seconds mode, a100 cost model; seed = replica index + 1),
 * GPU engine and CPU engine measured in the same run on the same machine. Each
 * measurement runs until done or until the time budget (default 15 s) is spent, then
 * counts executed rounds (the GPU's per-replica round counters are read back after
 * every submit), so large R needs no full run. The CPU engine is single-threaded: its
 * replicas run one after another. Writes bench/results/gpu-engine.json with the adapter.
 * On a CPU adapter (SwiftShader) the GPU numbers are the CPU's: just reported.
 *
 * Replicas behind a router (issue 15): 8 replicas × 10,000 requests (80,000 LMSYS requests
 * at λ = 400/s, 50/s per replica, as bench/serving.ts), round-robin, the policy, seconds
 * mode: median wall time of the whole replicated run (split, the GPU job, merge and
 * summaries; src/gpu-engine/run-cells.ts) over --reps runs (default 3), beside the CPU
 * engine's `runPolicy` with the same replicas (no token gaps: the GPU records none), and
 * whether both gave the same results.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { a100Llama2_70bTp2 } from '../src/cost/a100.ts';
import { GpuEngine } from '../src/gpu-engine/engine.ts';
import { openNodeSession } from '../src/gpu/node-gpu.ts';
import { loadEngineShader } from '../src/gpu/shaders-node.ts';
import type { ReplicaOptions } from '../src/engine/replicas.ts';
import type { Instance } from '../src/experiment/instance.ts';
import { runPolicy, type PolicyOutcome } from '../src/experiment/run.ts';
import { runPoliciesOnEngine } from '../src/gpu-engine/run-cells.ts';
import { LMSYS_MEMORY, lmsys } from '../src/workload/generators.ts';
import { measureThroughput } from './engine-throughput.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const budget = Number(args.budget ?? 15);
const policy = args.policy ?? 'mcsf';
const out = path.resolve(args.out ?? path.join(here, 'results', 'gpu-engine.json'));
const reps = Number(args.reps ?? 3);
if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be an integer ≥ 1');
const REQUESTS = 2000;
const SIZES = [1, 64, 1024];
const REPLICAS = 8;
const PER_REPLICA = 10_000;

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
// Replicas behind a round-robin router: the whole replicated run, GPU and CPU engines.
const median = (xs: readonly number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 === 1 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
};
const w = lmsys({ seed: 1, requests: REPLICAS * PER_REPLICA, rate: REPLICAS * 50, mode: 'seconds' });
const instance: Instance = {
  memory: w.memory,
  mode: 'seconds',
  size: w.requests.length,
  requests: () => w.requests,
  description: `lmsys ${w.requests.length}`,
};
const ro: ReplicaOptions = { replicas: REPLICAS, router: 'round-robin', seed: 1 };
const fingerprint = (o: PolicyOutcome | undefined): string => {
  if (!o?.ok) throw new Error(`${policy} did not finish: ${o && !o.ok ? o.error : 'no outcome'}`);
  const s = o.summary;
  return [s.meanLatency, s.p99Latency, s.meanTtft, s.makespan, s.rounds, s.peakKv, s.meanKv, s.evictions].join();
};
const samples = { gpu: [] as number[], cpu: [] as number[] };
const prints = new Set<string>();
for (let i = 0; i < reps; i++) {
  let t0 = performance.now();
  const [g] = await runPoliciesOnEngine(engine, instance, [policy], { costModel: a100Llama2_70bTp2, replicas: ro });
  samples.gpu.push((performance.now() - t0) / 1000);
  prints.add(fingerprint(g));
  t0 = performance.now();
  const c = runPolicy(instance, policy, { costModel: a100Llama2_70bTp2, replicas: ro, tokenGaps: false });
  samples.cpu.push((performance.now() - t0) / 1000);
  prints.add(fingerprint(c));
  console.log(
    `${REPLICAS} replicas × ${PER_REPLICA} requests, round-robin, ${policy}, run ${i + 1}: ` +
      `GPU ${samples.gpu[i]?.toFixed(2)} s, CPU ${samples.cpu[i]?.toFixed(2)} s wall`,
  );
}
const replicas = {
  replicas: REPLICAS,
  requestsPerReplica: PER_REPLICA,
  requests: REPLICAS * PER_REPLICA,
  rate: REPLICAS * 50,
  router: ro.router,
  policy,
  reps,
  gpuSeconds: samples.gpu,
  cpuSeconds: samples.cpu,
  gpuMedianSeconds: median(samples.gpu),
  cpuMedianSeconds: median(samples.cpu),
  identical: prints.size === 1,
};
console.log(
  `replicas: GPU median ${replicas.gpuMedianSeconds.toFixed(2)} s, CPU median ${replicas.cpuMedianSeconds.toFixed(2)} s; ` +
    `same results: ${replicas.identical}`,
);
if (!replicas.identical) throw new Error('GPU and CPU replicated runs differ');

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
      replicas,
    },
    null,
    1,
  ) + '\n',
);
console.log(`wrote ${out}`);
process.exit(0);
