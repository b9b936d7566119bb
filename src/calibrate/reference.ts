/**
 * The A100 reference (`a100-llama2-70b-tp2`, src/cost/a100.ts) in the calibrated model's
 * form, and the lmsys workload's typical round.
 *
 * - See referenceFit: attention coefficients mapped from the A100 constants, fixed and
 *   per-token terms fitted over a grid of realistic rounds (decode batch 1–256 × context
 *   64–2048, prefill 128–2048). Per-term ratios device / A100 are coefficient ratios.
 * - The typical round: the mean BatchStats over every round of a small lmsys run
 *   (2 000 requests, λ = 50/s, M = 16 492, policy mcsf, seed 1) under the A100 model —
 *   the cost model is wrapped to record the batches the engine asks it about.
 */
import {
  a100Llama2_70bTp2,
  a100Terms,
  DECODE_ACHIEVED_BYTES_PER_MICRO,
  KV_BYTES_PER_TOKEN_PER_GPU,
  PREFILL_ACHIEVED_FLOP_PER_MICRO,
  PREFILL_FLOP_PER_SQUARE_PER_GPU,
} from '../cost/a100.ts';
import { simulate } from '../engine/engine.ts';
import { buildInstance } from '../experiment/instance.ts';
import type { BatchStats, CostModel } from '../model/types.ts';
import { createPolicy } from '../policies/registry.ts';
import { featuresOf, fitCoefficients, quality, type Coefficients, type Features } from './fit.ts';
import { batchOf, type GridPoint } from './grid.ts';

export const REFERENCE_GRID: GridPoint[] = (() => {
  const g: GridPoint[] = [];
  for (const decodeBatch of [1, 8, 32, 64, 128, 256])
    for (const kvLen of [64, 256, 1024, 2048]) g.push({ decodeBatch, kvLen, prefillChunk: 0 });
  for (const prefillChunk of [128, 512, 1024, 2048]) g.push({ decodeBatch: 0, kvLen: 0, prefillChunk });
  for (const [decodeBatch, kvLen, prefillChunk] of [
    [32, 256, 512],
    [128, 512, 256],
    [64, 1024, 1024],
  ] as const)
    g.push({ decodeBatch, kvLen, prefillChunk });
  return g;
})();

export interface ReferenceFit {
  name: string;
  coefficients: Coefficients;
  r2: number;
  mape: number;
}

const NO_FEATURES = { tokens: 0, kvTokens: 0, prefillSquares: 0, decodeRequests: 0, prefillRequests: 0 } as const;

/**
 * The A100 model in the calibrated model's form (its per-request terms are 0: it has
 * none). Its attention terms are exact rooflines, so their coefficients are mapped from
 * its constants (KV bytes per token ÷ achieved bandwidth; causal FLOPs per prompt² ÷
 * achieved FLOP/s); the rest of a round (measured linear + all-reduce tables, fixed
 * overhead) is piecewise, so `fixed + perToken · T` is fitted to it over REFERENCE_GRID.
 * r2 / mape: the model in this form against the A100
 * model's own roundMicros over that grid.
 */
export function referenceFit(): ReferenceFit {
  const perKvTokenMicros = KV_BYTES_PER_TOKEN_PER_GPU / DECODE_ACHIEVED_BYTES_PER_MICRO;
  const perPrefillSquareMicros = PREFILL_FLOP_PER_SQUARE_PER_GPU / PREFILL_ACHIEVED_FLOP_PER_MICRO;
  const rest = REFERENCE_GRID.map((g) => {
    const b = batchOf(g);
    const t = a100Terms(b);
    return {
      features: { ...NO_FEATURES, tokens: featuresOf(b).tokens },
      micros: t.linearMicros + t.allReduceMicros + t.overheadMicros,
    };
  });
  const lin = fitCoefficients(rest);
  // The A100 model has no per-request terms: 0 here, and "not in the A100 model" where shown.
  const coefficients: Coefficients = {
    fixedMicros: lin.fixedMicros,
    perTokenMicros: lin.perTokenMicros,
    perKvTokenMicros,
    perPrefillSquareMicros,
    perDecodeRequestMicros: 0,
    perPrefillRequestMicros: 0,
  };
  const pts = REFERENCE_GRID.map((g) => {
    const b = batchOf(g);
    return { features: featuresOf(b), micros: a100Llama2_70bTp2.roundMicros(b) };
  });
  return { name: a100Llama2_70bTp2.name, coefficients, ...quality(coefficients, pts) };
}

export interface TypicalRound {
  description: string;
  rounds: number;
  /** Mean of each BatchStats field over the run's rounds. */
  mean: {
    requests: number;
    prefillRequests: number;
    prefillTokens: number;
    prefillSquares: number;
    decodeRequests: number;
    decodeContext: number;
  };
  features: Features;
}

export const TYPICAL_RUN = { requests: 2000, rate: 50, seed: 1, policy: 'mcsf' } as const;

let typicalCache: TypicalRound | undefined;

export function typicalLmsysRound(): TypicalRound {
  if (typicalCache) return typicalCache;
  const sums = {
    requests: 0,
    prefillRequests: 0,
    prefillTokens: 0,
    prefillSquares: 0,
    decodeRequests: 0,
    decodeContext: 0,
  };
  let rounds = 0;
  const recorder: CostModel = {
    name: a100Llama2_70bTp2.name,
    roundMicros(b: BatchStats) {
      rounds++;
      sums.requests += b.requests;
      sums.prefillRequests += b.prefillRequests;
      sums.prefillTokens += b.prefillTokens;
      sums.prefillSquares += b.prefillSquares;
      sums.decodeRequests += b.decodeRequests;
      sums.decodeContext += b.decodeContext;
      return a100Llama2_70bTp2.roundMicros(b);
    },
  };
  const inst = buildInstance({
    workload: { kind: 'lmsys', requests: TYPICAL_RUN.requests, rate: TYPICAL_RUN.rate },
    mode: 'seconds',
    seed: TYPICAL_RUN.seed,
    predict: { kind: 'exact' },
  });
  simulate(inst.requests(), createPolicy(TYPICAL_RUN.policy), {
    memory: inst.memory,
    mode: 'seconds',
    costModel: recorder,
    keepRounds: false,
  });
  const n = Math.max(1, rounds);
  const mean = {
    requests: sums.requests / n,
    prefillRequests: sums.prefillRequests / n,
    prefillTokens: sums.prefillTokens / n,
    prefillSquares: sums.prefillSquares / n,
    decodeRequests: sums.decodeRequests / n,
    decodeContext: sums.decodeContext / n,
  };
  typicalCache = {
    description: `mean round of lmsys (${TYPICAL_RUN.requests} requests, λ = ${TYPICAL_RUN.rate}/s, M = ${inst.memory}, seed ${TYPICAL_RUN.seed}) under ${TYPICAL_RUN.policy} with the A100 model`,
    rounds,
    mean,
    features: {
      tokens: mean.prefillTokens + mean.decodeRequests,
      kvTokens: mean.decodeContext,
      prefillSquares: mean.prefillSquares,
      decodeRequests: mean.decodeRequests,
      prefillRequests: mean.prefillRequests,
    },
  };
  return typicalCache;
}
