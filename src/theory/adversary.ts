/**
 * The lower-bound adversary (model.md §6): an adaptive arrival source that plays against
 * any policy through the engine's `adaptive` option, and the exact hindsight optimum of
 * every instance it can release.
 *
 * ## The construction ("block, then flood")
 *
 * Parameters: M (a multiple of 16), one LONG request (prompt P, output L), k SHORT
 * requests (prompt σ, output 1), n = k + 1 requests in all.
 *
 * 1. Round 0: the long request (id 0) arrives; nothing else.
 * 2. The adversary polls every round. As soon as it observes that the policy started the
 *    long request in some round d (it sees it at the start of round d + 1), it releases
 *    the k shorts (ids 1..k), all arriving in round d + 1, and then stops.
 * 3. If the policy has not started the long request after `patience` rounds, the adversary
 *    stops and releases nothing more (the long request's latency grows with the wait).
 *
 * Sizes (`adversaryParams`), with h = 1/4 the admission headroom:
 *   k = n − 1,  M = 16·⌈max(4k², 2048) / 16⌉,
 *   P = the largest multiple of 16 with P + 1 ≤ ⌊(1 − h)·M⌋,
 *   σ = M − P − 2   (a short holds σ + 1 = M − P − 1 tokens in its only round),
 *   L = M − P − 32.
 *
 * Why it blocks every policy of the line-up: from its second round on the long request
 * holds ≥ P + 2 tokens, and P + 2 + σ + 1 = M + 1 > M: no short fits beside it under the
 * plain memory check, hence under none of the stricter ones:
 * - MC-SF / MC-FCFS (look-ahead): a short (õ = 1) only adds tokens in the current round,
 *   so the look-ahead test is the plain test at τ = now: M + 1 > M, refused (and both stop
 *   at the first refusal, they never skip). The long request's predicted peak is
 *   P + L = M − 32 ≤ M, so they start it at once.
 * - α-greedy / α-clearing (α ≤ h): the long request needs P + 1 ≤ ⌊(1−h)M⌋ ≤ ⌊(1−α)M⌋ to
 *   be admitted: it is; a short needs held + σ + 1 ≤ ⌊(1−α)M⌋ < M + 1: refused. The batch
 *   never exceeds M (peak P + L < M), so the overflow / clearing rule never fires.
 * - vLLM (run as vllm:M so that a prefill of P or σ tokens fits its per-round token budget;
 *   the default 4096 would leave it merely stuck): B = M/16 blocks, watermark W = ⌊B/100⌋
 *   ≥ 1 (M ≥ 2048 gives B ≥ 128). The long request takes P/16 blocks (≤ B − W); a short
 *   needs ⌈σ/16⌉ = B − P/16 blocks, leaving 0 < W free: refused. The long request grows
 *   to at most ⌈(P + L)/16⌉ = B − 2 blocks, so vLLM always has a free block and never
 *   preempts it.
 * None of these policies ever idles with a startable request, so all start the long
 * request at d = 0 and every short waits until it completes (round L): latency L each,
 * then they run about M/(σ+1) ≈ 3 per round. ALG ≈ (k + 1)·L.
 *
 * The optimum (in hindsight) runs the shorts first, about 3 per round from round d + 1,
 * and the long request after them: OPT ≈ k²/6 + L + k/3. With M ≈ 4k², L ≈ k², so
 * ALG / OPT ≈ (k + 1)·k² / (k²/6 + k² + …) ≈ 0.86·n: the ratio grows linearly in n (with
 * M growing like n²). The same holds against any policy that never preempts and starts
 * the long request at some d < patience: the shorts then arrive in round d + 1 and wait
 * L − 1 rounds, while the optimum either runs them first or (d ≥ L) has long finished the
 * long request. Only preempting the long request when the shorts arrive escapes.
 *
 * ## The exact optimum of a released instance (`adversaryOptimum`)
 *
 * Fix the long request's start t. Every short is the same unit job (σ, o = 1, arrival a),
 * and round r can hold c_t(r) = ⌊(M − h_t(r)) / (σ + 1)⌋ of them, h_t(r) being the tokens
 * the long request holds in round r (P + r − t + 1 while t ≤ r < t + L, else 0). For unit
 * jobs with per-round capacities, starting them greedily in the earliest rounds is optimal
 * (by every round R it has started the most shorts any schedule can: min(k, Σ_{a≤r≤R} c_t(r))),
 * so the sorted start times of any schedule are pointwise ≥ the greedy ones. Hence
 * OPT = min over t of [t + L + greedy cost of the shorts given t]. Beyond
 * t = a + ⌈k / c₀⌉ (c₀ = ⌊M/(σ+1)⌋, all shorts done without ever meeting the long request)
 * the shorts' cost is already minimal and t + L only grows, so scanning t = 0 … a + ⌈k/c₀⌉
 * is exact. `adversaryOptimum` returns the minimising schedule; `scheduleRoundUse` checks
 * its memory round by round.
 */
import type { AdaptiveArrivals, Observation } from '../engine/engine.ts';
import type { RequestSpec } from '../model/types.ts';

export interface AdversaryParams {
  /** KV capacity M (a multiple of 16 for vLLM's blocks). */
  readonly memory: number;
  /** The long request: prompt P and output L. */
  readonly longPrompt: number;
  readonly longOutput: number;
  /** The shorts: prompt σ (output 1), and how many (k). */
  readonly shortPrompt: number;
  readonly shorts: number;
  /** Rounds the adversary waits for the long request to start before giving up. */
  readonly patience: number;
}

/** Admission headroom h: the long request fits under every admission limit ⌊(1−α)M⌋ with α ≤ h. */
export const ADVERSARY_HEADROOM = 0.25;

/** The parameters for n requests (n ≥ 1): see the module comment. */
export function adversaryParams(n: number): AdversaryParams {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`the adversary needs n ≥ 1 requests, got ${n}`);
  const k = n - 1;
  const memory = 16 * Math.ceil(Math.max(4 * k * k, 2048) / 16);
  const admit = Math.floor((1 - ADVERSARY_HEADROOM) * memory);
  const longPrompt = 16 * Math.floor((admit - 1) / 16);
  return {
    memory,
    longPrompt,
    longOutput: memory - longPrompt - 32,
    shortPrompt: memory - longPrompt - 2,
    shorts: k,
    patience: 4 * memory,
  };
}

/** Checks the inequalities the construction relies on (throws a RangeError if one fails). */
export function checkParams(p: AdversaryParams): void {
  const { memory: M, longPrompt: P, longOutput: L, shortPrompt: s, shorts: k } = p;
  const ints = [M, P, L, s, k, p.patience];
  if (!ints.every((x) => Number.isSafeInteger(x)) || P < 1 || L < 1 || s < 1 || k < 0)
    throw new RangeError(`bad adversary parameters ${JSON.stringify(p)}`);
  if (P + L > M || s + 1 > M) throw new RangeError(`adversary requests do not fit in M = ${M}`);
  if (L >= 2 && P + 2 + s + 1 <= M)
    throw new RangeError(`a short (σ = ${s}) fits beside the long request (P = ${P}) in its second round`);
}

/** The long request (id 0, arrival 0). */
export function longRequest(p: AdversaryParams): RequestSpec {
  return { id: 0, arrival: 0, prompt: p.longPrompt, output: p.longOutput, predicted: p.longOutput };
}

/** The k shorts (ids 1..k), all arriving in round `arrival`. */
export function shortRequests(p: AdversaryParams, arrival: number): RequestSpec[] {
  const out: RequestSpec[] = [];
  for (let i = 1; i <= p.shorts; i++) out.push({ id: i, arrival, prompt: p.shortPrompt, output: 1, predicted: 1 });
  return out;
}

/**
 * The adaptive source of the construction. One instance plays one run; afterwards
 * `released` is the instance the policy faced (in arrival order) and `longStart` the
 * round the policy started the long request (null if it never did within `patience`).
 */
export class BlockThenFlood implements AdaptiveArrivals {
  readonly released: RequestSpec[] = [];
  longStart: number | null = null;
  shortArrival: number | null = null;
  private done = false;

  constructor(readonly params: AdversaryParams) {
    checkParams(params);
  }

  poll(obs: Observation): readonly RequestSpec[] | null {
    if (this.done) return null;
    if (this.released.length === 0) {
      const long = { ...longRequest(this.params), arrival: obs.now };
      if (obs.now !== 0) throw new Error('the adversary must be polled from round 0');
      this.released.push(long);
      return [long];
    }
    const d = obs.starts.get(0);
    if (d !== undefined) {
      this.longStart = d;
      this.done = true;
      if (this.params.shorts === 0) return null;
      this.shortArrival = obs.now;
      const shorts = shortRequests(this.params, obs.now);
      this.released.push(...shorts);
      return shorts;
    }
    if (obs.round >= this.params.patience) {
      this.done = true;
      return null;
    }
    return [];
  }
}

/** A schedule of a released instance: starts indexed like `requests`. */
export interface AdversarySchedule {
  readonly objective: number;
  readonly longStart: number;
  /** Start round of every request, in the order of `adversaryInstance` (long first). */
  readonly starts: number[];
}

/** The instance released when the shorts arrive in round `shortArrival` (null: never released). */
export function adversaryInstance(p: AdversaryParams, shortArrival: number | null): RequestSpec[] {
  return shortArrival === null ? [longRequest(p)] : [longRequest(p), ...shortRequests(p, shortArrival)];
}

/**
 * The exact hindsight optimum of the instance released with shorts arriving in round
 * `shortArrival` (null: only the long request): minimum over the long request's start t
 * of the greedy placement of the shorts (proof in the module comment).
 */
export function adversaryOptimum(p: AdversaryParams, shortArrival: number | null): AdversarySchedule {
  checkParams(p);
  const { memory: M, longPrompt: P, longOutput: L, shortPrompt: s } = p;
  if (shortArrival === null || p.shorts === 0) return { objective: L, longStart: 0, starts: [0] };
  const a = shortArrival;
  const k = p.shorts;
  const w = s + 1;
  const c0 = Math.floor(M / w);
  const held = (t: number, r: number) => (r >= t && r < t + L ? P + (r - t) + 1 : 0);
  const cap = (t: number, r: number) => Math.floor((M - held(t, r)) / w);
  /** Greedy shorts' cost given t; `out` (if given) receives their starts. */
  const shortsCost = (t: number, out?: number[]): number => {
    let cost = 0;
    let left = k;
    let r = a;
    while (left > 0) {
      const c = cap(t, r);
      if (c === 0) {
        // Inside the long request's run (outside it c₀ ≥ 1): it only grows, so nothing
        // fits until it ends.
        r = t + L;
        continue;
      }
      const m = Math.min(c, left);
      cost += m * (r + 1 - a);
      if (out) for (let i = 0; i < m; i++) out.push(r);
      left -= m;
      r++;
    }
    return cost;
  };
  const tMax = a + Math.ceil(k / c0);
  let best = Infinity;
  let bestT = 0;
  for (let t = 0; t <= tMax; t++) {
    const z = t + L + shortsCost(t);
    if (z < best) {
      best = z;
      bestT = t;
    }
  }
  const starts = [bestT];
  shortsCost(bestT, starts);
  return { objective: best, longStart: bestT, starts };
}

/**
 * Tokens held in every round by a schedule of `requests` (starts indexed alike), and the
 * first round above M (−1 if none): the memory check of model.md §1.
 */
export function scheduleRoundUse(
  memory: number,
  requests: readonly RequestSpec[],
  starts: readonly number[],
): { use: Int32Array; firstOver: number } {
  let end = 0;
  requests.forEach((q, i) => {
    const st = starts[i];
    if (st === undefined || !Number.isInteger(st) || st < q.arrival)
      throw new RangeError(`request ${q.id}: start ${st} is before its arrival ${q.arrival}`);
    end = Math.max(end, st + q.output);
  });
  const use = new Int32Array(end);
  requests.forEach((q, i) => {
    const st = starts[i] as number;
    for (let k = 0; k < q.output; k++) use[st + k] = (use[st + k] as number) + q.prompt + k + 1;
  });
  let firstOver = -1;
  for (let r = 0; r < end; r++) {
    if ((use[r] as number) > memory) {
      firstOver = r;
      break;
    }
  }
  return { use, firstOver };
}

/** Σ (start + o − a) of a schedule. */
export function scheduleCost(requests: readonly RequestSpec[], starts: readonly number[]): number {
  let z = 0;
  requests.forEach((q, i) => (z += (starts[i] as number) + q.output - q.arrival));
  return z;
}
