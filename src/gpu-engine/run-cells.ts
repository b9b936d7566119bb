/**
 * Running policies on instances with a given GPU engine, with the CPU path's result
 * types (PolicyOutcome). No device acquisition here (that is run.ts for Node and
 * src/worker/gpu-runner.ts for the browser), so browser bundles can import it.
 *
 * Replicas behind a router (docs/gpu-engine.md, replicas): for a stateless router
 * (round-robin, random) the trace is split exactly as the CPU engine routes it
 * (src/engine/replicas.ts splitRequests), every policy × replica is one replica of one GPU
 * job, and each policy's replicas are merged as the CPU engine merges them
 * (mergeReplicas): the same per-replica and overall results. A state-dependent router
 * (least-outstanding) cannot be split before running: refused (gpuRouterRefusal).
 */
import { powerOf, type PowerModel } from '../cost/energy.ts';
import { mergeReplicas, splitRequests, type ReplicaOptions } from '../engine/replicas.ts';
import { gpuRouterRefusal } from './replica-support.ts';
import type { Instance } from '../experiment/instance.ts';
import type { PolicyOutcome } from '../experiment/run.ts';
import { summarize } from '../metrics/summary.ts';
import type { CostModel, RequestSpec } from '../model/types.ts';
import { formatPolicySpec, type PolicyConfig } from '../policies/registry.ts';
import type { SimulationResult } from '../engine/engine.ts';
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

export { gpuRouterRefusal } from './replica-support.ts';

export interface GpuPoliciesOptions extends Omit<GpuCellsOptions, 'mode'> {
  /** K replicas of each policy behind a stateless router (K = 1: a plain run). */
  readonly replicas?: ReplicaOptions;
}

/** Every policy on one instance, as replicas of one job on the given engine. */
export async function runPoliciesOnEngine(
  engine: GpuEngine,
  instance: Instance,
  policies: readonly (string | PolicyConfig)[],
  o: GpuPoliciesOptions,
): Promise<PolicyOutcome[]> {
  const { replicas, ...cellOptions } = o;
  const k = replicas?.replicas ?? 1;
  if (replicas && k > 1) {
    const why = gpuRouterRefusal(replicas.router);
    if (why !== undefined) throw new Error(`GPU engine: ${why}; use the CPU engine`);
  }
  // Refuse before materialising a streamed instance (10⁷ requests would be built for nothing);
  // with K replicas the largest has at least ⌈n/K⌉ requests (each is checked exactly later).
  const tooBig = gpuSizeProblem(Math.ceil(instance.size / k), instance.memory);
  if (tooBig !== null) throw new RangeError(`GPU engine: ${instance.description}: ${tooBig}`);
  if (replicas && k > 1) return runReplicatedOnEngine(engine, instance, policies, replicas, cellOptions);
  const requests = [...instance.requests()];
  return runCellsOnGpu(
    engine,
    policies.map((policy) => ({ requests, memory: instance.memory, policy })),
    { mode: instance.mode, ...cellOptions },
  );
}

/** Every policy as K replicas behind a stateless router: all policies × replicas one GPU job. */
async function runReplicatedOnEngine(
  engine: GpuEngine,
  instance: Instance,
  policies: readonly (string | PolicyConfig)[],
  ro: ReplicaOptions,
  o: Omit<GpuCellsOptions, 'mode'>,
): Promise<PolicyOutcome[]> {
  const t0 = performance.now();
  const split = splitRequests(instance.requests(), instance.memory, ro);
  const k = ro.replicas;
  const cells: GpuReplica[] = policies.flatMap((policy) =>
    split.requests.map((requests, r) => ({ requests, memory: instance.memory, policy, tag: `replica ${r}` })),
  );
  const out = await engine.run(cells, {
    mode: instance.mode,
    costModel: o.costModel,
    power: o.power ?? powerOf(o.costModel),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  return policies.map((c, p): PolicyOutcome => {
    const policy = typeof c === 'string' ? c : formatPolicySpec(c);
    const mine = out.slice(p * k, (p + 1) * k);
    const results: SimulationResult[] = [];
    for (const g of mine) {
      // A replica that did not finish fails the policy, named by its tag (replica k).
      if (!g.ok) return { policy, ok: false, error: g.error.message, kind: g.kind };
      results.push(g.result);
    }
    const overall = mergeReplicas(results, split.ids);
    return {
      policy,
      ok: true,
      summary: summarize(overall),
      result: overall,
      wallSeconds,
      replicas: { router: ro.router, summaries: results.map(summarize), assignment: split.assignment },
    };
  });
}
