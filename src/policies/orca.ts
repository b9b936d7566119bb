import { RUNNING, type LiveRequest } from '../engine/live.ts';
import type { Policy, RoundContext } from '../engine/policy.ts';
import { Deque } from './vllm.ts';

/**
 * Orca (iteration-level scheduling) as reproduced by Vidur
 * (`vidur/scheduler/replica_scheduler/orca_replica_scheduler.py` with
 * `base_replica_scheduler.py`), round for round. The names in comments are Vidur's.
 *
 * - Memory is `floor(M / 16)` blocks. Every admitted request reserves the blocks of a
 *   full-length context, `floor(maxTokens / 16)` (`_max_blocks_per_sequence`, from the
 *   workload's `max_tokens`, default 4096), for its whole life: nothing is ever preempted.
 * - The batch holds at most `min(maxBatch, floor(blocks / blocksPerSeq))` requests
 *   (`_max_batch_size`: Vidur's memory planner sizes memory as exactly that many slots).
 * - Each round: first the running requests in Vidur's list order (those left out last
 *   round, then last round's batch in batch order; with one pipeline stage all fit, since
 *   admissions stop at the cap), then new requests from the head of the FCFS queue while
 *   the batch has room and a full reservation fits. A new request prefills its whole prompt in the same round as the
 *   others decode (a mixed round).
 * A request with prompt + output above `maxTokens` cannot fit its reservation: refused
 * when it arrives (Vidur's workloads never generate one).
 */
export interface OrcaConfig {
  blockSize: number;
  maxBatch: number;
  maxTokens: number;
}

export const ORCA_DEFAULTS: OrcaConfig = { blockSize: 16, maxBatch: 128, maxTokens: 4096 };

const NONE: readonly LiveRequest[] = [];

export class OrcaPolicy implements Policy {
  readonly lookAhead = false;
  /** `_request_queue`. */
  private readonly queue = new Deque<LiveRequest>();
  /** `_preempted_requests`: running requests not in a batch yet, in Vidur's list order. */
  private held: readonly LiveRequest[] = NONE;
  private last: LiveRequest[] = [];
  private spare: LiveRequest[] = [];
  private allocated = 0;
  private numBlocks = -1;
  private readonly blocksPerSeq: number;
  private maxBatchSize = 0;
  private memory = 0;

  constructor(
    readonly spec: string,
    readonly config: OrcaConfig = ORCA_DEFAULTS,
  ) {
    this.blocksPerSeq = Math.floor(config.maxTokens / config.blockSize);
  }

  get waitingCount(): number {
    return this.queue.size;
  }
  get runningCount(): number {
    let n = this.held.length;
    for (const r of this.last) if (r.phase === RUNNING) n++;
    return n;
  }

  enqueue(r: LiveRequest): void {
    const reserved = this.blocksPerSeq * this.config.blockSize;
    if (r.prompt + r.output > reserved) {
      throw new RangeError(
        `request ${r.id}: s + o = ${r.prompt + r.output} exceeds the ${reserved} tokens ${this.spec} reserves per request (raise it: orca:<maxBatch>:<maxTokens>)`,
      );
    }
    this.queue.pushBack(r);
  }

  onComplete(r: LiveRequest): void {
    this.allocated -= r.blocks;
    r.blocks = 0;
  }

  kvHeld(): number {
    return this.allocated * this.config.blockSize;
  }

  schedule(ctx: RoundContext): readonly LiveRequest[] {
    if (this.numBlocks < 0) {
      this.memory = ctx.memory;
      this.numBlocks = Math.floor(ctx.memory / this.config.blockSize);
      this.maxBatchSize = Math.min(this.config.maxBatch, Math.floor(this.numBlocks / this.blocksPerSeq));
    }
    // Vidur's list is the left-overs, then the last batch's unfinished members (on_batch_end);
    // the batch takes the first `cap` of it. Two arrays alternate as batches (the engine is
    // done with a batch before the next call), so a round allocates nothing.
    const cap = this.maxBatchSize;
    const batch = this.spare;
    batch.length = 0;
    let rest: LiveRequest[] | undefined;
    // No closure here: this runs every round (~214k rounds on 10k LMSYS requests).
    for (const r of this.held) {
      if (batch.length < cap) batch.push(r);
      else (rest ??= []).push(r);
    }
    for (const r of this.last) {
      if (r.phase !== RUNNING) continue;
      if (batch.length < cap) batch.push(r);
      else (rest ??= []).push(r);
    }
    this.held = rest ?? NONE;
    for (;;) {
      const r = this.queue.peek();
      if (r === undefined || batch.length >= cap) break;
      if (this.numBlocks - this.allocated < this.blocksPerSeq) break;
      this.queue.popFront();
      this.allocated += this.blocksPerSeq;
      r.blocks = this.blocksPerSeq;
      ctx.admit(r);
      batch.push(r);
    }
    this.spare = this.last;
    this.last = batch;
    return batch;
  }

  stateKey(): string {
    // Orca never preempts, so it cannot livelock; the key is still exact.
    const ids = (rs: readonly LiveRequest[]): string => rs.map((r) => `${r.id}:${r.generated}`).join(',');
    return `${ids(this.held)}|${ids(this.last.filter((r) => r.phase === RUNNING))}|${this.queue.size}`;
  }

  blockedReason(): string | undefined {
    if (this.queue.peek() === undefined) return undefined;
    return `${this.spec} reserves ${this.blocksPerSeq} blocks of ${this.config.blockSize} per request, but M = ${this.memory} tokens gives only ${this.numBlocks} blocks`;
  }
}
