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
 * Stuck and livelocked replicas are outcomes (StuckError / LivelockError naming the
 * replica), with the CPU engine's semantics. Device loss and validation errors reject
 * with a GpuEngineError naming the replicas in flight. There is no silent fallback to
 * the CPU engine: callers choose the engine.
 *
 * Limits (refused with a clear message, use the CPU engine): seconds mode needs
 * max(M, vLLM maxTokens) ≤ 65 535 (the a100 cost model's u32 domain) and the a100 cost
 * model; n·(M+1) < 2³⁰ per replica (u32 token sums); rounds-mode arrivals < 2³².
 * Replicas that do not fit the adapter's buffer limits together are split into several
 * jobs run one after the other; a single replica that does not fit is refused.
 */
import { checkRequest } from '../model/limits.ts';
import { a100Llama2_70bTp2, A100_MODEL_NAME, ALL_REDUCE_BYTES_PER_TOKEN, ALL_REDUCES_PER_LAYER, DECODE_ACHIEVED_BYTES_PER_MICRO, KV_BYTES_PER_TOKEN_PER_GPU, LAYERS, NS_PER_MICRO, PREFILL_ACHIEVED_FLOP_PER_MICRO, PREFILL_FLOP_PER_SQUARE_PER_GPU, ROUND_OVERHEAD_MICROS } from '../cost/a100.ts';
import { idleJoules, roundJoules, type PowerModel } from '../cost/energy.ts';
import type { Knots } from '../cost/piecewise.ts';
import { ALL_REDUCE_NS_BY_BYTES, EMBEDDING_NS_BY_TOKENS, LAYER_NS_BY_TOKENS } from '../cost/tables/a100-llama2-70b-tp2.ts';
import { LivelockError, StuckError, type RunTotals, type SimulationResult } from '../engine/engine.ts';
import { RequestTable } from '../engine/results.ts';
import type { CostModel, RequestSpec, TimeMode } from '../model/types.ts';
import { capacityBelow, parseFraction } from '../policies/fraction.ts';
import { createPolicy } from '../policies/registry.ts';
import { VllmPolicy } from '../policies/vllm.ts';

/** One replica: an instance (requests in arrival order, ties by id), M and a policy spec. */
export interface GpuReplica {
  readonly requests: readonly RequestSpec[];
  readonly memory: number;
  readonly policy: string;
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
  | { readonly ok: false; readonly replica: number; readonly kind: 'stuck' | 'livelock'; readonly error: StuckError | LivelockError };

/** A device or validation failure, naming the replicas whose job failed. */
export class GpuEngineError extends Error {
  override name = 'GpuEngineError';
  constructor(
    message: string,
    readonly replicas: readonly number[],
  ) {
    super(message);
  }
}

// Layout constants (must match shaders/engine/scheduler.wgsl).
const P_STRIDE = 16;
const S_STRIDE = 32;
const R_STRIDE = 12;
const Q_STRIDE = 8;
const SCR_SECTIONS = 8;
const NONE = 0xffffffff;
const TWO32 = 2 ** 32;
const WORKGROUPS_MAX = 65535;
/** The a100 model's u32 domain, for a batch bounded by M tokens (see a100.ts A100_U32_DOMAIN). */
export const GPU_SECONDS_MAX_MEMORY = 65535;

const KIND = { mcsf: 0, 'mc-fcfs': 1, 'alpha-greedy': 2, 'alpha-clearing': 3, vllm: 4 } as const;

interface Prepared {
  readonly index: number;
  readonly spec: GpuReplica;
  readonly n: number;
  /** slot → input index (arrival order). */
  readonly slotToInput: Int32Array;
  readonly params: Uint32Array; // P_STRIDE
  readonly reqWords: Uint32Array; // n * Q_STRIDE
}

function policyParams(spec: string, memory: number, costOn: boolean, seconds: boolean): Uint32Array {
  const policy = createPolicy(spec); // validates, with the registry's messages
  const [name, ...args] = spec.trim().split(':');
  const p = new Uint32Array(P_STRIDE);
  const kind = KIND[name as keyof typeof KIND];
  if (kind === undefined) throw new Error(`GPU engine: policy ${spec} has no WGSL port`);
  p[2] = memory;
  p[3] = kind;
  p[4] = memory;
  p[5] = memory;
  if (kind === 2 || kind === 3) p[4] = capacityBelow(memory, parseFraction(args[0] as string, 'α', name as string));
  if (kind === 3) p[5] = capacityBelow(memory, parseFraction(args[1] as string, 'β', name as string));
  if (policy instanceof VllmPolicy) {
    const cfg = policy.config;
    if (cfg.blockSize !== 16) throw new Error('GPU engine: vLLM block size must be 16');
    const numBlocks = Math.floor(memory / cfg.blockSize);
    p[6] = numBlocks;
    p[7] = Math.floor(cfg.watermarkFraction * numBlocks); // exactly as vllm.ts computes it
    p[8] = cfg.maxTokens;
    p[9] = cfg.maxBatch;
    if ((cfg.maxBatch + 1) * Math.max(cfg.maxTokens, memory) >= 2 ** 31) {
      throw new RangeError(`GPU engine: vllm maxBatch × max(maxTokens, M) is too large for u32 arithmetic (${spec}, M = ${memory}); use the CPU engine`);
    }
    if (seconds && cfg.maxTokens > GPU_SECONDS_MAX_MEMORY) {
      throw new RangeError(`GPU engine: seconds mode needs vllm maxTokens ≤ ${GPU_SECONDS_MAX_MEMORY} (the a100 cost model's u32 domain), got ${cfg.maxTokens}; use the CPU engine`);
    }
  }
  p[10] = seconds ? 1 : 0;
  p[11] = 4 * memory + 64;
  p[12] = costOn ? 1 : 0;
  return p;
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
  const tag = `replica ${index}`;
  if (!Number.isSafeInteger(memory) || memory < 2) throw new RangeError(`${tag}: memory M must be an integer ≥ 2, got ${memory}`);
  const seconds = mode === 'seconds';
  if (seconds && memory > GPU_SECONDS_MAX_MEMORY) {
    throw new RangeError(`${tag}: the GPU engine's seconds mode needs M ≤ ${GPU_SECONDS_MAX_MEMORY} (the a100 cost model's u32 domain), got ${memory}; use the CPU engine`);
  }
  const n = requests.length;
  const tooBig = gpuSizeProblem(n, memory);
  if (tooBig !== null) throw new RangeError(`${tag}: ${tooBig}`);
  const params = policyParams(r.policy, memory, costOn && memory <= GPU_SECONDS_MAX_MEMORY, seconds);
  params[1] = n;
  const planned = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = requests[i] as RequestSpec;
    checkRequest(p, memory, i > 0 ? requests[i - 1] : undefined);
    if (!seconds && p.arrival >= TWO32) throw new RangeError(`${tag}: request ${p.id}: rounds-mode arrival ${p.arrival} ≥ 2^32`);
    planned[i] = Math.min(p.predicted, memory - p.prompt);
  }
  // Static order of the policy's waiting queue (live.ts): MC-SF by (planned, arrival, id);
  // the others by (arrival, id) = input order.
  const order = Array.from({ length: n }, (_, i) => i);
  if (params[3] === KIND.mcsf) {
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
  const byId = Array.from({ length: n }, (_, i) => i).sort((a, b) => (requests[a] as RequestSpec).id - (requests[b] as RequestSpec).id);
  const idRank = new Int32Array(n);
  byId.forEach((input, rank) => (idRank[input] = rank));
  const w = new Uint32Array(n * Q_STRIDE);
  for (let slot = 0; slot < n; slot++) {
    const input = slotToInput[slot] as number;
    const p = requests[input] as RequestSpec;
    const o = slot * Q_STRIDE;
    w[o] = p.arrival % TWO32;
    w[o + 1] = Math.floor(p.arrival / TWO32);
    w[o + 2] = p.prompt;
    w[o + 3] = p.output;
    w[o + 4] = planned[input] as number;
    w[o + 5] = idRank[input] as number;
  }
  for (let k = 0; k < n; k++) w[k * Q_STRIDE + 6] = inputToSlot[k] as number;
  return { index, spec: r, n, slotToInput, params, reqWords: w };
}

/** The a100 cost model's tables and constants, as the kernel's `knots` buffer. */
export function a100KnotsBuffer(): Uint32Array<ArrayBuffer> {
  const tables: Knots[] = [LAYER_NS_BY_TOKENS, EMBEDDING_NS_BY_TOKENS, ALL_REDUCE_NS_BY_BYTES];
  const header = [
    0, 0, 0, 0, 0, 0,
    LAYERS, NS_PER_MICRO, ALL_REDUCE_BYTES_PER_TOKEN, LAYERS * ALL_REDUCES_PER_LAYER, KV_BYTES_PER_TOKEN_PER_GPU,
    DECODE_ACHIEVED_BYTES_PER_MICRO, PREFILL_FLOP_PER_SQUARE_PER_GPU, PREFILL_ACHIEVED_FLOP_PER_MICRO, ROUND_OVERHEAD_MICROS, 0,
  ];
  const out: number[] = header.slice();
  tables.forEach((t, i) => {
    header[2 * i] = t.length;
    header[2 * i + 1] = out.length;
    out[2 * i] = t.length;
    out[2 * i + 1] = out.length;
    for (const [x, y] of t) out.push(x, y);
  });
  for (const v of out) if (!Number.isInteger(v) || v < 0 || v >= TWO32) throw new RangeError(`a100 cost constant ${v} does not fit u32`);
  return Uint32Array.from(out);
}

/** Round a byte size up to a multiple of 4 (and at least 16). */
function bytes(words: number): number {
  return Math.max(16, words * 4);
}

export class GpuEngine {
  private readonly pipeline: GPUComputePipeline;
  private readonly probePipeline: GPUComputePipeline;
  private lost: GPUDeviceLostInfo | undefined;

  private constructor(
    readonly device: GPUDevice,
    module: GPUShaderModule,
    /** Threads per workgroup (one workgroup per replica), 1..64. */
    readonly threads: number,
  ) {
    this.pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main', constants: { W: threads } } });
    this.probePipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'cost_probe' } });
    void device.lost.then((info) => {
      this.lost = info;
    });
  }

  /**
   * Compile the kernel (WGSL source from the loader pair) on a device. `threads` per
   * replica: 64 by default; 8 suits CPU adapters (SwiftShader), where a barrier costs
   * in proportion to the threads (see GpuEngine.defaultThreads).
   */
  static async create(device: GPUDevice, wgsl: string, threads = 64): Promise<GpuEngine> {
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new RangeError(`threads per replica must be 1..64, got ${threads}`);
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code: wgsl });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length > 0) {
      await device.popErrorScope();
      throw new GpuEngineError(`scheduler.wgsl failed to compile: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`, []);
    }
    const engine = new GpuEngine(device, module, threads);
    const err = await device.popErrorScope();
    if (err) throw new GpuEngineError(`GPU engine pipeline creation failed: ${err.message}`, []);
    return engine;
  }

  /** Threads per replica for an adapter: 8 on a fallback (CPU) adapter, else 64. */
  static defaultThreads(isFallbackAdapter: boolean): number {
    return isFallbackAdapter ? 8 : 64;
  }

  private buffer(words: Uint32Array<ArrayBuffer> | number, usage: number, label: string): GPUBuffer {
    const size = bytes(typeof words === 'number' ? words : words.length);
    const buf = this.device.createBuffer({ size, usage: usage | GPUBufferUsage.COPY_DST, label });
    if (typeof words !== 'number' && words.length > 0) this.device.queue.writeBuffer(buf, 0, words);
    return buf;
  }

  private async readBack(src: GPUBuffer, words: number): Promise<Uint32Array> {
    const size = bytes(words);
    const rb = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, rb, 0, size);
    this.device.queue.submit([enc.finish()]);
    await rb.mapAsync(GPUMapMode.READ);
    const out = new Uint32Array(rb.getMappedRange().slice(0)).subarray(0, words);
    rb.unmap();
    rb.destroy();
    return out;
  }

  /** Evaluate the WGSL port of the a100 cost model on (prefillTokens, prefillSquares, decodeRequests, decodeContext) rows (tests). */
  async costProbe(rows: readonly (readonly [number, number, number, number])[]): Promise<number[]> {
    const words = new Uint32Array(rows.length * 5);
    rows.forEach((r, i) => words.set(r, 5 * i));
    const dev = this.device;
    const scr = this.buffer(words, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'probe');
    const knots = this.buffer(a100KnotsBuffer(), GPUBufferUsage.STORAGE, 'knots');
    const dummy = this.buffer(16, GPUBufferUsage.STORAGE, 'dummy');
    const cfg = this.buffer(Uint32Array.from([0, 0, rows.length, 0]), GPUBufferUsage.UNIFORM, 'cfg');
    dev.pushErrorScope('validation');
    const bg = dev.createBindGroup({
      layout: this.probePipeline.getBindGroupLayout(0),
      entries: [
        { binding: 2, resource: { buffer: knots } },
        { binding: 5, resource: { buffer: scr } },
        { binding: 6, resource: { buffer: cfg } },
      ],
    });
    const enc = dev.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(this.probePipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(rows.length);
    pass.end();
    dev.queue.submit([enc.finish()]);
    const out = await this.readBack(scr, words.length);
    const err = await dev.popErrorScope();
    for (const b of [scr, knots, dummy, cfg]) b.destroy();
    if (err) throw new GpuEngineError(`cost probe failed: ${err.message}`, []);
    return rows.map((_, i) => out[5 * i + 4] as number);
  }

  /** Simulate every replica; outcomes in replica order. */
  async run(replicas: readonly GpuReplica[], opts: GpuRunOptions): Promise<GpuOutcome[]> {
    const seconds = opts.mode === 'seconds';
    const cost = opts.costModel;
    if (seconds && cost === undefined) throw new Error('seconds mode needs a cost model');
    if (cost !== undefined && cost.name !== A100_MODEL_NAME) {
      if (seconds) throw new RangeError(`the GPU engine has a WGSL port of the ${A100_MODEL_NAME} cost model only, not ${cost.name}; use the CPU engine`);
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
    const perReq = Math.max(R_STRIDE, SCR_SECTIONS, Q_STRIDE);
    for (const p of prepared) {
      if ((p.n + 1) * perReq > maxWords) {
        throw new RangeError(`replica ${p.index}: ${p.n} requests need ${(p.n + 1) * perReq * 4} bytes in one storage buffer, above this adapter's limit of ${maxWords * 4} bytes; use the CPU engine`);
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
        opts.onProgress?.({ replicas: replicas.length, finished: finishedBefore + finished, completedRequests: doneBefore + completed, totalRequests, submits, replicaRounds: roundsBefore + rounds });
        if (opts.signal?.aborted) {
          const e = new Error('GPU simulation cancelled');
          e.name = 'AbortError';
          throw e;
        }
      });
      roundsBefore += jobRounds;
      finishedBefore += job.length;
      doneBefore += job.reduce((s, p) => s + p.n, 0);
    }
    return outcomes;
  }

  private async runJob(job: readonly Prepared[], opts: GpuRunOptions, outcomes: GpuOutcome[], progress: (finished: number, completed: number, rounds: number) => void): Promise<void> {
    const dev = this.device;
    const R = job.length;
    const names = job.map((p) => p.index);
    const where = `replicas ${names[0]}..${names[names.length - 1]}`;
    const check = (): void => {
      if (this.lost) throw new GpuEngineError(`GPU device lost while simulating ${where}: ${this.lost.reason} ${this.lost.message}`, names);
    };
    check();
    let total = 0;
    const params = new Uint32Array(R * P_STRIDE);
    const offsets: number[] = [];
    job.forEach((p, r) => {
      offsets.push(total);
      const pr = Uint32Array.from(p.params);
      pr[0] = total;
      pr[13] = SCR_SECTIONS * (total + r);
      params.set(pr, r * P_STRIDE);
      total += p.n;
    });
    const reqWords = new Uint32Array(total * Q_STRIDE);
    job.forEach((p, r) => reqWords.set(p.reqWords, (offsets[r] as number) * Q_STRIDE));
    const stWords = new Uint32Array(total * R_STRIDE);
    for (let i = 0; i < total; i++) {
      stWords[i * R_STRIDE + 3] = 1; // prefill pending
      stWords[i * R_STRIDE + 9] = NONE; // no first token yet
    }
    const rsWords = new Uint32Array(R * S_STRIDE);
    job.forEach((p, r) => {
      if (p.n === 0) rsWords[r * S_STRIDE] = 1;
    });

    dev.pushErrorScope('validation');
    dev.pushErrorScope('out-of-memory');
    const bPrm = this.buffer(params, GPUBufferUsage.STORAGE, 'params');
    const bReq = this.buffer(reqWords, GPUBufferUsage.STORAGE, 'requests');
    const bKnots = this.buffer(a100KnotsBuffer(), GPUBufferUsage.STORAGE, 'knots');
    const bRs = this.buffer(rsWords, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'replica-state');
    const bSt = this.buffer(stWords, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'request-state');
    const bScr = this.buffer(SCR_SECTIONS * (total + R), GPUBufferUsage.STORAGE, 'scratch');
    const steps = Math.max(1, Math.floor(opts.stepsPerDispatch ?? 64));
    const bCfg = this.buffer(Uint32Array.from([steps, 0, R, 0]), GPUBufferUsage.UNIFORM, 'cfg');
    const bRead = dev.createBuffer({ size: bytes(R * S_STRIDE), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const bg = dev.createBindGroup({
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: bPrm } },
        { binding: 1, resource: { buffer: bReq } },
        { binding: 2, resource: { buffer: bKnots } },
        { binding: 3, resource: { buffer: bRs } },
        { binding: 4, resource: { buffer: bSt } },
        { binding: 5, resource: { buffer: bScr } },
        { binding: 6, resource: { buffer: bCfg } },
      ],
    });
    const buffers = [bPrm, bReq, bKnots, bRs, bSt, bScr, bCfg, bRead];
    const popErrors = async (): Promise<void> => {
      const oom = await dev.popErrorScope();
      const val = await dev.popErrorScope();
      const e = val ?? oom;
      if (e) throw new GpuEngineError(`GPU engine ${e instanceof GPUOutOfMemoryError ? 'out of memory' : 'validation error'} while simulating ${where}: ${e.message}`, names);
    };
    try {
      await popErrors();
      let perSubmit = Math.max(1, Math.floor(opts.dispatchesPerSubmit ?? 4));
      let rs: Uint32Array = rsWords;
      for (;;) {
        check();
        dev.pushErrorScope('validation');
        dev.pushErrorScope('out-of-memory');
        const t0 = performance.now();
        const enc = dev.createCommandEncoder();
        for (let d = 0; d < perSubmit; d++) {
          const pass = enc.beginComputePass();
          pass.setPipeline(this.pipeline);
          pass.setBindGroup(0, bg);
          pass.dispatchWorkgroups(R);
          pass.end();
        }
        enc.copyBufferToBuffer(bRs, 0, bRead, 0, bytes(R * S_STRIDE));
        dev.queue.submit([enc.finish()]);
        try {
          await bRead.mapAsync(GPUMapMode.READ);
        } catch (e) {
          check();
          throw new GpuEngineError(`GPU engine readback failed while simulating ${where}: ${(e as Error).message}`, names);
        }
        rs = new Uint32Array(bRead.getMappedRange().slice(0)).subarray(0, R * S_STRIDE);
        bRead.unmap();
        await popErrors();
        check();
        const dt = performance.now() - t0;
        if (dt < 50 && perSubmit < 256) perSubmit *= 2;
        else if (dt > 400 && perSubmit > 1) perSubmit = Math.max(1, perSubmit >> 1);
        let finished = 0;
        let completed = 0;
        let rounds = 0;
        for (let r = 0; r < R; r++) {
          if ((rs[r * S_STRIDE] as number) !== 0) finished++;
          completed += rs[r * S_STRIDE + 7] as number;
          rounds += rs[r * S_STRIDE + 16] as number;
        }
        progress(finished, completed, rounds);
        if (finished === R) break;
      }
      const st = await this.readBack(bSt, total * R_STRIDE);
      job.forEach((p, r) => {
        outcomes[p.index] = this.outcome(p, rs.subarray(r * S_STRIDE, (r + 1) * S_STRIDE), st.subarray((offsets[r] as number) * R_STRIDE, ((offsets[r] as number) + p.n) * R_STRIDE), opts);
      });
    } finally {
      for (const b of buffers) b.destroy();
    }
  }

  private outcome(p: Prepared, s: Uint32Array, st: Uint32Array, opts: GpuRunOptions): GpuOutcome {
    const u64 = (lo: number, hi: number): number => lo + hi * TWO32;
    const status = s[0] as number;
    const now = u64(s[1] as number, s[2] as number);
    const spec = p.spec.policy.trim();
    const tag = `replica ${p.index}`;
    if (status === 2) {
      const err = new StuckError(`${tag}: policy ${spec} is stuck at time ${now} with ${s[5]} waiting requests and no arrivals left`);
      return { ok: false, replica: p.index, kind: 'stuck', error: err };
    }
    if (status === 3) {
      const err = new LivelockError(`${tag}: policy ${spec} livelocked at time ${now}: no request completed in ${s[9]} rounds while ${s[10]} evictions restarted requests (${s[6]} running, ${s[5]} waiting)`);
      return { ok: false, replica: p.index, kind: 'livelock', error: err };
    }
    if (status !== 1) throw new GpuEngineError(`${tag}: the GPU engine ended in an unexpected state ${status}`, [p.index]);
    const table = new RequestTable();
    const reqs = p.spec.requests;
    const rows: { input: number; slot: number }[] = [];
    for (let slot = 0; slot < p.n; slot++) rows.push({ input: p.slotToInput[slot] as number, slot });
    rows.sort((a, b) => a.input - b.input);
    for (const { input, slot } of rows) {
      const q = reqs[input] as RequestSpec;
      const o = slot * R_STRIDE;
      if ((st[o] as number) !== 2) throw new GpuEngineError(`${tag}: request ${q.id} did not complete although the replica finished`, [p.index]);
      table.add({
        id: q.id, arrival: q.arrival, prompt: q.prompt, output: q.output, predicted: q.predicted,
        start: u64(st[o + 6] as number, st[o + 7] as number),
        firstToken: u64(st[o + 8] as number, st[o + 9] as number),
        completion: u64(st[o + 10] as number, st[o + 11] as number),
        restarts: st[o + 2] as number,
        joules: 0,
      });
    }
    const busy = u64(s[19] as number, s[20] as number);
    const costBusy = u64(s[24] as number, s[25] as number);
    const power = opts.power;
    const costOn = (p.params[12] as number) === 1;
    const totals: RunTotals = {
      rounds: s[16] as number,
      end: now,
      busy,
      tokensGenerated: s[21] as number,
      evictions: s[17] as number,
      peakKv: s[18] as number,
      kvTime: u64(s[22] as number, s[23] as number),
      activeJoules: power && costOn ? roundJoules(power, costBusy) : 0,
      idleJoules: power && opts.mode === 'seconds' ? idleJoules(power, now - busy) : 0,
      requests: p.n,
    };
    return {
      ok: true,
      replica: p.index,
      result: { policy: spec, memory: p.spec.memory, mode: opts.mode, costModel: opts.costModel?.name ?? null, requests: table, rounds: null, totals },
    };
  }
}
