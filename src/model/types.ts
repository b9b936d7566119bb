/**
 * The scheduling model of "Online Scheduling for LLM Inference with KV Cache
 * Constraints" (arXiv 2502.07115), as restated in docs/model.md §1.
 *
 * Conventions fixed here (and relied on by every engine, CPU or GPU):
 * - Time is discrete rounds t = 0, 1, 2, …; one round = one forward pass of one batch.
 * - A request that (re)starts in round p is in the batch in rounds p … p+o−1 (for the
 *   policies that never pause a running request) and produces one output token per
 *   round. In its k-th round it holds s + k tokens of KV cache. Prefill is not a
 *   separate round: the first round processes the prompt and produces token 1.
 * - It completes at c = p + o (the end of its last round); latency = c − a;
 *   time to first token = (end of its first round) − a, i.e. p + 1 − a in rounds.
 * - Capacity M: in every round the KV tokens held by the batch sum to at most M
 *   (policies without look-ahead may overflow; the overflow rule then evicts).
 *
 * Time units. In `rounds` mode every timestamp is a round index and a round lasts 1.
 * In `seconds` mode every timestamp is an integer number of microseconds: arrivals
 * are rounded to the microsecond on input, and each round lasts the whole number of
 * microseconds that the cost model gives for its batch. Integers everywhere keep the
 * CPU engine and a 32-bit-integer WGSL engine bit-for-bit identical.
 */
import type { PowerModel } from '../cost/energy.ts';

export type TimeMode = 'rounds' | 'seconds';

/** One request as given to an engine (immutable). */
export interface RequestSpec {
  /** 0-based id: data-row index of a trace, or generation order. */
  readonly id: number;
  /** Arrival: a round (rounds mode) or integer microseconds (seconds mode). */
  readonly arrival: number;
  /** Prompt size s ≥ 1 (tokens). */
  readonly prompt: number;
  /** True output length o ≥ 1 (tokens); hidden from the policy. */
  readonly output: number;
  /** Predicted output length õ ≥ 1; what the policy sees. */
  readonly predicted: number;
}

/** Microseconds per second: the seconds-mode time unit is 1 µs. */
export const MICROS_PER_SECOND = 1_000_000;

/** Convert a seconds-mode timestamp (µs) to seconds for display and JSON output. */
export function microsToSeconds(us: number): number {
  return us / MICROS_PER_SECOND;
}

/** Round a time in seconds to whole microseconds (ties away from zero never occur in practice; Math.round is the documented rule). */
export function secondsToMicros(sec: number): number {
  return Math.round(sec * MICROS_PER_SECOND);
}

/**
 * What a cost model sees of one round's batch. Counts are of sequences (requests)
 * and tokens; all are non-negative integers.
 */
export interface BatchStats {
  /** Sequences in the batch. */
  readonly requests: number;
  /** Sequences in their first round after a (re)start: they process their prompt. */
  readonly prefillRequests: number;
  /** New prompt tokens processed this round (Σ prompt of prefill sequences; for a
   *  vLLM recompute, prompt + tokens already generated). */
  readonly prefillTokens: number;
  /** Σ over prefill sequences of (prompt tokens)², for causal attention FLOPs. */
  readonly prefillSquares: number;
  /** Sequences generating one token from an existing KV cache. */
  readonly decodeRequests: number;
  /** Σ over decode sequences of the KV tokens attended to (tokens held this round). */
  readonly decodeContext: number;
}

export function emptyBatchStats(): BatchStats {
  return { requests: 0, prefillRequests: 0, prefillTokens: 0, prefillSquares: 0, decodeRequests: 0, decodeContext: 0 };
}

/** A per-batch cost model: whole microseconds from integer arithmetic only. */
export interface CostModel {
  /** Stable name, e.g. `a100-llama2-70b-tp2`. */
  readonly name: string;
  /** Duration of a round running this batch, in whole microseconds (≥ 1). */
  roundMicros(batch: BatchStats): number;
  /** The hardware's power while running these rounds (energy.ts `powerOf`); absent: the A100 pair's. */
  readonly power?: PowerModel;
}
