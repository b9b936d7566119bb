import { powerOf, type PowerModel } from '../cost/energy.ts';
import {
  LivelockError,
  recordTokenGaps,
  simulate,
  StuckError,
  type Progress,
  type SimulateOptions,
  type SimulationResult,
} from '../engine/engine.ts';
import { simulateReplicas, type ReplicaOptions } from '../engine/replicas.ts';
import { summarize, type RunSummary } from '../metrics/summary.ts';
import type { CostModel } from '../model/types.ts';
import { createPolicy, type PolicyConfig } from '../policies/registry.ts';
import type { Instance } from './instance.ts';

export interface PolicyRunOptions {
  costModel: CostModel;
  power?: PowerModel;
  keepRounds?: boolean;
  /** Record every inter-token gap (default: up to TOKEN_GAPS_MAX_REQUESTS requests); see SimulateOptions.tokenGaps. */
  tokenGaps?: boolean;
  onProgress?: (p: Progress) => void;
  signal?: { readonly aborted: boolean };
  /** Run K replicas of the policy behind a router (CPU engine; src/engine/replicas.ts). */
  replicas?: ReplicaOptions;
}

/** Per replica, when the run had replicas: its summary, and each request's replica by id. */
export interface ReplicaBreakdown {
  readonly router: ReplicaOptions['router'];
  readonly summaries: readonly RunSummary[];
  readonly assignment: Int32Array;
}

/** A policy's run: its summary, or why it could not finish (stuck or livelocked). */
export type PolicyOutcome =
  | {
      readonly policy: string;
      readonly ok: true;
      readonly summary: RunSummary;
      readonly result: SimulationResult;
      readonly wallSeconds: number;
      readonly replicas?: ReplicaBreakdown;
    }
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
    const opts: SimulateOptions = {
      memory: instance.memory,
      mode: instance.mode,
      costModel: o.costModel,
      power: o.power ?? powerOf(o.costModel),
      keepRounds: o.keepRounds ?? false,
      tokenGaps: o.tokenGaps ?? recordTokenGaps(instance.size),
      ...(o.onProgress ? { onProgress: o.onProgress, progressEvery: 2048 } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    };
    if (o.replicas && o.replicas.replicas > 1) {
      const rep = simulateReplicas(instance.requests(), () => createPolicy(policySpec), opts, o.replicas);
      const replicas: ReplicaBreakdown = {
        router: o.replicas.router,
        summaries: rep.replicas.map(summarize),
        assignment: rep.assignment,
      };
      const wallSeconds = (performance.now() - t0) / 1000;
      return { policy: spec, ok: true, summary: summarize(rep.overall), result: rep.overall, wallSeconds, replicas };
    }
    // One replica records every request: size its table once (replicas' tables grow).
    const result = simulate(instance.requests(), built, { ...opts, expectedRequests: instance.size });
    return { policy: spec, ok: true, summary: summarize(result), result, wallSeconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    if (e instanceof LivelockError) return { policy: spec, ok: false, error: e.message, kind: 'livelock' };
    if (e instanceof StuckError) return { policy: spec, ok: false, error: e.message, kind: 'stuck' };
    throw e;
  }
}
