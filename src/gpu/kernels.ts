/**
 * Host side of the calibration kernels (shaders/*.wgsl): pipelines, buffers sized from
 * the device's limits, and "jobs" — one kernel invocation with its buffers, encodable
 * into a compute pass any number of times (for timing) and readable back (for tests).
 */
import type { GpuSession } from './session.ts';
import type { ShaderName, ShaderSet } from './shaders.ts';
import { GQA_GROUP, HEAD_DIM } from './reference.ts';

/** Llama-2-70B geometry of the emulated work (shared/docs/model.md §7). */
export const LLAMA2_70B = {
  layers: 80,
  hidden: 8192,
  queryHeads: 64,
  kvHeads: 8,
  headDim: HEAD_DIM,
  /** MLP intermediate size (gate/up/down, SwiGLU). */
  intermediate: 28672,
} as const;

/** Widths of the emulated linear layers: Llama-2-70B's divided by `widthDivisor`. */
export interface LinearWidths {
  readonly hidden: number;
  /** K (or V) projection width = kv heads × head dim, scaled. */
  readonly kvDim: number;
  readonly intermediate: number;
}

export function linearWidths(widthDivisor: number): LinearWidths {
  if (!Number.isInteger(widthDivisor) || widthDivisor < 1 || 8192 % widthDivisor !== 0 || (1024 / widthDivisor) % 4 !== 0) {
    throw new RangeError(`width divisor ${widthDivisor} must divide 256 (a power of two ≤ 256)`);
  }
  return { hidden: 8192 / widthDivisor, kvDim: 1024 / widthDivisor, intermediate: 28672 / widthDivisor };
}

/** The four matmuls of one layer for T tokens: [rows, K, N]. */
export function linearShapes(tokens: number, w: LinearWidths): Array<[number, number, number]> {
  return [
    [tokens, w.hidden, w.hidden + 2 * w.kvDim], // QKV projection
    [tokens, w.hidden, w.hidden], // attention output projection
    [tokens, w.hidden, 2 * w.intermediate], // MLP gate + up
    [tokens, w.intermediate, w.hidden], // MLP down
  ];
}

export function linearFlops(tokens: number, w: LinearWidths): number {
  return linearShapes(tokens, w).reduce((s, [m, k, n]) => s + 2 * m * k * n, 0);
}

/** FLOPs of decode attention (QKᵀ and PV, 2 FLOP per multiply-add) for `kvTokens` attended tokens. */
export function decodeFlops(kvTokens: number, kvHeads: number): number {
  return 4 * kvTokens * kvHeads * GQA_GROUP * HEAD_DIM;
}
/** K and V bytes (f32) read for `kvTokens` attended tokens. */
export function decodeKvBytes(kvTokens: number, kvHeads: number): number {
  return 2 * kvTokens * kvHeads * HEAD_DIM * 4;
}
/** FLOPs of causal prefill attention over a chunk of `len`: every position attends to pos + 1 keys. */
export function prefillFlops(len: number, kvHeads: number): number {
  return 4 * HEAD_DIM * kvHeads * GQA_GROUP * ((len * (len + 1)) / 2);
}

/** One kernel invocation with its buffers. */
export interface Job {
  readonly kind: ShaderName | 'linear';
  /** Record the job's dispatches into a pass (any number of times). */
  encode(pass: GPUComputePassEncoder): void;
  /** Useful FLOPs of one execution. */
  readonly flops: number;
  /** Bytes that must be read from memory by one execution (the data it streams). */
  readonly bytes: number;
  destroy(): void;
}

export interface ReadableJob extends Job {
  /** The job's output buffer, read back. */
  read(): Promise<Float32Array>;
}

// Read lazily: in Node the GPUBufferUsage global exists only once the `webgpu` globals are installed.
const STORAGE = {
  get storage(): number {
    return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  },
  get uniform(): number {
    return GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
  },
};

/** Compiled pipelines of every kernel on one device. */
export class Kernels {
  private constructor(
    readonly session: GpuSession,
    private readonly pipelines: ReadonlyMap<ShaderName, GPUComputePipeline>,
  ) {}

  static async create(session: GpuSession, shaders: ShaderSet): Promise<Kernels> {
    const device = session.device;
    const map = new Map<ShaderName, GPUComputePipeline>();
    for (const name of Object.keys(shaders) as ShaderName[]) {
      const module = device.createShaderModule({ code: shaders[name], label: name });
      const info = await session.guard(module.getCompilationInfo(), `compiling ${name}.wgsl`);
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length > 0) throw new Error(`${name}.wgsl: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`);
      const pipeline = await session.scoped(`pipeline ${name}`, () =>
        device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: name }),
      );
      map.set(name, pipeline);
    }
    return new Kernels(session, map);
  }

  pipeline(name: ShaderName): GPUComputePipeline {
    const p = this.pipelines.get(name);
    if (!p) throw new Error(`no pipeline ${name}`);
    return p;
  }

  /**
   * Decode and prefill attention's workgroup count cap: on a fallback (CPU) adapter a few persistent
   * workgroups (2 per CPU core) loop over the (sequence, KV head) items, because
   * SwiftShader spends ~1 ms starting each workgroup; on a GPU one workgroup per item.
   */
  get decodeWorkgroups(): number {
    if (!this.isFallback) return this.session.limits.maxComputeWorkgroupsPerDimension;
    // Two per CPU core (measured on 2 cores: 4 workgroups 3× faster than one per item at B=64, L=16).
    const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
    return 2 * (cores !== undefined && cores > 0 ? cores : 2);
  }

  /** A fallback (software, CPU) adapter such as SwiftShader. */
  get isFallback(): boolean {
    return Boolean((this.session.adapter as { info?: GPUAdapterInfo }).info?.isFallbackAdapter);
  }

  /** Largest buffer one storage binding may hold on this device. */
  get maxBindingBytes(): number {
    const l = this.session.limits;
    return Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize);
  }

  private buffer(bytes: number, usage: number, data?: ArrayBufferView, label?: string): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const buf = this.session.device.createBuffer({ size, usage, label });
    if (data) this.session.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  private uniform(words: Array<['u' | 'f', number]>): GPUBuffer {
    const ab = new ArrayBuffer(Math.max(16, Math.ceil((words.length * 4) / 16) * 16));
    const dv = new DataView(ab);
    words.forEach(([t, v], i) => (t === 'u' ? dv.setUint32(i * 4, v, true) : dv.setFloat32(i * 4, v, true)));
    return this.buffer(ab.byteLength, STORAGE.uniform, new Uint8Array(ab));
  }

  private bind(name: ShaderName, buffers: GPUBuffer[]): GPUBindGroup {
    return this.session.device.createBindGroup({
      layout: this.pipeline(name).getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  private checkSize(bytes: number, what: string): void {
    if (bytes > this.maxBindingBytes) {
      throw new RangeError(`${what} needs ${bytes} bytes in one binding; this device allows ${this.maxBindingBytes} (maxStorageBufferBindingSize / maxBufferSize)`);
    }
  }

  /**
   * Decode attention for a batch of sequences with the given KV lengths (tokens stored
   * back to back). KV larger than one binding is split into segments of whole sequences,
   * each with its own K / V buffers and bind group.
   */
  async decode(o: { seqLens: readonly number[]; kvHeads?: number; q?: Float32Array; k?: Float32Array; v?: Float32Array; workgroups?: number }): Promise<ReadableJob> {
    const kvHeads = o.kvHeads ?? LLAMA2_70B.kvHeads;
    const qHeads = kvHeads * GQA_GROUP;
    const rowBytes = kvHeads * HEAD_DIM * 4;
    const nSeq = o.seqLens.length;
    if (nSeq === 0) throw new RangeError('decode: empty batch');
    const maxTokens = Math.floor(this.maxBindingBytes / rowBytes);
    const persistent = o.workgroups ?? this.decodeWorkgroups;
    return this.session.scoped('decode attention buffers', () => {
      const segments: Array<{ seqBase: number; count: number; tokenBase: number; tokens: number }> = [];
      let tokenBase = 0;
      let cur = { seqBase: 0, count: 0, tokenBase: 0, tokens: 0 };
      o.seqLens.forEach((len, s) => {
        if (!Number.isInteger(len) || len < 1) throw new RangeError(`decode: sequence ${s} has length ${len}`);
        if (len > maxTokens) throw new RangeError(`decode: a sequence of ${len} tokens needs ${len * rowBytes} bytes of K in one binding; this device allows ${this.maxBindingBytes}`);
        if (cur.tokens + len > maxTokens) {
          segments.push(cur);
          cur = { seqBase: s, count: 0, tokenBase, tokens: 0 };
        }
        cur.count++;
        cur.tokens += len;
        tokenBase += len;
      });
      segments.push(cur);
      const total = tokenBase;
      const seqData = new Uint32Array(nSeq * 2);
      let first = 0;
      o.seqLens.forEach((len, s) => {
        seqData[2 * s] = first;
        seqData[2 * s + 1] = len;
        first += len;
      });
      const qBytes = nSeq * qHeads * HEAD_DIM * 4;
      this.checkSize(qBytes, 'decode queries');
      const q = this.buffer(qBytes, STORAGE.storage, o.q);
      const out = this.buffer(qBytes, STORAGE.storage);
      const seqs = this.buffer(seqData.byteLength, STORAGE.storage, seqData);
      const owned: GPUBuffer[] = [q, out, seqs];
      const groups: Array<{ group: GPUBindGroup; count: number }> = [];
      for (const seg of segments) {
        const elems = seg.tokens * kvHeads * HEAD_DIM;
        const off = seg.tokenBase * kvHeads * HEAD_DIM;
        const k = this.buffer(elems * 4, STORAGE.storage, o.k?.subarray(off, off + elems));
        const v = this.buffer(elems * 4, STORAGE.storage, o.v?.subarray(off, off + elems));
        const params = this.uniform([['u', kvHeads], ['u', seg.seqBase], ['u', seg.tokenBase], ['f', 1 / Math.sqrt(HEAD_DIM)], ['u', seg.count], ['u', 0], ['u', 0], ['u', 0]]);
        owned.push(k, v, params);
        groups.push({ group: this.bind('attn-decode', [params, q, k, v, seqs, out]), count: seg.count });
      }
      const pipeline = this.pipeline('attn-decode');
      return {
        kind: 'attn-decode' as const,
        segments: groups.length,
        flops: decodeFlops(total, kvHeads),
        bytes: decodeKvBytes(total, kvHeads),
        encode(pass: GPUComputePassEncoder) {
          pass.setPipeline(pipeline);
          for (const g of groups) {
            pass.setBindGroup(0, g.group);
            pass.dispatchWorkgroups(Math.min(g.count * kvHeads, persistent));
          }
        },
        read: async () => new Float32Array(await this.session.read(out, qBytes)),
        destroy: () => owned.forEach((b) => b.destroy()),
      };
    });
  }

  /** Causal prefill attention over one chunk of `len` positions. */
  async prefill(o: { len: number; kvHeads?: number; q?: Float32Array; k?: Float32Array; v?: Float32Array; workgroups?: number }): Promise<ReadableJob> {
    const kvHeads = o.kvHeads ?? LLAMA2_70B.kvHeads;
    const qBytes = o.len * kvHeads * GQA_GROUP * HEAD_DIM * 4;
    const kvBytes = o.len * kvHeads * HEAD_DIM * 4;
    this.checkSize(qBytes, 'prefill queries');
    return this.session.scoped('prefill attention buffers', () => {
      const q = this.buffer(qBytes, STORAGE.storage, o.q);
      const k = this.buffer(kvBytes, STORAGE.storage, o.k);
      const v = this.buffer(kvBytes, STORAGE.storage, o.v);
      const out = this.buffer(qBytes, STORAGE.storage);
      const blocks = Math.ceil(o.len / 8);
      const workgroups = Math.min(blocks * kvHeads, o.workgroups ?? this.decodeWorkgroups);
      const params = this.uniform([['u', o.len], ['u', kvHeads], ['f', 1 / Math.sqrt(HEAD_DIM)], ['u', blocks]]);
      const group = this.bind('attn-prefill', [params, q, k, v, out]);
      const pipeline = this.pipeline('attn-prefill');
      return {
        kind: 'attn-prefill' as const,
        flops: prefillFlops(o.len, kvHeads),
        bytes: 2 * kvBytes + 2 * qBytes,
        encode(pass: GPUComputePassEncoder) {
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, group);
          pass.dispatchWorkgroups(workgroups);
        },
        read: async () => new Float32Array(await this.session.read(out, qBytes)),
        destroy: () => [q, k, v, out, params].forEach((b) => b.destroy()),
      };
    });
  }

  /** Y[m × n] = X[m × k] · W[k × n]; k and n multiples of 4. */
  async matmul(o: { m: number; n: number; k: number; x?: Float32Array; w?: Float32Array }): Promise<ReadableJob> {
    const { m, n, k } = o;
    if (n % 4 !== 0 || k % 4 !== 0) throw new RangeError(`matmul: n (${n}) and k (${k}) must be multiples of 4`);
    for (const [bytes, what] of [[m * k * 4, 'matmul X'], [k * n * 4, 'matmul W'], [m * n * 4, 'matmul Y']] as const) this.checkSize(bytes, what);
    return this.session.scoped('matmul buffers', () => {
      const x = this.buffer(m * k * 4, STORAGE.storage, o.x);
      const w = this.buffer(k * n * 4, STORAGE.storage, o.w);
      const y = this.buffer(m * n * 4, STORAGE.storage);
      const params = this.uniform([['u', m], ['u', n], ['u', k], ['u', 0]]);
      const group = this.bind('matmul', [params, x, w, y]);
      const pipeline = this.pipeline('matmul');
      return {
        kind: 'matmul' as const,
        flops: 2 * m * n * k,
        bytes: 4 * (m * k + k * n),
        encode(pass: GPUComputePassEncoder) {
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, group);
          pass.dispatchWorkgroups(Math.ceil(n / 128), Math.ceil(m / 32));
        },
        read: async () => new Float32Array(await this.session.read(y, m * n * 4)),
        destroy: () => [x, w, y, params].forEach((b) => b.destroy()),
      };
    });
  }

  /** The linear work of one layer for `tokens` tokens: four matmuls (weights zero-filled). */
  async linear(tokens: number, widths: LinearWidths): Promise<Job> {
    const jobs: Job[] = [];
    try {
      for (const [m, k, n] of linearShapes(tokens, widths)) jobs.push(await this.matmul({ m, n, k }));
    } catch (e) {
      jobs.forEach((j) => j.destroy());
      throw e;
    }
    return {
      kind: 'linear',
      flops: jobs.reduce((s, j) => s + j.flops, 0),
      bytes: jobs.reduce((s, j) => s + j.bytes, 0),
      encode: (pass) => jobs.forEach((j) => j.encode(pass)),
      destroy: () => jobs.forEach((j) => j.destroy()),
    };
  }

  /**
   * Streaming-read probe over `bytes` (rounded down to whole vec4s, capped by the binding limit).
   * Grid-strided reads (coalesced) on a GPU; on a fallback (CPU) adapter each invocation reads
   * a contiguous run instead, which is the faster pattern there (see probe-stream.wgsl).
   * `layout` and `data` (the buffer's contents, zeros by default) are for tests; `read()`
   * returns the per-invocation sums.
   */
  async streamProbe(bytes: number, o: { layout?: 'strided' | 'contiguous'; data?: Float32Array } = {}): Promise<ReadableJob> {
    const n = Math.floor(Math.min(bytes, this.maxBindingBytes) / 16);
    const workgroups = 64;
    const invocations = workgroups * 256;
    const run = Math.ceil(n / invocations);
    const contiguous = (o.layout ?? (this.isFallback ? 'contiguous' : 'strided')) === 'contiguous';
    const layout: [number, number, number] = contiguous ? [run, run, 1] : [1, n, invocations];
    return this.session.scoped('bandwidth probe buffers', () => {
      const src = this.buffer(n * 16, STORAGE.storage, o.data?.subarray(0, n * 4));
      const dst = this.buffer(invocations * 16, STORAGE.storage);
      const params = this.uniform([['u', n], ['u', layout[0]], ['u', layout[1]], ['u', layout[2]]]);
      const group = this.bind('probe-stream', [params, src, dst]);
      const pipeline = this.pipeline('probe-stream');
      return {
        kind: 'probe-stream' as const,
        flops: 4 * n,
        bytes: n * 16,
        encode(pass: GPUComputePassEncoder) {
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, group);
          pass.dispatchWorkgroups(workgroups);
        },
        read: async () => new Float32Array(await this.session.read(dst, invocations * 16)),
        destroy: () => [src, dst, params].forEach((b) => b.destroy()),
      };
    });
  }

  /** FMA probe: `workgroups` × 256 invocations × `iters` iterations of 32 vec4 FMAs (256 FLOP). */
  async fmaProbe(iters: number, workgroups = 64): Promise<ReadableJob> {
    return this.session.scoped('FMA probe buffers', () => {
      const dst = this.buffer(workgroups * 256 * 16, STORAGE.storage);
      const params = this.uniform([['u', iters], ['u', 0], ['u', 0], ['u', 0]]);
      const group = this.bind('probe-fma', [params, dst]);
      const pipeline = this.pipeline('probe-fma');
      return {
        kind: 'probe-fma' as const,
        flops: 256 * iters * workgroups * 256,
        bytes: 0,
        encode(pass: GPUComputePassEncoder) {
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, group);
          pass.dispatchWorkgroups(workgroups);
        },
        read: async () => new Float32Array(await this.session.read(dst)),
        destroy: () => [dst, params].forEach((b) => b.destroy()),
      };
    });
  }
}
