// GENERATED FILE — DO NOT EDIT. Regenerate with: npx tsx scripts/gen-engine-layout.ts
//
// The GPU engine's buffer layout and enums, declared once in src/gpu-engine/layout.ts (the
// host reads and writes the same records through views named after these fields). The
// shader loaders put this file before shaders/engine/scheduler.wgsl. Offsets and strides
// are in u32 words; a u64 field is two words, low then high.

const NONE: u32 = 0xffffffffu;           // no value (R_FIRST_TOKEN_HI before the first token)

// ---- policy kind (P_KIND) ----
const KIND_MCSF: u32 = 0u;
const KIND_MC_FCFS: u32 = 1u;
const KIND_ALPHA_GREEDY: u32 = 2u;
const KIND_ALPHA_CLEARING: u32 = 3u;
const KIND_VLLM: u32 = 4u;
const KIND_SARATHI: u32 = 5u;
const KIND_MCSF_BUDGET: u32 = 6u;
const KIND_ORCA: u32 = 7u;

// ---- replica status (S_STATUS) ----
const STATUS_RUNNING: u32 = 0u;
const STATUS_DONE: u32 = 1u;
const STATUS_STUCK: u32 = 2u;
const STATUS_LIVELOCK: u32 = 3u;

// ---- request phase (R_PHASE) ----
const PHASE_WAITING: u32 = 0u;
const PHASE_RUNNING: u32 = 1u;
const PHASE_DONE: u32 = 2u;

// ---- scratch section ----
const SEC_RL: u32 = 0u;
const SEC_RL2: u32 = 1u;
const SEC_RL_W: u32 = 2u;
const SEC_CL: u32 = 3u;
const SEC_CL_S: u32 = 4u;
const SEC_DEQUE: u32 = 5u;
const SEC_VR: u32 = 6u;
const SEC_BL: u32 = 7u;

// ---- replica parameters (read-only), stride 16 ----
const P_OFF: u32 = 0u;                   // first request index of the replica
const P_N: u32 = 1u;                     // requests
const P_M: u32 = 2u;                     // KV capacity M
const P_KIND: u32 = 3u;                  // POLICY_KIND
const P_ADMIT: u32 = 4u;                 // floor((1-alpha) M)
const P_TARGET: u32 = 5u;                // overflow tgt: M, or floor((1-beta) M)
const P_BLOCKS: u32 = 6u;                // vLLM, Sarathi, Orca: floor(M / 16)
const P_WATERMARK: u32 = 7u;             // vLLM, Sarathi: floor(0.01 * blocks) as JS computes it
const P_MAX_TOKENS: u32 = 8u;            // vLLM
const P_MAX_BATCH: u32 = 9u;             // vLLM, Sarathi; Orca: min(maxBatch, floor(blocks / perSeq))
const P_SECONDS: u32 = 10u;              // 1: seconds mode
const P_WATCHDOG: u32 = 11u;             // 4 M + 64, or NONE: the policy cannot livelock
const P_COST: u32 = 12u;                 // 1: evaluate the cost model (seconds mode, or energy in rounds mode)
const P_SCR: u32 = 13u;                  // scratch base (u32 index)
const P_CHUNK: u32 = 14u;                // Sarathi, mcsf-budget: token budget per round
const P_PER_SEQ: u32 = 15u;              // Orca: blocks reserved per request, floor(maxTokens / 16)
const P_STRIDE: u32 = 16u;

// ---- replica state (read-write), stride 32 ----
const S_STATUS: u32 = 0u;                // STATUS
const S_NOW_LO: u32 = 1u;                // u64
const S_NOW_HI: u32 = 2u;
const S_ROUND: u32 = 3u;
const S_PEND: u32 = 4u;                  // requests enqueued (arrival rank)
const S_WAIT: u32 = 5u;
const S_RUN: u32 = 6u;
const S_DONE: u32 = 7u;
const S_RETRIED: u32 = 8u;
const S_RSC: u32 = 9u;                   // rounds since completion
const S_ESC: u32 = 10u;                  // evictions since completion
const S_ALLOC: u32 = 11u;                // vLLM, Sarathi, Orca: allocated blocks
const S_Q_HEAD: u32 = 12u;               // vLLM deque
const S_Q_LEN: u32 = 13u;
const S_RL_LEN: u32 = 14u;               // look-ahead: running list length
const S_VR_LEN: u32 = 15u;               // SEC_VR list length
const S_ROUNDS: u32 = 16u;
const S_EVICTIONS: u32 = 17u;
const S_PEAK_KV: u32 = 18u;
const S_BUSY_LO: u32 = 19u;              // u64
const S_BUSY_HI: u32 = 20u;
const S_TOKENS: u32 = 21u;
const S_KV_TIME_LO: u32 = 22u;           // sum kv * duration (u64)
const S_KV_TIME_HI: u32 = 23u;
const S_COST_BUSY_LO: u32 = 24u;         // sum of cost-model micros, for energy (u64)
const S_COST_BUSY_HI: u32 = 25u;
const S_STEPS: u32 = 26u;                // loop iterations so far (progress)
const S_ADM: u32 = 27u;
const S_EVI: u32 = 28u;
const S_BLEN: u32 = 29u;                 // batch length; SEC_BL keeps the last batch between rounds
const S_END_LO: u32 = 30u;               // u64
const S_END_HI: u32 = 31u;
const S_STRIDE: u32 = 32u;

// ---- per-request state (read-write), stride 14 ----
const R_PHASE: u32 = 0u;                 // PHASE
const R_GEN: u32 = 1u;                   // tokens generated since the last (re)start
const R_RESTARTS: u32 = 2u;
const R_PREFILL: u32 = 3u;               // 1: prefill pending
const R_START_ROUND: u32 = 4u;
const R_BLOCKS: u32 = 5u;                // vLLM blocks held
const R_START_LO: u32 = 6u;              // u64
const R_START_HI: u32 = 7u;
const R_FIRST_TOKEN_LO: u32 = 8u;        // high word NONE until the first token (u64)
const R_FIRST_TOKEN_HI: u32 = 9u;
const R_COMPLETION_LO: u32 = 10u;        // u64
const R_COMPLETION_HI: u32 = 11u;
const R_PREFILLED: u32 = 12u;            // prefill tokens processed in earlier rounds (chunked prefill)
const R_CHUNK: u32 = 13u;                // this round only: prefill tokens it processes; 0 = the rest
const R_STRIDE: u32 = 14u;

// ---- request inputs (read-only), stride 8 ----
const Q_ARRIVAL_LO: u32 = 0u;            // u64
const Q_ARRIVAL_HI: u32 = 1u;
const Q_PROMPT: u32 = 2u;
const Q_OUTPUT: u32 = 3u;
const Q_PLANNED: u32 = 4u;               // min(predicted, M - prompt)
const Q_ID_RANK: u32 = 5u;               // rank of the id within the replica
const Q_ARR_SLOT: u32 = 6u;              // at index (off + k): slot of the k-th arrival
const Q_STRIDE: u32 = 8u;

// ---- cost-model knots header (read-only), stride 16 ----
const K_LAYER_COUNT: u32 = 0u;           // knots in the layer table
const K_LAYER_OFF: u32 = 1u;             // word offset of its (x, y) pairs
const K_EMBEDDING_COUNT: u32 = 2u;
const K_EMBEDDING_OFF: u32 = 3u;
const K_ALL_REDUCE_COUNT: u32 = 4u;
const K_ALL_REDUCE_OFF: u32 = 5u;
const K_LAYERS: u32 = 6u;
const K_NS_PER_MICRO: u32 = 7u;
const K_ALL_REDUCE_BYTES_PER_TOKEN: u32 = 8u;
const K_ALL_REDUCES: u32 = 9u;           // layers x all-reduces per layer
const K_KV_BYTES_PER_TOKEN: u32 = 10u;   // per GPU
const K_DECODE_BYTES_PER_MICRO: u32 = 11u;
const K_PREFILL_FLOP_PER_SQUARE: u32 = 12u; // per GPU
const K_PREFILL_FLOP_PER_MICRO: u32 = 13u;
const K_ROUND_OVERHEAD: u32 = 14u;       // micros
const K_STRIDE: u32 = 16u;

// ---- cost-probe row (read-write), stride 5 ----
const X_PREFILL_TOKENS: u32 = 0u;
const X_PREFILL_SQUARES: u32 = 1u;
const X_DECODE_REQUESTS: u32 = 2u;
const X_DECODE_CONTEXT: u32 = 3u;
const X_MICROS: u32 = 4u;                // output
const X_STRIDE: u32 = 5u;

// ---- dispatch configuration (uniform) ----
struct Cfg {
  steps: u32, // loop iterations per dispatch
  base: u32,
  count: u32, // replicas (main) or probe rows (cost_probe)
  pad: u32,
}
