/**
 * Messages between the UI and the engine worker, and the compact results the worker
 * sends back. Results are summaries and downsampled curves (a few hundred points per
 * policy), never per-request objects: posting them costs the main thread well under
 * a millisecond even for a 10,000-request run.
 */
import type { RouterKind } from '../engine/replicas.ts';
import type { CapacityProbe } from '../experiment/capacity.ts';
import type { SloOutcome } from '../metrics/slo.ts';
import type { RunSummary } from '../metrics/summary.ts';
import type { TimeMode } from '../model/types.ts';

/** Where the requests come from (the worker turns this into a WorkloadSpec). */
export type RunWorkload =
  | { readonly kind: 'lmsys'; readonly requests: number; readonly rate: number }
  | { readonly kind: 'paper-synthetic'; readonly arrivals: 'zero' | 'poisson'; readonly requests?: number }
  | { readonly kind: 'trace'; readonly fileName: string; readonly text: string };

/** Everything the CPU engine needs for one experiment (what `kvsched simulate` takes). */
export interface RunConfig {
  readonly workload: RunWorkload;
  readonly mode: TimeMode;
  /** KV capacity; undefined: the workload's default (16492, or drawn for paper-synthetic). */
  readonly memory?: number;
  readonly seed: number;
  /** `exact` or `noise:E`. */
  readonly predict: string;
  readonly costModel: string;
  /** With a `profile:…` cost model: the stored calibration profile (kvsched.profile/2 JSON, or /1). */
  readonly profile?: unknown;
  /** Policy specs, e.g. `alpha-clearing:0.1:0.2`. */
  readonly policies: readonly string[];
  /** Which engine runs the policies (default cpu). The GPU engine never falls back to the CPU. */
  readonly engine?: 'cpu' | 'gpu';
  /** An SLO in `--slo` grammar (src/metrics/slo.ts): each policy's attainment is evaluated. */
  readonly slo?: string;
  /** K replicas of each policy behind a router (CPU engine; src/engine/replicas.ts). */
  readonly replicas?: { readonly count: number; readonly router: RouterKind };
}

/** A sweep: the same configuration run at several lmsys arrival rates. */
export interface SweepConfig {
  readonly base: RunConfig;
  readonly rates: readonly number[];
}

/** A curve as parallel arrays. */
export interface Series {
  readonly x: number[];
  readonly y: number[];
}

export type PolicyRun =
  | {
      readonly policy: string;
      readonly ok: true;
      readonly summary: RunSummary;
      /** Latency CDF: x = latency (time unit), y = fraction of requests ≤ x. */
      readonly cdf: Series;
      /** KV tokens in use over time: x = time (time unit), y = peak KV within the bucket. */
      readonly kv: Series;
      readonly wallMs: number;
      /** Time-between-tokens CDF over every gap (time unit); absent: not recorded (GPU engine, older runs). */
      readonly tbtCdf?: Series;
      /** The SLO's outcome, when the run had one. */
      readonly slo?: SloOutcome;
      /** With replicas: the router and each replica's summary (the run's summary is of all of them). */
      readonly replicas?: { readonly router: RouterKind; readonly summaries: RunSummary[] };
    }
  | { readonly policy: string; readonly ok: false; readonly error: string; readonly errorName: string };

export interface ExperimentResult {
  readonly description: string;
  readonly memory: number;
  readonly mode: TimeMode;
  readonly requests: number;
  readonly costModel: string;
  readonly runs: PolicyRun[];
  readonly wallMs: number;
  /** The engine that ran the policies (absent: cpu, for runs stored before the GPU engine). */
  readonly engine?: 'cpu' | 'gpu';
  /** GPU engine: where it ran and on which adapter (e.g. `worker, SwiftShader`). */
  readonly engineNote?: string;
}

/** The hindsight optimum (rounds mode) and each configured policy's total latency. */
export interface OptimumSummary {
  readonly status: 'optimal' | 'time-limit';
  readonly objective: number;
  readonly lowerBound: number;
  readonly seconds: number;
  readonly nodes: number;
  /** Best total latency of the local search over start orders, before the branch and bound (null: off). */
  readonly localSearch: number | null;
  readonly requests: number;
  readonly memory: number;
  /** Σ (c_i − a_i) of each configured policy on the CPU engine (null: it failed). */
  readonly policies: { readonly policy: string; readonly total: number | null }[];
}

/** The metrics a sweep keeps per policy and rate. */
export const SWEEP_METRICS = ['meanLatency', 'p99Latency', 'meanTtft', 'p99Ttft', 'throughput', 'evictions'] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];

export interface SweepResult {
  readonly rates: number[];
  /**
   * Per policy, each metric per rate (null: the run failed). Sweeps stored before the
   * other metrics were kept have only meanLatency.
   */
  readonly series: ({ readonly policy: string; readonly meanLatency: (number | null)[] } & {
    readonly [K in Exclude<SweepMetric, 'meanLatency'>]?: (number | null)[];
  })[];
  readonly mode: TimeMode;
  readonly wallMs: number;
}

/** A capacity search (docs/app.md, capacity): the lmsys workload or a trace rescaled in time. */
export interface CapacityConfig {
  /** Workload, seed, memory, prediction, cost model, policies, replicas (mode: seconds). */
  readonly base: RunConfig;
  readonly slo: string;
  /** Target attainment in (0, 1]. */
  readonly attainment: number;
  /** First rate probed (requests/s); default CAPACITY_DEFAULTS.start. */
  readonly start?: number;
  readonly tolerance?: number;
}

export interface CapacityPolicyResult {
  readonly policy: string;
  readonly capacity: number;
  /** The final bracket: lo met, hi missed (null: met up to the maximum rate). */
  readonly lo: number;
  readonly hi: number | null;
  readonly probes: readonly CapacityProbe[];
}

export interface CapacityResult {
  readonly description: string;
  readonly memory: number;
  readonly costModel: string;
  readonly slo: string;
  readonly attainment: number;
  readonly policies: CapacityPolicyResult[];
  readonly wallMs: number;
}

export interface ProgressInfo {
  /** Which run of how many (policies × rates). */
  readonly run: number;
  readonly runs: number;
  readonly policy: string;
  readonly completed: number;
  readonly requests: number;
  /** Overall fraction done, 0..1. */
  readonly fraction: number;
  /** Capacity search: the rate being probed and how many probes this policy has had. */
  readonly probeRate?: number;
  readonly probes?: number;
}

/** The error name the worker answers a GPU run with when it has no navigator.gpu (the client then runs it on the main thread). */
export const NO_WORKER_WEBGPU = 'NoWorkerWebGpu';

export type ToWorker =
  | { readonly type: 'run'; readonly id: number; readonly config: RunConfig; readonly abort?: SharedArrayBuffer }
  | { readonly type: 'sweep'; readonly id: number; readonly config: SweepConfig; readonly abort?: SharedArrayBuffer }
  | {
      readonly type: 'optimum';
      readonly id: number;
      readonly config: RunConfig;
      readonly timeLimitSec: number;
      readonly abort?: SharedArrayBuffer;
    }
  | {
      readonly type: 'capacity';
      readonly id: number;
      readonly config: CapacityConfig;
      readonly abort?: SharedArrayBuffer;
    }
  | {
      readonly type: 'requests-csv';
      readonly id: number;
      readonly config: RunConfig;
      readonly abort?: SharedArrayBuffer;
    };

export type FromWorker =
  | { readonly type: 'progress'; readonly id: number; readonly progress: ProgressInfo }
  | { readonly type: 'result'; readonly id: number; readonly result: ExperimentResult }
  | { readonly type: 'sweep-result'; readonly id: number; readonly result: SweepResult }
  | { readonly type: 'optimum-result'; readonly id: number; readonly result: OptimumSummary }
  | { readonly type: 'requests-csv-result'; readonly id: number; readonly csv: string }
  | { readonly type: 'capacity-result'; readonly id: number; readonly result: CapacityResult }
  | { readonly type: 'error'; readonly id: number; readonly name: string; readonly message: string };
