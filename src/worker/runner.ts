/**
 * Runs an experiment exactly as `kvsched simulate` does (src/cli/simulate.ts): one
 * instance from buildInstance, one fresh policy per run, the named cost model and its
 * power model (a profile's own, the 2×A100 model otherwise), summarize() for the metrics. Used by the engine worker; it has
 * no DOM or worker dependency, so Node tests can call it too.
 */
import { AbortError } from '../model/abort.ts';
import { powerOf } from '../cost/energy.ts';
import { profileCostModel, profileSchema } from '../calibrate/profile.ts';
import { getCostModel } from '../cost/registry.ts';
import type { CostModel } from '../model/types.ts';
import { LivelockError, recordTokenGaps, simulate, StuckError, type SimulationResult } from '../engine/engine.ts';
import { simulateReplicas } from '../engine/replicas.ts';
import { policyCapacity, RescaledWorkload } from '../experiment/capacity.ts';
import { buildInstance, type Instance, type WorkloadSpec } from '../experiment/instance.ts';
import { checkSloMode, evaluateSlo, parseSlo, type Slo } from '../metrics/slo.ts';
import { summarize } from '../metrics/summary.ts';
import { requestCsvHeader, requestCsvLines } from '../metrics/requests-csv.ts';
import { createPolicy } from '../policies/registry.ts';
import { parsePredictionSpec } from '../workload/index.ts';
import { kvSeries, latencyCdf, tbtCdf } from './compact.ts';
import {
  SWEEP_METRICS,
  type CapacityConfig,
  type CapacityResult,
  type ExperimentResult,
  type PolicyRun,
  type ProgressInfo,
  type RunConfig,
  type SweepConfig,
  type SweepMetric,
  type SweepResult,
} from './protocol.ts';

export interface RunHooks {
  onProgress?: (p: ProgressInfo) => void;
  signal?: { readonly aborted: boolean };
  /** Milliseconds between progress reports (default 100). */
  progressIntervalMs?: number;
}

export function cancelled(): Error {
  return new AbortError();
}

export function instanceOf(config: RunConfig): Instance {
  const w = config.workload;
  const workload: WorkloadSpec =
    w.kind === 'lmsys'
      ? { kind: 'lmsys', requests: w.requests, rate: w.rate }
      : w.kind === 'paper-synthetic'
        ? {
            kind: 'paper-synthetic',
            arrivals: w.arrivals,
            ...(w.requests !== undefined ? { requests: w.requests } : {}),
          }
        : { kind: 'trace', fileName: w.fileName, text: w.text };
  return buildInstance({
    workload,
    mode: config.mode,
    seed: config.seed,
    predict: parsePredictionSpec(config.predict),
    ...(config.memory !== undefined ? { memory: config.memory } : {}),
  });
}

/** The named cost model; `profile:…` names use the calibration profile sent with the run. */
export function costModelOf(config: RunConfig): CostModel {
  if (!config.costModel.startsWith('profile:')) return getCostModel(config.costModel);
  if (config.profile === undefined)
    throw new Error(`cost model ${config.costModel}: the profile was not sent with the run`);
  const parsed = profileSchema.safeParse(config.profile);
  if (!parsed.success)
    throw new Error(
      `cost model ${config.costModel}: not a valid kvsched.profile/2 (or /1) profile (${parsed.error.issues[0]?.message ?? 'invalid'})`,
    );
  return profileCostModel(parsed.data, config.costModel);
}

/** The run's SLO, parsed and checked against its time mode exactly as `--slo` is (undefined: none). */
export function sloOf(config: Pick<RunConfig, 'slo' | 'mode'>): Slo | undefined {
  if (config.slo === undefined || config.slo.trim() === '') return undefined;
  const slo = parseSlo(config.slo);
  checkSloMode(slo, config.mode);
  return slo;
}

/** The router options of a run with replicas (undefined: one replica). */
export function replicaOptions(config: RunConfig) {
  const r = config.replicas;
  return r && r.count > 1 ? { replicas: r.count, router: r.router, seed: config.seed } : undefined;
}

interface Slot {
  run: number;
  runs: number;
}

function runPolicies(config: RunConfig, instance: Instance, hooks: RunHooks, slot: Slot): PolicyRun[] {
  const costModel = costModelOf(config);
  const slo = sloOf(config);
  const ro = replicaOptions(config);
  const out: PolicyRun[] = [];
  const interval = hooks.progressIntervalMs ?? 100;
  let last = 0;
  for (const spec of config.policies) {
    if (hooks.signal?.aborted) throw cancelled();
    const started = performance.now();
    const report = (completed: number, force: boolean): void => {
      const t = performance.now();
      if (!force && t - last < interval) return;
      last = t;
      const fraction = (slot.run + completed / Math.max(1, instance.size)) / slot.runs;
      hooks.onProgress?.({
        run: slot.run + 1,
        runs: slot.runs,
        policy: spec,
        completed,
        requests: instance.size,
        fraction,
      });
    };
    report(0, true);
    try {
      const opts = {
        memory: instance.memory,
        mode: config.mode,
        costModel,
        power: powerOf(costModel),
        keepRounds: ro === undefined,
        tokenGaps: recordTokenGaps(instance.size),
        progressEvery: 512,
        onProgress: (p: { completed: number }) => report(p.completed, false),
        ...(hooks.signal ? { signal: hooks.signal } : {}),
      };
      let result: SimulationResult;
      let replicas: Extract<PolicyRun, { ok: true }>['replicas'];
      if (ro) {
        // Replicas run in lockstep; the engine reports no per-replica progress (it would interleave).
        const rep = simulateReplicas(instance.requests(), () => createPolicy(spec), opts, ro);
        result = rep.overall;
        replicas = { router: ro.router, summaries: rep.replicas.map(summarize) };
      } else {
        result = simulate(instance.requests(), createPolicy(spec), opts);
      }
      out.push({
        policy: spec,
        ok: true,
        summary: summarize(result),
        cdf: latencyCdf(result),
        kv: kvSeries(result),
        wallMs: performance.now() - started,
        ...(result.tokenGaps ? { tbtCdf: tbtCdf(result) } : {}),
        ...(slo ? { slo: evaluateSlo(result, slo) } : {}),
        ...(replicas ? { replicas } : {}),
      });
    } catch (e) {
      if (e instanceof LivelockError || e instanceof StuckError) {
        out.push({ policy: spec, ok: false, error: e.message, errorName: e.name });
      } else {
        throw e;
      }
    }
    slot.run++;
  }
  return out;
}

export function runExperiment(config: RunConfig, hooks: RunHooks = {}): ExperimentResult {
  const started = performance.now();
  const instance = instanceOf(config);
  const runs = runPolicies(config, instance, hooks, { run: 0, runs: config.policies.length });
  return {
    description: instance.description,
    memory: instance.memory,
    mode: config.mode,
    requests: instance.size,
    costModel: config.costModel,
    runs,
    wallMs: performance.now() - started,
  };
}

export function runSweep(config: SweepConfig, hooks: RunHooks = {}): SweepResult {
  const started = performance.now();
  const w = config.base.workload;
  if (w.kind !== 'lmsys') throw new Error('a rate sweep needs the generated lmsys workload (it has an arrival rate)');
  if (config.rates.length === 0) throw new Error('a rate sweep needs at least one rate');
  const series = config.base.policies.map((policy) => ({
    policy,
    ...(Object.fromEntries(SWEEP_METRICS.map((m) => [m, [] as (number | null)[]])) as Record<
      SweepMetric,
      (number | null)[]
    >),
  }));
  const slot = { run: 0, runs: config.rates.length * config.base.policies.length };
  for (const rate of config.rates) {
    const cfg: RunConfig = { ...config.base, workload: { ...w, rate } };
    const runs = runPolicies(cfg, instanceOf(cfg), hooks, slot);
    runs.forEach((r, i) => {
      const row = series[i];
      if (row) for (const m of SWEEP_METRICS) row[m].push(r.ok ? r.summary[m] : null);
    });
  }
  return { rates: [...config.rates], series, mode: config.base.mode, wallMs: performance.now() - started };
}

/**
 * Capacity of each policy under an SLO (src/experiment/capacity.ts, as `kvsched capacity`):
 * the configuration's workload drawn once at its own rate and rescaled in time for every probe.
 */
export function runCapacity(config: CapacityConfig, hooks: RunHooks = {}): CapacityResult {
  const started = performance.now();
  const base = config.base;
  if (base.mode !== 'seconds') throw new Error('capacity is searched in seconds mode (arrival rates are per second)');
  if (base.engine === 'gpu') throw new Error('capacity is searched on the CPU engine');
  if (!(config.attainment > 0 && config.attainment <= 1)) throw new Error('the target attainment must be in (0, 1]');
  const slo = sloOf({ slo: config.slo, mode: 'seconds' });
  if (!slo) throw new Error('give an SLO (e.g. ttft=2s,tpot=0.2s)');
  const instance = instanceOf(base);
  const costModel = costModelOf(base);
  const scaled = new RescaledWorkload([...instance.requests()], instance.memory, instance.description);
  const ro = replicaOptions(base);
  const n = base.policies.length;
  const policies = base.policies.map((spec, k) => {
    if (hooks.signal?.aborted) throw cancelled();
    const found = policyCapacity(scaled, spec, {
      costModel,
      slo,
      attainment: config.attainment,
      ...(ro ? { replicas: ro } : {}),
      search: {
        ...(config.start !== undefined ? { start: config.start } : {}),
        ...(config.tolerance !== undefined ? { tolerance: config.tolerance } : {}),
      },
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      // A search takes 10–25 probes: the bar moves by an assumed 16 per policy, capped below the next policy.
      onProbe: (rate, probes) =>
        hooks.onProgress?.({
          run: k + 1,
          runs: n,
          policy: spec,
          completed: 0,
          requests: instance.size,
          fraction: (k + Math.min(0.95, probes / 16)) / n,
          probeRate: rate,
          probes,
        }),
    });
    return { policy: spec, ...found };
  });
  return {
    description: instance.description,
    memory: instance.memory,
    costModel: base.costModel,
    slo: slo.text,
    attainment: config.attainment,
    policies,
    wallMs: performance.now() - started,
  };
}

/**
 * Per-request results of every policy as CSV text, from the CPU engine (the GPU engine
 * gives the same schedules). Runs the configuration again: the results are
 * deterministic, and keeping per-request rows with every run would make results and
 * History records hundreds of times larger. A policy that fails contributes no rows.
 */
export function requestsCsv(config: RunConfig, hooks: RunHooks = {}): string {
  const instance = instanceOf(config);
  const costModel = costModelOf(config);
  const ro = replicaOptions(config);
  // With replicas, the replica each request was routed to (a last column, only then).
  const lines: string[] = [`${requestCsvHeader(ro !== undefined)}\n`];
  config.policies.forEach((spec, k) => {
    if (hooks.signal?.aborted) throw cancelled();
    hooks.onProgress?.({
      run: k + 1,
      runs: config.policies.length,
      policy: spec,
      completed: 0,
      requests: instance.size,
      fraction: k / config.policies.length,
    });
    try {
      const opts = {
        memory: instance.memory,
        mode: config.mode,
        costModel,
        power: powerOf(costModel),
        keepRounds: false,
        ...(hooks.signal ? { signal: hooks.signal } : {}),
      };
      let result: SimulationResult;
      let assignment: Int32Array | undefined;
      if (ro) {
        const rep = simulateReplicas(instance.requests(), () => createPolicy(spec), opts, ro);
        result = rep.overall;
        assignment = rep.assignment;
      } else result = simulate(instance.requests(), createPolicy(spec), opts);
      for (const line of requestCsvLines(result, assignment)) lines.push(line);
    } catch (e) {
      if (!(e instanceof LivelockError || e instanceof StuckError)) throw e;
    }
  });
  return lines.join('');
}
