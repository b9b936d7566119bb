/**
 * Calibration presets and the grid of rounds they time. A grid point is one emulated
 * round: `decodeBatch` sequences each attending to `kvLen` KV tokens, plus one prefill
 * chunk of `prefillChunk` prompt tokens; the linear layers process
 * tokens = decodeBatch + prefillChunk tokens.
 */
import type { BatchStats } from '../model/types.ts';

export interface GridPoint {
  readonly decodeBatch: number;
  readonly kvLen: number;
  readonly prefillChunk: number;
}

export interface Preset {
  readonly name: 'quick' | 'full';
  /** Transformer layers emulated per round (the full model has 80; times are scaled). */
  readonly layers: number;
  /** Linear-layer widths are Llama-2-70B's divided by this (matmul FLOPs scale by its square). */
  readonly widthDivisor: number;
  readonly decodeBatches: readonly number[];
  readonly kvLens: readonly number[];
  readonly prefillChunks: readonly number[];
  /** Rounds with both decode and prefill work. */
  readonly mixed: readonly GridPoint[];
  readonly samples: number;
  readonly minIntervalMs: number;
  /** Probe sizes. */
  readonly streamBytes: number;
  readonly fmaIters: number;
}

export const PRESETS: Readonly<Record<Preset['name'], Preset>> = {
  // Under a minute on SwiftShader (2 CPU cores); used by the tests.
  quick: {
    name: 'quick',
    layers: 1,
    widthDivisor: 32,
    decodeBatches: [2, 8],
    kvLens: [64, 256],
    prefillChunks: [24, 48, 72],
    mixed: [
      { decodeBatch: 4, kvLen: 128, prefillChunk: 32 },
      { decodeBatch: 2, kvLen: 256, prefillChunk: 48 },
      { decodeBatch: 8, kvLen: 64, prefillChunk: 24 },
    ],
    samples: 3,
    minIntervalMs: 4,
    streamBytes: 32 << 20,
    fmaIters: 32,
  },
  full: {
    name: 'full',
    layers: 2,
    widthDivisor: 16,
    decodeBatches: [8, 32, 64],
    kvLens: [128, 512, 1024],
    prefillChunks: [64, 128, 256, 384],
    mixed: [
      { decodeBatch: 16, kvLen: 256, prefillChunk: 128 },
      { decodeBatch: 32, kvLen: 512, prefillChunk: 64 },
      { decodeBatch: 64, kvLen: 128, prefillChunk: 256 },
      { decodeBatch: 8, kvLen: 1024, prefillChunk: 384 },
    ],
    samples: 5,
    minIntervalMs: 20,
    streamBytes: 256 << 20,
    fmaIters: 1024,
  },
};

export function gridPoints(p: Preset): GridPoint[] {
  const out: GridPoint[] = [];
  for (const decodeBatch of p.decodeBatches) for (const kvLen of p.kvLens) out.push({ decodeBatch, kvLen, prefillChunk: 0 });
  for (const prefillChunk of p.prefillChunks) out.push({ decodeBatch: 0, kvLen: 0, prefillChunk });
  out.push(...p.mixed);
  return out;
}

/** Held-out points for the fit's quality: every third grid point (indices 2, 5, 8, …). */
export function isHeldOut(index: number): boolean {
  return index % 3 === 2;
}

export function tokensOf(g: GridPoint): number {
  return g.decodeBatch + g.prefillChunk;
}

/** The engine's view of a grid point's round. */
export function batchOf(g: GridPoint): BatchStats {
  return {
    requests: g.decodeBatch + (g.prefillChunk > 0 ? 1 : 0),
    prefillRequests: g.prefillChunk > 0 ? 1 : 0,
    prefillTokens: g.prefillChunk,
    prefillSquares: g.prefillChunk * g.prefillChunk,
    decodeRequests: g.decodeBatch,
    decodeContext: g.decodeBatch * g.kvLen,
  };
}
