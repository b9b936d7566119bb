/**
 * Running policies on instances with a given GPU engine, with the CPU path's result
 * types (PolicyOutcome). No device acquisition here (that is run.ts for Node and
 * src/worker/gpu-runner.ts for the browser), so browser bundles can import it.
 */
import { powerOf, type PowerModel } from '../cost/energy.ts';
import type { Instance } from '../experiment/instance.ts';
import type { PolicyOutcome } from '../experiment/run.ts';
import { summarize } from '../metrics/summary.ts';
import type { CostModel, RequestSpec } from '../model/types.ts';
import type { GpuEngine, GpuOutcome, GpuProgress, GpuReplica } from './engine.ts';

export interface GpuCell {
  readonly requests: readonly RequestSpec[];
  readonly memory: number;
  readonly policy: string;
}

export interface GpuCellsOptions {
  mode: Instance['mode'];
  costModel: CostModel;
  power?: PowerModel;
  onProgress?: (p: GpuProgress) => void;
  signal?: { readonly aborted: boolean };
}

/** Every cell as one replica of one GPU job; outcomes in cell order, as PolicyOutcome. */
export async function runCellsOnGpu(engine: GpuEngine, cells: readonly GpuCell[], o: GpuCellsOptions): Promise<PolicyOutcome[]> {
  const t0 = performance.now();
  const replicas: GpuReplica[] = cells.map((c) => ({ requests: c.requests, memory: c.memory, policy: c.policy }));
  const out: GpuOutcome[] = await engine.run(replicas, {
    mode: o.mode, costModel: o.costModel, power: o.power ?? powerOf(o.costModel),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const wall = (performance.now() - t0) / 1000;
  return out.map((g, i) => {
    const policy = (cells[i] as GpuCell).policy;
    if (!g.ok) return { policy, ok: false, error: g.error.message, kind: g.kind };
    return { policy, ok: true, summary: summarize(g.result), result: g.result, wallSeconds: wall };
  });
}

/** Every policy on one instance, as replicas of one job on the given engine. */
export function runPoliciesOnEngine(
  engine: GpuEngine,
  instance: Instance,
  policies: readonly string[],
  o: Omit<GpuCellsOptions, 'mode'>,
): Promise<PolicyOutcome[]> {
  const requests = [...instance.requests()];
  return runCellsOnGpu(engine, policies.map((policy) => ({ requests, memory: instance.memory, policy })), { mode: instance.mode, ...o });
}
