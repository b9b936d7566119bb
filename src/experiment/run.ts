import { a100x2Power, type PowerModel } from '../cost/energy.ts';
import { LivelockError, simulate, StuckError, type Progress, type SimulationResult } from '../engine/engine.ts';
import { summarize, type RunSummary } from '../metrics/summary.ts';
import type { CostModel } from '../model/types.ts';
import { createPolicy, type PolicyConfig } from '../policies/registry.ts';
import type { Instance } from './instance.ts';

export interface PolicyRunOptions {
  costModel: CostModel;
  power?: PowerModel;
  keepRounds?: boolean;
  /** Record every inter-token gap (default true); see SimulateOptions.tokenGaps. */
  tokenGaps?: boolean;
  onProgress?: (p: Progress) => void;
  signal?: { readonly aborted: boolean };
}

/** A policy's run: its summary, or why it could not finish (stuck or livelocked). */
export type PolicyOutcome =
  | { readonly policy: string; readonly ok: true; readonly summary: RunSummary; readonly result: SimulationResult; readonly wallSeconds: number }
  | { readonly policy: string; readonly ok: false; readonly error: string; readonly kind: 'stuck' | 'livelock' };

/**
 * Runs one policy (its spelling or its config) on an instance; a stuck or livelocked policy
 * is an outcome, not a crash. Outcomes carry the policy's label (the spec as written).
 */
export function runPolicy(instance: Instance, policySpec: string | PolicyConfig, o: PolicyRunOptions): PolicyOutcome {
  const t0 = performance.now();
  const built = createPolicy(policySpec);
  const spec = typeof policySpec === 'string' ? policySpec : built.spec;
  try {
    const result = simulate(instance.requests(), built, {
      memory: instance.memory,
      mode: instance.mode,
      costModel: o.costModel,
      power: o.power ?? a100x2Power,
      keepRounds: o.keepRounds ?? false,
      tokenGaps: o.tokenGaps ?? true,
      ...(o.onProgress ? { onProgress: o.onProgress, progressEvery: 2048 } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    return { policy: spec, ok: true, summary: summarize(result), result, wallSeconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    if (e instanceof LivelockError) return { policy: spec, ok: false, error: e.message, kind: 'livelock' };
    if (e instanceof StuckError) return { policy: spec, ok: false, error: e.message, kind: 'stuck' };
    throw e;
  }
}
