/**
 * Running policies on instances with the GPU engine, with the CPU path's result types
 * (PolicyOutcome), so the CLI prints GPU runs exactly like CPU runs. The caller picks
 * the engine; nothing here falls back to the CPU.
 */
import { a100x2Power, type PowerModel } from '../cost/energy.ts';
import type { Instance } from '../experiment/instance.ts';
import type { PolicyOutcome } from '../experiment/run.ts';
import { summarize } from '../metrics/summary.ts';
import type { CostModel, RequestSpec } from '../model/types.ts';
import { GpuEngine, type GpuOutcome, type GpuProgress, type GpuReplica } from './engine.ts';

export type Engine = 'cpu' | 'gpu';

let shared: Promise<GpuEngine> | undefined;

/** One GPU engine per process (Node: Dawn through npm `webgpu`). */
export function nodeGpuEngine(): Promise<GpuEngine> {
  shared ??= (async () => {
    const { acquireNodeDevice } = await import('./device-node.ts');
    const { loadEngineShader } = await import('./shaders-node.ts');
    const d = await acquireNodeDevice();
    return GpuEngine.create(d.device, await loadEngineShader(), GpuEngine.defaultThreads(d.isFallbackAdapter));
  })();
  return shared;
}

export interface GpuCell {
  readonly requests: readonly RequestSpec[];
  readonly memory: number;
  readonly policy: string;
}

/** Every cell as one replica of one GPU job; outcomes in cell order, as PolicyOutcome. */
export async function runCellsOnGpu(
  engine: GpuEngine,
  cells: readonly GpuCell[],
  o: { mode: Instance['mode']; costModel: CostModel; power?: PowerModel; onProgress?: (p: GpuProgress) => void },
): Promise<PolicyOutcome[]> {
  const t0 = performance.now();
  const replicas: GpuReplica[] = cells.map((c) => ({ requests: c.requests, memory: c.memory, policy: c.policy }));
  const out: GpuOutcome[] = await engine.run(replicas, {
    mode: o.mode, costModel: o.costModel, power: o.power ?? a100x2Power, ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const wall = (performance.now() - t0) / 1000;
  return out.map((g, i) => {
    const policy = (cells[i] as GpuCell).policy;
    if (!g.ok) return { policy, ok: false, error: g.error.message, kind: g.kind };
    return { policy, ok: true, summary: summarize(g.result), result: g.result, wallSeconds: wall };
  });
}

/** Every policy on one instance, as replicas of one GPU job. */
export async function runPoliciesOnGpu(instance: Instance, policies: readonly string[], o: { costModel: CostModel; power?: PowerModel }): Promise<PolicyOutcome[]> {
  const requests = [...instance.requests()];
  const engine = await nodeGpuEngine();
  return runCellsOnGpu(engine, policies.map((policy) => ({ requests, memory: instance.memory, policy })), { mode: instance.mode, ...o });
}
