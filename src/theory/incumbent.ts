/** Feasible schedules from the engine's policies, as start vectors for the exact solvers. */
import { LivelockError, simulate, StuckError } from '../engine/engine.ts';
import { createPolicy, PAPER_POLICIES } from '../policies/registry.ts';
import type { RequestSpec } from '../model/types.ts';
import { checkSchedule, totalLatency, type OptimumInstance, type Prepared } from './problem.ts';

export interface PolicySchedule {
  policy: string;
  /** Total latency Σ (c − a) of the run, or null when the policy failed (livelock, stuck). */
  total: number | null;
  /** Starts by instance index (the last attempt's c − o), or null when they do not form a feasible schedule. */
  starts: Int32Array | null;
  error?: string;
}

/** A feasible policy schedule with its total: what a search can start from. */
export interface StartSchedule {
  policy: string;
  total: number;
  starts: Int32Array;
}

/** The feasible schedule of least total latency (the first on ties), or undefined when no policy gave one. */
export function bestPolicySchedule(schedules: readonly PolicySchedule[]): StartSchedule | undefined {
  let best: StartSchedule | undefined;
  for (const r of schedules)
    if (r.total !== null && r.starts !== null && (best === undefined || r.total < best.total))
      best = { policy: r.policy, total: r.total, starts: r.starts };
  return best;
}

/** Runs each policy in rounds mode with exact predictions (predicted := output). */
export function policySchedules(
  inst: OptimumInstance,
  p: Prepared,
  policies: readonly string[] = PAPER_POLICIES,
  signal?: { readonly aborted: boolean },
): PolicySchedule[] {
  const exact: RequestSpec[] = inst.requests.map((r) => ({ ...r, predicted: r.output }));
  const sorted = [...exact].sort((x, y) => x.arrival - y.arrival || x.id - y.id);
  const indexOf = new Map<number, number>();
  inst.requests.forEach((r, i) => indexOf.set(r.id, i));
  const out: PolicySchedule[] = [];
  for (const spec of policies) {
    // `signal` (a deadline) stops the rest once one feasible schedule exists: there is
    // always an answer to give, however short the time limit.
    const watch = signal !== undefined && out.some((r) => r.starts !== null);
    if (watch && signal.aborted) {
      out.push({ policy: spec, total: null, starts: null, error: 'not run: out of time' });
      continue;
    }
    try {
      // progressEvery: how often the engine looks at `signal` (a time limit), in rounds.
      const res = simulate(sorted, createPolicy(spec), {
        memory: inst.memory,
        mode: 'rounds',
        keepRounds: false,
        progressEvery: 1024,
        ...(watch ? { signal } : {}),
      });
      const starts = new Int32Array(p.n);
      for (const q of res.requests) starts[indexOf.get(q.id) as number] = q.completion - q.output;
      let total = 0;
      for (const q of res.requests) total += q.completion - q.arrival;
      // Dropping evicted attempts only frees tokens, so the last attempts of a policy that
      // restarts from scratch form a feasible schedule of the same total. vLLM's recompute
      // keeps generated tokens (and counts blocks), so its c − o starts need not fit: such a
      // run is reported but not used as an incumbent.
      const feasible = checkSchedule(p, starts) === null && totalLatency(p, starts) === total;
      out.push({ policy: spec, total, starts: feasible ? starts : null });
    } catch (e) {
      if (e instanceof LivelockError || e instanceof StuckError)
        out.push({ policy: spec, total: null, starts: null, error: `${e.name}: ${e.message}` });
      else if (e instanceof Error && e.name === 'AbortError')
        out.push({ policy: spec, total: null, starts: null, error: 'stopped: out of time' });
      else throw e;
    }
  }
  return out;
}
