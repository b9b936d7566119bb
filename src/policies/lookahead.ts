import { RUNNING, type LiveRequest } from '../engine/live.ts';
import type { RoundContext } from '../engine/policy.ts';
import { ContinuousPolicy } from './continuous.ts';

/**
 * Admission with look-ahead (MC-SF §3.1, MC-FCFS §3.2): add waiting requests in the
 * policy's order and stop at the first whose addition makes the set infeasible.
 *
 * Feasibility of a set at round t: for every future round τ ≥ t, the predicted tokens
 * Σ_{j: p_j ≤ τ ≤ e_j} (s_j + τ − p_j + 1) ≤ M, where e_j = p_j + õ_j − 1 is j's predicted
 * last round (õ capped at M − s: `LiveRequest.planned`) (an added request has p_j = t). Writing b_j = s_j − p_j + 1, the total at τ is
 * Σ_{e_j ≥ τ} (b_j + τ) = B(τ) + N(τ)·τ: between two consecutive predicted ends it only
 * rises, so checking τ at every distinct end suffices — one sweep over the ends in
 * descending order with running sums, O(running + prefix).
 *
 * A running request that outlives its prediction has view generated+1, i.e. predicted
 * end exactly t, which equals max(p + õ − 1, t). So the effective end is max(e_j, t), and
 * an order by e_j stays an order by effective end: the running set is kept sorted by e_j
 * incrementally instead of being re-sorted every round.
 *
 * Feasibility is monotone in the prefix length (adding a request never lowers any total),
 * so the largest feasible prefix is found by galloping (1, 2, 4, …) and binary search:
 * O((running + k) log k) per round, independent of the queue length.
 */
export abstract class LookAheadPolicy extends ContinuousPolicy {
  readonly lookAhead = true;
  /** Running requests sorted by predicted last round p + õ − 1, descending. */
  private byEnd: LiveRequest[] = [];
  // Scratch buffers reused across rounds.
  private candidates: LiveRequest[] = [];
  private cEnd: number[] = [];
  private cB: number[] = [];
  private order: number[] = [];
  /** Effective end max(p + õ − 1, t) and b = s − p + 1 of each running request, in
   *  `byEnd` order, filled once per round so the repeated feasibility sweeps of the
   *  galloping search read flat arrays. */
  private runE = new Float64Array(64);
  private runB = new Float64Array(64);
  /** candidates[0] is the queue's head, peeked, not popped (see take). */
  private peeked = false;

  protected admit(ctx: RoundContext, _held: number): void {
    if (this.queue.size === 0) return;
    const t = ctx.round;
    // Drop completed and evicted requests from the end-sorted list (in place).
    const run = this.byEnd;
    if (run.length !== this.runningCount) {
      let w = 0;
      for (let i = 0; i < run.length; i++) {
        const r = run[i] as LiveRequest;
        if (r.phase === RUNNING) run[w++] = r;
      }
      run.length = w;
    }
    if (this.runE.length < run.length) {
      this.runE = new Float64Array(run.length * 2);
      this.runB = new Float64Array(run.length * 2);
    }
    for (let i = 0; i < run.length; i++) {
      const r = run[i] as LiveRequest;
      this.runE[i] = Math.max(r.startRound + r.planned - 1, t);
      this.runB[i] = r.prompt - r.startRound + 1;
    }

    const cands = this.candidates;
    cands.length = 0;
    this.cEnd.length = 0;
    this.cB.length = 0;

    let good = 0; // largest prefix known feasible
    let bad = -1; // smallest prefix known infeasible (−1: none yet)
    let k = 1;
    while (bad < 0) {
      if (!this.take(k, t)) {
        k = cands.length;
        if (k === good) break;
      }
      if (this.feasible(k, ctx.memory)) {
        good = k;
        if (k === cands.length && this.queue.size === 0) break;
        k *= 2;
      } else {
        bad = k;
      }
    }
    if (bad > 0) {
      let lo = good;
      let hi = bad;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (this.feasible(mid, ctx.memory)) lo = mid;
        else hi = mid;
      }
      good = lo;
    }
    for (let i = 0; i < cands.length; i++) {
      const r = cands[i] as LiveRequest;
      if (i < good) {
        this.start(ctx, r);
        this.insertByEnd(r);
      } else if (!(i === 0 && this.peeked)) {
        this.queue.push(r);
      }
    }
    this.peeked = false;
    cands.length = 0;
  }

  /**
   * Pop candidates from the queue until there are k (false: the queue ran out). The first
   * is only peeked: in an overloaded run the head alone is infeasible in most rounds, and
   * then it never leaves the heap (no pop and push back, ~2 log n comparisons a round; the
   * heap's order is total, so the schedule is the same). It is popped once more are taken.
   */
  private take(k: number, t: number): boolean {
    const cands = this.candidates;
    if (this.peeked && k > 1) {
      this.queue.pop(); // the peeked head: cands[0]
      this.peeked = false;
    }
    while (cands.length < k) {
      const first = cands.length === 0 && k === 1;
      const r = first ? this.queue.peek() : this.queue.pop();
      if (r === undefined) return false;
      if (first) this.peeked = true;
      cands.push(r);
      this.cEnd.push(t + r.view - 1);
      this.cB.push(r.prompt - t + 1);
    }
    return true;
  }

  private insertByEnd(r: LiveRequest): void {
    // Descending by predicted end; among equal ends the position does not matter.
    const e = r.startRound + r.planned - 1;
    const a = this.byEnd;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = a[mid] as LiveRequest;
      if (m.startRound + m.planned - 1 >= e) lo = mid + 1;
      else hi = mid;
    }
    a.splice(lo, 0, r);
  }

  /** Is running ∪ candidates[0..k) feasible at every future round? */
  private feasible(k: number, memory: number): boolean {
    const cEnd = this.cEnd;
    const cB = this.cB;
    // Candidate indices in descending order of end. MC-SF's order is ascending in õ,
    // hence in end: reverse it without sorting; other orders are sorted here.
    const ord = this.order;
    ord.length = k;
    let ascending = true;
    for (let i = 0; i < k; i++) {
      ord[i] = k - 1 - i;
      if (i > 0 && (cEnd[i] as number) < (cEnd[i - 1] as number)) ascending = false;
    }
    if (!ascending) ord.sort((x, y) => (cEnd[y] as number) - (cEnd[x] as number));

    const runE = this.runE;
    const runB = this.runB;
    const nr = this.byEnd.length;
    let i = 0;
    let j = 0;
    let n = 0;
    let b = 0;
    while (i < nr || j < k) {
      let e = -Infinity;
      if (i < nr) e = runE[i] as number;
      if (j < k) e = Math.max(e, cEnd[ord[j] as number] as number);
      while (i < nr && runE[i] === e) {
        n++;
        b += runB[i] as number;
        i++;
      }
      while (j < k) {
        const c = ord[j] as number;
        if ((cEnd[c] as number) !== e) break;
        n++;
        b += cB[c] as number;
        j++;
      }
      if (b + n * e > memory) return false;
    }
    return true;
  }
}
