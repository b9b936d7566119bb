/**
 * A GPU device with the failure handling that calibration and the GPU engine share: a
 * lost device (`device.lost`), out-of-memory and validation errors (error scopes) and GPU
 * work that never finishes all become a `GpuError` with a clear message, never a hang —
 * every await on the GPU races the device's loss and a timeout. Sessions come from
 * `openSession(adapter)`, `requestSession(gpu)` (any `GPU` object, e.g. navigator.gpu)
 * or, in Node, `openNodeSession()` (./node-gpu.ts).
 */
import { adapterIdentity, adapterName, isNullBackendInfo } from './detect.ts';

export class GpuError extends Error {
  override name = 'GpuError';
}

export interface SessionOptions {
  /** Longest wait for one GPU await (mapAsync, onSubmittedWorkDone, popErrorScope). Default 120 s. */
  timeoutMs?: number;
}

export class GpuSession {
  /** Why the device was lost, once it is. */
  lostReason: string | null = null;
  readonly timeoutMs: number;
  private readonly lost: Promise<never>;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: GPUAdapter,
    opts: SessionOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.lost = device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
      throw new GpuError(`the GPU device was lost (${this.lostReason})`);
    });
    this.lost.catch(() => {});
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** The adapter's name (detect.ts adapterName). */
  get adapterName(): string {
    return adapterName(adapterIdentity(this.adapter));
  }

  /** A software adapter (SwiftShader): true. */
  get isFallbackAdapter(): boolean {
    return adapterIdentity(this.adapter).isFallbackAdapter;
  }

  /** Throw a GpuError if the device has been lost. */
  checkLost(what?: string): void {
    if (this.lostReason !== null)
      throw new GpuError(`${what ? `${what}: ` : ''}the GPU device was lost (${this.lostReason})`);
  }

  /** Await `p`, but fail on device loss or after `timeoutMs` (Infinity: on device loss only). */
  guard<T>(p: Promise<T>, what: string, timeoutMs = this.timeoutMs): Promise<T> {
    if (this.lostReason !== null)
      return Promise.reject(new GpuError(`${what}: the GPU device was lost (${this.lostReason})`));
    // setTimeout treats delays above 2^31 − 1 ms as 1 ms.
    if (!Number.isFinite(timeoutMs) || timeoutMs > 2 ** 31 - 1) return Promise.race([p, this.lost]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new GpuError(`${what} did not finish within ${timeoutMs} ms (GPU hung or far too slow)`)),
        timeoutMs,
      );
    });
    return Promise.race([p, this.lost, timeout]).finally(() => clearTimeout(timer));
  }

  /** Run `fn` inside out-of-memory and validation error scopes; throw a GpuError for either. */
  async scoped<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
    const d = this.device;
    d.pushErrorScope('out-of-memory');
    d.pushErrorScope('validation');
    // The scopes' errors explain a failure of fn better than fn's own error does, so they
    // win; fn's error is rethrown only when the scopes are clean.
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      // An async fn keeps the scopes open until it settles: they are the device's, so
      // other GPU work issued meanwhile lands in them too.
      outcome = { ok: true, value: await fn() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.checkLost(what);
    const validation = await this.guard(d.popErrorScope(), `${what} (validation scope)`);
    const oom = await this.guard(d.popErrorScope(), `${what} (out-of-memory scope)`);
    if (oom) throw new GpuError(`${what}: out of GPU memory: ${oom.message}`);
    if (validation) throw new GpuError(`${what}: WebGPU validation error: ${validation.message}`);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Wait until all submitted work is done. */
  done(what = 'GPU work'): Promise<void> {
    return this.guard(this.device.queue.onSubmittedWorkDone(), what);
  }

  /** Copy `size` bytes of `src` (COPY_SRC) to a staging buffer and read them. */
  async read(src: GPUBuffer, size = src.size, offset = 0): Promise<ArrayBuffer> {
    const staging = await this.scoped('staging buffer', () =>
      this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
    );
    try {
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(src, offset, staging, 0, size);
      this.device.queue.submit([enc.finish()]);
      await this.guard(staging.mapAsync(GPUMapMode.READ), 'mapAsync (reading results back)');
      const out = staging.getMappedRange().slice(0);
      staging.unmap();
      return out;
    } finally {
      staging.destroy();
    }
  }

  destroy(): void {
    this.device.destroy();
  }
}

/** Request a device with the adapter's full buffer limits (defaults are smaller). */
export async function openSession(
  adapter: GPUAdapter,
  opts: SessionOptions & { features?: GPUFeatureName[] } = {},
): Promise<GpuSession> {
  const l = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
  };
  const features = (opts.features ?? ['timestamp-query' as GPUFeatureName]).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures: features });
  return new GpuSession(device, adapter, opts);
}

/**
 * Ask `gpu` (e.g. navigator.gpu) for its default adapter and open a session on it. Refuses
 * a missing GPU object, a null adapter and Dawn's null backend (it computes nothing).
 */
export async function requestSession(gpu: GPU | undefined, opts: SessionOptions = {}): Promise<GpuSession> {
  if (gpu === undefined)
    throw new GpuError('WebGPU is not available here (no GPU object; in a browser, navigator.gpu is undefined)');
  const adapter = await gpu.requestAdapter();
  if (adapter === null) throw new GpuError('WebGPU requestAdapter() returned null: no usable adapter');
  const info = adapterIdentity(adapter);
  if (isNullBackendInfo(info))
    throw new GpuError(`refusing Dawn's null backend adapter (${adapterName(info)}): it computes nothing`);
  return openSession(adapter, opts);
}
