import { Heap } from '../engine/heap.ts';
import { RUNNING, type LiveRequest } from '../engine/live.ts';
import { modelKv, type Policy, type RoundContext } from '../engine/policy.ts';

/**
 * Shared machinery of the paper's policies (MC-SF, MC-FCFS, α-greedy, α-clearing):
 * a running request stays in every batch until it completes, unless the overflow rule
 * evicts it. Each round, in this order:
 *  1. the outlive rule: a running request that has generated ≥ its view gets view := generated + 1;
 *  2. the overflow rule (model.md §3.6): if the running requests would hold more than M in
 *     this round, evict newest-start first (ties: larger id first) until they hold at most
 *     `overflowTarget` tokens (M, or (1−β)·M for α-clearing). Evicted requests lose their
 *     progress, rejoin the waiting queue with their original arrival, and may be admitted
 *     again in the same round's step 3 like any other waiting request;
 *  3. admission (policy-specific) from the waiting queue;
 *  4. the batch is every running request.
 */
export abstract class ContinuousPolicy implements Policy {
  abstract readonly spec: string;
  abstract readonly lookAhead: boolean;
  protected readonly queue: Heap<LiveRequest>;
  /** Running requests in admission order (oldest first). */
  protected running: LiveRequest[] = [];
  private completedSinceCompact = 0;

  constructor(less: (a: LiveRequest, b: LiveRequest) => boolean) {
    this.queue = new Heap(less);
  }

  get waitingCount(): number {
    return this.queue.size;
  }
  get runningCount(): number {
    return this.running.length - this.completedSinceCompact;
  }

  enqueue(r: LiveRequest): void {
    this.queue.push(r);
  }

  onComplete(_r: LiveRequest): void {
    this.completedSinceCompact++;
  }

  kvHeld(batch: readonly LiveRequest[]): number {
    return modelKv(batch);
  }

  /** Tokens above which the overflow rule evicts until `overflowTarget` is met. */
  protected overflowTarget(memory: number): number {
    return memory;
  }

  /** Admit from `this.queue` through ctx.admit; `held` = running tokens this round. */
  protected abstract admit(ctx: RoundContext, held: number): void;

  schedule(ctx: RoundContext): readonly LiveRequest[] {
    if (this.completedSinceCompact > 0) {
      const run = this.running;
      let w = 0;
      for (let i = 0; i < run.length; i++) {
        const r = run[i] as LiveRequest;
        if (r.phase === RUNNING) run[w++] = r;
      }
      run.length = w;
      this.completedSinceCompact = 0;
    }
    let held = 0;
    // Indexed loops in per-round code: see batchStats in src/engine/engine.ts.
    const running = this.running;
    for (let i = 0; i < running.length; i++) {
      const r = running[i] as LiveRequest;
      if (r.generated >= r.view) r.view = r.generated + 1;
      held += r.kvInRound;
    }
    if (held > ctx.memory) held = this.applyOverflow(ctx, held);
    this.admit(ctx, held);
    return this.running;
  }

  private applyOverflow(ctx: RoundContext, held: number): number {
    const target = this.overflowTarget(ctx.memory);
    // Newest start first; ties (same start) larger id first. `seq` orders admissions,
    // but two admissions in one round share a start, hence the explicit rule.
    const victims = this.running
      .slice()
      .sort((a, b) => (a.startRound !== b.startRound ? b.startRound - a.startRound : b.id - a.id));
    const evicted = new Set<LiveRequest>();
    for (const v of victims) {
      if (held <= target) break;
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
    // The heap's pop order depends only on its keys, so the set of waiting ids suffices;
    // a running request's start offset is its `generated` count.
    const run = this.running
      .filter((r) => r.phase === RUNNING)
      .map((r) => `${r.id}:${r.generated}:${r.view}`)
      .sort()
      .join(',');
    const wait = this.queue
      .toArray()
      .map((r) => r.id)
      .sort((a, b) => a - b)
      .join(',');
    return `${run}|${wait}`;
  }

  /** Called by subclasses to start a request popped from the queue. */
  protected start(ctx: RoundContext, r: LiveRequest): void {
    ctx.admit(r);
    this.running.push(r);
  }
}
