/**
 * Differential testing of the GPU engine against the CPU engine: random instances,
 * every policy, both time modes, and an exact comparison of every request's schedule.
 * Shared by test/node/gpu-engine.test.ts and test/browser/gpu-engine.test.ts.
 */
import { a100Llama2_70bTp2 } from '../../../src/cost/a100.ts';
import { LivelockError, simulate, StuckError, type SimulationResult } from '../../../src/engine/engine.ts';
import type { GpuEngine, GpuOutcome, GpuReplica } from '../../../src/gpu-engine/engine.ts';
import type { RequestSpec, TimeMode } from '../../../src/model/types.ts';
import { createPolicy } from '../../../src/policies/registry.ts';

export const DIFF_POLICIES = [
  'mcsf',
  'mc-fcfs',
  'alpha-greedy:0.1',
  'alpha-greedy:0.25',
  'alpha-clearing:0.1:0.1',
  'alpha-clearing:0.2:0.5',
  'vllm',
  'vllm:48:3',
];

/** Chunked prefill on the small shape (s 1..5): budgets below one prompt, mixed rounds. */
export const CHUNKED_SMALL_POLICIES = ['sarathi:3', 'sarathi:2:3', 'mcsf-budget:3', 'mcsf-budget:1'];

/**
 * The serving policies on `servingInstance`s (M 256..2048: several 16-token blocks, prompts
 * longer than the budgets). Orca reserves 256 tokens per request, which every request of
 * that shape fits.
 */
export const SERVING_POLICIES = [
  'sarathi',
  'sarathi:32',
  'sarathi:16:4',
  'mcsf-budget',
  'mcsf-budget:32',
  'orca:4:256',
  'orca:64:256',
  'vllm',
];

/** Mulberry32: a tiny deterministic generator for test instances. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DiffInstance {
  readonly memory: number;
  readonly requests: RequestSpec[];
  readonly label: string;
}

/**
 * A random instance. `small`: the paper's synthetic shape (M 20..60, n ≤ 40, s 1..5).
 * `large`: M 200..1200, n 100..300, heavier-tailed sizes. Predictions exact or noisy
 * (õ = max(1, round(o·U[1−ε, 1+ε]))); arrivals Poisson-like, in rounds or µs.
 */
export function randomInstance(seed: number, size: 'small' | 'large', mode: TimeMode): DiffInstance {
  const r = rng(seed * 7919 + (size === 'large' ? 1 : 0) + (mode === 'seconds' ? 2 : 0));
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const memory = size === 'small' ? int(20, 60) : int(200, 1200);
  const n = size === 'small' ? int(1, 40) : int(100, 300);
  const eps = [0, 0, 0.2, 0.5, 0.8][int(0, 4)] as number;
  const allAtZero = r() < 0.2;
  const meanGap = size === 'small' ? 0.5 + r() * 2 : 0.05 + r() * 0.5;
  const unit = mode === 'seconds' ? 40_000 : 1;
  const reqs: RequestSpec[] = [];
  let t = 0;
  for (let id = 0; id < n; id++) {
    const prompt =
      size === 'small'
        ? int(1, 5)
        : Math.min(memory - 1, Math.max(1, Math.round(Math.exp(2 + 1.2 * (r() + r() - 1) * 2))));
    const maxOut = memory - prompt;
    const output =
      size === 'small'
        ? int(1, maxOut)
        : Math.min(maxOut, Math.max(1, Math.round(Math.exp(3 + 1.1 * (r() + r() - 1) * 2))));
    const predicted = eps === 0 ? output : Math.max(1, Math.round(output * (1 - eps + 2 * eps * r())));
    if (!allAtZero) t += -Math.log(1 - r()) * meanGap * unit;
    reqs.push({ id, arrival: Math.floor(t), prompt, output, predicted });
  }
  return {
    memory,
    requests: reqs,
    label: `seed ${seed} ${size} ${mode} M=${memory} n=${n} ε=${eps}${allAtZero ? ' zero' : ''}`,
  };
}

/**
 * An LMSYS-like instance for the serving policies: M 256..2048, lognormal-ish prompts and
 * outputs with s + o ≤ 256 (Orca's reservation in SERVING_POLICIES), exact or noisy
 * predictions, Poisson arrivals dense enough to fill the memory and force preemptions.
 */
export function servingInstance(seed: number, mode: TimeMode): DiffInstance {
  const r = rng(seed * 104729 + (mode === 'seconds' ? 3 : 0));
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const memory = int(256, 2048);
  const n = int(20, 120);
  const eps = [0, 0, 0.3, 0.8][int(0, 3)] as number;
  const meanGap = (0.2 + r() * 2) * (mode === 'seconds' ? 40_000 : 1);
  const reqs: RequestSpec[] = [];
  let t = 0;
  for (let id = 0; id < n; id++) {
    const prompt = Math.min(200, Math.max(1, Math.round(Math.exp(3 + 1.2 * (r() + r() - 1) * 2))));
    const output = Math.min(256 - prompt, Math.max(1, Math.round(Math.exp(2.5 + (r() + r() - 1) * 2))));
    const predicted = eps === 0 ? output : Math.max(1, Math.round(output * (1 - eps + 2 * eps * r())));
    t += -Math.log(1 - r()) * meanGap;
    reqs.push({ id, arrival: Math.floor(t), prompt, output, predicted });
  }
  return { memory, requests: reqs, label: `serving seed ${seed} ${mode} M=${memory} n=${n} ε=${eps}` };
}

export type CpuOutcome = { ok: true; result: SimulationResult } | { ok: false; kind: 'stuck' | 'livelock' };

export function cpuRun(inst: DiffInstance, policy: string, mode: TimeMode): CpuOutcome {
  try {
    const result = simulate(inst.requests, createPolicy(policy), {
      memory: inst.memory,
      mode,
      costModel: a100Llama2_70bTp2,
      keepRounds: false,
    });
    return { ok: true, result };
  } catch (e) {
    if (e instanceof StuckError) return { ok: false, kind: 'stuck' };
    if (e instanceof LivelockError) return { ok: false, kind: 'livelock' };
    throw e;
  }
}

function sched(r: SimulationResult): string[] {
  return [...r.requests].map((q) => `${q.id}:${q.start}/${q.firstToken}/${q.completion}/${q.restarts}`);
}

/** Differences between a CPU and a GPU outcome ([] when identical). */
export function compareOutcomes(cpu: CpuOutcome, gpu: GpuOutcome): string[] {
  if (!cpu.ok || !gpu.ok) {
    const c = cpu.ok ? 'ok' : cpu.kind;
    const g = gpu.ok ? 'ok' : gpu.kind;
    return c === g ? [] : [`outcome cpu ${c} gpu ${g}`];
  }
  const diffs: string[] = [];
  const a = sched(cpu.result);
  const b = sched(gpu.result);
  if (a.length !== b.length) diffs.push(`request count ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length && diffs.length < 5; i++) if (a[i] !== b[i]) diffs.push(`cpu ${a[i]} gpu ${b[i]}`);
  const ct = cpu.result.totals;
  const gt = gpu.result.totals;
  if (gt.peakKv > gpu.result.memory) diffs.push(`gpu peak KV ${gt.peakKv} above M = ${gpu.result.memory}`);
  for (const k of ['rounds', 'end', 'busy', 'tokensGenerated', 'evictions', 'peakKv', 'kvTime', 'requests'] as const) {
    if (ct[k] !== gt[k]) diffs.push(`totals.${k} cpu ${ct[k]} gpu ${gt[k]}`);
  }
  return diffs;
}

export interface DiffReport {
  cases: number;
  failures: string[];
  byPolicy: Record<string, number>;
  restarts: number;
  stuckOrLivelock: number;
}

/** Run every (instance, policy) pair as one GPU job and compare with the CPU engine. */
export async function differential(
  engine: GpuEngine,
  instances: readonly DiffInstance[],
  policies: readonly string[],
  mode: TimeMode,
): Promise<DiffReport> {
  const pairs: { inst: DiffInstance; policy: string }[] = [];
  for (const inst of instances) for (const policy of policies) pairs.push({ inst, policy });
  const replicas: GpuReplica[] = pairs.map(({ inst, policy }) => ({
    requests: inst.requests,
    memory: inst.memory,
    policy,
  }));
  const gpu = await engine.run(replicas, { mode, costModel: a100Llama2_70bTp2 });
  const report: DiffReport = { cases: 0, failures: [], byPolicy: {}, restarts: 0, stuckOrLivelock: 0 };
  pairs.forEach(({ inst, policy }, i) => {
    const c = cpuRun(inst, policy, mode);
    const g = gpu[i] as GpuOutcome;
    const d = compareOutcomes(c, g);
    report.cases++;
    report.byPolicy[policy] = (report.byPolicy[policy] ?? 0) + 1;
    if (c.ok) report.restarts += c.result.totals.evictions;
    else report.stuckOrLivelock++;
    if (d.length > 0) report.failures.push(`${policy} on ${inst.label}: ${d.join('; ')}`);
  });
  return report;
}
