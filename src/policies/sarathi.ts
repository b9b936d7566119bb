import { RUNNING, type LiveRequest } from '../engine/live.ts';
import type { Policy, RoundContext } from '../engine/policy.ts';
import { Deque } from './vllm.ts';

/**
 * Sarathi-Serve (chunked prefill) as reproduced by Vidur
 * (`vidur/scheduler/replica_scheduler/sarathi_replica_scheduler.py`, with
 * `base_replica_scheduler.py`, `entities/request.py` and `entities/batch.py`), round for round.
 * The names in comments are Vidur's.
 *
 * - Memory is `floor(M / 16)` blocks with vLLM's watermark `int(0.01 · blocks)` (admissions only).
 * - Each round has a token budget `chunk` (`chunk_size`, default 512). Vidur keeps every
 *   request holding blocks in `_preempted_requests`: those left over from the last round
 *   (sorted by arrival), then last round's batch members in batch order.
 *   1. Walk that list (until the batch holds `maxBatch`): a request still prefilling is set
 *      aside (step 2); a decoding one takes 1 token of the budget — a decode always runs,
 *      even past the budget — after Vidur's "at least one free block" rule: while no block
 *      is free, the LAST request of the list is preempted (restarted), or the request itself
 *      if the list is empty; a decode crossing a block boundary takes one more block.
 *   2. Each set-aside prefill gets `min(rest of its prefill, chunk − tokens so far)`; one
 *      that gets 0 waits (stays in the list).
 *   3. New requests from the head of the FCFS queue, while fewer than `maxBatch` hold
 *      blocks, the batch has fewer than `maxBatch`, the whole prefill's blocks
 *      `ceil(prefill / 16)` fit above the watermark, and the budget has tokens left: each
 *      gets `min(prefill, chunk − tokens so far)`. Stop at the first that fails.
 *   A prefill's blocks are all reserved at admission, so chunks allocate nothing.
 * - A preempted request frees its blocks and goes to the FRONT of the queue; it keeps its
 *   generated tokens and re-prefills prompt + generated (`Request.restart`).
 *
 * One deliberate difference: Vidur's `Request.restart` on a request preempted in the middle
 * of its prefill sets its prompt to the tokens processed so far and turns the rest of the
 * prompt into output tokens decoded one per round. kvsched restarts it with its whole
 * prompt (the chunked progress is lost), as for every other preemption. Ties in arrival go
 * by id (Vidur: list order, arrivals being floats).
 */
export interface SarathiConfig {
  blockSize: number;
  watermarkFraction: number;
  chunk: number;
  maxBatch: number;
}

export const SARATHI_DEFAULTS: SarathiConfig = { blockSize: 16, watermarkFraction: 0.01, chunk: 512, maxBatch: 128 };

const byArrival = (a: LiveRequest, b: LiveRequest): number =>
  a.arrival !== b.arrival ? a.arrival - b.arrival : a.id - b.id;

export class SarathiPolicy implements Policy {
  readonly lookAhead = false;
  /** `_request_queue`. */
  private readonly queue = new Deque<LiveRequest>();
  /** `_preempted_requests`: every request holding blocks, in Vidur's list order. */
  private held: LiveRequest[] = [];
  /** The last round's batch; its unfinished members join `held` at the next call (`on_batch_end`). */
  private last: readonly LiveRequest[] = [];
  private allocated = 0;
  private numBlocks = -1;
  private watermark = 0;
  private memory = 0;

  constructor(
    readonly spec: string,
    readonly config: SarathiConfig = SARATHI_DEFAULTS,
  ) {}

  get waitingCount(): number {
    return this.queue.size;
  }
  get runningCount(): number {
    let n = this.held.length;
    for (const r of this.last) if (r.phase === RUNNING) n++;
    return n;
  }

  enqueue(r: LiveRequest): void {
    this.queue.pushBack(r);
  }

  onComplete(r: LiveRequest): void {
    this.allocated -= r.blocks;
    r.blocks = 0;
  }

  kvHeld(): number {
    return this.allocated * this.config.blockSize;
  }

  private blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.config.blockSize);
  }

  /** `_get_request_next_num_tokens`: 1 for a decode, else the chunk the budget leaves. */
  private nextTokens(r: LiveRequest, batchTokens: number): number {
    if (!r.prefillPending) return 1;
    return Math.max(0, Math.min(r.prefillSize - r.prefilled, this.config.chunk - batchTokens));
  }

  schedule(ctx: RoundContext): readonly LiveRequest[] {
    const cfg = this.config;
    if (this.numBlocks < 0) {
      this.memory = ctx.memory;
      this.numBlocks = Math.floor(ctx.memory / cfg.blockSize);
      this.watermark = Math.floor(cfg.watermarkFraction * this.numBlocks);
    }
    // on_batch_end: unfinished members of the last batch join the list, in batch order.
    for (const r of this.last) if (r.phase === RUNNING) this.held.push(r);
    this.last = [];

    const batch: LiveRequest[] = [];
    let batchTokens = 0;
    const skipped: LiveRequest[] = [];
    const runningPrefills: LiveRequest[] = [];
    const list = this.held;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      if (batch.length === cfg.maxBatch) break;
      const r = list[lo++] as LiveRequest;
      if (r.prefillPending) {
        runningPrefills.push(r);
        continue;
      }
      // A decode needs 1 token: never 0, so never skipped.
      let scheduled = true;
      while (this.numBlocks - this.allocated < 1) {
        if (lo < hi) {
          this.preempt(ctx, list[--hi] as LiveRequest);
        } else {
          this.preempt(ctx, r);
          scheduled = false;
          break;
        }
      }
      if (!scheduled) continue;
      if (r.prefillSize > r.blocks * cfg.blockSize) {
        r.blocks++;
        this.allocated++;
      }
      batchTokens += 1;
      batch.push(r);
    }
    for (const r of runningPrefills) {
      const n = this.nextTokens(r, batchTokens);
      if (n === 0) {
        skipped.push(r);
        continue;
      }
      r.chunk = n;
      batchTokens += n;
      batch.push(r);
    }
    // Skipped prefills and the requests not reached stay, sorted by arrival.
    const rest = skipped.concat(list.slice(lo, hi));
    rest.sort(byArrival);
    this.held = rest;

    for (;;) {
      const r = this.queue.peek();
      if (r === undefined) break;
      if (this.held.length + batch.length === cfg.maxBatch) break; // len(_allocation_map)
      if (batch.length === cfg.maxBatch) break;
      const need = this.blocksFor(r.prefillSize);
      if (this.numBlocks - this.allocated - need < this.watermark) break;
      const n = this.nextTokens(r, batchTokens);
      if (n === 0) break;
      this.queue.popFront();
      this.allocated += need;
      r.blocks = need;
      ctx.admit(r);
      r.chunk = n;
      batchTokens += n;
      batch.push(r);
    }
    this.last = batch;
    return batch;
  }

  private preempt(ctx: RoundContext, r: LiveRequest): void {
    this.allocated -= r.blocks;
    r.blocks = 0;
    ctx.evict(r, true);
    this.queue.pushFront(r);
  }

  stateKey(): string {
    const wait: number[] = [];
    for (let i = 0, n = this.queue.size; i < n; i++) {
      const r = this.queue.popFront() as LiveRequest;
      wait.push(r.id, r.generated);
      this.queue.pushBack(r);
    }
    const own = (r: LiveRequest): string =>
      `${r.id}:${r.generated}:${r.blocks}:${r.prefilled}:${r.prefillPending ? 1 : 0}`;
    const held = this.held.map(own).join(',');
    const last = this.last
      .filter((r) => r.phase === RUNNING)
      .map(own)
      .join(',');
    return `${held}|${last}|${wait.join(',')}|${this.allocated}`;
  }

  blockedReason(): string | undefined {
    const r = this.queue.peek();
    if (r === undefined) return undefined;
    const size = r.prefillSize;
    return `request ${r.id} must prefill ${size} tokens (${this.blocksFor(size)} blocks of ${this.config.blockSize}) and keep a ${this.watermark}-block watermark free, but M = ${this.memory} tokens gives only ${this.numBlocks} blocks: the block granularity needs a larger M`;
  }
}
