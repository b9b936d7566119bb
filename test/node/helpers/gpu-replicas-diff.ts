/**
 * Differential testing of replicas behind a router: the GPU engine's replicated run
 * (src/gpu-engine/run-cells.ts) against the CPU engine's (src/engine/replicas.ts). Shared
 * by test/node/gpu-replicas.test.ts and test/browser/gpu-engine.test.ts.
 */
import { a100Llama2_70bTp2 } from '../../../src/cost/a100.ts';
import type { ReplicaOptions } from '../../../src/engine/replicas.ts';
import type { Instance } from '../../../src/experiment/instance.ts';
import { runPolicy, type PolicyOutcome } from '../../../src/experiment/run.ts';
import type { GpuEngine } from '../../../src/gpu-engine/engine.ts';
import { runPoliciesOnEngine } from '../../../src/gpu-engine/run-cells.ts';
import type { RunSummary } from '../../../src/metrics/summary.ts';
import type { TimeMode } from '../../../src/model/types.ts';
import { DIFF_POLICIES, type DiffInstance } from './gpu-engine-diff.ts';

export const cost = a100Llama2_70bTp2;
export const TBT = ['p50Tbt', 'p90Tbt', 'p99Tbt', 'maxTbt'] as const;
/** Not computed on the GPU: per-token times and per-request energy (totals' energy: rounding). */
const NOT_ON_GPU = new Set<keyof RunSummary>([...TBT, 'joulesPerRequest', 'energyJoules']);

export function asInstance(d: DiffInstance, mode: TimeMode): Instance {
  return { memory: d.memory, mode, size: d.requests.length, requests: () => d.requests, description: d.label };
}

function sched(o: PolicyOutcome & { ok: true }): string[] {
  return [...o.result.requests].map((q) => `${q.id}:${q.start}/${q.firstToken}/${q.completion}/${q.restarts}`);
}

function summaryDiffs(where: string, c: RunSummary, g: RunSummary): string[] {
  const d: string[] = [];
  for (const k of Object.keys(c) as (keyof RunSummary)[]) {
    if (NOT_ON_GPU.has(k)) continue;
    if (!Object.is(c[k], g[k])) d.push(`${where} ${k}: cpu ${c[k]} gpu ${g[k]}`);
  }
  for (const k of TBT) if (!Number.isNaN(g[k])) d.push(`${where} ${k}: gpu ${g[k]}, not NaN`);
  const e = Math.abs(c.energyJoules - g.energyJoules);
  if (e > 1e-9 * Math.max(1, c.energyJoules)) d.push(`${where} energy cpu ${c.energyJoules} gpu ${g.energyJoules}`);
  return d;
}

/** Differences between the CPU and GPU engines' replicated runs of one policy ([] when equal). */
export function replicatedDiffs(c: PolicyOutcome, g: PolicyOutcome): string[] {
  if (!c.ok || !g.ok) return c.ok === g.ok && (c.ok || c.kind === (g as { kind: string }).kind) ? [] : ['outcome'];
  const d: string[] = [];
  if (!c.replicas || !g.replicas) return ['no replica breakdown'];
  if (c.replicas.router !== g.replicas.router) d.push('router');
  if (Array.from(c.replicas.assignment).join() !== Array.from(g.replicas.assignment).join()) d.push('assignment');
  const a = sched(c);
  const b = sched(g);
  if (a.length !== b.length) d.push(`request count ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length && d.length < 5; i++) if (a[i] !== b[i]) d.push(`cpu ${a[i]} gpu ${b[i]}`);
  for (const k of ['rounds', 'end', 'busy', 'tokensGenerated', 'evictions', 'peakKv', 'kvTime', 'requests'] as const) {
    if (c.result.totals[k] !== g.result.totals[k]) d.push(`totals.${k}`);
  }
  if (g.result.tokenGaps) d.push('GPU run has token gaps');
  d.push(...summaryDiffs('overall', c.summary, g.summary));
  if (c.replicas.summaries.length !== g.replicas.summaries.length) d.push('replica count');
  c.replicas.summaries.forEach((s, k) => {
    d.push(...summaryDiffs(`replica ${k}`, s, g.replicas?.summaries[k] as RunSummary));
  });
  return d;
}

/** Every DIFF policy on one instance, replicated, on both engines; failures as lines. */
export async function compareReplicated(
  engine: GpuEngine,
  inst: Instance,
  ro: ReplicaOptions,
  policies = DIFF_POLICIES,
): Promise<string[]> {
  const gpu = await runPoliciesOnEngine(engine, inst, policies, { costModel: cost, replicas: ro });
  const failures: string[] = [];
  policies.forEach((policy, i) => {
    const cpu = runPolicy(inst, policy, { costModel: cost, replicas: ro });
    const d = replicatedDiffs(cpu, gpu[i] as PolicyOutcome);
    if (d.length > 0)
      failures.push(`${inst.description} ${ro.router} K=${ro.replicas} ${policy}: ${d.slice(0, 8).join('; ')}`);
  });
  return failures;
}
