/**
 * Energy model: everything about watts is kept here.
 *
 * A round that lasts `micros` draws every GPU's active power for its whole duration;
 * time with no round running draws idle power. Joules are floating point: they are
 * reported outputs and never feed back into a schedule, so they need not be
 * bit-identical across engines (rounds and microseconds are).
 *
 * Attribution to requests: a round's energy is split among the requests of its batch
 * in proportion to the tokens each processed that round — its prefill tokens in its
 * first round after a (re)start (prompt, or prompt + generated tokens for a vLLM
 * recompute), 1 token in a decode round. The batch's total is then
 * prefillTokens + decodeRequests (`tokensInBatch` in ./a100.ts). Idle energy belongs to
 * no request.
 */

/** Electrical power of the serving hardware. */
export interface PowerModel {
  readonly name: string;
  /** GPUs that run every round (the tensor-parallel group). */
  readonly gpus: number;
  /** Watts per GPU while a round runs. */
  readonly activeWattsPerGpu: number;
  /** Watts per GPU while no round runs. */
  readonly idleWattsPerGpu: number;
}

/**
 * Two A100 80 GB SXM (the `a100-llama2-70b-tp2` cost model's hardware).
 * - Active: 400 W, the board TDP (model.md §7). Decode rounds are memory-bound and
 *   usually draw less, so this is an upper estimate of round energy.
 * - Idle: 60 W. An idle A100 SXM reads about 50–60 W in nvidia-smi; a serving engine
 *   keeps its CUDA context and 70+ GB of weights and KV cache resident, so the GPU
 *   stays in its highest performance state (P0, memory clock up) and sits at the top
 *   of that range rather than the bottom.
 * GPU power only: host CPU, DRAM, NVSwitch and cooling are not counted.
 */
export const a100x2Power: PowerModel = {
  name: 'a100x2',
  gpus: 2,
  activeWattsPerGpu: 400,
  idleWattsPerGpu: 60,
};

/**
 * The power model for simulating with a cost model: the one it carries (a calibration
 * profile's cost model carries the profile's board power), else the A100 pair's — which
 * is right only for the A100 model, so that is the only one that should lack its own.
 */
export function powerOf(costModel: { readonly power?: PowerModel }): PowerModel {
  return costModel.power ?? a100x2Power;
}

const MICROS_PER_SECOND = 1_000_000;

function checkMicros(micros: number): void {
  if (!Number.isFinite(micros) || micros < 0) throw new RangeError(`duration must be ≥ 0 µs, got ${micros}`);
}

/** Joules drawn by all GPUs during a round of `micros` µs. */
export function roundJoules(power: PowerModel, micros: number): number {
  checkMicros(micros);
  return (power.gpus * power.activeWattsPerGpu * micros) / MICROS_PER_SECOND;
}

/** Joules drawn by all GPUs during `micros` µs with no round running. */
export function idleJoules(power: PowerModel, micros: number): number {
  checkMicros(micros);
  return (power.gpus * power.idleWattsPerGpu * micros) / MICROS_PER_SECOND;
}

/**
 * A request's share of a round's energy: roundJoules × requestTokens / batchTokens,
 * where requestTokens is what the request processed that round (its prefill tokens, or
 * 1 when decoding) and batchTokens the batch's total (Σ over its requests). The shares
 * of a batch add up to roundJoules. A batch with no tokens attributes nothing.
 */
export function requestEnergyShare(roundJoulesValue: number, requestTokens: number, batchTokens: number): number {
  if (!(requestTokens >= 0) || !(batchTokens >= 0) || requestTokens > batchTokens) {
    throw new RangeError(`need 0 ≤ requestTokens (${requestTokens}) ≤ batchTokens (${batchTokens})`);
  }
  if (batchTokens === 0) return 0;
  return (roundJoulesValue * requestTokens) / batchTokens;
}
