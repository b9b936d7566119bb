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
export class McsfBudgetPolicy implements Policy {
  readonly lookAhead = false;
  private readonly queue = new Heap<LiveRequest>(shortestFirstLess);
  /** Running requests in admission order. */
  private running: LiveRequest[] = [];
  private completed = 0;
  // Scratch for the feasibility sweep: (end, b) of running requests sorted by end, descending.
  private ends: number[] = [];
  private bs: number[] = [];
  private idx: number[] = [];

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
    // Running profiles: holds b + τ at τ ≤ end, with b = s + g − t + 1.
    const run = this.running;
    const nr = run.length;
    const ends = this.ends;
    const bs = this.bs;
    const idx = this.idx;
    ends.length = nr;
    bs.length = nr;
    idx.length = nr;
    for (let i = 0; i < nr; i++) {
      const r = run[i] as LiveRequest;
      const g = r.prefillPending ? 0 : r.generated;
      ends[i] = t + Math.max(r.view - g, 1) - 1;
      bs[i] = r.prompt + g - t + 1;
      idx[i] = i;
    }
    idx.sort((x, y) => (ends[y] as number) - (ends[x] as number));
    const sortedE = idx.map((i) => ends[i] as number);
    const sortedB = idx.map((i) => bs[i] as number);
    // Candidates so far (ascending õ → ascending end), as (end, b).
    const cE: number[] = [];
    const cB: number[] = [];
    while (used < this.chunk) {
      const r = this.queue.peek();
      if (r === undefined) break;
      cE.push(t + r.view - 1);
      cB.push(r.prompt - t + 1);
      if (!feasible(sortedE, sortedB, cE, cB, ctx.memory)) break;
      this.queue.pop();
      ctx.admit(r);
      this.running.push(r);
      const n = Math.min(r.prefillSize, this.chunk - used);
      r.chunk = n;
      used += n;
      batch.push(r);
    }
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
function feasible(rE: readonly number[], rB: readonly number[], cE: readonly number[], cB: readonly number[], memory: number): boolean {
  let i = 0;
  let j = cE.length - 1;
  let n = 0;
  let b = 0;
  while (i < rE.length || j >= 0) {
    let e = -Infinity;
    if (i < rE.length) e = rE[i] as number;
    if (j >= 0) e = Math.max(e, cE[j] as number);
    while (i < rE.length && rE[i] === e) {
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
