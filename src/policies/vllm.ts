import { RUNNING, type LiveRequest } from '../engine/live.ts';
import type { Policy, RoundContext } from '../engine/policy.ts';

/**
 * vLLM v0's scheduler as reproduced by Vidur
 * (`vidur/scheduler/replica_scheduler/vllm_replica_scheduler.py`, with
 * `base_replica_scheduler.py` and `entities/request.py`), round for round:
 *
 * - Memory is `floor(M / blockSize)` blocks of 16 tokens; a free-block watermark of
 *   `int(0.01 · blocks)` (= floor(blocks / 100)) applies to admissions only.
 * - Each round first tries admissions from the head of the FCFS queue: a request needs
 *   `ceil(prefill / 16)` blocks with the watermark still free afterwards, the padded
 *   prefill size `count × max(prefill)` must stay ≤ `maxTokens` (4096), fewer than
 *   `maxBatch` (128) requests may hold memory, and a batch takes at most `maxBatch`.
 *   Stop at the first that fails. If any was admitted, the round runs only those
 *   (a prefill round; running requests wait).
 * - Otherwise every running request decodes, taken in arrival order (ties: id). Vidur
 *   requires at least one free block before scheduling a running request — even one that
 *   needs no new block (a quirk kept on purpose); while none is free, the latest-arrived
 *   running request not yet scheduled this round is preempted (or, if none is left, the
 *   request itself). A request that crosses a block boundary takes one more block.
 * - A preempted request frees its blocks and goes to the FRONT of the queue; it keeps
 *   the tokens it generated and re-prefills prompt + generated tokens on restart
 *   (Vidur's `Request.restart`: prefill := processed tokens). It counts one restart.
 *
 * Vidur sorts running requests by `arrived_at` only (Python's stable sort keeps batch
 * order on ties); here ties go by id, the project-wide rule.
 */
export interface VllmConfig {
  blockSize: number;
  watermarkFraction: number;
  maxTokens: number;
  maxBatch: number;
}

export const VLLM_DEFAULTS: VllmConfig = { blockSize: 16, watermarkFraction: 0.01, maxTokens: 4096, maxBatch: 128 };

/** FIFO with cheap pushes at both ends (restarts go to the front). */
export class Deque<T> {
  private buf: (T | undefined)[] = new Array<T | undefined>(16);
  private head = 0;
  private len = 0;
  get size(): number {
    return this.len;
  }
  private grow(): void {
    const n = this.buf.length;
    const next = new Array<T | undefined>(n * 2);
    for (let i = 0; i < this.len; i++) next[i] = this.buf[(this.head + i) % n];
    this.buf = next;
    this.head = 0;
  }
  pushBack(x: T): void {
    if (this.len === this.buf.length) this.grow();
    this.buf[(this.head + this.len) % this.buf.length] = x;
    this.len++;
  }
  pushFront(x: T): void {
    if (this.len === this.buf.length) this.grow();
    this.head = (this.head - 1 + this.buf.length) % this.buf.length;
    this.buf[this.head] = x;
    this.len++;
  }
  peek(): T | undefined {
    return this.len === 0 ? undefined : this.buf[this.head];
  }
  popFront(): T | undefined {
    if (this.len === 0) return undefined;
    const x = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.buf.length;
    this.len--;
    return x;
  }
}

/** Sorts by arrival, then id, in place (insertion sort: linear on a nearly sorted list). */
function sortByArrival(run: LiveRequest[]): void {
  for (let i = 1; i < run.length; i++) {
    const r = run[i] as LiveRequest;
    let j = i - 1;
    for (; j >= 0; j--) {
      const q = run[j] as LiveRequest;
      if (q.arrival < r.arrival || (q.arrival === r.arrival && q.id < r.id)) break;
      run[j + 1] = q;
    }
    run[j + 1] = r;
  }
}

export class VllmPolicy implements Policy {
  readonly lookAhead = false;
  private readonly queue = new Deque<LiveRequest>();
  /** Requests holding blocks (Vidur's allocation map), any order. */
  private running: LiveRequest[] = [];
  private completed = 0;
  private allocated = 0;
  private numBlocks = -1;
  private watermark = 0;
  private memory = 0;

  constructor(
    readonly spec: string,
    readonly config: VllmConfig = VLLM_DEFAULTS,
  ) {}

  get waitingCount(): number {
    return this.queue.size;
  }
  get runningCount(): number {
    return this.running.length - this.completed;
  }

  enqueue(r: LiveRequest): void {
    this.queue.pushBack(r);
  }

  onComplete(r: LiveRequest): void {
    this.allocated -= r.blocks;
    r.blocks = 0;
    this.completed++;
  }

  kvHeld(): number {
    return this.allocated * this.config.blockSize;
  }

  private prefillSize(r: LiveRequest): number {
    return r.prompt + r.generated;
  }

  private blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.config.blockSize);
  }

  schedule(ctx: RoundContext): readonly LiveRequest[] {
    const cfg = this.config;
    if (this.numBlocks < 0) {
      this.memory = ctx.memory;
      this.numBlocks = Math.floor(ctx.memory / cfg.blockSize);
      this.watermark = Math.floor(cfg.watermarkFraction * this.numBlocks);
    }
    // The running list is rearranged in place each round (no filter/sort/concat copies: a
    // round's garbage is its batch), which a cold `kvsched simulate` notices (docs/cli.md).
    const run = this.running;
    if (this.completed > 0) {
      let w = 0;
      for (let i = 0; i < run.length; i++) {
        const r = run[i] as LiveRequest;
        if (r.phase === RUNNING) run[w++] = r;
      }
      run.length = w;
      this.completed = 0;
    }

    // Admissions (a prefill-only round when any succeed).
    const admitted: LiveRequest[] = [];
    let maxPrefill = 0;
    for (;;) {
      const r = this.queue.peek();
      if (r === undefined) break;
      const size = this.prefillSize(r);
      const need = this.blocksFor(size);
      if (this.numBlocks - this.allocated - need < this.watermark) break;
      const padded = (admitted.length + 1) * Math.max(maxPrefill, size);
      if (padded > cfg.maxTokens) break;
      if (this.running.length === cfg.maxBatch) break;
      if (admitted.length === cfg.maxBatch) break;
      this.queue.popFront();
      this.allocated += need;
      r.blocks = need;
      maxPrefill = Math.max(maxPrefill, size);
      ctx.admit(r);
      admitted.push(r);
      this.running.push(r);
    }
    if (admitted.length > 0) return admitted;

    // Decode round over the running requests, oldest arrival first. The list is sorted
    // already except for the requests admitted since the last decode round (appended), so
    // an insertion sort is linear here; (arrival, id) is a total order, so any sort gives
    // the same list.
    sortByArrival(run);
    const batch: LiveRequest[] = [];
    let lo = 0;
    let hi = run.length;
    let kept = 0; // run[0, kept): this round's batch, in order (preempted ones dropped)
    while (lo < hi) {
      if (batch.length === cfg.maxBatch) break;
      const r = run[lo++] as LiveRequest;
      let scheduled = true;
      while (this.numBlocks - this.allocated < 1) {
        if (lo < hi) {
          this.preempt(ctx, run[--hi] as LiveRequest);
        } else {
          this.preempt(ctx, r);
          scheduled = false;
          break;
        }
      }
      if (!scheduled) continue;
      // Processed tokens s + g versus reserved blocks: at most one block short.
      if (r.prompt + r.generated > r.blocks * cfg.blockSize) {
        r.blocks++;
        this.allocated++;
      }
      batch.push(r);
      run[kept++] = r;
    }
    // Still holding memory: this round's batch and any not reached (batch cap), in order.
    for (let i = lo; i < hi; i++) run[kept++] = run[i] as LiveRequest;
    run.length = kept;
    return batch;
  }

  stateKey(): string {
    const wait: number[] = [];
    for (let i = 0, n = this.queue.size; i < n; i++) {
      const r = this.queue.popFront() as LiveRequest;
      wait.push(r.id, r.generated);
      this.queue.pushBack(r);
    }
    const run = this.running
      .filter((r) => r.phase === RUNNING)
      .map((r) => `${r.id}:${r.generated}:${r.blocks}:${r.prefillPending ? 1 : 0}`)
      .sort()
      .join(',');
    return `${run}|${wait.join(',')}|${this.allocated}`;
  }

  private preempt(ctx: RoundContext, r: LiveRequest): void {
    this.allocated -= r.blocks;
    r.blocks = 0;
    ctx.evict(r, true);
    this.queue.pushFront(r);
  }

  blockedReason(): string | undefined {
    const r = this.queue.peek();
    if (r === undefined) return undefined;
    const size = this.prefillSize(r);
    if (size > this.config.maxTokens) {
      return `request ${r.id} must prefill ${size} tokens, more than vllm's ${this.config.maxTokens} tokens per batch (raise it: vllm:<maxTokens>)`;
    }
    return `request ${r.id} must prefill ${size} tokens (${this.blocksFor(size)} blocks of ${this.config.blockSize}) and keep a ${this.watermark}-block watermark free, but M = ${this.memory} tokens gives only ${this.numBlocks} blocks: vLLM's block granularity needs a larger M`;
  }
}
