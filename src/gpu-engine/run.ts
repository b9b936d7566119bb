/**
 * Running policies on instances with the GPU engine, with the CPU path's result types
 * (PolicyOutcome), so the CLI prints GPU runs exactly like CPU runs. The caller picks
 * the engine; nothing here falls back to the CPU.
 */
import type { PowerModel } from '../cost/energy.ts';
import type { Instance } from '../experiment/instance.ts';
import type { PolicyOutcome } from '../experiment/run.ts';
import type { CostModel } from '../model/types.ts';
import type { PolicyConfig } from '../policies/registry.ts';
import { GpuEngine } from './engine.ts';
import { runPoliciesOnEngine } from './run-cells.ts';

export { runCellsOnGpu, runPoliciesOnEngine, type GpuCell } from './run-cells.ts';

export type Engine = 'cpu' | 'gpu';

let shared: Promise<GpuEngine> | undefined;

/** One GPU engine per process (Node: Dawn through npm `webgpu`). */
export function nodeGpuEngine(): Promise<GpuEngine> {
  shared ??= (async () => {
    const { openNodeSession } = await import('../gpu/node-gpu.ts');
    const { loadEngineShader } = await import('../gpu/shaders-node.ts');
    return GpuEngine.create(await openNodeSession(), await loadEngineShader());
  })();
  return shared;
}

/** Every policy on one instance, as replicas of one GPU job. */
export async function runPoliciesOnGpu(
  instance: Instance,
  policies: readonly (string | PolicyConfig)[],
  o: { costModel: CostModel; power?: PowerModel },
): Promise<PolicyOutcome[]> {
  return runPoliciesOnEngine(await nodeGpuEngine(), instance, policies, o);
}
