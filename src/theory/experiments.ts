/**
 * The theory experiments behind `kvsched paper synthetic | adversary | regret`: policies
 * against the hindsight optimum (model.md §4–§6). Pure computation (no terminal I/O);
 * the tables are formatted by src/cli/paper-theory.ts.
 *
 * Every run here is in rounds mode with exact predictions, as in the paper's theory.
 * ALG of a run = Σ (c_i − a_i) over its requests. A policy that cannot finish an instance
 * (StuckError: it can never start the head of its queue; LivelockError: α-clearing's
 * evict-and-restart cycle) is an outcome, counted and shown, never dropped silently.
 */
import { LivelockError, simulate, StuckError, type AdaptiveArrivals } from '../engine/engine.ts';
import type { RequestSpec } from '../model/types.ts';
import { createPolicy } from '../policies/registry.ts';
import { paperSynthetic, type PaperArrivals } from '../workload/generators.ts';
import {
  adversaryInstance,
  adversaryOptimum,
  adversaryParams,
  BlockThenFlood,
  scheduleRoundUse,
  type AdversaryParams,
} from './adversary.ts';
import { lpLowerBound, solveOptimum, type OptimumResult } from './optimum.ts';

/** One policy's run of one instance. */
export type RunOutcome =
  | { readonly policy: string; readonly ok: true; readonly total: number; readonly evictions: number }
  | { readonly policy: string; readonly ok: false; readonly kind: 'stuck' | 'livelock'; readonly error: string };

/** Runs `spec` on the requests (rounds mode, exact predictions), optionally with an adaptive source. */
export function runRounds(
  spec: string,
  memory: number,
  requests: readonly RequestSpec[],
  adaptive?: AdaptiveArrivals,
): RunOutcome {
  try {
    const res = simulate(requests, createPolicy(spec), {
      memory,
      mode: 'rounds',
      keepRounds: false,
      ...(adaptive ? { adaptive } : {}),
    });
    let total = 0;
    for (const r of res.requests) total += r.completion - r.arrival;
    return { policy: spec, ok: true, total, evictions: res.totals.evictions };
  } catch (e) {
    if (e instanceof LivelockError) return { policy: spec, ok: false, kind: 'livelock', error: e.message };
    if (e instanceof StuckError) return { policy: spec, ok: false, kind: 'stuck', error: e.message };
    throw e;
  }
}

/** What is known of OPT for an instance. */
export interface OptSummary {
  /** 'optimal': `objective` is OPT; 'time-limit': OPT ∈ [lowerBound, objective]; 'failed': the exact solver threw
   *  (`error`), OPT ≥ lowerBound. The lower bound of an unproven OPT is the best of: the branch and bound's,
   *  the LP relaxation's, the chunk bound, Σ o_i (`boundFrom` says which). */
  readonly status: 'optimal' | 'time-limit' | 'failed';
  /** Σ (c − a) of the best schedule found (an upper bound on OPT). */
  readonly objective: number | null;
  /** A proven lower bound on OPT (= objective when optimal). */
  readonly lowerBound: number | null;
  /** Where the lower bound came from. */
  readonly boundFrom: 'exact' | 'branch-and-bound' | 'lp' | 'chunks' | 'sum-o' | null;
  readonly seconds: number;
  readonly error?: string;
}

export interface OptOptions {
  timeLimitSec: number;
  /** Also solve the LP relaxation when the exact solver stops at its time limit. */
  lpOnTimeLimit?: boolean;
  /**
   * When OPT is not proven: also bound it by splitting the requests (in arrival order) into
   * chunks of this many and summing each chunk's optimum (or its lower bound). Valid because
   * an optimal schedule restricted to a chunk is feasible for the chunk alone (it holds fewer
   * tokens in every round), so Σ_chunks OPT(chunk) ≤ OPT. Tight when the chunks interact
   * little (light load); 0 or absent: off.
   */
  chunk?: number;
  onProgress?: (text: string) => void;
}

/** OPT by the exact solver; when it is not proven, the best of the lower bounds asked for. */
export async function optimumOf(
  inst: { memory: number; requests: readonly RequestSpec[] },
  o: OptOptions,
): Promise<OptSummary> {
  const t0 = performance.now();
  let r: OptimumResult | null = null;
  let error: string | undefined;
  try {
    r = await solveOptimum(inst, {
      timeLimitSec: o.timeLimitSec,
      lpShare: 0, // the LP bound runs below, after the search, with its own time
      ...(o.onProgress
        ? {
            onProgress: (p) =>
              o.onProgress?.(
                `OPT ∈ [${Math.ceil(p.lowerBound)}, ${p.bestObjective}] after ${p.nodes} nodes, ${p.seconds.toFixed(1)} s`,
              ),
          }
        : {}),
    });
  } catch (e) {
    error = (e as Error).message;
  }
  if (r !== null && r.status === 'optimal')
    return {
      status: 'optimal',
      objective: r.objective,
      lowerBound: r.objective,
      boundFrom: 'exact',
      seconds: r.seconds,
    };
  // Not proven: every valid lower bound, the largest wins.
  let lb = inst.requests.reduce((z, q) => z + q.output, 0); // every latency is ≥ o_i
  let from: OptSummary['boundFrom'] = 'sum-o';
  const consider = (x: number | null, what: OptSummary['boundFrom']) => {
    // OPT is an integer: a fractional bound (LP) rounds up.
    const v = x === null ? null : Math.ceil(x - 1e-6);
    if (v !== null && v > lb) {
      lb = v;
      from = what;
    }
  };
  if (r !== null) consider(r.lowerBound, 'branch-and-bound');
  if (o.lpOnTimeLimit) {
    o.onProgress?.('LP relaxation …');
    consider(await boundedLp(inst, r?.objective ?? null, o.timeLimitSec), 'lp');
  }
  if (o.chunk !== undefined && o.chunk > 0 && o.chunk < inst.requests.length) {
    consider(await chunkBound(inst, o.chunk, Math.min(2, o.timeLimitSec), o.onProgress), 'chunks');
  }
  return {
    status: r === null ? 'failed' : 'time-limit',
    objective: r === null ? null : r.objective,
    lowerBound: lb,
    boundFrom: from,
    seconds: (performance.now() - t0) / 1000,
    ...(error !== undefined ? { error } : {}),
  };
}

/** The bound of the LP relaxation with clique cuts, or null when it would exceed LP_MAX_STARTS (lp.ts), fails or runs out of time. */
export async function boundedLp(
  inst: { memory: number; requests: readonly RequestSpec[] },
  upper: number | null,
  timeLimitSec: number,
): Promise<number | null> {
  try {
    let U = upper;
    if (U === null) {
      const run = runRounds('mcsf', inst.memory, inst.requests);
      if (!run.ok) return null;
      U = run.total;
    }
    return await lpLowerBound(inst, { timeLimitSec, upperBound: U, cuts: true });
  } catch {
    return null;
  }
}

/** Σ over chunks (consecutive in arrival order) of each chunk's optimum or lower bound: ≤ OPT (see OptOptions.chunk). */
export async function chunkBound(
  inst: { memory: number; requests: readonly RequestSpec[] },
  size: number,
  timeLimitSec: number,
  onProgress?: (t: string) => void,
): Promise<number> {
  const reqs = inst.requests;
  let total = 0;
  for (let i = 0; i < reqs.length; i += size) {
    onProgress?.(`chunk bound: requests ${i + 1}..${Math.min(reqs.length, i + size)} of ${reqs.length}`);
    const part = reqs.slice(i, i + size);
    let lb = part.reduce((z, q) => z + q.output, 0);
    try {
      const r = await solveOptimum({ memory: inst.memory, requests: part }, { timeLimitSec });
      lb = Math.max(lb, r.status === 'optimal' ? r.objective : r.lowerBound);
      if (r.status !== 'optimal') {
        const lp = await boundedLp({ memory: inst.memory, requests: part }, r.objective, timeLimitSec);
        if (lp !== null) lb = Math.max(lb, Math.ceil(lp - 1e-6));
      }
    } catch {
      // Σ o of the chunk
    }
    total += lb;
  }
  return total;
}

// ---------------------------------------------------------------------------------
// kvsched paper synthetic

/** The paper's figures (model.md §5), MC-SF against the hindsight optimum, 200 trials each. */
export const PAPER_SYNTHETIC_FIGURES: Record<
  PaperArrivals,
  { mean: number; best: number; worst: number; optimal: number | null; trials: number }
> = {
  zero: { mean: 1.005, best: 1.0, worst: 1.074, optimal: 114, trials: 200 },
  poisson: { mean: 1.047, best: 1.0, worst: 1.227, optimal: null, trials: 200 },
};

export interface SyntheticTrial {
  readonly arrivals: PaperArrivals;
  readonly seed: number;
  readonly n: number;
  readonly memory: number;
  readonly rate: number | null;
  readonly opt: OptSummary;
  readonly runs: RunOutcome[];
}

export async function syntheticTrial(
  arrivals: PaperArrivals,
  seed: number,
  policies: readonly string[],
  o: OptOptions,
): Promise<SyntheticTrial> {
  const w = paperSynthetic({ seed, arrivals, mode: 'rounds' });
  const runs = policies.map((p) => runRounds(p, w.memory, w.requests));
  const opt = await optimumOf(
    { memory: w.memory, requests: w.requests },
    { ...o, lpOnTimeLimit: o.lpOnTimeLimit ?? true },
  );
  return { arrivals, seed, n: w.requests.length, memory: w.memory, rate: w.rate ?? null, opt, runs };
}

/** Per policy, ALG / OPT over the trials (model.md §5's statistics). */
export interface RatioRow {
  readonly policy: string;
  readonly trials: number;
  /** Trials the policy finished. */
  readonly finished: number;
  readonly stuck: number;
  readonly livelock: number;
  /** Finished trials whose OPT is unknown (exact solver and LP failed): no ratio. */
  readonly noOpt: number;
  /** Finished trials with a ratio whose OPT hit the time limit: their ratio is ALG / lower bound, an upper bound. */
  readonly bounded: number;
  /** Statistics of the ratios (exact ALG/OPT; ALG/LB for bounded trials): null if none. */
  readonly mean: number | null;
  readonly best: number | null;
  readonly worst: number | null;
  /** Mean of ALG / (best schedule found): a lower bound on the mean ratio (= mean when every OPT is exact). */
  readonly meanLow: number | null;
  /** Trials where ALG = OPT is proven (ALG ≤ the lower bound). */
  readonly optimal: number;
  /**
   * Trials where a schedule better than ALG was found: ALG is proven not optimal there
   * (so at most finished − beaten trials can be optimal, whatever the bound).
   */
  readonly beaten: number;
  /** Ratios per trial (null: no ratio), in trial order. */
  readonly ratios: (number | null)[];
}

export function ratioRows(trials: readonly SyntheticTrial[], policies: readonly string[]): RatioRow[] {
  return policies.map((policy, j) => {
    let finished = 0;
    let stuck = 0;
    let livelock = 0;
    let noOpt = 0;
    let bounded = 0;
    let optimal = 0;
    let beaten = 0;
    const ratios: (number | null)[] = [];
    const lows: number[] = [];
    for (const t of trials) {
      const r = t.runs[j];
      if (r === undefined || !r.ok) {
        if (r?.ok === false) {
          if (r.kind === 'stuck') stuck++;
          else livelock++;
        }
        ratios.push(null);
        continue;
      }
      finished++;
      if (t.opt.objective !== null && t.opt.objective < r.total) beaten++;
      const lb = t.opt.lowerBound;
      // Σ o alone is too weak a bound to make a ratio worth averaging: no ratio.
      if (lb === null || lb <= 0 || t.opt.boundFrom === 'sum-o') {
        noOpt++;
        ratios.push(null);
        continue;
      }
      if (t.opt.status !== 'optimal') bounded++;
      if (r.total <= lb) optimal++;
      ratios.push(r.total / lb);
      lows.push(r.total / (t.opt.objective ?? lb));
    }
    const xs = ratios.filter((x): x is number => x !== null);
    return {
      policy,
      trials: trials.length,
      finished,
      stuck,
      livelock,
      noOpt,
      bounded,
      optimal,
      beaten,
      ratios,
      meanLow: lows.length ? lows.reduce((a, b) => a + b, 0) / lows.length : null,
      mean: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null,
      best: xs.length ? Math.min(...xs) : null,
      worst: xs.length ? Math.max(...xs) : null,
    };
  });
}

// ---------------------------------------------------------------------------------
// kvsched paper adversary

/** vLLM plays the adversary with a per-round token budget of M (its default 4096 would leave it stuck on prefills of ~0.75·M tokens). */
export function adversaryPolicySpec(spec: string, memory: number): string {
  return spec.trim() === 'vllm' ? `vllm:${memory}` : spec.trim();
}

export interface AdversaryRow {
  readonly n: number;
  readonly params: AdversaryParams;
  /** The policy as run (vllm → vllm:M). */
  readonly policy: string;
  readonly ok: boolean;
  readonly failure?: string;
  /** Round the policy started the long request (null: never). */
  readonly longStart: number | null;
  /** Round the shorts arrived (null: never released). */
  readonly shortArrival: number | null;
  readonly requests: number;
  readonly alg: number | null;
  /** Exact OPT of the released instance (adversary.ts's scan). */
  readonly opt: number;
  readonly ratio: number | null;
  /** The optimum's long-request start round. */
  readonly optLongStart: number;
  /** The exact solver's answer on the same instance, when asked (a cross-check). */
  readonly solver: OptSummary | null;
}

/**
 * One policy against the adversary with n requests: the released instance, ALG, and the
 * exact OPT (scan of adversary.ts, its schedule memory-checked); with `solveUpTo ≥ n` the
 * exact solver is run on the same instance too.
 */
export async function adversaryRow(
  n: number,
  spec: string,
  o: { solveUpTo: number; timeLimitSec: number; onProgress?: (t: string) => void },
): Promise<AdversaryRow> {
  const params = adversaryParams(n);
  const policy = adversaryPolicySpec(spec, params.memory);
  const adv = new BlockThenFlood(params);
  const run = runRounds(policy, params.memory, [], adv);
  const opt = adversaryOptimum(params, adv.shortArrival);
  const inst = adversaryInstance(params, adv.shortArrival);
  const check = scheduleRoundUse(params.memory, inst, opt.starts);
  if (check.firstOver >= 0)
    throw new Error(`internal error: the adversary's optimum overflows M in round ${check.firstOver}`);
  let solver: OptSummary | null = null;
  if (inst.length <= o.solveUpTo)
    solver = await optimumOf(
      { memory: params.memory, requests: inst },
      { timeLimitSec: o.timeLimitSec, ...(o.onProgress ? { onProgress: o.onProgress } : {}) },
    );
  const alg = run.ok ? run.total : null;
  return {
    n,
    params,
    policy,
    ok: run.ok,
    ...(run.ok ? {} : { failure: `${run.kind}: ${run.error}` }),
    longStart: adv.longStart,
    shortArrival: adv.shortArrival,
    requests: inst.length,
    alg,
    opt: opt.objective,
    ratio: alg === null ? null : alg / opt.objective,
    optLongStart: opt.longStart,
    solver,
  };
}

// ---------------------------------------------------------------------------------
// kvsched paper regret

/**
 * The regret instance: the paper's synthetic sizes (M ~ U{30..50}, s ~ U{1..5},
 * o ~ U{1..M−s}) with n requests and Poisson arrivals, λ ~ U[0.5, 1.5] per round
 * (`rate` = null) or the given λ per round (the seed's λ draw is then replaced; the
 * sizes stay the same).
 */
export function regretInstance(
  n: number,
  seed: number,
  rate: number | null,
): { memory: number; rate: number; requests: RequestSpec[] } {
  const w = paperSynthetic({ seed, arrivals: 'poisson', requests: n, mode: 'rounds' });
  const lambda = w.rate as number;
  if (rate === null) return { memory: w.memory, rate: lambda, requests: w.requests };
  // Rescale the Poisson process: arrival times T·λ/rate (same exponential draws), rounded
  // up to a round as paperSynthetic does in rounds mode.
  const scaled = paperSyntheticTimes(seed, n).map((t) => Math.ceil((t * lambda) / rate - 1e-9));
  const requests = w.requests.map((q, i) => ({ ...q, arrival: scaled[i] as number }));
  return { memory: w.memory, rate, requests };
}

/** The arrival times of paperSynthetic's Poisson process, to the microsecond (rounds mode rounds them up). */
function paperSyntheticTimes(seed: number, n: number): number[] {
  // paperSynthetic in seconds mode keeps microseconds: time = µs / 10⁶.
  const w = paperSynthetic({ seed, arrivals: 'poisson', requests: n, mode: 'seconds' });
  return w.requests.map((q) => q.arrival / 1e6);
}

export interface RegretPoint {
  readonly n: number;
  readonly seed: number;
  readonly memory: number;
  readonly rate: number;
  readonly alg: number | null;
  readonly algFailure?: string;
  readonly opt: OptSummary;
  /** ALG − OPT when OPT is exact; else ALG − lower bound (an upper bound on the regret). */
  readonly regret: number | null;
  /** ALG − best schedule found (a lower bound on the regret), when OPT is not exact. */
  readonly regretLow: number | null;
}

export async function regretPoint(
  n: number,
  seed: number,
  rate: number | null,
  policy: string,
  o: OptOptions,
): Promise<RegretPoint> {
  const inst = regretInstance(n, seed, rate);
  const run = runRounds(policy, inst.memory, inst.requests);
  const opt = await optimumOf(
    { memory: inst.memory, requests: inst.requests },
    { ...o, lpOnTimeLimit: o.lpOnTimeLimit ?? true, chunk: o.chunk ?? 20 },
  );
  const alg = run.ok ? run.total : null;
  const regret = alg !== null && opt.lowerBound !== null ? alg - opt.lowerBound : null;
  const regretLow = alg !== null && opt.objective !== null && opt.status !== 'optimal' ? alg - opt.objective : null;
  return {
    n,
    seed,
    memory: inst.memory,
    rate: inst.rate,
    alg,
    ...(run.ok ? {} : { algFailure: `${run.kind}` }),
    opt,
    regret,
    regretLow,
  };
}
