/**
 * Exact branch and bound for the hindsight optimum (model.md §4), chronological:
 * at round t, with every start before t fixed, choose which subset of the arrived
 * waiting requests starts at t, then go to round t + 1.
 *
 * Pruning (each can be switched off to measure what it buys):
 * - bound: the completed/running requests' latencies are fixed; the waiting ones get
 *   the lower bounds of bounds.ts; a node whose bound reaches the incumbent is cut.
 * - feasibility: a subset is only started if the started requests fit in every future
 *   round on their own (later starts only add tokens), so every leaf is feasible.
 * - symmetry: requests with the same (a, s, o) start in id order.
 * - active schedules (obligations): some optimal schedule has no request that can be
 *   moved one round earlier with all others fixed (moving one earlier never raises the
 *   objective). Moving j from p to p − 1 is infeasible only if round p − 1 cannot take
 *   s_j + 1 more tokens, or some round in [p, p + o_j − 2] is exactly full (every such
 *   round gains one token). So when j starts at p though round p − 1 (final, all its
 *   starts known) had room and p − 1 ≥ a_j, a round in that window must end up holding
 *   exactly M tokens; the search carries the earliest such deadline and cuts a node
 *   that passes it. A request with o = 1 must start as early as room allows.
 * - memo: a state (t, running requests with their starts, waiting set, deadline) seen
 *   before with a smaller or equal fixed cost is cut.
 */
import { boundWork, waitingLowerBound, type BoundOptions, type NodeView } from './bounds.ts';
import type { Prepared } from './problem.ts';

export interface BnbOptions {
  /** Incumbent: starts (by instance index) and its total latency. */
  readonly incumbent: { readonly starts: ArrayLike<number>; readonly value: number };
  readonly bound: BoundOptions;
  readonly symmetry?: boolean;
  readonly obligations?: boolean;
  readonly memo?: boolean;
  /** Latest start of each request (from the incumbent); none → derived from Σo. */
  readonly latestStart?: ArrayLike<number>;
  readonly timeLimitSec?: number;
  /**
   * Nodes visited at most (default: none): a budget that, unlike the clock, gives the
   * same result on every machine (tests and benchmarks that must not depend on load).
   */
  readonly nodeLimit?: number;
  readonly signal?: { readonly aborted: boolean };
  readonly onProgress?: (p: BnbProgress) => void;
  /** Memo entries kept at most (the table is cleared when full). */
  readonly memoLimit?: number;
  /**
   * Use the sawtooth bound (bound.sawtooth) at every node, not only at the root (default
   * false: on the paper's instances it halves the nodes per second and prunes too few more).
   */
  readonly sawtoothAtNodes?: boolean;
  /**
   * A lower bound on the optimum proved elsewhere (the LP): the search stops as optimal
   * as soon as its best schedule reaches it (it cannot prune nodes: it is not a node bound).
   */
  readonly knownLowerBound?: number;
}

export interface BnbProgress {
  bestObjective: number;
  lowerBound: number;
  nodes: number;
  seconds: number;
}

export interface BnbResult {
  status: 'optimal' | 'time-limit';
  starts: Int32Array;
  value: number;
  /** Lower bound proved (= value when optimal). */
  lowerBound: number;
  rootBound: number;
  nodes: number;
  memoHits: number;
  boundCuts: number;
  obligationCuts: number;
  seconds: number;
  /** Why the search stopped early: the time limit (or a cancel), or the JavaScript stack
   *  (the search recurses once per round and per start: horizons of many thousand rounds
   *  can exceed it), or the node budget. Either way the best schedule and the root bound stay valid. */
  stoppedBy: 'time' | 'depth' | 'nodes' | null;
}

class Stop extends Error {}
/** Thrown when the best schedule reaches `knownLowerBound`: proven optimal. */
class Reached extends Error {}

export function branchAndBound(p: Prepared, opts: BnbOptions): BnbResult {
  const t0 = performance.now();
  const n = p.n;
  const M = p.memory;
  const useSym = opts.symmetry ?? true;
  const useObl = opts.obligations ?? true;
  const useMemo = opts.memo ?? true;
  const memoLimit = opts.memoLimit ?? 250_000;
  const limitMs = (opts.timeLimitSec ?? Infinity) * 1000;
  const nodeLimit = opts.nodeLimit ?? Infinity;
  let outOfNodes = false;
  // The clock is read every 1024 nodes; with many requests a node's bounds take
  // milliseconds (n = 10,000: 140 ms), so then every node (1024 nodes overran a 1 s limit by 140 s).
  const checkMask = n >= 200 || opts.nodeLimit !== undefined ? 0 : 1023;

  let bestValue = opts.incumbent.value;
  const best = Int32Array.from(opts.incumbent.starts);
  const known = opts.knownLowerBound ?? -Infinity;

  // Latest useful start: c_j − a_j ≤ UB − Σ_{i≠j} o_i for a schedule better than UB.
  const latest = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const byOthers = (p.a[j] as number) + bestValue - 1 - (p.sumO - (p.o[j] as number)) - (p.o[j] as number);
    latest[j] = opts.latestStart ? Math.min(opts.latestStart[j] as number, byOthers) : byOthers;
  }
  let horizon = 0;
  let maxO = 0;
  for (let j = 0; j < n; j++) {
    horizon = Math.max(horizon, (latest[j] as number) + (p.o[j] as number));
    maxO = Math.max(maxO, p.o[j] as number);
  }
  const usage = new Int32Array(Math.max(0, horizon) + maxO + 2);

  // Candidate order: by o, then s, then arrival, then index (MC-SF's order first).
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (x, y) =>
      (p.o[x] as number) - (p.o[y] as number) ||
      (p.s[x] as number) - (p.s[y] as number) ||
      (p.a[x] as number) - (p.a[y] as number) ||
      x - y,
  );
  // Symmetry: previous request of the same (a, s, o), or −1.
  const symPrev = new Int32Array(n).fill(-1);
  if (useSym) {
    const last = new Map<string, number>();
    const byIndex = Array.from({ length: n }, (_, i) => i);
    for (const i of byIndex) {
      const k = `${p.a[i]},${p.s[i]},${p.o[i]}`;
      const prev = last.get(k);
      if (prev !== undefined) symPrev[i] = prev;
      last.set(k, i);
    }
  }

  const startAt = new Int32Array(n).fill(-1);
  const startedList = new Int32Array(n);
  const startedAtList = new Int32Array(n);
  let nStarted = 0;
  const waiting = new Int32Array(n);
  const runningIdx = new Int32Array(n);
  const runningSt = new Int32Array(n);
  const work = boundWork(n);
  const memo = new Map<string, number>();

  let nodes = 0;
  let memoHits = 0;
  let boundCuts = 0;
  let obligationCuts = 0;
  let rootBound = -Infinity;
  let lastReport = t0;
  let stopped = false;

  const add = (j: number, t: number, sign: number): void => {
    const s = p.s[j] as number;
    const o = p.o[j] as number;
    for (let k = 0; k < o; k++) usage[t + k] = (usage[t + k] as number) + sign * (s + k + 1);
  };
  const fits = (j: number, t: number): boolean => {
    const s = p.s[j] as number;
    const o = p.o[j] as number;
    for (let k = 0; k < o; k++) if ((usage[t + k] as number) + s + k + 1 > M) return false;
    return true;
  };

  const innerBound: BoundOptions = { ...opts.bound, sawtooth: [] };
  // `enough`: a bound at least this large prunes the node (cheaper bounds first); the root
  // (enough = ∞) gets every bound.
  const nodeBound = (t: number, cost: number, enough = Infinity): number => {
    let nw = 0;
    let nr = 0;
    for (let j = 0; j < n; j++) {
      const st = startAt[j] as number;
      if (st < 0) waiting[nw++] = j;
      else if (st + (p.o[j] as number) > t) {
        runningIdx[nr] = j;
        runningSt[nr++] = st;
      }
    }
    const view: NodeView = {
      t,
      usage,
      waiting,
      nWaiting: nw,
      running: runningIdx,
      runningStart: runningSt,
      nRunning: nr,
      started: startedList,
      startedAt: startedAtList,
      nStarted,
    };
    return (
      cost +
      waitingLowerBound(
        p,
        view,
        work,
        enough === Infinity || opts.sawtoothAtNodes ? opts.bound : innerBound,
        undefined,
        enough - cost,
      )
    );
  };

  const memoKey = (t: number, dl: number): string => {
    let key = `${t}|${dl === Infinity ? '-' : dl - t}|`;
    let bits = 0;
    let nb = 0;
    for (let j = 0; j < n; j++) {
      const st = startAt[j] as number;
      if (st >= 0 && st + (p.o[j] as number) > t) key += `${j}@${t - st},`;
      if (st < 0) bits |= 1 << nb;
      nb++;
      if (nb === 30) {
        key += bits.toString(36) + '.';
        bits = 0;
        nb = 0;
      }
    }
    return key + bits.toString(36);
  };

  const checkTime = (): void => {
    const now = performance.now();
    if (now - t0 > limitMs || opts.signal?.aborted) {
      stopped = true;
      throw new Stop();
    }
    if (nodes >= nodeLimit) {
      stopped = true;
      outOfNodes = true;
      throw new Stop();
    }
    if (opts.onProgress && now - lastReport > 500) {
      lastReport = now;
      opts.onProgress({
        bestObjective: bestValue,
        lowerBound: Math.max(rootBound, known),
        nodes,
        seconds: (now - t0) / 1000,
      });
    }
  };

  let waitingCount = n;
  // Candidate lists of the open rounds, stacked (a round's list lives while its subsets are tried).
  let cand = new Int32Array(Math.max(16, n * 64));
  let candTop = 0;

  // Round t: every start < t fixed; `cost` = Σ latency of the started requests.
  const round = (t: number, cost: number, dl: number): void => {
    if (waitingCount === 0) {
      if (cost < bestValue) {
        bestValue = cost;
        best.set(startAt);
        if (bestValue <= known) throw new Reached();
      }
      return;
    }
    if ((++nodes & checkMask) === 0) checkTime();
    // candidates: arrived waiting requests, in `order`
    let nc = 0;
    let nextArrival = Infinity;
    if (cand.length < candTop + n) {
      const bigger = new Int32Array(cand.length * 2);
      bigger.set(cand);
      cand = bigger;
    }
    const c0 = candTop;
    for (const j of order) {
      if ((startAt[j] as number) >= 0) continue;
      if ((p.a[j] as number) <= t) {
        if (t > (latest[j] as number)) {
          boundCuts++;
          return; // started too late to beat the incumbent
        }
        cand[c0 + nc++] = j;
      } else nextArrival = Math.min(nextArrival, p.a[j] as number);
    }
    const isRoot = t === 0 || rootBound === -Infinity;
    const lb = nodeBound(t, cost, isRoot ? Infinity : bestValue);
    if (isRoot) rootBound = Math.max(rootBound, lb);
    if (lb >= bestValue) {
      boundCuts++;
      return;
    }
    if (nc === 0) {
      // nothing can start: go to the next arrival, checking the rounds in between
      let u = t;
      const end = nextArrival;
      let d = dl;
      for (; u < end; u++) {
        if ((usage[u] as number) === M) d = Infinity;
        else if (u >= d) {
          obligationCuts++;
          return;
        }
      }
      round(end, cost, d);
      return;
    }
    if (useMemo) {
      const key = memoKey(t, dl);
      const seen = memo.get(key);
      if (seen !== undefined && seen <= cost) {
        memoHits++;
        return;
      }
      if (memo.size >= memoLimit) memo.clear();
      memo.set(key, cost);
    }
    const base = nc;
    candTop = c0 + nc;
    // Subset enumeration as increasing index sequences (include first: the greedy prefix
    // is tried first, "start nothing more" last). The recursion depth is the number of
    // requests started in this round, not the number of candidates.
    const rec = (k: number, c: number, d: number): void => {
      for (let i = k; i < base; i++) {
        const j = cand[c0 + i] as number;
        const sp = symPrev[j] as number;
        if (sp >= 0 && (startAt[sp] as number) < 0) continue;
        if (!fits(j, t)) continue;
        let d2 = d;
        if (useObl && t - 1 >= (p.a[j] as number) && (usage[t - 1] as number) + (p.s[j] as number) + 1 <= M) {
          const o = p.o[j] as number;
          if (o === 1) {
            obligationCuts++;
            continue;
          }
          d2 = Math.min(d2, t + o - 2);
        }
        add(j, t, 1);
        startAt[j] = t;
        startedList[nStarted] = j;
        startedAtList[nStarted++] = t;
        waitingCount--;
        rec(i + 1, c + t + (p.o[j] as number) - (p.a[j] as number), d2);
        waitingCount++;
        nStarted--;
        startAt[j] = -1;
        add(j, t, -1);
      }
      // finalise round t with this subset
      if ((usage[t] as number) === M) d = Infinity;
      else if (t >= d) {
        obligationCuts++;
        return;
      }
      round(t + 1, c, d);
    };
    rec(0, cost, dl);
    candTop = c0;
  };

  let stoppedBy: BnbResult['stoppedBy'] = null;
  try {
    if (bestValue > known) round(0, 0, Infinity);
  } catch (e) {
    if (e instanceof Reached) {
      // optimal: the best schedule meets a proven bound
    } else if (e instanceof RangeError && /call stack/i.test(e.message)) {
      stopped = true;
      stoppedBy = 'depth';
    } else if (!(e instanceof Stop)) throw e;
    else stoppedBy = outOfNodes ? 'nodes' : 'time';
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    status: stopped ? 'time-limit' : 'optimal',
    starts: best,
    value: bestValue,
    lowerBound: stopped ? Math.min(bestValue, Math.max(rootBound, known, 0)) : bestValue,
    rootBound,
    nodes,
    memoHits,
    boundCuts,
    obligationCuts,
    seconds,
    stoppedBy,
  };
}
