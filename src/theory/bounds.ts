/**
 * Lower bounds on the total latency of the requests that have not started yet, given
 * the requests already running (used at every node of the branch and bound, bnb.ts).
 *
 * All bounds are bounds on order statistics: if c_(1) ≤ … ≤ c_(m) are the completion
 * times of the m waiting requests in any feasible schedule, each bound gives a vector
 * L with c_(k) ≥ L_k for every k; the per-k maximum of valid vectors is valid, and
 * Σ_k L_k − Σ a_j bounds the waiting requests' latency.
 *
 * 1. Release bound: c_j ≥ max(a_j, t) + o_j, sorted.
 * 2. Area bound: the k requests that complete first hold, between t and c_(k), at least
 *    the k smallest areas Σ_{k'=1..o}(s + k'); the free token-rounds from t on are
 *    M − (tokens of the running requests) per round.
 * 3. Peak-machine bounds, one per threshold β: let B = {requests with peak w = s + o ≥ β}.
 *    For i, j ∈ B with c_i ≤ c_j, if j runs in i's last round it holds at most M − w_i − s_j
 *    ≤ M − β − s_j tokens there, so it has run at most M − β − s_j rounds by c_i and at
 *    least q_j = min(o_j, w_j + β − M) of its rounds come after c_i. Hence the last q_j rounds of the
 *    requests of B are pairwise disjoint: a single machine on which request j is a job of
 *    length q_j released at max(a_j, t) + o_j − q_j; the last rounds of the running
 *    requests of B are fixed blocks. Preemptive SRPT maximises the number of completed
 *    jobs by every time on one machine, so its completion times bound the order statistics.
 *    β ≤ M/2 subsumes the "at most one request above M/2 tokens" argument.
 * 4. Pair-machine bound (pairMachine below): a sharper single-machine argument over the
 *    ordered pairs of large requests, with a threshold θ = ⌊M/2⌋.
 * 5. Area bound with idle tokens (areaWasteBound): 2. minus the token-rounds that must stay
 *    idle before each completion.
 * 6. Coupled bound (coupledBound): 2., 4. and 5. combined for the k first completers.
 * 7. Sawtooth bound (sawtoothBound below): memory rises between completions, so rounds
 *    before a completion are partly idle; a Lagrangian relaxation prices how many
 *    completions each request can "see" during its life.
 */
import type { Prepared } from './problem.ts';

export interface BoundWork {
  /** Scratch arrays sized n (reused between calls). */
  readonly vec: Float64Array;
  readonly tmp: Float64Array;
  readonly rel: Float64Array;
  readonly len: Float64Array;
  readonly order: Int32Array;
  readonly done: Float64Array;
  readonly blocksStart: Int32Array;
  readonly blocksEnd: Int32Array;
  readonly inP: Uint8Array;
  readonly mark: Uint8Array;
}

export function boundWork(n: number): BoundWork {
  return {
    vec: new Float64Array(n),
    tmp: new Float64Array(n),
    rel: new Float64Array(n),
    len: new Float64Array(n),
    order: new Int32Array(n),
    done: new Float64Array(n),
    blocksStart: new Int32Array(n),
    blocksEnd: new Int32Array(n),
    inP: new Uint8Array(n),
    mark: new Uint8Array(n),
  };
}

/** A node of the search: round t, what runs, what waits. */
export interface NodeView {
  readonly t: number;
  /** Tokens held by the started requests in round r (r ≥ t); rounds past the array hold 0. */
  readonly usage: Int32Array;
  /** Indices of the waiting requests. */
  readonly waiting: ArrayLike<number>;
  readonly nWaiting: number;
  /** Indices and starts of the requests running at t (started before t, c > t). */
  readonly running: ArrayLike<number>;
  readonly runningStart: ArrayLike<number>;
  readonly nRunning: number;
  /** Every started request (index, start); the running ones among them. */
  readonly started: ArrayLike<number>;
  readonly startedAt: ArrayLike<number>;
  readonly nStarted: number;
  /**
   * Requests of the instance that are neither started nor among `waiting` (a bound on a
   * subset); they may complete anywhere, which the sawtooth bound (7.) must allow for.
   */
  readonly outside?: number;
}

export interface BoundOptions {
  readonly area: boolean;
  /** Thresholds β for the peak-machine bounds. */
  readonly betas: readonly number[];
  /** The pair-machine bound (4.) for the requests with 2w > M. */
  readonly pair: boolean;
  /** Subtract the unavoidable idle tokens between completions from the area bound (5.). */
  readonly waste?: boolean;
  /** The coupled area/pair-machine bound (6.). */
  readonly coupled?: boolean;
  /** The sawtooth bound (7.): multipliers λ of its Lagrangian relaxation (empty or absent: off). */
  readonly sawtooth?: readonly number[];
}

/** Σ_{ℓ=1..g} min(M, ℓ − 1): idle tokens forced in the g rounds before a completion. */
function wasteOfGap(g: number, M: number): number {
  return g <= M + 1 ? (g * (g - 1)) / 2 : (M * (M + 1)) / 2 + (g - M - 1) * M;
}

/** Least Σ wasteOfGap over P gaps that partition L rounds (W is convex: split evenly). */
export function minWaste(L: number, P: number, M: number): number {
  if (L <= 0 || P <= 0) return 0;
  const q = Math.floor(L / P);
  const rem = L - q * P;
  return rem * wasteOfGap(q + 1, M) + (P - rem) * wasteOfGap(q, M);
}

function sortPrefix(x: Float64Array, m: number): void {
  // insertion sort: m is small (≤ a few hundred)
  for (let i = 1; i < m; i++) {
    const v = x[i] as number;
    let j = i - 1;
    while (j >= 0 && (x[j] as number) > v) {
      x[j + 1] = x[j] as number;
      j--;
    }
    x[j + 1] = v;
  }
}

/** Area bound into `out` (sorted lengths m): out[k] = earliest T with free(t..T−1) ≥ Σ of the k+1 smallest areas. */
function areaBound(p: Prepared, v: NodeView, w: BoundWork, out: Float64Array, waste = false): void {
  if (waste) {
    areaWasteBound(p, v, w, out);
    return;
  }
  const m = v.nWaiting;
  const ar = w.tmp;
  for (let k = 0; k < m; k++) ar[k] = p.area[v.waiting[k] as number] as number;
  sortPrefix(ar, m);
  const M = p.memory;
  const use = v.usage;
  let r = v.t;
  let cum = 0;
  let need = 0;
  for (let k = 0; k < m; k++) {
    need += ar[k] as number;
    while (cum < need && r < use.length) {
      cum += M - (use[r] as number);
      r++;
    }
    if (cum >= need) out[k] = r;
    else out[k] = r + Math.ceil((need - cum) / M);
  }
}

/**
 * Area bound with idle tokens (5.). Between consecutive completions every running request
 * keeps running, so ℓ rounds before the next completion the batch holds at least ℓ − 1
 * fewer tokens than in that completion's last round (each member is ℓ − 1 tokens younger),
 * i.e. at most M − (ℓ − 1). After the last running request's completion (t_free), the
 * waiting requests' completions are the only ones, so the k first of them ending by T
 * leave at least minWaste(T − t_free, k) idle token-rounds in [t_free, T) (even gaps are
 * the cheapest; more completion points only lower it, so allowing all k there is safe).
 */
function areaWasteBound(p: Prepared, v: NodeView, w: BoundWork, out: Float64Array): void {
  const m = v.nWaiting;
  const ar = w.tmp;
  for (let k = 0; k < m; k++) ar[k] = p.area[v.waiting[k] as number] as number;
  sortPrefix(ar, m);
  const M = p.memory;
  const use = v.usage;
  const t = v.t;
  let tFree = t;
  for (let r = use.length - 1; r >= t; r--) {
    if ((use[r] as number) > 0) {
      tFree = r + 1;
      break;
    }
  }
  // free token-rounds in [t, T): prefix over [t, tFree), then M per round
  let freeBefore = 0;
  for (let r = t; r < tFree; r++) freeBefore += M - (use[r] as number);
  const cap = (T: number, k: number): number => {
    if (T <= tFree) {
      let z = 0;
      for (let r = t; r < T; r++) z += M - (use[r] as number);
      return z;
    }
    return freeBefore + (T - tFree) * M - minWaste(T - tFree, k, M);
  };
  let need = 0;
  let prev = t;
  for (let k = 0; k < m; k++) {
    need += ar[k] as number;
    // smallest T ≥ prev with cap(T, k + 1) ≥ need (cap is nondecreasing in T)
    let lo = prev;
    let hi = Math.max(prev + 1, tFree + 1);
    while (cap(hi, k + 1) < need) hi = lo + 2 * (hi - lo) + 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cap(mid, k + 1) >= need) hi = mid;
      else lo = mid + 1;
    }
    out[k] = lo;
    prev = lo;
  }
}

/**
 * SRPT on one machine with fixed blocks; jobs (rel, len) for idx[0..m); writes completion
 * times (unsorted) into done[0..m). Blocks are disjoint, sorted by start.
 */
function srpt(
  rel: Float64Array,
  len: Float64Array,
  m: number,
  bs: Int32Array,
  be: Int32Array,
  nb: number,
  order: Int32Array,
  done: Float64Array,
): void {
  for (let k = 0; k < m; k++) order[k] = k;
  // sort by release (insertion)
  for (let i = 1; i < m; i++) {
    const v = order[i] as number;
    const rv = rel[v] as number;
    let j = i - 1;
    while (j >= 0 && (rel[order[j] as number] as number) > rv) {
      order[j + 1] = order[j] as number;
      j--;
    }
    order[j + 1] = v;
  }
  const rem = len; // consumed in place (caller passes scratch)
  let next = 0; // next job (in release order) not yet released
  let time = 0;
  let b = 0;
  let finished = 0;
  // active set: jobs released & not done; small m → linear scans
  const active: number[] = [];
  if (m > 0) time = rel[order[0] as number] as number;
  while (finished < m) {
    while (next < m && (rel[order[next] as number] as number) <= time) active.push(order[next++] as number);
    while (b < nb && (be[b] as number) <= time) b++;
    if (b < nb && (bs[b] as number) <= time) {
      time = be[b] as number;
      b++;
      continue;
    }
    if (active.length === 0) {
      time = rel[order[next] as number] as number;
      continue;
    }
    let bi = 0;
    for (let i = 1; i < active.length; i++)
      if ((rem[active[i] as number] as number) < (rem[active[bi] as number] as number)) bi = i;
    const j = active[bi] as number;
    let until = time + (rem[j] as number);
    if (next < m) until = Math.min(until, rel[order[next] as number] as number);
    if (b < nb) until = Math.min(until, bs[b] as number);
    rem[j] = (rem[j] as number) - (until - time);
    time = until;
    if ((rem[j] as number) <= 0) {
      done[j] = time;
      active[bi] = active[active.length - 1] as number;
      active.pop();
      finished++;
    }
  }
}

/** Peak-machine bound for threshold β into out (sorted, length m). */
function peakBound(p: Prepared, v: NodeView, w: BoundWork, beta: number, out: Float64Array): void {
  const M = p.memory;
  const t = v.t;
  const m = v.nWaiting;
  // blocks from running requests of B
  let nb = 0;
  for (let k = 0; k < v.nRunning; k++) {
    const i = v.running[k] as number;
    const wi = p.w[i] as number;
    if (wi < beta) continue;
    const q = Math.min(p.o[i] as number, wi + beta - M);
    if (q <= 0) continue;
    const c = (v.runningStart[k] as number) + (p.o[i] as number);
    const st = Math.max(t, c - q);
    if (st >= c) continue;
    // insert sorted by start
    let j = nb - 1;
    while (j >= 0 && (w.blocksStart[j] as number) > st) {
      w.blocksStart[j + 1] = w.blocksStart[j] as number;
      w.blocksEnd[j + 1] = w.blocksEnd[j] as number;
      j--;
    }
    w.blocksStart[j + 1] = st;
    w.blocksEnd[j + 1] = c;
    nb++;
  }
  let mj = 0;
  let nOut = 0;
  const idx: number[] = [];
  for (let k = 0; k < m; k++) {
    const i = v.waiting[k] as number;
    const wi = p.w[i] as number;
    const r = Math.max(p.a[i] as number, t) + (p.o[i] as number);
    const q = Math.min(p.o[i] as number, wi + beta - M);
    if (wi < beta || q <= 0) {
      out[nOut++] = r;
      continue;
    }
    w.rel[mj] = r - q;
    w.len[mj] = q;
    idx.push(i);
    mj++;
  }
  if (mj > 0) {
    srpt(w.rel, w.len, mj, w.blocksStart, w.blocksEnd, nb, w.order, w.done);
    for (let k = 0; k < mj; k++) out[nOut++] = w.done[k] as number;
  }
  sortPrefix(out, m);
}

/** Release bound (sorted) into out. */
function releaseBound(p: Prepared, v: NodeView, out: Float64Array): void {
  for (let k = 0; k < v.nWaiting; k++) {
    const i = v.waiting[k] as number;
    out[k] = Math.max(p.a[i] as number, v.t) + (p.o[i] as number);
  }
  sortPrefix(out, v.nWaiting);
}

/**
 * Pair-machine bound (4.). For any two requests with c_i ≤ c_j: if j runs in i's last
 * round, j has run at most M − w_i − s_j rounds by then, so c_j − c_i ≥ w_i + w_j − M;
 * otherwise c_j − c_i ≥ o_j. With θ = ⌊M/2⌋, α_i = min(w_i − θ, M − θ − s_max) and
 * β_j = w_j − M + θ we get c_j − c_i ≥ α_i + β_j for every ordered pair of the requests
 * with α + β > 0 (set P), so the intervals [c_j − β_j, c_j + α_j) are pairwise disjoint:
 * one machine, job j of length α_j + β_j released at max(a_j, t) + o_j − β_j, "completion"
 * c'_j = c_j + α_j. SRPT minimises Σ c'_j; Σ_j c_j ≥ SRPT − Σ α_j. The intervals of
 * requests already started are fixed blocks.
 * Returns Σ_{j ∈ W∩P} c_j (a lower bound) and marks those requests in `inP`.
 */
export function pairMachine(p: Prepared, v: NodeView, w: BoundWork, inP: Uint8Array): number {
  const { started, startedAt, nStarted } = v;
  const M = p.memory;
  const theta = Math.floor(M / 2);
  const sMax = pairSMax(p);
  const alpha = (i: number): number => Math.min((p.w[i] as number) - theta, M - theta - sMax);
  const beta = (i: number): number => (p.w[i] as number) - M + theta;
  let nb = 0;
  for (let k = 0; k < nStarted; k++) {
    const i = started[k] as number;
    const al = alpha(i);
    const be = beta(i);
    if (al + be <= 0) continue;
    const c = (startedAt[k] as number) + (p.o[i] as number);
    const st = c - be;
    const en = c + al;
    if (en <= v.t - M) continue;
    let j = nb - 1;
    while (j >= 0 && (w.blocksStart[j] as number) > st) {
      w.blocksStart[j + 1] = w.blocksStart[j] as number;
      w.blocksEnd[j + 1] = w.blocksEnd[j] as number;
      j--;
    }
    w.blocksStart[j + 1] = st;
    w.blocksEnd[j + 1] = en;
    nb++;
  }
  let mj = 0;
  let sumAlpha = 0;
  for (let k = 0; k < v.nWaiting; k++) {
    const i = v.waiting[k] as number;
    const al = alpha(i);
    const be = beta(i);
    if (al + be <= 0) {
      inP[i] = 0;
      continue;
    }
    inP[i] = 1;
    w.rel[mj] = Math.max(p.a[i] as number, v.t) + (p.o[i] as number) - be;
    w.len[mj] = al + be;
    sumAlpha += al;
    mj++;
  }
  if (mj === 0) return 0;
  srpt(w.rel, w.len, mj, w.blocksStart, w.blocksEnd, nb, w.order, w.done);
  let z = 0;
  for (let k = 0; k < mj; k++) z += w.done[k] as number;
  return z - sumAlpha;
}

const sMaxCache = new WeakMap<Prepared, number>();
function pairSMax(p: Prepared): number {
  let v = sMaxCache.get(p);
  if (v === undefined) {
    v = 0;
    for (let i = 0; i < p.n; i++) if (2 * (p.w[i] as number) - p.memory > 0) v = Math.max(v, p.s[i] as number);
    sMaxCache.set(p, v);
  }
  return v;
}

/**
 * Coupled bound (6.): the k first completers K contain m requests of P (the pair-machine
 * set, α + β > 0) and k − m others. For T = c_(k): (i) all of K's area lies in [t, T);
 * (ii) the m machine intervals are disjoint, end by T + α and start after the earliest
 * machine release, so T ≥ r_P + Σℓ − α_max; (iii) in the β_j rounds before c_j, request j
 * holds ≥ w_j − β_j + 1 = M − θ + 1 tokens (counting only min(β_j, o_j) rounds, where
 * j runs), so the other requests hold ≤ θ − 1: the
 * requests outside P get at most F(r) − (M − θ + 1) there. The β-rounds before t_free
 * (while earlier requests still run) are not counted. For every m the smallest areas,
 * lengths and β's are taken separately (a relaxation); c_(k) ≥ min over m.
 */
function coupledBound(p: Prepared, v: NodeView, out: Float64Array): boolean {
  const M = p.memory;
  const theta = Math.floor(M / 2);
  const sMax = pairSMax(p);
  const t = v.t;
  const m = v.nWaiting;
  const areaN: number[] = [];
  const areaP: number[] = [];
  const lenP: number[] = [];
  const betaP: number[] = [];
  let alphaMax = 0;
  let relP = Infinity;
  for (let k = 0; k < m; k++) {
    const i = v.waiting[k] as number;
    const al = Math.min((p.w[i] as number) - theta, M - theta - sMax);
    const be = (p.w[i] as number) - M + theta;
    if (al + be <= 0 || be <= 0) {
      areaN.push(p.area[i] as number);
      continue;
    }
    areaP.push(p.area[i] as number);
    lenP.push(al + be);
    betaP.push(Math.min(be, p.o[i] as number)); // heavy rounds: j runs in them
    alphaMax = Math.max(alphaMax, al);
    relP = Math.min(relP, Math.max(p.a[i] as number, t) + (p.o[i] as number) - be);
  }
  if (areaP.length === 0) return false;
  const asc = (x: number, y: number) => x - y;
  areaN.sort(asc);
  areaP.sort(asc);
  lenP.sort(asc);
  betaP.sort(asc);
  const cum = (xs: number[]) => {
    const c = [0];
    for (const x of xs) c.push((c[c.length - 1] as number) + x);
    return c;
  };
  const cAN = cum(areaN);
  const cAP = cum(areaP);
  const cL = cum(lenP);
  const cB = cum(betaP);
  // free token-rounds: prefix sums over the usage array, M beyond it
  const use = v.usage;
  let tFree = t;
  for (let r = use.length - 1; r >= t; r--) {
    if ((use[r] as number) > 0) {
      tFree = r + 1;
      break;
    }
  }
  const pre = new Float64Array(tFree - t + 1);
  for (let r = t; r < tFree; r++) pre[r - t + 1] = (pre[r - t] as number) + M - (use[r] as number);
  const free = (T: number): number =>
    T <= tFree ? (pre[Math.max(0, T - t)] as number) : (pre[tFree - t] as number) + (T - tFree) * M;
  const heavy = M - theta + 1;
  const nN = areaN.length;
  const nP = areaP.length;
  let prev = t;
  for (let k = 1; k <= m; k++) {
    let bestT = Infinity;
    for (let mm = Math.max(0, k - nN); mm <= Math.min(k, nP); mm++) {
      const aN = cAN[k - mm] as number;
      const aAll = aN + (cAP[mm] as number);
      let lo = prev;
      if (mm > 0) lo = Math.max(lo, Math.ceil(relP + (cL[mm] as number) - alphaMax));
      const B = cB[mm] as number;
      const ok = (T: number): boolean => {
        const F = free(T);
        if (F < aAll) return false;
        const bAfter = Math.max(0, B - Math.max(0, Math.min(T, tFree) - t));
        return F - bAfter * heavy >= aN;
      };
      if (lo >= bestT) continue;
      let hi = lo;
      let step = 1;
      while (!ok(hi)) {
        hi = lo + step;
        step *= 2;
        if (hi >= bestT) break;
      }
      if (hi >= bestT && !ok(hi)) continue;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ok(mid)) hi = mid;
        else lo = mid + 1;
      }
      bestT = Math.min(bestT, lo);
    }
    out[k - 1] = bestT;
    prev = bestT;
  }
  return true;
}

/**
 * Least S + λQ over the completion rounds a request can see in its life (7.): positions
 * 1..o of its life (it holds s + q tokens at position q), a set E of positions that are
 * completion rounds (o ∈ E: its own), S = Σ over the rounds of the distance to the next
 * point of E (a run of g rounds ending at a point costs g(g − 1)/2), Q = Σ_{q∈E} (s + q).
 * Dynamic program over the last point: O(o²).
 */
export function sawtoothCost(s: number, o: number, lambda: number): number {
  const F = new Float64Array(o + 1);
  for (let q = 1; q <= o; q++) {
    let best = Infinity;
    for (let q0 = 0; q0 < q; q0++) {
      const g = q - q0;
      const c = (F[q0] as number) + (g * (g - 1)) / 2;
      if (c < best) best = c;
    }
    F[q] = best + lambda * (s + q);
  }
  return F[o] as number;
}

interface SawTable {
  /** lambdas.length × n: area + sawtoothCost(λ), and the requests sorted by it. */
  readonly lambdas: readonly number[];
  readonly value: Float64Array[];
  readonly order: Int32Array[];
}

const sawTables = new WeakMap<Prepared, SawTable>();

function sawTable(p: Prepared, lambdas: readonly number[]): SawTable {
  const hit = sawTables.get(p);
  if (hit !== undefined && hit.lambdas.length === lambdas.length && hit.lambdas.every((l, i) => l === lambdas[i]))
    return hit;
  const value: Float64Array[] = [];
  const order: Int32Array[] = [];
  for (const lambda of lambdas) {
    if (!(lambda >= 0) || !Number.isFinite(lambda))
      throw new RangeError(`sawtooth multipliers must be finite and ≥ 0, got ${lambda}`);
    const v = new Float64Array(p.n);
    // identical (s, o) pairs are common: cache the DP per pair
    const memo = new Map<number, number>();
    for (let j = 0; j < p.n; j++) {
      const key = (p.s[j] as number) * 65536 + (p.o[j] as number);
      let c = memo.get(key);
      if (c === undefined) {
        c = sawtoothCost(p.s[j] as number, p.o[j] as number, lambda);
        memo.set(key, c);
      }
      v[j] = (p.area[j] as number) + c;
    }
    value.push(v);
    order.push(Int32Array.from({ length: p.n }, (_, j) => j).sort((x, y) => (v[x] as number) - (v[y] as number)));
  }
  const tab = { lambdas: [...lambdas], value, order };
  sawTables.set(p, tab);
  return tab;
}

/**
 * Sawtooth bound (7.) into out (sorted, length m). Let K be the k first waiting requests to
 * complete and T = c_(k). Call a round e a completion round when some request's last round
 * is e. (i) If the next completion round after r is r + ℓ, every request running at r still
 * runs at r + ℓ holding ℓ more tokens, so round r leaves ≥ ℓ · (requests running at r) tokens
 * idle; summed over the life of each j ∈ K this is S_j above. Hence
 * F(T) := Σ_{r=t}^{T−1} (M − usage(r)) ≥ Σ_K (area_j + S_j).
 * (ii) At a completion round e the members of K hold ≤ M − usage(e) tokens: Σ_K Q_j ≤ Mk + G(T),
 * G(T) = Σ (M − usage(e)) over the distinct last rounds e < T of the running requests (K's own
 * completions give ≤ k more rounds). For λ ≥ 0, adding λ·(Σ_K Q_j − Mk − G(T)) ≤ 0 to (i) and
 * minimising over each j's completion pattern and over K gives
 * F(T) + λ(Mk + G(T)) ≥ Σ of the k smallest (area_j + sawtoothCost_j(λ)); c_(k) is at least
 * the smallest such T (the left side only grows with T). Each k takes the best λ given.
 * On a subset of the waiting requests (v.outside > 0), each request left out may complete
 * inside K's lives too and adds one more completion round of ≤ M to (ii).
 */
function sawtoothBound(p: Prepared, v: NodeView, w: BoundWork, lambdas: readonly number[], out: Float64Array): void {
  const m = v.nWaiting;
  const tab = sawTable(p, lambdas);
  const M = p.memory;
  const use = v.usage;
  const t = v.t;
  const mark = w.mark;
  for (let k = 0; k < m; k++) mark[v.waiting[k] as number] = 1;
  // distinct last rounds ≥ t of the running requests, as flags over rounds
  const last = w.blocksEnd;
  let nLast = 0;
  for (let k = 0; k < v.nRunning; k++) {
    const j = v.running[k] as number;
    const e = (v.runningStart[k] as number) + (p.o[j] as number) - 1;
    if (e >= t) last[nLast++] = e;
  }
  const lastSorted = Array.from(last.subarray(0, nLast)).sort((x, y) => x - y);
  const outside = v.outside ?? 0;
  const freeAt = (r: number): number => M - (r < use.length ? (use[r] as number) : 0);
  for (let k = 0; k < m; k++) out[k] = t;
  for (let l = 0; l < tab.lambdas.length; l++) {
    const lambda = tab.lambdas[l] as number;
    const val = tab.value[l] as Float64Array;
    const ord = tab.order[l] as Int32Array;
    let T = t;
    let F = 0;
    let G = 0;
    let li = 0;
    let H = 0;
    let k = 0;
    for (let q = 0; q < p.n && k < m; q++) {
      const j = ord[q] as number;
      if (mark[j] === 0) continue;
      H += val[j] as number;
      k++;
      // advance T until F(T) + λ(Mk + G(T)) ≥ H (with a tolerance: H and λ·… are sums of
      // fractions, and rounding must never push T one round too far)
      const need = H - 1e-9 * Math.max(1, H);
      while (F + lambda * (M * (k + outside) + G) < need) {
        F += freeAt(T);
        // T's round now lies below the new T: count a running request's last round there
        while (li < lastSorted.length && (lastSorted[li] as number) <= T) {
          if (li === 0 || lastSorted[li] !== lastSorted[li - 1]) G += freeAt(lastSorted[li] as number);
          li++;
        }
        T++;
      }
      if (T > (out[k - 1] as number)) out[k - 1] = T;
    }
  }
  for (let k = 0; k < m; k++) mark[v.waiting[k] as number] = 0;
  for (let k = 1; k < m; k++) if ((out[k] as number) < (out[k - 1] as number)) out[k] = out[k - 1] as number;
}

/**
 * Lower bound on Σ_{j waiting} (c_j − a_j). `which` (optional) receives, per bound
 * (release, area, each β), the bound's own total, for diagnostics. `enough` (optional):
 * once the cheaper bounds reach it (the node is pruned anyway), the sawtooth bound, the
 * dearest, is skipped.
 */
export function waitingLowerBound(
  p: Prepared,
  v: NodeView,
  w: BoundWork,
  opts: BoundOptions,
  which?: number[],
  enough = Infinity,
): number {
  const m = v.nWaiting;
  if (m === 0) return 0;
  const best = w.vec;
  releaseBound(p, v, best);
  let sumA = 0;
  for (let k = 0; k < m; k++) sumA += p.a[v.waiting[k] as number] as number;
  if (which) which.push(sum(best, m) - sumA);
  const tmp = new Float64Array(m);
  if (opts.area) {
    areaBound(p, v, w, tmp, opts.waste ?? false);
    if (which) which.push(sum(tmp, m) - sumA);
    for (let k = 0; k < m; k++) if ((tmp[k] as number) > (best[k] as number)) best[k] = tmp[k] as number;
  }
  for (const beta of opts.betas) {
    peakBound(p, v, w, beta, tmp);
    if (which) which.push(sum(tmp, m) - sumA);
    for (let k = 0; k < m; k++) if ((tmp[k] as number) > (best[k] as number)) best[k] = tmp[k] as number;
  }
  if (opts.coupled && coupledBound(p, v, tmp)) {
    if (which) which.push(sum(tmp, m) - sumA);
    for (let k = 0; k < m; k++) if ((tmp[k] as number) > (best[k] as number)) best[k] = tmp[k] as number;
  }
  let total = sum(best, m) - sumA;
  if (opts.pair) {
    const inP = w.inP;
    const zp = pairMachine(p, v, w, inP);
    // the rest: release and area order statistics over the requests outside P
    const rest: number[] = [];
    for (let k = 0; k < m; k++) {
      const i = v.waiting[k] as number;
      if (inP[i] === 0) rest.push(i);
    }
    let z2 = zp - sumA;
    if (rest.length > 0) {
      const sub: NodeView = { ...v, waiting: rest, nWaiting: rest.length };
      const b2 = new Float64Array(rest.length);
      releaseBound(p, sub, b2);
      if (opts.area) {
        areaBound(p, sub, w, tmp, opts.waste ?? false);
        for (let k = 0; k < rest.length; k++) if ((tmp[k] as number) > (b2[k] as number)) b2[k] = tmp[k] as number;
      }
      z2 += sum(b2, rest.length);
    }
    if (which) which.push(z2);
    if (z2 > total) total = z2;
  }
  if (opts.sawtooth !== undefined && opts.sawtooth.length > 0 && (total < enough || which)) {
    sawtoothBound(p, v, w, opts.sawtooth, tmp);
    if (which) which.push(sum(tmp, m) - sumA);
    for (let k = 0; k < m; k++) if ((tmp[k] as number) > (best[k] as number)) best[k] = tmp[k] as number;
    const z = sum(best, m) - sumA;
    if (z > total) total = z;
  }
  return total;
}

function sum(x: Float64Array, m: number): number {
  let z = 0;
  for (let k = 0; k < m; k++) z += x[k] as number;
  return z;
}
