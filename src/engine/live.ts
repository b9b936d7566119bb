import type { RequestSpec } from '../model/types.ts';

/** Lifecycle of a request inside an engine. */
export const WAITING = 0;
export const RUNNING = 1;
export const DONE = 2;
export type Phase = typeof WAITING | typeof RUNNING | typeof DONE;

/**
 * The mutable state of one request during a simulation. Engines create it when the
 * request becomes known (streamed in arrival order) and drop it once its result is
 * recorded, so memory stays proportional to the live requests.
 */
export class LiveRequest {
  readonly id: number;
  readonly arrival: number;
  readonly prompt: number;
  readonly output: number;
  readonly predicted: number;

  phase: Phase = WAITING;
  /** Time (round, or µs) of the latest (re)start; −1 before the first start. */
  start = -1;
  /** Round index of the latest (re)start; the look-ahead of MC-SF works in rounds. */
  startRound = -1;
  /** Output tokens generated and kept. The paper's eviction rule resets this to 0;
   *  a vLLM recompute keeps it (the tokens are re-prefilled, not regenerated). */
  generated = 0;
  /** The next round this request runs in is a prefill (first round after a (re)start). */
  prefillPending = true;
  restarts = 0;
  /** End of the round that produced this request's first token ever; −1 before. */
  firstToken = -1;
  completion = -1;
  /** The prediction a policy plans with: õ capped at M − s. No request can need more
   *  (the engine rejects s + o > M), and an uncapped noisy õ with s + õ > M would make
   *  look-ahead policies wait for it forever. Equals õ for every exact prediction. */
  readonly planned: number;
  /** The policy's view of the output length: `planned`, raised to generated+1 while a
   *  running request outlives it (model.md §3.1), reset to `planned` on eviction. */
  view: number;
  /** Global admission sequence number: "newest start" = largest seq. */
  seq = -1;
  /** Output tokens delivered to the user so far: the most ever generated. A token lost to
   *  an eviction and generated again is not delivered twice (model.md, token-level metrics). */
  delivered = 0;
  /** Time the last delivered token was produced; −1 before the first. */
  lastToken = -1;
  /** Largest gap between consecutive delivered tokens so far. */
  maxGap = 0;
  /** Energy attributed to this request so far (J). */
  joules = 0;
  /** Policy scratch: KV blocks held (vLLM, Sarathi, Orca). */
  blocks = 0;
  /** Tokens of the pending prefill (prompt + kept tokens) processed in earlier rounds:
   *  non-zero only while a chunked prefill (Sarathi) is under way. */
  prefilled = 0;
  /** Set by a chunking policy for this round only: prefill tokens this request processes
   *  now. 0 (every other policy): the rest of its prefill. The engine resets it each round. */
  chunk = 0;

  constructor(spec: RequestSpec, memory: number) {
    this.id = spec.id;
    this.arrival = spec.arrival;
    this.prompt = spec.prompt;
    this.output = spec.output;
    this.predicted = spec.predicted;
    this.planned = Math.min(spec.predicted, memory - spec.prompt);
    this.view = this.planned;
  }

  /** Tokens its next prefill processes in all: prompt + kept tokens. */
  get prefillSize(): number {
    return this.prompt + this.generated;
  }

  /** Prefill tokens it processes in a round it runs in (only meaningful while prefillPending). */
  get prefillThisRound(): number {
    return this.chunk > 0 ? this.chunk : this.prompt + this.generated - this.prefilled;
  }

  /** KV tokens this request holds in a round it runs in: prompt + kept tokens + the new one. */
  get kvInRound(): number {
    return this.prompt + this.generated + 1;
  }
}

/** Waiting-queue orders. Ties everywhere: arrival, then id (model.md §3). */
export function fcfsLess(a: LiveRequest, b: LiveRequest): boolean {
  return a.arrival < b.arrival || (a.arrival === b.arrival && a.id < b.id);
}

/** Shortest predicted output first (MC-SF). */
export function shortestFirstLess(a: LiveRequest, b: LiveRequest): boolean {
  if (a.view !== b.view) return a.view < b.view;
  return fcfsLess(a, b);
}
