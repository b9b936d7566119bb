/**
 * The replay check's schedule (pure): the rounds of a real run — MC-SF on the LMSYS
 * stand-in at λ = 10/s, 1 000 requests, seconds mode, seed 1, under the A100 model —
 * recorded from the engine, a sample of them evenly spaced over the run, and each
 * round's shape in the emulated geometry. ./calibrate.ts runs those rounds' kernels
 * and compares their time with the profile's prediction.
 *
 * A round's BatchStats has sums, not per-request lengths, so the emulated round gives
 * its decode requests equal KV lengths (same count, sum rounded to whole tokens) and its
 * prefill requests equal chunks (same count, Σ chunk² as close as whole tokens allow);
 * the prediction uses the emulated round's own features, so both sides see the same work.
 */
import { a100Llama2_70bTp2 } from '../cost/a100.ts';
import { simulate } from '../engine/engine.ts';
import { buildInstance } from '../experiment/instance.ts';
import type { BatchStats, CostModel } from '../model/types.ts';
import { createPolicy } from '../policies/registry.ts';
import type { Features } from './fit.ts';

export const REPLAY_RUN = { requests: 1000, rate: 10, seed: 1, policy: 'mcsf' } as const;

export interface ReplayRound {
  /** Index of the round in the run. */
  index: number;
  tokens: number;
  decodeBatch: number;
  kvLen: number;
  prefillChunks: number[];
  features: Features;
}

let cache: { description: string; rounds: BatchStats[] } | undefined;

/** Every round of the replay run, in order. */
export function replaySchedule(): { description: string; rounds: BatchStats[] } {
  if (cache) return cache;
  const rounds: BatchStats[] = [];
  const recorder: CostModel = {
    name: a100Llama2_70bTp2.name,
    roundMicros(b) {
      rounds.push({ ...b });
      return a100Llama2_70bTp2.roundMicros(b);
    },
  };
  const inst = buildInstance({
    workload: { kind: 'lmsys', requests: REPLAY_RUN.requests, rate: REPLAY_RUN.rate },
    mode: 'seconds',
    seed: REPLAY_RUN.seed,
    predict: { kind: 'exact' },
  });
  simulate(inst.requests(), createPolicy(REPLAY_RUN.policy), {
    memory: inst.memory,
    mode: 'seconds',
    costModel: recorder,
    keepRounds: false,
  });
  cache = {
    description: `${REPLAY_RUN.policy} on lmsys (${REPLAY_RUN.requests} requests, λ = ${REPLAY_RUN.rate}/s, M = ${inst.memory}, seed ${REPLAY_RUN.seed}), ${rounds.length} rounds`,
    rounds,
  };
  return cache;
}

/** The round's shape in the emulated geometry (see the header). */
export function emulatedRound(b: BatchStats, index: number): ReplayRound {
  const decodeBatch = b.decodeRequests;
  const kvLen = decodeBatch > 0 ? Math.max(1, Math.round(b.decodeContext / decodeBatch)) : 0;
  const chunk = b.prefillRequests > 0 ? Math.max(1, Math.round(Math.sqrt(b.prefillSquares / b.prefillRequests))) : 0;
  const prefillChunks = new Array<number>(b.prefillRequests).fill(chunk);
  const tokens = b.prefillTokens + b.decodeRequests;
  return {
    index,
    tokens,
    decodeBatch,
    kvLen,
    prefillChunks,
    features: {
      tokens,
      kvTokens: decodeBatch * kvLen,
      prefillSquares: prefillChunks.reduce((s, c) => s + c * c, 0),
      decodeRequests: decodeBatch,
      prefillRequests: prefillChunks.length,
    },
  };
}

/** `count` rounds evenly spaced over the run (all when it has fewer), as emulated rounds. */
export function replayRounds(count: number): { description: string; rounds: ReplayRound[] } {
  const s = replaySchedule();
  const n = s.rounds.length;
  const k = Math.min(count, n);
  const out: ReplayRound[] = [];
  for (let i = 0; i < k; i++) {
    const idx = Math.floor(((i + 0.5) * n) / k);
    out.push(emulatedRound(s.rounds[idx] as BatchStats, idx));
  }
  return { description: s.description, rounds: out };
}
