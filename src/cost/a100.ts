/**
 * The default cost model `a100-llama2-70b-tp2`: one round of Llama-2-70B served
 * with tensor parallelism 2 on two NVIDIA A100 80 GB SXM GPUs (docs/model.md §7).
 *
 *   round = linear + all-reduce + decode attention + prefill attention + overhead
 *
 * - linear: measured non-attention operators (Vidur, A100, TP 2), 80 layers, plus the
 *   token embedding once per forward pass — tables in ./tables/a100-llama2-70b-tp2.ts.
 * - all-reduce: measured NVLink all-reduce between 2 A100s, 2 per layer, message
 *   = tokens × 8192 hidden × 2 bytes.
 * - decode attention: memory-bound roofline, KV bytes read ÷ achieved HBM bandwidth.
 * - prefill attention: compute-bound roofline, causal attention FLOPs ÷ achieved FLOP/s.
 * - overhead: a fixed per-round constant.
 *
 * Integer arithmetic only. Each term is rounded half-up to whole µs by one
 * `mulDivFloor(a, b, d, c)` = ⌊(a·b + c)/d⌋ (the WGSL helper `mul_add_div_floor`, see
 * ./piecewise.ts); roundMicros = max(1, sum of the five terms).
 *
 * WGSL u32 domain (A100_U32_DOMAIN): tokensInBatch ≤ 262 143, decodeContext and
 * prefillSquares ≤ 2³² − 1. Over it every add/sub is < 2³², every product is < 2⁶⁴
 * and every quotient < 2³² — see the bounds at each step and test/node/cost.test.ts.
 * Outside it the TypeScript code stays exact (BigInt slow path) but a u32 port would not.
 */
import type { BatchStats, CostModel } from '../model/types.ts';
import { interp, mulDivFloor } from './piecewise.ts';
import { ALL_REDUCE_NS_BY_BYTES, EMBEDDING_NS_BY_TOKENS, LAYER_NS_BY_TOKENS } from './tables/a100-llama2-70b-tp2.ts';

export const A100_MODEL_NAME = 'a100-llama2-70b-tp2';

// ---- Llama-2-70B geometry (model.md §7) -------------------------------------------

/** Transformer layers. */
export const LAYERS = 80;
/** Hidden size. */
export const HIDDEN = 8192;
/** Query heads (whole model); 32 per GPU at TP 2. */
export const QUERY_HEADS = 64;
/** KV heads (grouped-query attention); 4 per GPU at TP 2. */
export const KV_HEADS = 8;
/** Head dimension. */
export const HEAD_DIM = 128;
/** Tensor-parallel degree (GPUs). */
export const TP_DEGREE = 2;
/** fp16 / bf16 bytes per element. */
export const BYTES_PER_ELEMENT = 2;
/** Nanoseconds per microsecond (tables are in ns, rounds in µs). */
export const NS_PER_MICRO = 1000;

// ---- All-reduce ---------------------------------------------------------------------

/** Message of one all-reduce per token: one hidden vector in fp16 = 8192 × 2 = 16 384 bytes. */
export const ALL_REDUCE_BYTES_PER_TOKEN = HIDDEN * BYTES_PER_ELEMENT;
/** All-reduces per layer at TP 2 (after attention's output projection and after the MLP). */
export const ALL_REDUCES_PER_LAYER = 2;

// ---- Decode attention: memory-bound --------------------------------------------------

/**
 * KV bytes each GPU reads per attended token, all layers: K and V (2) × 4 KV heads per
 * GPU (8 / TP 2) × 128 dims × 2 bytes × 80 layers = 163 840 B = 160 KiB
 * (model.md §7: 320 KiB per token for the model, 160 KiB per GPU). Both GPUs read their
 * halves in parallel, so time = per-GPU bytes ÷ one GPU's bandwidth.
 */
export const KV_BYTES_PER_TOKEN_PER_GPU = 2 * (KV_HEADS / TP_DEGREE) * HEAD_DIM * BYTES_PER_ELEMENT * LAYERS;
/** A100 80 GB SXM HBM2e peak bandwidth, rounded as in model.md §7 (datasheet: 2 039 GB/s). */
export const HBM_BYTES_PER_SECOND = 2_000_000_000_000;
/**
 * Fraction of peak bandwidth achieved by decode attention, in percent. Paged decode
 * kernels (vLLM PagedAttention, FlashDecoding) reach roughly 60–85 % of HBM peak on
 * long contexts and less on short ones; 75 % is the middle of that range.
 */
export const DECODE_BANDWIDTH_EFFICIENCY_PERCENT = 75;
/** Achieved bandwidth in bytes per µs: 2.0e12 × 75 / 100 / 1e6 = 1 500 000. */
export const DECODE_ACHIEVED_BYTES_PER_MICRO =
  ((HBM_BYTES_PER_SECOND / 1_000_000) * DECODE_BANDWIDTH_EFFICIENCY_PERCENT) / 100;

// ---- Prefill attention: compute-bound ------------------------------------------------

/**
 * Attention FLOPs per GPU per unit of prompt² (all layers, causal): per head QKᵀ is
 * 2·n²·d and P·V another 2·n²·d, i.e. 4·n²·d; the causal mask halves it; 32 query
 * heads per GPU (64 / TP 2), 80 layers: 4 × 80 × 32 × 128 / 2 = 655 360.
 */
export const PREFILL_FLOP_PER_SQUARE_PER_GPU = (4 * LAYERS * (QUERY_HEADS / TP_DEGREE) * HEAD_DIM) / 2;
/** A100 dense fp16/bf16 tensor-core peak, FLOP/s. */
export const PEAK_FLOP_PER_SECOND = 312_000_000_000_000;
/**
 * Fraction of peak reached by prefill attention, in percent. FlashAttention-2 forward
 * on A100 reaches about 50–73 % of peak at head dim 128 for long sequences (its paper's
 * benchmarks; causal and short sequences at the low end); 50 % is a conservative middle.
 */
export const PREFILL_FLOP_EFFICIENCY_PERCENT = 50;
/** Achieved FLOP per µs: 312e12 × 50 / 100 / 1e6 = 156 000 000. */
export const PREFILL_ACHIEVED_FLOP_PER_MICRO =
  ((PEAK_FLOP_PER_SECOND / 1_000_000) * PREFILL_FLOP_EFFICIENCY_PERCENT) / 100;

// ---- Fixed overhead --------------------------------------------------------------------

/**
 * Per-round fixed cost, µs: what the operator tables do not contain — the engine's
 * scheduler and input preparation (~0.5 ms), sampling over the 32 000-token vocabulary
 * (~0.5 ms), output processing and the TP-worker handshake (~0.5 ms), the LM head
 * (8192 × 32 000 fp16 weights, 262 MB per GPU streamed at ~1.5 TB/s ≈ 0.17 ms; vLLM
 * computes logits only for each sequence's last token, so it barely grows with the batch)
 * and kernel-launch gaps between the ~1 000 kernels of a forward pass that per-operator
 * timings miss. Total ≈ 2 ms, the order of magnitude of vLLM's measured CPU overheads.
 */
export const ROUND_OVERHEAD_MICROS = 2000;

// ---- Domain of the u32 port -------------------------------------------------------------

/** Inputs over which every integer of roundMicros fits the bounds stated above. */
export const A100_U32_DOMAIN = {
  /** tokensInBatch × 16 384 < 2³². */
  maxTokensInBatch: Math.floor((2 ** 32 - 1) / ALL_REDUCE_BYTES_PER_TOKEN),
  maxDecodeContext: 2 ** 32 - 1,
  maxPrefillSquares: 2 ** 32 - 1,
} as const;

// ---- The model ---------------------------------------------------------------------------

/** Tokens whose activations pass through the non-attention layers this round. */
export function tokensInBatch(batch: BatchStats): number {
  return batch.prefillTokens + batch.decodeRequests;
}

/** Per-term breakdown of a round, whole µs each; their sum (min 1) is roundMicros. */
export interface A100Terms {
  readonly linearMicros: number;
  readonly allReduceMicros: number;
  readonly decodeAttentionMicros: number;
  readonly prefillAttentionMicros: number;
  readonly overheadMicros: number;
}

const FIELDS = [
  'requests',
  'prefillRequests',
  'prefillTokens',
  'prefillSquares',
  'decodeRequests',
  'decodeContext',
] as const;

function ok(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

function checkBatch(batch: BatchStats): void {
  // One combined test on the hot path (every round; no closure, which tsx's keepNames
  // would wrap on every call); the loop names the bad field.
  if (
    ok(batch.requests) &&
    ok(batch.prefillRequests) &&
    ok(batch.prefillTokens) &&
    ok(batch.prefillSquares) &&
    ok(batch.decodeRequests) &&
    ok(batch.decodeContext)
  )
    return;
  for (const f of FIELDS) {
    const v = batch[f];
    if (!ok(v)) throw new RangeError(`BatchStats.${f} must be a non-negative integer, got ${v}`);
  }
}

/**
 * The linear and all-reduce terms depend on the batch's token count alone and cost three
 * table interpolations; a simulation asks for the same few thousand counts again and
 * again (a 10k LMSYS run: ~16k rounds; Orca: ~214k), so each is cached per count below
 * TOKEN_CACHE (lazily, −1 = not computed). Values are those of the uncached formula; both
 * are ≤ 77 930 408 < 2³¹ over the u32 domain (bounds below), so they fit an Int32Array.
 */
const TOKEN_CACHE = 1 << 16;

function cachedByTokens(f: (tokens: number) => number): (tokens: number) => number {
  let cache: Int32Array | null = null;
  return (tokens) => {
    if (tokens >= TOKEN_CACHE) return f(tokens);
    cache ??= new Int32Array(TOKEN_CACHE).fill(-1);
    let v = cache[tokens] as number;
    if (v < 0) cache[tokens] = v = f(tokens);
    return v;
  };
}

// layerNs ≤ interp at T = 262 143 = 973 794 148 < 2³² (extrapolated, 3 713 ns/token);
// embNs ≤ 26 876 313. interp's product (dy · dx) < 2⁶⁴, quotient ≤ the value itself.
// ⌊(layerNs·80 + embNs + 500)/1000⌋: product + addend ≤ 7.8e10 (u64), quotient ≤ 77 930 408 µs.
const linearMicrosOf = cachedByTokens((t) =>
  roundedMulDiv(interp(LAYER_NS_BY_TOKENS, t), LAYERS, NS_PER_MICRO, interp(EMBEDDING_NS_BY_TOKENS, t)),
);

// bytes = T·16 384 ≤ 4 294 950 912 < 2³²; arNs ≤ 21 257 658 (extrapolated, 0.0049 ns/byte).
// ⌊(arNs·160 + 500)/1000⌋: product ≤ 3.41e9 (< 2³², but use the u64 helper), quotient ≤ 3 401 225 µs.
const allReduceMicrosOf = cachedByTokens((t) =>
  roundedMulDiv(
    interp(ALL_REDUCE_NS_BY_BYTES, t * ALL_REDUCE_BYTES_PER_TOKEN),
    LAYERS * ALL_REDUCES_PER_LAYER,
    NS_PER_MICRO,
  ),
);

/** Round half up: ⌊(a·b + c + ⌊d/2⌋) / d⌋. */
function roundedMulDiv(a: number, b: number, d: number, c = 0): number {
  return mulDivFloor(a, b, d, c + Math.floor(d / 2));
}

/**
 * The five terms of a round. Bounds are over A100_U32_DOMAIN (T = tokensInBatch ≤ 262 143);
 * numbers come from the generated tables (see the bounds test).
 */
export function a100Terms(batch: BatchStats): A100Terms {
  checkBatch(batch);
  // T ≤ 262 143 (u32 add of two inputs bounded by the domain).
  const tokens = tokensInBatch(batch);

  const linearMicros = linearMicrosOf(tokens);
  const allReduceMicros = allReduceMicrosOf(tokens);

  // ⌊(ctx·163 840 + 750 000)/1 500 000⌋: product ≤ 7.04e14 (u64), quotient ≤ 469 124 961 µs.
  const decodeAttentionMicros = roundedMulDiv(
    batch.decodeContext,
    KV_BYTES_PER_TOKEN_PER_GPU,
    DECODE_ACHIEVED_BYTES_PER_MICRO,
  );

  // ⌊(sq·655 360 + 78e6)/156e6⌋: product ≤ 2.82e15 (u64), quotient ≤ 18 043 268 µs.
  const prefillAttentionMicros = roundedMulDiv(
    batch.prefillSquares,
    PREFILL_FLOP_PER_SQUARE_PER_GPU,
    PREFILL_ACHIEVED_FLOP_PER_MICRO,
  );

  return {
    linearMicros,
    allReduceMicros,
    decodeAttentionMicros,
    prefillAttentionMicros,
    overheadMicros: ROUND_OVERHEAD_MICROS,
  };
}

/** Sum of the terms, at least 1 µs. Over the u32 domain the sum is ≤ 568 501 862 < 2³². */
export function sumTerms(t: A100Terms): number {
  const s = t.linearMicros + t.allReduceMicros + t.decodeAttentionMicros + t.prefillAttentionMicros + t.overheadMicros;
  return Math.max(1, s);
}

export const a100Llama2_70bTp2: CostModel = {
  name: A100_MODEL_NAME,
  roundMicros(batch: BatchStats): number {
    return sumTerms(a100Terms(batch));
  },
};
