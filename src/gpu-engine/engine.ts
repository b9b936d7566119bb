/**
 * The GPU-resident scheduler engine (issue 5): simulates R independent replicas (each
 * its own instance, memory M and policy) in one WGSL kernel, shaders/engine/scheduler.wgsl,
 * one workgroup per replica, many rounds per dispatch and many dispatches per submit.
 * The CPU reads back only the replicas' small state records (progress) and, at the end,
 * the per-request results.
 *
 * It reproduces the CPU engine (src/engine/engine.ts with src/policies/*.ts) exactly:
 * every request's start, first token, completion and restarts, and the run totals
 * (rounds, end, busy, tokens, evictions, peak KV, Σ kv·duration). Energy: the totals'
 * active and idle joules come from the summed cost-model microseconds (floating-point
 * sums in another order than the CPU's, so equal up to rounding); per-request energy
 * shares are NOT computed on the GPU (reported as 0). The per-round trace is not kept.
 *
 * The buffer layout and enums are declared once in ./layout.ts (the WGSL constants are
 * generated from it); this file reads and writes records only through its named views.
 * Policies arrive as registry configs (src/policies/registry.ts); GPU_PORTS maps each to
 * the kernel's parameters.
 *
 * Stuck and livelocked replicas are outcomes (StuckError / LivelockError naming the
 * replica), with the CPU engine's semantics. Device loss, validation and out-of-memory
 * errors and GPU waits that never end go through the GPU session (src/gpu/session.ts)
 * and reject with a GpuEngineError (a GpuError) naming the replicas in flight. There is
 * no silent fallback to the CPU engine: callers choose the engine.
 *
 * Limits (refused with a clear message, use the CPU engine): seconds mode needs
 * max(M, vLLM maxTokens) ≤ 65 535 (the a100 cost model's u32 domain) and the a100 cost
 * model; n·(M+1) < 2³⁰ per replica (u32 token sums); rounds-mode arrivals < 2³²; a token
 * budget (sarathi, mcsf-budget) with 2·M·chunk < 2³² when the cost model is evaluated.
 * Orca refuses a request above its reservation before the run (the CPU engine when it
 * arrives), with the same message.
 * Replicas that do not fit the adapter's buffer limits together are split into several
 * jobs run one after the other; a single replica that does not fit is refused.
 */
import { AbortError } from '../model/abort.ts';
import { checkRequest } from '../model/limits.ts';
import {
  a100Llama2_70bTp2,
  A100_MODEL_NAME,
  ALL_REDUCE_BYTES_PER_TOKEN,
  ALL_REDUCES_PER_LAYER,
  DECODE_ACHIEVED_BYTES_PER_MICRO,
  KV_BYTES_PER_TOKEN_PER_GPU,
  LAYERS,
  NS_PER_MICRO,
  PREFILL_ACHIEVED_FLOP_PER_MICRO,
  PREFILL_FLOP_PER_SQUARE_PER_GPU,
  ROUND_OVERHEAD_MICROS,
} from '../cost/a100.ts';
import { idleJoules, roundJoules, type PowerModel } from '../cost/energy.ts';
import type { Knots } from '../cost/piecewise.ts';
import {
  ALL_REDUCE_NS_BY_BYTES,
  EMBEDDING_NS_BY_TOKENS,
  LAYER_NS_BY_TOKENS,
} from '../cost/tables/a100-llama2-70b-tp2.ts';
import { LivelockError, StuckError, type RunTotals, type SimulationResult } from '../engine/engine.ts';
import { RequestTable } from '../engine/results.ts';
import type { CostModel, RequestSpec, TimeMode } from '../model/types.ts';
import { GpuError, type GpuSession } from '../gpu/session.ts';
import { wgslLocation, type WgslSource } from '../gpu/shaders.ts';
import { capacityBelow } from '../policies/fraction.ts';
import {
  orcaConfig,
  policyFraction,
  resolvePolicy,
  sarathiConfig,
  vllmConfig,
  type PolicyConfig,
  type PolicyConfigOf,
  type PolicyKind,
} from '../policies/registry.ts';
import {
  CFG,
  KNOTS,
  NONE,
  PARAMS,
  PHASE,
  POLICY_KIND,
  PROBE,
  REQ_INPUT,
  REQ_STATE,
  SCRATCH_SECTIONS,
  STATE,
  STATUS,
  type GpuPolicyKind,
  type RecordView,
} from './layout.ts';

/**
 * One replica: an instance (requests in arrival order, ties by id), M and a policy: its
 * spelling (parsed once by the registry; results carry it as written) or its config.
 */
export interface GpuReplica {
  readonly requests: readonly RequestSpec[];
  readonly memory: number;
  readonly policy: string | PolicyConfig;
  /** How errors and outcomes name this replica (default `replica INDEX`, its place in the run). */
  readonly tag?: string;
}

export interface GpuRunOptions {
  readonly mode: TimeMode;
  /** Required in seconds mode; only `a100-llama2-70b-tp2` has a WGSL port. */
  readonly costModel?: CostModel;
  /** Energy totals (as the CPU engine's `power`); none → 0. */
  readonly power?: PowerModel;
  /** Loop iterations (rounds or idle jumps) per dispatch. Default 64. */
  readonly stepsPerDispatch?: number;
  /** Initial dispatches per submit (adapted to ~100 ms per submit). Default 4. */
  readonly dispatchesPerSubmit?: number;
  /** Called after every submit. */
  readonly onProgress?: (p: GpuProgress) => void;
  /** Checked after every submit: aborts the run with an AbortError (benchmarks, UIs). */
  readonly signal?: { readonly aborted: boolean };
  /** Test hook: cap the replicas per job (forces splitting). */
  readonly maxReplicasPerJob?: number;
}

export interface GpuProgress {
  readonly replicas: number;
  readonly finished: number;
  readonly completedRequests: number;
  readonly totalRequests: number;
  readonly submits: number;
  /** Rounds executed so far, summed over the replicas. */
  readonly replicaRounds: number;
}

export type GpuOutcome =
  | { readonly ok: true; readonly replica: number; readonly result: SimulationResult }
  | {
      readonly ok: false;
      readonly replica: number;
      readonly kind: 'stuck' | 'livelock';
      readonly error: StuckError | LivelockError;
    };

/** A device, validation or out-of-memory failure, naming the replicas whose job failed. */
export class GpuEngineError extends GpuError {
  override name = 'GpuEngineError';
  constructor(
    message: string,
    readonly replicas: readonly number[],
  ) {
    super(message);
  }
}

const TWO32 = 2 ** 32;
const WORKGROUPS_MAX = 65535;
/** The a100 model's u32 domain, for a batch bounded by M tokens (see a100.ts A100_U32_DOMAIN). */
export const GPU_SECONDS_MAX_MEMORY = 65535;

type ParamsView = RecordView<keyof typeof PARAMS.offset>;

interface PortContext {
  readonly memory: number;
  readonly seconds: boolean;
  /** The cost model is evaluated (seconds mode, or energy in rounds mode). */
  readonly costOn: boolean;
  readonly label: string;
}

/** Checks one request against a policy's own limits (the CPU policy's message), or undefined. */
type RequestCheck = (q: RequestSpec) => void;

/**
 * The policies with a WGSL port: each fills its kernel parameters from its config (the
 * kind and M are set for all) and may return a per-request check. A policy without an
 * entry is refused on the GPU.
 */
type GpuPort<K extends PolicyKind> = (c: PolicyConfigOf<K>, p: ParamsView, x: PortContext) => RequestCheck | void;

/**
 * A token budget `chunk` bounds a round's prefill Σ ((p + c)² − p²) by 2·M·chunk: the
 * kernel sums it in u32 when it evaluates the cost model.
 */
function checkChunk(chunk: number, { memory, costOn, label }: PortContext): void {
  if (costOn && 2 * memory * chunk >= TWO32) {
    throw new RangeError(
      `GPU engine: ${label}'s chunk × 2M = ${2 * memory * chunk} ≥ 2^32 exceeds the kernel's u32 prefill sums (M = ${memory}); use the CPU engine`,
    );
  }
}

/** Vidur's block bookkeeping (vLLM, Sarathi): 16-token blocks and the watermark. */
function blockParams(p: ParamsView, memory: number, blockSize: number, watermarkFraction: number): void {
  if (blockSize !== 16) throw new Error('GPU engine: the block size must be 16');
  p.blocks = Math.floor(memory / blockSize);
  p.watermark = Math.floor(watermarkFraction * p.blocks); // exactly as vllm.ts / sarathi.ts compute it
}

const GPU_PORTS: { readonly [K in PolicyKind & GpuPolicyKind]: GpuPort<K> } = {
  mcsf: () => {},
  'mc-fcfs': () => {},
  'alpha-greedy': (c, p, { memory }) => {
    p.admit = capacityBelow(memory, policyFraction(c.alpha, 'α', c.kind));
  },
  'alpha-clearing': (c, p, { memory }) => {
    p.admit = capacityBelow(memory, policyFraction(c.alpha, 'α', c.kind));
    p.target = capacityBelow(memory, policyFraction(c.beta, 'β', c.kind));
  },
  vllm: (c, p, { memory, seconds, label }) => {
    const cfg = vllmConfig(c);
    blockParams(p, memory, cfg.blockSize, cfg.watermarkFraction);
    p.maxTokens = cfg.maxTokens;
    p.maxBatch = cfg.maxBatch;
    if ((cfg.maxBatch + 1) * Math.max(cfg.maxTokens, memory) >= 2 ** 31) {
      throw new RangeError(
        `GPU engine: vllm maxBatch × max(maxTokens, M) is too large for u32 arithmetic (${label}, M = ${memory}); use the CPU engine`,
      );
    }
    if (seconds && cfg.maxTokens > GPU_SECONDS_MAX_MEMORY) {
      throw new RangeError(
        `GPU engine: seconds mode needs vllm maxTokens ≤ ${GPU_SECONDS_MAX_MEMORY} (the a100 cost model's u32 domain), got ${cfg.maxTokens}; use the CPU engine`,
      );
    }
  },
  sarathi: (c, p, x) => {
    const cfg = sarathiConfig(c);
    blockParams(p, x.memory, cfg.blockSize, cfg.watermarkFraction);
    p.chunk = cfg.chunk;
    p.maxBatch = cfg.maxBatch;
    checkChunk(cfg.chunk, x);
  },
  'mcsf-budget': (c, p, x) => {
    p.chunk = c.chunk;
    checkChunk(c.chunk, x);
  },
  orca: (c, p, { memory, label }) => {
    const cfg = orcaConfig(c);
    if (cfg.blockSize !== 16) throw new Error('GPU engine: the block size must be 16');
    p.blocks = Math.floor(memory / cfg.blockSize);
    p.perSeq = Math.floor(cfg.maxTokens / cfg.blockSize);
    // Vidur's _max_batch_size, as orca.ts computes it (0 reserved blocks: nothing ever fits).
    p.maxBatch = p.perSeq === 0 ? cfg.maxBatch : Math.min(cfg.maxBatch, Math.floor(p.blocks / p.perSeq));
    const reserved = p.perSeq * cfg.blockSize;
    return (q) => {
      if (q.prompt + q.output > reserved) {
        throw new RangeError(
          `request ${q.id}: s + o = ${q.prompt + q.output} exceeds the ${reserved} tokens ${label} reserves per request (raise it: orca:<maxBatch>:<maxTokens>)`,
        );
      }
    };
  },
};

/**
 * Policies that cannot livelock; their replicas skip the kernel's watchdog, which stops a
 * replica after 4·M + 64 rounds with evictions but no completion (the CPU engine instead
 * proves a cycle by a repeated state). Their preemptions keep the generated tokens (vLLM,
 * Sarathi) or they never preempt (Orca), so the tokens generated never decrease; a round
 * that preempts either generates a token or leaves no decode running, and until the next
 * token the rounds only advance prefills (each ends with a token). No state repeats, so
 * every run ends, done or stuck — possibly after more than 4·M + 64 rounds without a
 * completion (sarathi:2:3 re-prefilling 2 tokens a round), which the watchdog would misreport.
 */
const NEVER_LIVELOCK: ReadonlySet<PolicyKind> = new Set<PolicyKind>(['vllm', 'sarathi', 'orca']);

function hasPort(kind: PolicyKind): kind is PolicyKind & GpuPolicyKind {
  return Object.hasOwn(GPU_PORTS, kind);
}

/**
 * Why the GPU engine refuses a policy, as one line, or undefined when it has a WGSL port.
 * Callers check before acquiring a device (the CLI) and the engine checks again per replica.
 */
export function gpuPolicyRefusal(spec: string | PolicyConfig): string | undefined {
  const { config, label } = resolvePolicy(spec);
  return hasPort(config.kind) ? undefined : refusal(label);
}

function refusal(label: string): string {
  return `GPU engine: policy ${label} has no WGSL port (it runs ${Object.keys(GPU_PORTS).join(', ')}); use the CPU engine`;
}

interface Prepared {
  readonly index: number;
  readonly spec: GpuReplica;
  /** The policy as results name it (the spec as written). */
  readonly label: string;
  readonly n: number;
  /** slot → input index (arrival order). */
  readonly slotToInput: Int32Array;
  /** One PARAMS record (off and scr are set per job). */
  readonly params: Uint32Array<ArrayBuffer>;
  /** n REQ_INPUT records. */
  readonly reqWords: Uint32Array<ArrayBuffer>;
}

function policyParams(
  config: PolicyConfig,
  label: string,
  memory: number,
  costOn: boolean,
  seconds: boolean,
): { params: Uint32Array<ArrayBuffer>; check: RequestCheck | undefined } {
  const words = PARAMS.alloc(1);
  const p = PARAMS.view(words);
  if (!hasPort(config.kind)) throw new Error(refusal(label));
  p.m = memory;
  p.kind = POLICY_KIND.value[config.kind];
  p.admit = memory;
  p.target = memory;
  const port = GPU_PORTS[config.kind] as GpuPort<PolicyKind>;
  const check = port(config, p, { memory, seconds, costOn, label });
  p.seconds = seconds ? 1 : 0;
  p.watchdog = NEVER_LIVELOCK.has(config.kind) ? NONE : 4 * memory + 64;
  p.cost = costOn ? 1 : 0;
  return { params: words, check: check ?? undefined };
}

/**
 * Whether n requests under M fit the GPU engine's u32 token sums; checked by prepare()
 * and, before any request is built, by callers that know only the instance's size.
 */
export function gpuSizeProblem(n: number, memory: number): string | null {
  if (n * (memory + 1) < 2 ** 30) return null;
  return `n·(M+1) = ${n}·${memory + 1} ≥ 2^30 exceeds the GPU engine's u32 token sums; split the instance or use the CPU engine`;
}

function prepare(index: number, r: GpuReplica, mode: TimeMode, costOn: boolean): Prepared {
  const { memory, requests } = r;
  const tag = r.tag ?? `replica ${index}`;
  if (!Number.isSafeInteger(memory) || memory < 2)
    throw new RangeError(`${tag}: memory M must be an integer ≥ 2, got ${memory}`);
  const seconds = mode === 'seconds';
  if (seconds && memory > GPU_SECONDS_MAX_MEMORY) {
    throw new RangeError(
      `${tag}: the GPU engine's seconds mode needs M ≤ ${GPU_SECONDS_MAX_MEMORY} (the a100 cost model's u32 domain), got ${memory}; use the CPU engine`,
    );
  }
  const n = requests.length;
  const tooBig = gpuSizeProblem(n, memory);
  if (tooBig !== null) throw new RangeError(`${tag}: ${tooBig}`);
  const { config, label } = resolvePolicy(r.policy); // the registry's validation and messages
  const { params, check } = policyParams(config, label, memory, costOn && memory <= GPU_SECONDS_MAX_MEMORY, seconds);
  PARAMS.view(params).n = n;
  const planned = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = requests[i] as RequestSpec;
    checkRequest(p, memory, i > 0 ? requests[i - 1] : undefined);
    check?.(p);
    if (!seconds && p.arrival >= TWO32)
      throw new RangeError(`${tag}: request ${p.id}: rounds-mode arrival ${p.arrival} ≥ 2^32`);
    planned[i] = Math.min(p.predicted, memory - p.prompt);
  }
  // Static order of the policy's waiting queue (live.ts): MC-SF and mcsf-budget by
  // (planned, arrival, id) — a waiting request's view is its planned length; the others by
  // (arrival, id) = input order.
  const order = Array.from({ length: n }, (_, i) => i);
  if (config.kind === 'mcsf' || config.kind === 'mcsf-budget') {
    order.sort((a, b) => {
      const pa = planned[a] as number;
      const pb = planned[b] as number;
      if (pa !== pb) return pa - pb;
      const ra = requests[a] as RequestSpec;
      const rb = requests[b] as RequestSpec;
      if (ra.arrival !== rb.arrival) return ra.arrival - rb.arrival;
      return ra.id - rb.id;
    });
  }
  const inputToSlot = new Int32Array(n);
  const slotToInput = new Int32Array(n);
  order.forEach((input, slot) => {
    inputToSlot[input] = slot;
    slotToInput[slot] = input;
  });
  const byId = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (requests[a] as RequestSpec).id - (requests[b] as RequestSpec).id,
  );
  const idRank = new Int32Array(n);
  byId.forEach((input, rank) => (idRank[input] = rank));
  const w = REQ_INPUT.alloc(n);
  const q = REQ_INPUT.view(w);
  for (let slot = 0; slot < n; slot++) {
    const input = slotToInput[slot] as number;
    const p = requests[input] as RequestSpec;
    q.at(slot);
    q.arrival = p.arrival;
    q.prompt = p.prompt;
    q.output = p.output;
    q.planned = planned[input] as number;
    q.idRank = idRank[input] as number;
  }
  for (let k = 0; k < n; k++) q.at(k).arrSlot = inputToSlot[k] as number;
  return { index, spec: r, label, n, slotToInput, params, reqWords: w };
}

/** The a100 cost model's tables and constants, as the kernel's `knots` buffer. */
export function a100KnotsBuffer(): Uint32Array<ArrayBuffer> {
  const words = KNOTS.alloc(1);
  const k = KNOTS.view(words);
  k.layers = LAYERS;
  k.nsPerMicro = NS_PER_MICRO;
  k.allReduceBytesPerToken = ALL_REDUCE_BYTES_PER_TOKEN;
  k.allReduces = LAYERS * ALL_REDUCES_PER_LAYER;
  k.kvBytesPerToken = KV_BYTES_PER_TOKEN_PER_GPU;
  k.decodeBytesPerMicro = DECODE_ACHIEVED_BYTES_PER_MICRO;
  k.prefillFlopPerSquare = PREFILL_FLOP_PER_SQUARE_PER_GPU;
  k.prefillFlopPerMicro = PREFILL_ACHIEVED_FLOP_PER_MICRO;
  k.roundOverhead = ROUND_OVERHEAD_MICROS;
  const pairs: number[] = [];
  const place = (t: Knots): number => {
    const at = KNOTS.stride + pairs.length;
    for (const [x, y] of t) pairs.push(x, y);
    return at;
  };
  k.layerCount = LAYER_NS_BY_TOKENS.length;
  k.layerOff = place(LAYER_NS_BY_TOKENS);
  k.embeddingCount = EMBEDDING_NS_BY_TOKENS.length;
  k.embeddingOff = place(EMBEDDING_NS_BY_TOKENS);
  k.allReduceCount = ALL_REDUCE_NS_BY_BYTES.length;
  k.allReduceOff = place(ALL_REDUCE_NS_BY_BYTES);
  for (const v of pairs)
    if (!Number.isInteger(v) || v < 0 || v >= TWO32) throw new RangeError(`a100 cost constant ${v} does not fit u32`);
  return Uint32Array.from([...words, ...pairs]);
}

/** Round a byte size up to a multiple of 4 (and at least 16). */
function bytes(words: number): number {
  return Math.max(16, words * 4);
}

/** A session failure (GpuError) as a GpuEngineError naming the replicas; anything else unchanged. */
function engineError(e: unknown, where: string, replicas: readonly number[]): unknown {
  if (e instanceof GpuError && !(e instanceof GpuEngineError)) {
    return new GpuEngineError(`GPU engine failed ${where}: ${e.message}`, replicas);
  }
  return e;
}

export class GpuEngine {
  private readonly pipeline: GPUComputePipeline;
  private readonly probePipeline: GPUComputePipeline;

  private constructor(
    readonly session: GpuSession,
    module: GPUShaderModule,
    /** Threads per workgroup (one workgroup per replica), 1..64. */
    readonly threads: number,
  ) {
    const device = session.device;
    this.pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: 'main', constants: { W: threads } },
    });
    this.probePipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: 'cost_probe' },
    });
  }

  get device(): GPUDevice {
    return this.session.device;
  }

  /**
   * Compile the kernel (from the shader loaders: src/gpu/shaders-node.ts loadEngineShader,
   * src/gpu/shaders-browser.ts engineShader) on a session. `threads` per replica: 64, or 8
   * on a CPU adapter (SwiftShader), where a barrier costs in proportion to the threads.
   */
  static async create(
    session: GpuSession,
    shader: WgslSource,
    threads = GpuEngine.defaultThreads(session.isFallbackAdapter),
  ): Promise<GpuEngine> {
    if (!Number.isInteger(threads) || threads < 1 || threads > 64)
      throw new RangeError(`threads per replica must be 1..64, got ${threads}`);
    const device = session.device;
    try {
      let module: GPUShaderModule | undefined;
      let invalid: unknown;
      try {
        await session.scoped('compiling scheduler.wgsl', () => {
          module = device.createShaderModule({ code: shader.code });
        });
      } catch (e) {
        invalid = e;
      }
      if (module === undefined) throw invalid;
      const info = await session.guard(module.getCompilationInfo(), 'compiling scheduler.wgsl');
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length > 0) {
        const where = errors.map((m) => `${wgslLocation(shader, m.lineNum)}:${m.linePos} ${m.message}`).join('; ');
        throw new GpuEngineError(`scheduler.wgsl failed to compile: ${where}`, []);
      }
      if (invalid !== undefined) throw invalid;
      const m = module;
      return await session.scoped('creating the GPU engine pipelines', () => new GpuEngine(session, m, threads));
    } catch (e) {
      throw engineError(e, 'to start', []);
    }
  }

  /** Threads per replica for an adapter: 8 on a fallback (CPU) adapter, else 64. */
  static defaultThreads(isFallbackAdapter: boolean): number {
    return isFallbackAdapter ? 8 : 64;
  }

  /** A buffer holding `words` (or that many zeroed words); call inside session.scoped. */
  private buffer(words: Uint32Array<ArrayBuffer> | number, usage: number, label: string): GPUBuffer {
    const size = bytes(typeof words === 'number' ? words : words.length);
    const buf = this.device.createBuffer({ size, usage: usage | GPUBufferUsage.COPY_DST, label });
    if (typeof words !== 'number' && words.length > 0) this.device.queue.writeBuffer(buf, 0, words);
    return buf;
  }

  private async readBack(src: GPUBuffer, words: number): Promise<Uint32Array> {
    return new Uint32Array(await this.session.read(src, bytes(words))).subarray(0, words);
  }

  /** Evaluate the WGSL port of the a100 cost model on (prefillTokens, prefillSquares, decodeRequests, decodeContext) rows (tests). */
  async costProbe(rows: readonly (readonly [number, number, number, number])[]): Promise<number[]> {
    const words = PROBE.alloc(rows.length);
    const row = PROBE.view(words);
    rows.forEach(([pt, ps, dr, dc], i) => {
      row.at(i);
      row.prefillTokens = pt;
      row.prefillSquares = ps;
      row.decodeRequests = dr;
      row.decodeContext = dc;
    });
    const cfg = CFG.alloc(1);
    CFG.view(cfg).count = rows.length;
    const buffers: GPUBuffer[] = [];
    try {
      const scr = await this.session.scoped('cost probe', () => {
        const b = this.buffer(words, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'probe');
        const knots = this.buffer(a100KnotsBuffer(), GPUBufferUsage.STORAGE, 'knots');
        const ub = this.buffer(cfg, GPUBufferUsage.UNIFORM, 'cfg');
        buffers.push(b, knots, ub);
        const bg = this.device.createBindGroup({
          layout: this.probePipeline.getBindGroupLayout(0),
          entries: [
            { binding: 2, resource: { buffer: knots } },
            { binding: 5, resource: { buffer: b } },
            { binding: 6, resource: { buffer: ub } },
          ],
        });
        const enc = this.device.createCommandEncoder();
        const pass = enc.beginComputePass();
        pass.setPipeline(this.probePipeline);
        pass.setBindGroup(0, bg);
        pass.dispatchWorkgroups(rows.length);
        pass.end();
        this.device.queue.submit([enc.finish()]);
        return b;
      });
      const out = PROBE.view(await this.readBack(scr, words.length));
      return rows.map((_, i) => out.at(i).micros);
    } catch (e) {
      throw engineError(e, 'in the cost probe', []);
    } finally {
      for (const b of buffers) b.destroy();
    }
  }

  /** Simulate every replica; outcomes in replica order. */
  async run(replicas: readonly GpuReplica[], opts: GpuRunOptions): Promise<GpuOutcome[]> {
    const seconds = opts.mode === 'seconds';
    const cost = opts.costModel;
    if (seconds && cost === undefined) throw new Error('seconds mode needs a cost model');
    if (cost !== undefined && cost.name !== A100_MODEL_NAME) {
      if (seconds)
        throw new RangeError(
          `the GPU engine has a WGSL port of the ${A100_MODEL_NAME} cost model only, not ${cost.name}; use the CPU engine`,
        );
    }
    const costOn = cost !== undefined && cost.name === a100Llama2_70bTp2.name;
    const prepared = replicas.map((r, i) => prepare(i, r, opts.mode, costOn));
    const limits = this.device.limits;
    const maxWords = Math.floor(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / 4);
    const cap = Math.min(WORKGROUPS_MAX, limits.maxComputeWorkgroupsPerDimension, opts.maxReplicasPerJob ?? Infinity);
    // Split into jobs that fit the adapter's buffer limits (largest buffer per request: st).
    const jobs: Prepared[][] = [];
    let cur: Prepared[] = [];
    let curReq = 0;
    const perReq = Math.max(REQ_STATE.stride, SCRATCH_SECTIONS, REQ_INPUT.stride);
    for (const p of prepared) {
      if ((p.n + 1) * perReq > maxWords) {
        throw new RangeError(
          `replica ${p.index}: ${p.n} requests need ${(p.n + 1) * perReq * 4} bytes in one storage buffer, above this adapter's limit of ${maxWords * 4} bytes; use the CPU engine`,
        );
      }
      if (cur.length > 0 && ((curReq + p.n + cur.length + 1) * perReq > maxWords || cur.length >= cap)) {
        jobs.push(cur);
        cur = [];
        curReq = 0;
      }
      cur.push(p);
      curReq += p.n;
    }
    if (cur.length > 0) jobs.push(cur);
    const outcomes: GpuOutcome[] = new Array<GpuOutcome>(replicas.length);
    const totalRequests = prepared.reduce((s, p) => s + p.n, 0);
    let doneBefore = 0;
    let finishedBefore = 0;
    let submits = 0;
    let roundsBefore = 0;
    for (const job of jobs) {
      let jobRounds = 0;
      await this.runJob(job, opts, outcomes, (finished, completed, rounds) => {
        submits++;
        jobRounds = rounds;
        opts.onProgress?.({
          replicas: replicas.length,
          finished: finishedBefore + finished,
          completedRequests: doneBefore + completed,
          totalRequests,
          submits,
          replicaRounds: roundsBefore + rounds,
        });
        if (opts.signal?.aborted) {
          throw new AbortError('GPU simulation cancelled');
        }
      });
      roundsBefore += jobRounds;
      finishedBefore += job.length;
      doneBefore += job.reduce((s, p) => s + p.n, 0);
    }
    return outcomes;
  }

  private async runJob(
    job: readonly Prepared[],
    opts: GpuRunOptions,
    outcomes: GpuOutcome[],
    progress: (finished: number, completed: number, rounds: number) => void,
  ): Promise<void> {
    const { session, device: dev } = this;
    const R = job.length;
    const names = job.map((p) => p.index);
    const where = `while simulating replicas ${names[0]}..${names[names.length - 1]}`;
    let total = 0;
    const params = PARAMS.alloc(R);
    const pv = PARAMS.view(params);
    const offsets: number[] = [];
    job.forEach((p, r) => {
      offsets.push(total);
      params.set(p.params, r * PARAMS.stride);
      pv.at(r);
      pv.off = total;
      pv.scr = SCRATCH_SECTIONS * (total + r);
      total += p.n;
    });
    const reqWords = REQ_INPUT.alloc(total);
    job.forEach((p, r) => reqWords.set(p.reqWords, (offsets[r] as number) * REQ_INPUT.stride));
    const stWords = REQ_STATE.alloc(total);
    const sv = REQ_STATE.view(stWords);
    for (let i = 0; i < total; i++) {
      sv.at(i);
      sv.prefill = 1; // prefill pending
      sv.firstTokenHi = NONE; // no first token yet
    }
    const rsWords = STATE.alloc(R);
    const rv = STATE.view(rsWords);
    job.forEach((p, r) => {
      if (p.n === 0) rv.at(r).status = STATUS.value.done;
    });
    const cfgWords = CFG.alloc(1);
    const cv = CFG.view(cfgWords);
    cv.steps = Math.max(1, Math.floor(opts.stepsPerDispatch ?? 64));
    cv.count = R;

    const buffers: GPUBuffer[] = [];
    try {
      session.checkLost();
      const { bg, bRs, bSt, bRead } = await session.scoped('allocating GPU engine buffers', () => {
        const b = {
          bPrm: this.buffer(params, GPUBufferUsage.STORAGE, 'params'),
          bReq: this.buffer(reqWords, GPUBufferUsage.STORAGE, 'requests'),
          bKnots: this.buffer(a100KnotsBuffer(), GPUBufferUsage.STORAGE, 'knots'),
          bRs: this.buffer(rsWords, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'replica-state'),
          bSt: this.buffer(stWords, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'request-state'),
          bScr: this.buffer(SCRATCH_SECTIONS * (total + R), GPUBufferUsage.STORAGE, 'scratch'),
          bCfg: this.buffer(cfgWords, GPUBufferUsage.UNIFORM, 'cfg'),
          bRead: dev.createBuffer({
            size: bytes(R * STATE.stride),
            usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
          }),
        };
        buffers.push(...Object.values(b));
        const bg = dev.createBindGroup({
          layout: this.pipeline.getBindGroupLayout(0),
          // Bindings 0..6 in this order (scheduler.wgsl @binding).
          entries: [b.bPrm, b.bReq, b.bKnots, b.bRs, b.bSt, b.bScr, b.bCfg].map((buffer, binding) => ({
            binding,
            resource: { buffer },
          })),
        });
        return { bg, ...b };
      });
      let perSubmit = Math.max(1, Math.floor(opts.dispatchesPerSubmit ?? 4));
      let rs: Uint32Array = rsWords;
      for (;;) {
        session.checkLost();
        const t0 = performance.now();
        // One scope pair per submit, popped once its work is done (as the readback waits).
        await session.scoped('GPU engine submit', async () => {
          const enc = dev.createCommandEncoder();
          for (let d = 0; d < perSubmit; d++) {
            const pass = enc.beginComputePass();
            pass.setPipeline(this.pipeline);
            pass.setBindGroup(0, bg);
            pass.dispatchWorkgroups(R);
            pass.end();
          }
          enc.copyBufferToBuffer(bRs, 0, bRead, 0, bytes(R * STATE.stride));
          dev.queue.submit([enc.finish()]);
          // No timeout: a submit's length grows with the replicas and the adapter's speed
          // (SwiftShader takes seconds per submit for large jobs); device loss still ends it.
          const mapped = bRead.mapAsync(GPUMapMode.READ).catch((e: unknown) => {
            throw new GpuError(
              `reading the replicas' progress back failed: ${e instanceof Error ? e.message : String(e)}`,
            );
          });
          await session.guard(mapped, "reading the replicas' progress back", Infinity);
        });
        rs = new Uint32Array(bRead.getMappedRange().slice(0)).subarray(0, R * STATE.stride);
        bRead.unmap();
        const dt = performance.now() - t0;
        if (dt < 50 && perSubmit < 256) perSubmit *= 2;
        else if (dt > 400 && perSubmit > 1) perSubmit = Math.max(1, perSubmit >> 1);
        let finished = 0;
        let completed = 0;
        let rounds = 0;
        const s = STATE.view(rs);
        for (let r = 0; r < R; r++) {
          s.at(r);
          if (s.status !== STATUS.value.running) finished++;
          completed += s.done;
          rounds += s.rounds;
        }
        progress(finished, completed, rounds);
        if (finished === R) break;
      }
      const st = await this.readBack(bSt, total * REQ_STATE.stride);
      job.forEach((p, r) => {
        const from = (offsets[r] as number) * REQ_STATE.stride;
        const requestStates = st.subarray(from, from + p.n * REQ_STATE.stride);
        outcomes[p.index] = this.outcome(p, STATE.view(rs).at(r), requestStates, opts);
      });
    } catch (e) {
      throw engineError(e, where, names);
    } finally {
      for (const b of buffers) b.destroy();
    }
  }

  private outcome(
    p: Prepared,
    s: RecordView<keyof typeof STATE.offset>,
    stWords: Uint32Array,
    opts: GpuRunOptions,
  ): GpuOutcome {
    const now = s.now;
    const spec = p.label;
    const tag = p.spec.tag ?? `replica ${p.index}`;
    if (s.status === STATUS.value.stuck) {
      const err = new StuckError(
        `${tag}: policy ${spec} is stuck at time ${now} with ${s.wait} waiting requests and no arrivals left`,
      );
      return { ok: false, replica: p.index, kind: 'stuck', error: err };
    }
    if (s.status === STATUS.value.livelock) {
      const err = new LivelockError(
        `${tag}: policy ${spec} livelocked at time ${now}: no request completed in ${s.rsc} rounds while ${s.esc} evictions restarted requests (${s.run} running, ${s.wait} waiting)`,
      );
      return { ok: false, replica: p.index, kind: 'livelock', error: err };
    }
    if (s.status !== STATUS.value.done)
      throw new GpuEngineError(`${tag}: the GPU engine ended in an unexpected state ${s.status}`, [p.index]);
    const table = new RequestTable();
    const reqs = p.spec.requests;
    const rows: { input: number; slot: number }[] = [];
    for (let slot = 0; slot < p.n; slot++) rows.push({ input: p.slotToInput[slot] as number, slot });
    rows.sort((a, b) => a.input - b.input);
    const st = REQ_STATE.view(stWords);
    for (const { input, slot } of rows) {
      const q = reqs[input] as RequestSpec;
      st.at(slot);
      if (st.phase !== PHASE.value.done)
        throw new GpuEngineError(`${tag}: request ${q.id} did not complete although the replica finished`, [p.index]);
      table.add({
        id: q.id,
        arrival: q.arrival,
        prompt: q.prompt,
        output: q.output,
        predicted: q.predicted,
        start: st.start,
        firstToken: st.firstToken,
        completion: st.completion,
        restarts: st.restarts,
        joules: 0,
      });
    }
    const power = opts.power;
    const costOn = PARAMS.view(p.params).cost === 1;
    const totals: RunTotals = {
      rounds: s.rounds,
      end: now,
      busy: s.busy,
      tokensGenerated: s.tokens,
      evictions: s.evictions,
      peakKv: s.peakKv,
      kvTime: s.kvTime,
      activeJoules: power && costOn ? roundJoules(power, s.costBusy) : 0,
      idleJoules: power && opts.mode === 'seconds' ? idleJoules(power, now - s.busy) : 0,
      requests: p.n,
    };
    return {
      ok: true,
      replica: p.index,
      result: {
        policy: spec,
        memory: p.spec.memory,
        mode: opts.mode,
        costModel: opts.costModel?.name ?? null,
        requests: table,
        rounds: null,
        totals,
      },
    };
  }
}
