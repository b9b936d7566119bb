/**
 * Test instances: a small builder for hand-worked cases and fast-check arbitraries for
 * random ones (M 20..60, 1..30 requests, s 1..5, o 1..M−s, non-decreasing arrivals).
 */
import fc from 'fast-check';
import type { BatchStats, CostModel, RequestSpec, TimeMode } from '../../../src/model/types.ts';
import { simulate, type SimulateOptions, type SimulationResult } from '../../../src/engine/engine.ts';
import { createPolicy } from '../../../src/policies/registry.ts';

export interface Instance {
  readonly memory: number;
  readonly requests: readonly RequestSpec[];
}

/** A random instance and whether its predictions are exact. */
export interface RandomInstance extends Instance {
  readonly exact: boolean;
}

/** `[arrival, prompt, output, predicted?]` rows, ids in row order. */
export function reqs(rows: readonly (readonly [number, number, number, number?])[]): RequestSpec[] {
  return rows.map(([arrival, prompt, output, predicted], id) => ({
    id,
    arrival,
    prompt,
    output,
    predicted: predicted ?? output,
  }));
}

/**
 * A tiny seconds-mode cost model whose durations are easy to compute by hand:
 * 100 µs + 10 µs per new prompt token + 1 µs per KV token attended by a decode.
 */
export const tinyCost: CostModel = {
  name: 'tiny',
  roundMicros: (b: BatchStats) => 100 + 10 * b.prefillTokens + b.decodeContext,
};

/** Another cost model for property tests, sensitive to every BatchStats field. */
export const mixedCost: CostModel = {
  name: 'mixed',
  roundMicros: (b: BatchStats) =>
    50 +
    7 * b.requests +
    3 * b.prefillRequests +
    2 * b.prefillTokens +
    (b.prefillSquares % 11) +
    5 * b.decodeRequests +
    b.decodeContext,
};

/** Run one policy spec on an instance (keepRounds on). */
export function run(
  policy: string,
  inst: Instance,
  mode: TimeMode = 'rounds',
  extra: Partial<SimulateOptions> = {},
): SimulationResult {
  const opts: SimulateOptions = { memory: inst.memory, mode, ...extra };
  if (mode === 'seconds' && opts.costModel === undefined) opts.costModel = tinyCost;
  return simulate(inst.requests, createPolicy(policy), opts);
}

/** Plain arrays of a result's tables, for equality checks. */
export function tables(r: SimulationResult): { requests: unknown[]; rounds: unknown[]; totals: unknown } {
  return { requests: [...r.requests], rounds: r.rounds ? [...r.rounds] : [], totals: { ...r.totals } };
}

/** Per-request (start, firstToken, completion, restarts) by id. */
export function schedule(
  r: SimulationResult,
): { id: number; start: number; firstToken: number; completion: number; restarts: number }[] {
  return [...r.requests].map(({ id, start, firstToken, completion, restarts }) => ({
    id,
    start,
    firstToken,
    completion,
    restarts,
  }));
}

/** A round-table column as a plain array. */
export function col(
  r: SimulationResult,
  f:
    | 'round'
    | 'start'
    | 'duration'
    | 'batch'
    | 'prefillTokens'
    | 'decodeRequests'
    | 'kv'
    | 'admitted'
    | 'evicted'
    | 'waiting',
): number[] {
  if (!r.rounds) throw new Error('no round table');
  return Array.from(r.rounds.column(f));
}

export interface ArbOptions {
  minMemory?: number;
  maxMemory?: number;
  /** Memory is a multiple of this (vLLM: 16). */
  memoryStep?: number;
  maxRequests?: number;
  maxPrompt?: number;
  mode?: TimeMode;
  /** 'exact' | 'noisy' | 'any' (default any). */
  predictions?: 'exact' | 'noisy' | 'any';
}

/**
 * Random instances. Arrivals: cumulative gaps, mostly small (bursts and contention),
 * sometimes large (idle periods). Rounds mode: gaps in rounds; seconds mode: in µs,
 * scaled to the ~100–600 µs rounds of `tinyCost` / `mixedCost`.
 * Noisy predictions: either õ = max(1, round(o·f)), f ∈ [0.2, 1.8], or õ uniform in
 * 1..M+5 (so õ > M − s happens and exercises the `planned` cap).
 */
export function instanceArb(opts: ArbOptions = {}): fc.Arbitrary<RandomInstance> {
  const step = opts.memoryStep ?? 1;
  const minM = opts.minMemory ?? 20;
  const maxM = opts.maxMemory ?? 60;
  const maxN = opts.maxRequests ?? 30;
  const maxS = opts.maxPrompt ?? 5;
  const seconds = opts.mode === 'seconds';
  const small = seconds ? fc.integer({ min: 0, max: 300 }) : fc.integer({ min: 0, max: 2 });
  const large = seconds ? fc.integer({ min: 0, max: 20_000 }) : fc.integer({ min: 0, max: 40 });
  const gap = fc.oneof({ weight: 5, arbitrary: small }, { weight: 1, arbitrary: large });
  const exactArb =
    opts.predictions === 'exact' ? fc.constant(true) : opts.predictions === 'noisy' ? fc.constant(false) : fc.boolean();
  return fc
    .record({
      m: fc.integer({ min: Math.ceil(minM / step), max: Math.floor(maxM / step) }),
      exact: exactArb,
      firstArrival: fc.oneof(fc.constant(0), large),
    })
    .chain(({ m, exact, firstArrival }) => {
      const memory = m * step;
      const row = fc.integer({ min: 1, max: Math.min(maxS, memory - 1) }).chain((s) =>
        fc.record({
          s: fc.constant(s),
          o: fc.integer({ min: 1, max: memory - s }),
          gap,
          factor: fc.integer({ min: 20, max: 180 }),
          uniform: fc.integer({ min: 1, max: memory + 5 }),
          useUniform: fc.boolean(),
        }),
      );
      return fc.array(row, { minLength: 1, maxLength: maxN }).map((rows) => {
        let t = firstArrival;
        const requests: RequestSpec[] = rows.map((r, id) => {
          if (id > 0) t += r.gap;
          const noisy = r.useUniform ? r.uniform : Math.max(1, Math.round((r.o * r.factor) / 100));
          return { id, arrival: t, prompt: r.s, output: r.o, predicted: exact ? r.o : noisy };
        });
        return { memory, exact: exact || requests.every((r) => r.predicted === r.output), requests };
      });
    });
}
