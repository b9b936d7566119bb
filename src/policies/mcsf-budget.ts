import { Heap } from '../engine/heap.ts';
import { RUNNING, shortestFirstLess, type LiveRequest } from '../engine/live.ts';
import { modelKv, type Policy, type RoundContext } from '../engine/policy.ts';

/**
 * MC-SF with a token budget (`mcsf-budget[:chunk]`, docs/model.md §3.9): MC-SF's
 * memory-feasible admission, shortest predicted output first, with Sarathi's chunked
 * prefill under a per-round budget of `chunk` tokens. Each round t:
 *  1. outlive rule (as MC-SF): a decoding request with generated ≥ view gets view := generated + 1;
 *  2. KV: every running request holds s + g + 1 tokens this round — a request still
 *     prefilling counts its whole prompt (+ 1) from its admission on, whatever part is
 *     prefilled (the prompt's memory is reserved at admission, as Sarathi reserves its blocks);
 *     above M, the overflow rule (§3.6: newest start first, progress lost);
 *  3. budget: every decoding request decodes (1 token each; decodes run even past the
 *     budget), then prefilling requests in admission order get min(rest, budget left);
 *  4. admission while budget is left: waiting requests by õ ascending (ties arrival, id),
 *     added while the set stays feasible, stopping at the first that does not fit; each
 *     new one gets min(s, budget left) tokens. Feasibility is MC-SF's test on the current
 *     state: a running request with g kept tokens holds s + g + (τ − t) + 1 at τ ∈ [t, t + v − g − 1]
 *     (v = view), a prefilling or new one as if its prefill completed this round.
 * The test ignores the rounds a prefill waits for budget, which delay a request's growth
 * past its planned end: with exact predictions the overflow rule can still fire (rarely),
 * unlike MC-SF. With a budget no round ever exhausts, the schedule is exactly MC-SF's.
 */
/** Packs (end, index) into one exact double: index < 2²², end < 2³¹. */
const KEY_SCALE = 2 ** 22;

export class McsfBudgetPolicy implements Policy {
  readonly lookAhead = false;
  private readonly queue = new Heap<LiveRequest>(shortestFirstLess);
  /** Running requests in admission order. */
  private running: LiveRequest[] = [];
  private completed = 0;
  // Scratch for the feasibility sweep: (end, b) of running requests sorted by end, descending.
  private keys = new Float64Array(64);
  private ends = new Float64Array(64);
  private bs = new Float64Array(64);
  private bTmp = new Float64Array(64);
  private readonly cE: number[] = [];
  private readonly cB: number[] = [];

  constructor(
    readonly spec: string,
    readonly chunk: number,
  ) {}

  get waitingCount(): number {
    return this.queue.size;
  }
  get runningCount(): number {
    return this.running.length - this.completed;
  }

  enqueue(r: LiveRequest): void {
    this.queue.push(r);
  }

  onComplete(): void {
    this.completed++;
  }

  /** Σ (s + g + 1) over every running request, in the batch or waiting for budget. */
  kvHeld(): number {
    return modelKv(this.running);
  }

  schedule(ctx: RoundContext): readonly LiveRequest[] {
    const t = ctx.round;
    if (this.completed > 0) {
      this.running = this.running.filter((r) => r.phase === RUNNING);
      this.completed = 0;
    }
    let held = 0;
    for (const r of this.running) {
      if (!r.prefillPending && r.generated >= r.view) r.view = r.generated + 1;
      held += r.kvInRound;
    }
    if (held > ctx.memory) held = this.overflow(ctx, held);

    const batch: LiveRequest[] = [];
    let used = 0;
    for (const r of this.running) {
      if (r.prefillPending) continue;
      batch.push(r);
      used++;
    }
    for (const r of this.running) {
      if (!r.prefillPending) continue;
      const n = Math.min(r.prefillSize - r.prefilled, this.chunk - used);
      if (n <= 0) continue;
      r.chunk = n;
      used += n;
      batch.push(r);
    }
    if (used < this.chunk && this.queue.size > 0) this.admit(ctx, t, held, batch, used);
    return batch;
  }

  private admit(ctx: RoundContext, t: number, held: number, batch: LiveRequest[], used: number): void {
    // At τ = t every request counts: the head must fit beside `held` tokens now (the
    // common case when the queue is long, checked before any sorting).
    const head = this.queue.peek();
    if (head === undefined || held + head.prompt + 1 > ctx.memory) return;
    // Running profiles: holds b + τ at τ ≤ end, with b = s + g − t + 1, sorted by end
    // descending. Sorting packed keys end·2²² + index in a Float64Array (exact below 2⁵³)
    // uses the native numeric sort: no comparator calls in this per-round hot path.
    const run = this.running;
    const nr = run.length;
    if (this.keys.length < nr) {
      this.keys = new Float64Array(nr * 2);
      this.ends = new Float64Array(nr * 2);
      this.bs = new Float64Array(nr * 2);
    }
    const keys = this.keys.subarray(0, nr);
    const bAt = this.scratchB(nr);
    let maxEnd = 0;
    // The total at the head's own end, computed in the same pass: if it exceeds M the head is
    // infeasible (the full test checks that τ too), and the sort is skipped — the usual round
    // when the queue is long.
    const headEnd = t + head.view - 1;
    let atHeadEnd = head.prompt - t + 1 + headEnd;
    for (let i = 0; i < nr; i++) {
      const r = run[i] as LiveRequest;
      const g = r.prefillPending ? 0 : r.generated;
      const e = t + Math.max(r.view - g, 1) - 1;
      const b = r.prompt + g - t + 1;
      bAt[i] = b;
      keys[i] = e;
      if (e > maxEnd) maxEnd = e;
      if (e >= headEnd) atHeadEnd += b + headEnd;
    }
    if (atHeadEnd > ctx.memory) return;
    const ends = this.ends;
    const bs = this.bs;
    if (nr < KEY_SCALE && maxEnd < 2 ** 31) {
      for (let i = 0; i < nr; i++) keys[i] = (keys[i] as number) * KEY_SCALE + i;
      keys.sort();
      for (let k = 0; k < nr; k++) {
        const key = keys[nr - 1 - k] as number;
        const i = key % KEY_SCALE;
        ends[k] = (key - i) / KEY_SCALE;
        bs[k] = bAt[i] as number;
      }
    } else {
      // Beyond the packed range (millions of running requests or 2³¹ rounds): a comparator sort.
      const order = Array.from({ length: nr }, (_, i) => i).sort((x, y) => (keys[y] as number) - (keys[x] as number));
      order.forEach((i, k) => {
        ends[k] = keys[i] as number;
        bs[k] = bAt[i] as number;
      });
    }
    // Candidates so far (ascending õ → ascending end), as (end, b).
    const cE = this.cE;
    const cB = this.cB;
    cE.length = 0;
    cB.length = 0;
    while (used < this.chunk) {
      const r = this.queue.peek();
      if (r === undefined) break;
      cE.push(t + r.view - 1);
      cB.push(r.prompt - t + 1);
      if (!feasible(ends, bs, nr, cE, cB, ctx.memory)) break;
      this.queue.pop();
      ctx.admit(r);
      this.running.push(r);
      const n = Math.min(r.prefillSize, this.chunk - used);
      r.chunk = n;
      used += n;
      batch.push(r);
    }
  }

  private scratchB(n: number): Float64Array {
    if (this.bTmp.length < n) this.bTmp = new Float64Array(n * 2);
    return this.bTmp;
  }

  private overflow(ctx: RoundContext, held: number): number {
    const victims = this.running
      .slice()
      .sort((a, b) => (a.startRound !== b.startRound ? b.startRound - a.startRound : b.id - a.id));
    const evicted = new Set<LiveRequest>();
    for (const v of victims) {
      if (held <= ctx.memory) break;
      held -= v.kvInRound;
      evicted.add(v);
    }
    this.running = this.running.filter((r) => !evicted.has(r));
    for (const v of victims) {
      if (!evicted.has(v)) continue;
      ctx.evict(v, false);
      this.queue.push(v);
    }
    return held;
  }

  stateKey(): string {
    const run = this.running
      .filter((r) => r.phase === RUNNING)
      .map((r) => `${r.id}:${r.generated}:${r.view}:${r.prefilled}:${r.prefillPending ? 1 : 0}`)
      .join(',');
    const wait = this.queue
      .toArray()
      .map((r) => r.id)
      .sort((a, b) => a - b)
      .join(',');
    return `${run}|${wait}`;
  }
}

/**
 * Is running ∪ candidates feasible at every τ ≥ t? Running (end, b) sorted by end descending;
 * candidates in ascending end. The total at τ is Σ_{end ≥ τ} b + τ · #{end ≥ τ}: it only
 * rises between consecutive ends, so checking each distinct end suffices (model.md §3.1).
 */
function feasible(
  rE: Float64Array,
  rB: Float64Array,
  nr: number,
  cE: readonly number[],
  cB: readonly number[],
  memory: number,
): boolean {
  let i = 0;
  let j = cE.length - 1;
  let n = 0;
  let b = 0;
  while (i < nr || j >= 0) {
    let e = -Infinity;
    if (i < nr) e = rE[i] as number;
    if (j >= 0) e = Math.max(e, cE[j] as number);
    while (i < nr && rE[i] === e) {
      n++;
      b += rB[i] as number;
      i++;
    }
    while (j >= 0 && cE[j] === e) {
      n++;
      b += cB[j] as number;
      j--;
    }
    if (b + n * e > memory) return false;
  }
  return true;
}
