/**
 * Timing of GPU work.
 *
 * - Method: GPU timestamps (`timestamp-query`, one query pair around each measured
 *   compute pass) when the device has the feature, else wall time around a submit and
 *   `onSubmittedWorkDone`. Timestamps that come back unusable (zero or decreasing)
 *   fall back to wall time for that measurement.
 * - Each measured interval is one compute pass holding `innerReps` back-to-back copies
 *   of the work, with innerReps chosen from a first estimate so that the interval lasts
 *   at least `minIntervalMs` (beats timer resolution and quantisation: Chromium rounds
 *   timestamps, and `performance.now()` is 5–100 µs). All samples of the timestamp
 *   method are recorded in one submit.
 * - Warm-up executions first (pipeline creation, page faults of fresh buffers).
 * - Result: per-execution times of every sample, their median, min, max and spread.
 */
import { abortReason } from '../model/abort.ts';
import type { Job } from './kernels.ts';
import { GpuError, type GpuSession } from './session.ts';

export type TimingMethod = 'timestamp' | 'wall';

export interface TimingOptions {
  /** Shortest measured interval, ms (default 4). */
  minIntervalMs?: number;
  /** Measured intervals (default 5). */
  samples?: number;
  /** Unmeasured executions first (default 1). */
  warmup?: number;
  /** Cap on copies of the work per interval (default 4096). */
  maxInnerReps?: number;
  /** Copies per interval, fixed (skips the first estimate); default: from minIntervalMs. */
  innerReps?: number;
  /** Force a method; default: timestamps when available. */
  method?: TimingMethod;
  signal?: AbortSignal;
}

export interface Measurement {
  method: TimingMethod;
  innerReps: number;
  /** Time of one execution in each sample, ms. */
  samplesMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** (max − min) / median. */
  spread: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function summarize(method: TimingMethod, innerReps: number, samplesMs: number[]): Measurement {
  const med = median(samplesMs);
  const min = Math.min(...samplesMs);
  const max = Math.max(...samplesMs);
  return {
    method,
    innerReps,
    samplesMs,
    medianMs: med,
    minMs: min,
    maxMs: max,
    spread: med > 0 ? (max - min) / med : 0,
  };
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortReason(signal, 'calibration cancelled');
}

export class Timer {
  readonly hasTimestamps: boolean;
  constructor(readonly session: GpuSession) {
    this.hasTimestamps = session.device.features.has('timestamp-query');
  }

  get defaultMethod(): TimingMethod {
    return this.hasTimestamps ? 'timestamp' : 'wall';
  }

  /** Time `work` (a job, or an encode function). */
  async measure(
    work: Pick<Job, 'encode'> | ((pass: GPUComputePassEncoder) => void),
    opts: TimingOptions = {},
  ): Promise<Measurement> {
    const encode = typeof work === 'function' ? work : (p: GPUComputePassEncoder) => work.encode(p);
    const minMs = opts.minIntervalMs ?? 4;
    const samples = Math.max(1, opts.samples ?? 5);
    const maxReps = opts.maxInnerReps ?? 4096;
    let method: TimingMethod = opts.method ?? this.defaultMethod;
    if (method === 'timestamp' && !this.hasTimestamps) method = 'wall';
    for (let i = 0; i < (opts.warmup ?? 1); i++) {
      throwIfAborted(opts.signal);
      await this.wall(encode, 1);
    }
    let innerReps = opts.innerReps;
    if (innerReps === undefined) {
      throwIfAborted(opts.signal);
      const first = method === 'timestamp' ? await this.timestamps(encode, 1, 1) : null;
      if (first === null) method = 'wall';
      const oneMs = first?.[0] ?? (await this.wall(encode, 1));
      innerReps = Math.max(1, Math.min(maxReps, Math.ceil(minMs / Math.max(oneMs, 1e-4))));
    }
    throwIfAborted(opts.signal);
    if (method === 'timestamp') {
      const got = await this.timestamps(encode, innerReps, samples);
      const reps = innerReps;
      if (got !== null)
        return summarize(
          'timestamp',
          reps,
          got.map((ms) => ms / reps),
        );
    }
    const out: number[] = [];
    for (let s = 0; s < samples; s++) {
      throwIfAborted(opts.signal);
      out.push((await this.wall(encode, innerReps)) / innerReps);
    }
    return summarize('wall', innerReps, out);
  }

  /** Wall time of one submit holding `reps` copies, ms. */
  private async wall(encode: (p: GPUComputePassEncoder) => void, reps: number): Promise<number> {
    const d = this.session.device;
    const enc = d.createCommandEncoder();
    const pass = enc.beginComputePass();
    for (let r = 0; r < reps; r++) encode(pass);
    pass.end();
    const cmd = enc.finish();
    const t0 = performance.now();
    d.queue.submit([cmd]);
    await this.session.done('timed GPU work');
    return performance.now() - t0;
  }

  /** GPU time of each of `samples` passes of `reps` copies, ms; null when timestamps are unusable. */
  private async timestamps(
    encode: (p: GPUComputePassEncoder) => void,
    reps: number,
    samples: number,
  ): Promise<number[] | null> {
    const d = this.session.device;
    const count = 2 * samples;
    const { querySet, resolve } = await this.session.scoped('timestamp query set', () => ({
      querySet: d.createQuerySet({ type: 'timestamp', count }),
      resolve: d.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
    }));
    try {
      const enc = d.createCommandEncoder();
      for (let s = 0; s < samples; s++) {
        const pass = enc.beginComputePass({
          timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * s, endOfPassWriteIndex: 2 * s + 1 },
        });
        for (let r = 0; r < reps; r++) encode(pass);
        pass.end();
      }
      enc.resolveQuerySet(querySet, 0, count, resolve, 0);
      d.queue.submit([enc.finish()]);
      const ticks = new BigUint64Array(await this.session.read(resolve));
      const out: number[] = [];
      for (let s = 0; s < samples; s++) {
        const b = ticks[2 * s] as bigint;
        const e = ticks[2 * s + 1] as bigint;
        if (b === 0n || e <= b) return null;
        out.push(Number(e - b) / 1e6);
      }
      return out;
    } finally {
      querySet.destroy();
      resolve.destroy();
    }
  }

  /** Median wall time of a submit of a trivial dispatch and waiting for it: the fixed cost of a round trip, ms. */
  async roundTrip(job: Pick<Job, 'encode'>, samples = 21): Promise<Measurement> {
    await this.wall((p) => job.encode(p), 1);
    const out: number[] = [];
    for (let i = 0; i < samples; i++) out.push(await this.wall((p) => job.encode(p), 1));
    return summarize('wall', 1, out);
  }
}

export { GpuError };
