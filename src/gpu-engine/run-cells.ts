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
import { formatPolicySpec, type PolicyConfig } from '../policies/registry.ts';
import { gpuSizeProblem, type GpuEngine, type GpuOutcome, type GpuProgress, type GpuReplica } from './engine.ts';

export interface GpuCell {
  readonly requests: readonly RequestSpec[];
  readonly memory: number;
  /** The policy's spelling or config; outcomes carry its label (the spec as written). */
  readonly policy: string | PolicyConfig;
}

export interface GpuCellsOptions {
  mode: Instance['mode'];
  costModel: CostModel;
  power?: PowerModel;
  onProgress?: (p: GpuProgress) => void;
  signal?: { readonly aborted: boolean };
}

/** Every cell as one replica of one GPU job; outcomes in cell order, as PolicyOutcome. */
export async function runCellsOnGpu(
  engine: GpuEngine,
  cells: readonly GpuCell[],
  o: GpuCellsOptions,
): Promise<PolicyOutcome[]> {
  const t0 = performance.now();
  const replicas: GpuReplica[] = cells.map((c) => ({ requests: c.requests, memory: c.memory, policy: c.policy }));
  const out: GpuOutcome[] = await engine.run(replicas, {
    mode: o.mode,
    costModel: o.costModel,
    power: o.power ?? powerOf(o.costModel),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const wall = (performance.now() - t0) / 1000;
  return out.map((g, i) => {
    const c = (cells[i] as GpuCell).policy;
    const policy = typeof c === 'string' ? c : formatPolicySpec(c);
    if (!g.ok) return { policy, ok: false, error: g.error.message, kind: g.kind };
    return { policy, ok: true, summary: summarize(g.result), result: g.result, wallSeconds: wall };
  });
}

/** Every policy on one instance, as replicas of one job on the given engine. */
export function runPoliciesOnEngine(
  engine: GpuEngine,
  instance: Instance,
  policies: readonly (string | PolicyConfig)[],
  o: Omit<GpuCellsOptions, 'mode'>,
): Promise<PolicyOutcome[]> {
  // Refuse before materialising a streamed instance (10⁷ requests would be built for nothing).
  const tooBig = gpuSizeProblem(instance.size, instance.memory);
  if (tooBig !== null) throw new RangeError(`GPU engine: ${instance.description}: ${tooBig}`);
  const requests = [...instance.requests()];
  return runCellsOnGpu(
    engine,
    policies.map((policy) => ({ requests, memory: instance.memory, policy })),
    { mode: instance.mode, ...o },
  );
}
