/**
 * The offline scheduling problem of model.md §1/§4 in the form the exact solvers use:
 * request i, started at round p ≥ a_i, holds s_i + (r − p) + 1 tokens in rounds
 * r = p … p + o_i − 1 and completes at c_i = p + o_i; in every round the tokens held
 * sum to at most M; minimise Σ (c_i − a_i). The optimum knows the true o_i.
 */
import { checkRequest } from '../model/limits.ts';
import type { RequestSpec } from '../model/types.ts';

/** An instance of the hindsight problem (rounds mode). */
export interface OptimumInstance {
  readonly memory: number;
  readonly requests: readonly RequestSpec[];
}

/** Requests in flat arrays, indexed 0..n−1 in the order given (not by id). */
export interface Prepared {
  readonly n: number;
  readonly memory: number;
  readonly ids: Int32Array;
  readonly a: Int32Array;
  readonly s: Int32Array;
  readonly o: Int32Array;
  /** Peak tokens s + o (held in the last round). */
  readonly w: Int32Array;
  /** Token-rounds over the request's life: Σ_{k=1..o} (s + k). */
  readonly area: Float64Array;
  readonly sumO: number;
  readonly sumA: number;
}

export function prepare(inst: OptimumInstance): Prepared {
  const M = inst.memory;
  if (!Number.isSafeInteger(M) || M < 2) throw new RangeError(`memory M must be an integer ≥ 2, got ${M}`);
  const n = inst.requests.length;
  const ids = new Int32Array(n);
  const a = new Int32Array(n);
  const s = new Int32Array(n);
  const o = new Int32Array(n);
  const w = new Int32Array(n);
  const area = new Float64Array(n);
  const seen = new Set<number>();
  let sumO = 0;
  let sumA = 0;
  inst.requests.forEach((r, i) => {
    // Unordered here (the optimum sorts itself): no `prev`.
    checkRequest(r, M);
    if (!Number.isInteger(r.id) || r.id < 0 || seen.has(r.id))
      throw new RangeError(`request ids must be distinct integers ≥ 0 (id ${r.id})`);
    seen.add(r.id);
    ids[i] = r.id;
    a[i] = r.arrival;
    s[i] = r.prompt;
    o[i] = r.output;
    w[i] = r.prompt + r.output;
    area[i] = r.output * r.prompt + (r.output * (r.output + 1)) / 2;
    sumO += r.output;
    sumA += a[i] as number;
  });
  return { n, memory: M, ids, a, s, o, w, area, sumO, sumA };
}

/** Tokens held in every round 0..makespan−1 by requests started at `starts` (indexed like the instance). */
export function tokensPerRound(p: Prepared, starts: ArrayLike<number>): Int32Array {
  let end = 0;
  for (let i = 0; i < p.n; i++) end = Math.max(end, (starts[i] as number) + (p.o[i] as number));
  const use = new Int32Array(end);
  for (let i = 0; i < p.n; i++) {
    const st = starts[i] as number;
    const s = p.s[i] as number;
    for (let k = 0; k < (p.o[i] as number); k++) use[st + k] = (use[st + k] as number) + s + k + 1;
  }
  return use;
}

/**
 * Checks a schedule (starts indexed like the instance): every start ≥ arrival, every
 * round within M. Returns null when feasible, else a description of the first problem.
 */
export function checkSchedule(p: Prepared, starts: ArrayLike<number>): string | null {
  if (starts.length !== p.n) return `expected ${p.n} starts, got ${starts.length}`;
  for (let i = 0; i < p.n; i++) {
    const st = starts[i] as number;
    if (!Number.isInteger(st) || st < (p.a[i] as number))
      return `request ${p.ids[i]} starts at ${st} before its arrival ${p.a[i]}`;
  }
  const use = tokensPerRound(p, starts);
  for (let r = 0; r < use.length; r++)
    if ((use[r] as number) > p.memory) return `round ${r} holds ${use[r]} tokens > M = ${p.memory}`;
  return null;
}

/** Σ (p_i + o_i − a_i) of a schedule. */
export function totalLatency(p: Prepared, starts: ArrayLike<number>): number {
  let z = 0;
  for (let i = 0; i < p.n; i++) z += (starts[i] as number) + (p.o[i] as number) - (p.a[i] as number);
  return z;
}
