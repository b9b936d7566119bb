import type { LiveRequest } from './live.ts';

/**
 * What a policy may do to the engine's state while it builds a round's batch.
 * The engine owns time, token accounting and results; the policy owns its queues.
 */
export interface RoundContext {
  /** Round index t (0-based, counts every executed round and idle jumps in rounds mode). */
  readonly round: number;
  /** Start time of this round (rounds: = round; seconds: µs). */
  readonly now: number;
  /** KV capacity M in tokens. */
  readonly memory: number;
  /** Start (or restart) a waiting request in this round. */
  admit(r: LiveRequest): void;
  /**
   * Evict a running request: it loses its KV cache and returns to waiting, counting
   * one restart. `keepGenerated` (vLLM recompute) keeps its generated tokens, which are
   * re-prefilled on its next start; otherwise its progress is lost (model.md §3.6).
   * The policy must put it back in its own queue.
   */
  evict(r: LiveRequest, keepGenerated: boolean): void;
}

/**
 * A scheduling policy: one small plug-in. Adding a policy is one file that implements
 * this and registers a parser in `src/policies/registry.ts`.
 */
export interface Policy {
  /** The policy as written on the command line, e.g. `alpha-greedy:0.1`. */
  readonly spec: string;
  /** A request becomes eligible (its arrival ≤ the round's start time). */
  enqueue(r: LiveRequest): void;
  /**
   * Build round `ctx.round`'s batch: apply evictions and admissions through `ctx`,
   * then return the requests that run this round. Each produces one token, except a
   * prefill member given a `chunk` (LiveRequest.chunk) that leaves part of its prefill for
   * later rounds (chunked prefill: Sarathi-Serve).
   */
  schedule(ctx: RoundContext): readonly LiveRequest[];
  /** A request of the last batch produced its final token. */
  onComplete(r: LiveRequest): void;
  /** Requests waiting (eligible, not running). */
  readonly waitingCount: number;
  /** Requests holding KV cache (running, including any paused this round). */
  readonly runningCount: number;
  /**
   * KV tokens the policy holds in the round just scheduled, for metrics. For the paper's
   * policies this is Σ (s + k) over the batch; vLLM reports its allocated blocks × 16.
   */
  kvHeld(batch: readonly LiveRequest[]): number;
  /** Whether this policy's admission guarantees memory ≤ M given exact predictions. */
  readonly lookAhead: boolean;
  /** Describe why the head of the queue cannot start in an empty system (for errors). */
  blockedReason?(): string | undefined;
  /**
   * The policy's whole state relative to the current round (queues, running requests
   * with their progress), as a string: equal keys mean the future is identical when no
   * arrivals are left. Used by the engine's livelock detection.
   */
  stateKey?(): string;
}

/** Σ (s + k) over a batch: the model's KV accounting (model.md §1). */
export function modelKv(batch: readonly LiveRequest[]): number {
  let total = 0;
  for (const r of batch) total += r.kvInRound;
  return total;
}
