/**
 * The exact hindsight optimum of model.md §4 (rounds mode, exact output lengths):
 * minimise Σ (c_i − a_i) subject to the KV capacity M in every round.
 *
 * Method: the best schedule of the paper's policies, improved by a local search over
 * start orders (local-search.ts), is the incumbent; a chronological branch and bound
 * (bnb.ts) with the lower bounds of bounds.ts proves it optimal or improves it.
 * Pure TypeScript: runs in Node and in a browser.
 */
import type { RequestSpec } from '../model/types.ts';
import { PAPER_POLICIES } from '../policies/registry.ts';
import { branchAndBound } from './bnb.ts';
import type { BoundOptions } from './bounds.ts';
import { bestPolicySchedule, policySchedules } from './incumbent.ts';
import { improveSchedule, type LocalSearchOptions } from './local-search.ts';
import { checkSchedule, prepare, totalLatency } from './problem.ts';
import { DEFAULT_BOUND_OPTIONS } from './defaults.ts';

import { solveTimeIndexed } from './lp.ts';

export { lpLowerBound } from './lp.ts';

export interface OptimumProgress {
  bestObjective: number;
  lowerBound: number;
  nodes: number;
  seconds: number;
}

export interface OptimumOptions {
  /** Seconds before giving up with the best schedule found (default: none). */
  timeLimitSec?: number;
  signal?: { readonly aborted: boolean };
  onProgress?: (p: OptimumProgress) => void;
  /** Which prunings to use (benchmarks switch them off one by one). */
  bound?: BoundOptions;
  symmetry?: boolean;
  obligations?: boolean;
  memo?: boolean;
  /**
   * Share of the time limit the LP bound with clique cuts (lp.ts, cliques.ts) may use at
   * most (default 0.5; 0: off). It runs when a first search of a tenth of the limit has not
   * proved the incumbent; the search then resumes with all the time left (so an LP that
   * converges early hands its unused share back). Ignored without a time limit.
   */
  lpShare?: number;
  /**
   * The local search that improves the policies' best schedule before the search
   * (local-search.ts; default: its default budget, 4 runs of 1000 · n orders). `false`
   * turns it off. With a time limit it also stops after `localSearchShare` of it.
   */
  localSearch?: LocalSearchOptions | false;
  /** Share of the time limit the local search may use at most (default 0.2). */
  localSearchShare?: number;
  /** Share of the time limit the first search gets when the LP bound is on (default 0.1). */
  probeShare?: number;
  /**
   * Nodes each branch-and-bound search may visit (default: none). With it, the searches
   * stop by work done, not by the clock, so a result does not depend on the machine's load
   * (tests); the time limit still applies on top.
   */
  searchNodeLimit?: number;
  /** Cut rounds the LP bound may add at most (default: until none is violated or its time is up); deterministic like searchNodeLimit. */
  lpCutRounds?: number;
}

/**
 * The longest time-indexed model the solver builds: a_max + Σ o rounds. The search, the
 * local search and the schedule checks hold arrays over it (2 requests 10⁹ rounds apart
 * took 112 s and 3.9 GB on a 10 s limit); above this the instance is refused up front.
 */
export const OPTIMUM_MAX_HORIZON = 2 ** 22;

/** The horizon a_max + Σ o of an instance, or a refusal naming it and the limit. */
export function checkOptimumHorizon(inst: { requests: readonly RequestSpec[] }): number {
  let aMax = 0;
  let sumO = 0;
  for (const r of inst.requests) {
    aMax = Math.max(aMax, r.arrival);
    sumO += r.output;
  }
  const h = aMax + sumO;
  if (h > OPTIMUM_MAX_HORIZON) {
    throw new RangeError(
      `the hindsight optimum's time-indexed model would span a_max + Σ o = ${aMax} + ${sumO} = ${h} rounds, more than the ${OPTIMUM_MAX_HORIZON} (2^22) it supports`,
    );
  }
  return h;
}

export interface OptimumStats {
  n: number;
  memory: number;
  nodes: number;
  memoHits: number;
  boundCuts: number;
  obligationCuts: number;
  rootBound: number;
  /** Total latency of each policy run (null: the policy failed, e.g. livelock). */
  policies: { policy: string; total: number | null; error?: string }[];
  incumbentPolicy: string;
  /** Total latency of the best policy schedule (the local search starts from it). */
  incumbent: number;
  /** The local search: its best total latency (≤ incumbent), orders decoded and runs begun (all runs), seconds (null: off). */
  localSearch: { value: number; iterations: number; runs: number; seconds: number } | null;
  /**
   * Why a `time-limit` result stopped: the clock (or a cancel) in any phase, the search's
   * depth, or its node budget (`searchNodeLimit`).
   */
  stoppedBy: 'time' | 'depth' | 'nodes' | null;
  /** The LP-with-clique-cuts bound, when it ran (null: not run, too large, or out of time). */
  lpBound: number | null;
  /** Which bound `lowerBound` is: the search's, the LP's, or exact (proved optimal). */
  boundFrom: 'exact' | 'branch-and-bound' | 'lp';
}

export interface OptimumResult {
  status: 'optimal' | 'time-limit';
  /** Σ (c_i − a_i) of the best schedule found. */
  objective: number;
  /** Proven lower bound on the optimum (= objective when optimal). */
  lowerBound: number;
  seconds: number;
  /** Start round of each request, indexed by request id. */
  starts: number[];
  /** Completion (start + o) of each request, indexed by request id. */
  completions: number[];
  method: string;
  stats: OptimumStats;
}

export const DEFAULT_BOUND: BoundOptions = DEFAULT_BOUND_OPTIONS;

export async function solveOptimum(
  inst: { memory: number; requests: readonly RequestSpec[] },
  opts: OptimumOptions = {},
): Promise<OptimumResult> {
  const t0 = performance.now();
  checkOptimumHorizon(inst);
  const p = prepare(inst);
  // Every phase watches the deadline: the policies through the engine's signal, the local
  // search and the searches through their time limits, the LP through HiGHS's.
  const deadline = opts.timeLimitSec === undefined ? Infinity : t0 + opts.timeLimitSec * 1000;
  const outOfTime = {
    get aborted() {
      return opts.signal?.aborted === true || performance.now() > deadline;
    },
  };
  const runs = policySchedules(inst, p, PAPER_POLICIES, outOfTime);
  const inc = bestPolicySchedule(runs);
  if (inc === undefined) {
    if (opts.signal?.aborted) throw Object.assign(new Error('optimum cancelled'), { name: 'AbortError' });
    const why = runs.some((r) => r.error?.includes('out of time'))
      ? ` within the time limit of ${opts.timeLimitSec} s`
      : '';
    throw new Error(`no policy produced a schedule to start from${why}`);
  }
  const policiesOutOfTime = outOfTime.aborted;
  let startFrom = { starts: inc.starts, value: inc.total };
  let localSearch: OptimumStats['localSearch'] = null;
  if (opts.localSearch !== false && !opts.signal?.aborted) {
    const lsShare = Math.min(1, Math.max(0, opts.localSearchShare ?? 0.2));
    const ls = improveSchedule(p, inc.starts, inc.total, {
      ...(opts.localSearch ?? {}),
      ...(opts.timeLimitSec !== undefined
        ? {
            timeLimitSec: Math.max(
              0,
              Math.min(
                opts.localSearch?.timeLimitSec ?? Infinity,
                opts.timeLimitSec * lsShare,
                (deadline - performance.now()) / 1000,
              ),
            ),
          }
        : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress
        ? {
            // Before the search there is no bound yet but the trivial one: every latency is ≥ o.
            onProgress: (q: { best: number; seconds: number }) =>
              opts.onProgress?.({
                bestObjective: q.best,
                lowerBound: p.sumO,
                nodes: 0,
                seconds: (performance.now() - t0) / 1000,
              }),
          }
        : {}),
    });
    localSearch = { value: ls.value, iterations: ls.iterations, runs: ls.runs, seconds: ls.seconds };
    if (ls.value < startFrom.value) startFrom = { starts: ls.starts, value: ls.value };
  }
  const share = opts.timeLimitSec === undefined ? 0 : Math.min(1, Math.max(0, opts.lpShare ?? 0.5));
  const elapsed = () => (performance.now() - t0) / 1000;
  const search = (
    incumbent: { starts: ArrayLike<number>; value: number },
    limitSec: number | undefined,
    known?: number,
  ) =>
    branchAndBound(p, {
      incumbent,
      bound: opts.bound ?? DEFAULT_BOUND,
      ...(opts.symmetry !== undefined ? { symmetry: opts.symmetry } : {}),
      ...(opts.obligations !== undefined ? { obligations: opts.obligations } : {}),
      ...(opts.memo !== undefined ? { memo: opts.memo } : {}),
      ...(limitSec !== undefined ? { timeLimitSec: Math.max(0, limitSec) } : {}),
      ...(known !== undefined ? { knownLowerBound: known } : {}),
      ...(opts.searchNodeLimit !== undefined ? { nodeLimit: opts.searchNodeLimit } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
  // Without the LP the search gets all the time. With it: a short first search (most small
  // instances are proved here, without loading HiGHS), then the LP (it stops early when it
  // converges), then the search again with all the time left and the LP's bound as a
  // target — so a converged LP hands its unused share back to the search.
  const T = opts.timeLimitSec;
  const lpOn = T !== undefined && share > 0;
  const probe = Math.min(1 - share, Math.max(0, opts.probeShare ?? 0.1));
  let res = search(startFrom, T === undefined ? undefined : lpOn ? Math.min(T * probe, T - elapsed()) : T - elapsed());
  let status = res.status;
  let lowerBound = res.lowerBound;
  const rootBound = res.rootBound;
  let boundFrom: OptimumStats['boundFrom'] = status === 'optimal' ? 'exact' : 'branch-and-bound';
  let lpBound: number | null = null;
  if (lpOn && status !== 'optimal' && T - elapsed() > 0.1 && !opts.signal?.aborted) {
    const lp = await solveTimeIndexed(inst, {
      upperBound: res.value,
      hint: res.starts,
      cuts: opts.lpCutRounds !== undefined ? { maxRounds: opts.lpCutRounds } : true,
      timeLimitSec: Math.min(T * share, T - elapsed()),
    });
    let known: number | undefined;
    if (lp.value !== null) {
      lpBound = lp.value;
      // OPT is an integer: the LP bound rounds up; reaching the incumbent proves it optimal.
      const v = Math.ceil(lp.value - 1e-6);
      known = v;
      if (v >= res.value) {
        status = 'optimal';
        lowerBound = res.value;
        boundFrom = 'exact';
      } else if (v > lowerBound) {
        lowerBound = v;
        boundFrom = 'lp';
      }
    }
    if (status !== 'optimal' && T - elapsed() > 0.1 && !opts.signal?.aborted) {
      const again = search(res, T - elapsed(), known);
      if (again.status === 'optimal') {
        status = 'optimal';
        lowerBound = again.value;
        boundFrom = 'exact';
      } else if (again.lowerBound > lowerBound) {
        lowerBound = again.lowerBound;
        boundFrom = 'branch-and-bound';
      }
      res = {
        ...again,
        nodes: res.nodes + again.nodes,
        memoHits: res.memoHits + again.memoHits,
        boundCuts: res.boundCuts + again.boundCuts,
        obligationCuts: res.obligationCuts + again.obligationCuts,
      };
    }
  }
  // A search stopped before its root bound reports 0: every latency is at least o.
  if (status !== 'optimal') lowerBound = Math.max(lowerBound, p.sumO);
  const problem = checkSchedule(p, res.starts);
  if (problem !== null) throw new Error(`internal error: the optimum's schedule is infeasible: ${problem}`);
  const value = totalLatency(p, res.starts);
  if (value !== res.value) throw new Error(`internal error: objective ${res.value} ≠ recomputed ${value}`);
  let maxId = -1;
  for (let i = 0; i < p.n; i++) maxId = Math.max(maxId, p.ids[i] as number);
  const starts: number[] = new Array<number>(maxId + 1).fill(-1);
  const completions: number[] = new Array<number>(maxId + 1).fill(-1);
  for (let i = 0; i < p.n; i++) {
    starts[p.ids[i] as number] = res.starts[i] as number;
    completions[p.ids[i] as number] = (res.starts[i] as number) + (p.o[i] as number);
  }
  return {
    status,
    objective: value,
    lowerBound,
    seconds: (performance.now() - t0) / 1000,
    starts,
    completions,
    method:
      'chronological branch and bound (release, area and pair-machine bounds, sawtooth bound at the root; active-schedule, symmetry and memo pruning), incumbent = best paper policy' +
      (localSearch !== null ? ' improved by local search over start orders' : '') +
      (lpBound !== null ? '; lower bound from the time-indexed LP with conflict-clique cuts (HiGHS)' : ''),
    stats: {
      n: p.n,
      memory: p.memory,
      nodes: res.nodes,
      memoHits: res.memoHits,
      boundCuts: res.boundCuts,
      obligationCuts: res.obligationCuts,
      rootBound,
      policies: runs.map((r) => ({
        policy: r.policy,
        total: r.total,
        ...(r.error !== undefined ? { error: r.error } : {}),
      })),
      incumbentPolicy: inc.policy,
      incumbent: inc.total,
      localSearch,
      stoppedBy: status === 'optimal' ? null : policiesOutOfTime ? 'time' : res.stoppedBy,
      lpBound,
      boundFrom,
    },
  };
}
