/**
 * Calibration presets: the sweeps that measure each cost term with the work that carries
 * it, varied on its own (docs/calibration.md, "Measurement design"), and the composite
 * rounds held out to check the fitted model.
 *
 * - linear: the four matmuls of a layer for T tokens. The matmul computes 32-row tiles,
 *   so its time is a staircase in T; T = 16 + 32k sits mid-step, so the sweep is exactly
 *   linear and its line is the staircase's average (what rounds of any T see on average).
 * - decode: decode attention over B sequences × L KV tokens, fitted on B·L (per KV token) and
 *   B (per decode request: a sequence's own cost whatever its length), so B and L vary
 *   independently (B from 2 to 32 at L = 128, L from 128 to 896 at small B); L mid-way
 *   through the kernel's 256-token tiles for the same reason.
 * - prefill: causal prefill attention over a chunk of C tokens (x is C²; the intercept is a
 *   prefill dispatch's own cost, the per-prefill-request term); C = 8 + 16k, mid-way through
 *   its 16-token key tiles.
 * - fixed: submit + wait of a trivial dispatch (the round trip), plus the sweeps'
 *   intercepts; a minimal round (1 token, 1 KV token) is measured as a cross-check.
 * - validation: composite rounds (linear + decode + prefill in one pass), never fitted. They
 *   sit on the same mid-tile lattice (T = 16 + 32k tokens, L = 128 + 256k, C = 8 + 16k or
 *   0), so that they test whether the per-term sweeps add up to a round, not the tile
 *   staircase (which the model averages by design and the replay check covers on real
 *   rounds of any size; docs/calibration.md, "Held-out rounds").
 */
import { MATMUL_TILE } from '../gpu/kernels.ts';
import type { BatchStats } from '../model/types.ts';

/** The kernels' tiles along each sweep's size (tokens): linear layers' rows, decode's KV tile, prefill's key tile. */
export const SWEEP_TILES = { linear: MATMUL_TILE.rows, decode: 256, prefill: 16 } as const;

/** n sits in the middle of a tile of `tile` (where a tile staircase meets its average line). */
export function midTile(n: number, tile: number): boolean {
  return n % tile === tile / 2;
}

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
  /** Tokens of the linear sweep. */
  readonly linearTokens: readonly number[];
  /** (B, L) of the decode sweep. */
  readonly decodePoints: ReadonlyArray<{ readonly decodeBatch: number; readonly kvLen: number }>;
  /** Chunks C of the prefill sweep. */
  readonly prefillChunks: readonly number[];
  /** Composite rounds held out to check the model. */
  readonly validation: readonly GridPoint[];
  /**
   * Devices the linear sweep's samples rotate over (the calibration's own and, when the
   * caller can open more, `linearDevices − 1` others on the same adapter). On SwiftShader a
   * device's speed for the same kernel differs by up to ~25 % from another's, and stays so
   * for its lifetime: one device alone puts that level into the per-token term (~95 % of
   * the typical round) where no interval sees it (docs/calibration.md, "Device levels").
   */
  readonly linearDevices: number;
  /**
   * Samples of each held-out round per visit. Two on the quick preset: held-out R² is judged
   * per calibration, and with five samples a round's median still erred by 10–14 % (one
   * quick run: R² 0.939 and 0.954). One on the full preset: its eight held-out rounds are
   * the largest work it times (~2.4 s a sample on SwiftShader, plus a warm-up each, as they
   * are too large to keep), and two took it to 506 s against its 8-minute target.
   */
  readonly heldOutRepeats: number;
  /** Samples of every point before the stopping rule is first checked (≥ 3). */
  readonly minSamples: number;
  /** Most samples of a point. */
  readonly maxSamples: number;
  /** Stop sampling once the typical round's 95 % interval is within ± this fraction … */
  readonly targetHalfWidth: number;
  /** … or when sampling has taken this long (ms). */
  readonly budgetMs: number;
  readonly minIntervalMs: number;
  /**
   * Length (ms) of the drift reference probe timed around every sample: a probe much
   * shorter than a sample sees only a slice of the scheduler's time and tracks the
   * sample's speed poorly (docs/calibration.md, "Drift normalisation").
   */
  readonly referenceMs: number;
  /** Probe sizes. */
  readonly streamBytes: number;
  readonly fmaIters: number;
  /**
   * Replay check: rounds of the schedule sampled, and the time (ms) after which no more are
   * started (they run in a seeded random order, so a cut leaves a random subsample).
   */
  readonly replay: { readonly rounds: number; readonly budgetMs: number };
}

export const PRESETS: Readonly<Record<Preset['name'], Preset>> = {
  // Under a minute on SwiftShader (2 CPU cores); used by the tests.
  quick: {
    name: 'quick',
    layers: 1,
    widthDivisor: 32,
    linearTokens: [16, 48, 80, 112, 144, 176],
    decodePoints: [
      { decodeBatch: 2, kvLen: 128 },
      { decodeBatch: 4, kvLen: 128 },
      { decodeBatch: 8, kvLen: 128 },
      { decodeBatch: 16, kvLen: 128 },
      { decodeBatch: 32, kvLen: 128 },
      { decodeBatch: 4, kvLen: 384 },
      { decodeBatch: 8, kvLen: 384 },
      { decodeBatch: 2, kvLen: 640 },
      { decodeBatch: 2, kvLen: 896 },
    ],
    // C = 8 pins the intercept (the per-prefill-request term): its relative standard error
    // is 2.4× smaller than with C ≥ 24 only (equal relative noise per point).
    prefillChunks: [8, 24, 40, 56, 72, 88],
    validation: [
      { decodeBatch: 8, kvLen: 128, prefillChunk: 8 },
      { decodeBatch: 8, kvLen: 384, prefillChunk: 40 },
      { decodeBatch: 16, kvLen: 128, prefillChunk: 0 },
      { decodeBatch: 24, kvLen: 128, prefillChunk: 24 },
      { decodeBatch: 48, kvLen: 128, prefillChunk: 0 },
      { decodeBatch: 8, kvLen: 640, prefillChunk: 72 },
    ],
    // Five: the device levels' sd (~5 % in log) over √5; each extra device compiles only
    // the matmul (~0.4 s).
    linearDevices: 5,
    heldOutRepeats: 2,
    minSamples: 3,
    maxSamples: 15,
    targetHalfWidth: 0.05,
    // 30 s: two to three visits past the three minimum ones, with the variance-focused
    // repeats (calibrate.ts, focusRepeats); the quick preset then takes ~50 s of its 60 s target.
    budgetMs: 30_000,
    minIntervalMs: 4,
    referenceMs: 40,
    streamBytes: 32 << 20,
    fmaIters: 32,
    replay: { rounds: 60, budgetMs: 8_000 },
  },
  full: {
    name: 'full',
    layers: 2,
    widthDivisor: 16,
    linearTokens: [16, 48, 80, 112, 144, 208, 272, 336, 400],
    decodePoints: [
      { decodeBatch: 8, kvLen: 128 },
      { decodeBatch: 16, kvLen: 128 },
      { decodeBatch: 16, kvLen: 384 },
      { decodeBatch: 32, kvLen: 384 },
      { decodeBatch: 32, kvLen: 640 },
      { decodeBatch: 64, kvLen: 640 },
      { decodeBatch: 64, kvLen: 896 },
      { decodeBatch: 8, kvLen: 896 },
      { decodeBatch: 96, kvLen: 128 },
    ],
    prefillChunks: [8, 40, 72, 104, 136, 200, 264, 328],
    validation: [
      { decodeBatch: 24, kvLen: 384, prefillChunk: 120 },
      { decodeBatch: 40, kvLen: 640, prefillChunk: 72 },
      { decodeBatch: 72, kvLen: 128, prefillChunk: 264 },
      { decodeBatch: 8, kvLen: 896, prefillChunk: 296 },
      { decodeBatch: 48, kvLen: 384, prefillChunk: 0 },
      { decodeBatch: 80, kvLen: 128, prefillChunk: 0 },
      { decodeBatch: 56, kvLen: 384, prefillChunk: 24 },
      { decodeBatch: 8, kvLen: 128, prefillChunk: 168 },
    ],
    linearDevices: 5,
    heldOutRepeats: 1,
    // 3 visits (the minimum the intervals need) and 150 s of sampling: the whole preset took
    // 634 s with 5 visits and 240 s on a quiet 2-core SwiftShader machine (target ≤ 8 min).
    minSamples: 3,
    maxSamples: 25,
    targetHalfWidth: 0.05,
    budgetMs: 150_000,
    minIntervalMs: 20,
    referenceMs: 40,
    streamBytes: 256 << 20,
    fmaIters: 1024,
    replay: { rounds: 300, budgetMs: 60_000 },
  },
};

/** The held-out composite rounds of a preset. */
export function gridPoints(p: Preset): GridPoint[] {
  return [...p.validation];
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
