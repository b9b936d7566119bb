/**
 * GPU engine vs CPU engine throughput (replica-rounds per second) for R replicas of a
 * lmsys instance (λ = 50 /s, M = 16492, seconds mode, a100 cost model; seed = replica
 * index + 1): each measurement runs until done or until the time budget is spent, then
 * counts executed rounds. The CPU engine runs its replicas one after another.
 * Shared by bench/gpu-engine.ts and bench/device.ts.
 */
import { a100Llama2_70bTp2 } from '../src/cost/a100.ts';
import { simulate } from '../src/engine/engine.ts';
import type { GpuEngine } from '../src/gpu-engine/engine.ts';
import { createPolicy } from '../src/policies/registry.ts';
import { LMSYS_MEMORY, lmsys } from '../src/workload/generators.ts';

export interface ThroughputRow {
  replicas: number;
  engine: 'gpu' | 'cpu';
  replicaRounds: number;
  seconds: number;
  replicaRoundsPerSecond: number;
  finishedReplicas: number;
}

export async function measureThroughput(
  engine: GpuEngine,
  o: { sizes: readonly number[]; budget: number; policy: string; requests: number; log?: (line: string) => void },
): Promise<ThroughputRow[]> {
  const instances = new Map<number, ReturnType<typeof lmsys>['requests']>();
  const inst = (seed: number) => {
    let r = instances.get(seed);
    if (!r) {
      r = lmsys({ seed, requests: o.requests, rate: 50, mode: 'seconds' }).requests;
      instances.set(seed, r);
    }
    return r;
  };
  const rows: ThroughputRow[] = [];
  for (const R of o.sizes) {
    const seeds = Array.from({ length: R }, (_, i) => i + 1);
    for (const s of seeds) inst(s);
    // GPU
    const signal = { aborted: false };
    let rounds = 0;
    let finished = 0;
    const t0 = performance.now();
    try {
      await engine.run(
        seeds.map((s) => ({ requests: inst(s), memory: LMSYS_MEMORY, policy: o.policy })),
        {
          mode: 'seconds',
          costModel: a100Llama2_70bTp2,
          signal,
          stepsPerDispatch: 8,
          dispatchesPerSubmit: 1,
          onProgress: (p) => {
            rounds = p.replicaRounds;
            finished = p.finished;
            if ((performance.now() - t0) / 1000 > o.budget) signal.aborted = true;
          },
        },
      );
    } catch (e) {
      if ((e as Error).name !== 'AbortError') throw e;
    }
    const gs = (performance.now() - t0) / 1000;
    rows.push({
      replicas: R,
      engine: 'gpu',
      replicaRounds: rounds,
      seconds: gs,
      replicaRoundsPerSecond: rounds / gs,
      finishedReplicas: finished,
    });
    // CPU: replicas one after another until done or out of budget.
    let cr = 0;
    let cf = 0;
    const t1 = performance.now();
    for (const s of seeds) {
      const res = simulate(inst(s), createPolicy(o.policy), {
        memory: LMSYS_MEMORY,
        mode: 'seconds',
        costModel: a100Llama2_70bTp2,
        keepRounds: false,
      });
      cr += res.totals.rounds;
      cf++;
      if ((performance.now() - t1) / 1000 > o.budget) break;
    }
    const cs = (performance.now() - t1) / 1000;
    rows.push({
      replicas: R,
      engine: 'cpu',
      replicaRounds: cr,
      seconds: cs,
      replicaRoundsPerSecond: cr / cs,
      finishedReplicas: cf,
    });
    for (const r of rows.slice(-2)) {
      o.log?.(
        `R=${String(r.replicas).padStart(4)} ${r.engine}: ${r.replicaRounds} replica-rounds in ${r.seconds.toFixed(2)} s = ${r.replicaRoundsPerSecond.toFixed(0)} /s (${r.finishedReplicas}/${R} replicas finished)`,
      );
    }
  }
  return rows;
}
