/**
 * What the CPU engine gives for a configuration, computed directly (buildInstance +
 * simulate + summarize, as `kvsched simulate` does): the reference the app's tables
 * are checked against.
 */
import { a100x2Power } from '../../src/cost/energy.ts';
import { DEFAULT_COST_MODEL, getCostModel } from '../../src/cost/registry.ts';
import { simulate } from '../../src/engine/engine.ts';
import { buildInstance, type WorkloadSpec } from '../../src/experiment/instance.ts';
import { summarize, type RunSummary } from '../../src/metrics/summary.ts';
import type { TimeMode } from '../../src/model/types.ts';
import { createPolicy } from '../../src/policies/registry.ts';
import { parsePredictionSpec } from '../../src/workload/index.ts';

export interface Reference {
  workload: WorkloadSpec;
  mode: TimeMode;
  seed: number;
  predict: string;
  policies: string[];
  memory?: number;
}

export function expectedSummaries(ref: Reference): Map<string, RunSummary> {
  const instance = buildInstance({
    workload: ref.workload,
    mode: ref.mode,
    seed: ref.seed,
    predict: parsePredictionSpec(ref.predict),
    ...(ref.memory !== undefined ? { memory: ref.memory } : {}),
  });
  const out = new Map<string, RunSummary>();
  for (const spec of ref.policies) {
    const result = simulate(instance.requests(), createPolicy(spec), {
      memory: instance.memory,
      mode: ref.mode,
      costModel: getCostModel(DEFAULT_COST_MODEL),
      power: a100x2Power,
    });
    out.set(spec, summarize(result));
  }
  return out;
}
