/**
 * Main-thread side of the engine worker: one run at a time, progress callbacks,
 * cancel. The worker is created lazily and recreated after a hard cancel.
 */
import {
  NO_WORKER_WEBGPU,
  type CapacityConfig,
  type CapacityResult,
  type ExperimentResult,
  type FromWorker,
  type OptimumSummary,
  type ProgressInfo,
  type RunConfig,
  type SweepConfig,
  type SweepResult,
  type ToWorker,
} from './protocol.ts';

/** A cancelled run: the project's one AbortError (src/model/abort.ts). */
export { AbortError as CancelledError } from '../model/abort.ts';
import { AbortError as CancelledError } from '../model/abort.ts';

interface Pending {
  id: number;
  resolve: (m: FromWorker) => void;
  reject: (e: Error) => void;
  onProgress: ((p: ProgressInfo) => void) | undefined;
  flag: Int32Array | undefined;
}

export class EngineClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private pending: Pending | undefined;
  /** A GPU run on the main thread (the worker had no navigator.gpu): its abort flag. */
  private mainRun: { aborted: boolean } | undefined;

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'kvsched-engine' });
    w.onmessage = (ev: MessageEvent<FromWorker>) => {
      const m = ev.data;
      const p = this.pending;
      if (!p || m.id !== p.id) return;
      if (m.type === 'progress') {
        p.onProgress?.(m.progress);
        return;
      }
      this.pending = undefined;
      if (m.type === 'error') {
        const e = m.name === 'AbortError' ? new CancelledError() : new Error(m.message);
        if (m.name !== 'AbortError') e.name = m.name;
        p.reject(e);
      } else {
        p.resolve(m);
      }
    };
    w.onerror = (ev) => {
      const p = this.pending;
      this.pending = undefined;
      p?.reject(new Error(`the engine worker failed: ${ev.message || 'unknown error'}`));
      this.worker?.terminate();
      this.worker = undefined;
    };
    this.worker = w;
    return w;
  }

  get busy(): boolean {
    return this.pending !== undefined || this.mainRun !== undefined;
  }

  private start(
    make: (id: number, abort: SharedArrayBuffer | undefined) => ToWorker,
    onProgress?: (p: ProgressInfo) => void,
  ): Promise<FromWorker> {
    if (this.busy) return Promise.reject(new Error('a run is already in progress'));
    const w = this.ensureWorker();
    const id = this.nextId++;
    const abort =
      typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated ? new SharedArrayBuffer(4) : undefined;
    return new Promise<FromWorker>((resolve, reject) => {
      this.pending = { id, resolve, reject, onProgress, flag: abort ? new Int32Array(abort) : undefined };
      w.postMessage(make(id, abort));
    });
  }

  /**
   * Runs an experiment. With `engine: 'gpu'` the worker runs the GPU engine when it has
   * navigator.gpu; otherwise it runs here on the main thread (the result's engineNote
   * says so). A GPU refusal rejects with its message: there is no CPU fallback.
   */
  async run(config: RunConfig, onProgress?: (p: ProgressInfo) => void): Promise<ExperimentResult> {
    let m: FromWorker;
    try {
      m = await this.start((id, abort) => ({ type: 'run', id, config, ...(abort ? { abort } : {}) }), onProgress);
    } catch (e) {
      if (config.engine === 'gpu' && e instanceof Error && e.name === NO_WORKER_WEBGPU)
        return this.runGpuHere(config, onProgress);
      throw e;
    }
    if (m.type !== 'result') throw new Error(`unexpected worker reply ${m.type}`);
    return m.result;
  }

  private async runGpuHere(config: RunConfig, onProgress?: (p: ProgressInfo) => void): Promise<ExperimentResult> {
    const signal = { aborted: false };
    this.mainRun = signal;
    try {
      const { runGpuExperiment } = await import('./gpu-runner.ts');
      const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
      const where = 'on the main thread (this browser has no WebGPU in workers; the page may stutter while it runs)';
      return await runGpuExperiment(config, gpu, where, { signal, ...(onProgress ? { onProgress } : {}) });
    } catch (e) {
      if (signal.aborted) throw new CancelledError();
      throw e;
    } finally {
      this.mainRun = undefined;
    }
  }

  /** The hindsight optimum of a rounds-mode configuration (in the worker, cancellable). */
  async optimum(config: RunConfig, timeLimitSec: number): Promise<OptimumSummary> {
    const m = await this.start((id, abort) => ({
      type: 'optimum',
      id,
      config,
      timeLimitSec,
      ...(abort ? { abort } : {}),
    }));
    if (m.type !== 'optimum-result') throw new Error(`unexpected worker reply ${m.type}`);
    return m.result;
  }

  /** Per-request results of every policy as CSV (the CPU engine runs the configuration again, in the worker). */
  async requestsCsv(config: RunConfig, onProgress?: (p: ProgressInfo) => void): Promise<string> {
    const m = await this.start(
      (id, abort) => ({ type: 'requests-csv', id, config, ...(abort ? { abort } : {}) }),
      onProgress,
    );
    if (m.type !== 'requests-csv-result') throw new Error(`unexpected worker reply ${m.type}`);
    return m.csv;
  }

  /** Capacity of each policy under an SLO (in the worker, cancellable, with progress per probe). */
  async capacity(config: CapacityConfig, onProgress?: (p: ProgressInfo) => void): Promise<CapacityResult> {
    const m = await this.start(
      (id, abort) => ({ type: 'capacity', id, config, ...(abort ? { abort } : {}) }),
      onProgress,
    );
    if (m.type !== 'capacity-result') throw new Error(`unexpected worker reply ${m.type}`);
    return m.result;
  }

  async sweep(config: SweepConfig, onProgress?: (p: ProgressInfo) => void): Promise<SweepResult> {
    const m = await this.start((id, abort) => ({ type: 'sweep', id, config, ...(abort ? { abort } : {}) }), onProgress);
    if (m.type !== 'sweep-result') throw new Error(`unexpected worker reply ${m.type}`);
    return m.result;
  }

  /** Stops the current run: through the shared flag when there is one, else by terminating the worker. */
  cancel(): void {
    if (this.mainRun) this.mainRun.aborted = true;
    const p = this.pending;
    if (!p) return;
    if (p.flag) {
      Atomics.store(p.flag, 0, 1);
      return;
    }
    this.pending = undefined;
    this.worker?.terminate();
    this.worker = undefined;
    p.reject(new CancelledError());
  }

  dispose(): void {
    this.cancel();
    this.worker?.terminate();
    this.worker = undefined;
  }
}
