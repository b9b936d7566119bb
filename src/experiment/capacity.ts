/**
 * Capacity under an SLO (docs/cli.md, capacity): the largest arrival rate at which a policy
 * still meets the SLO at the target attainment, found by bracketing and bisection over an
 * instance rescaled in time (the same requests at every rate: common random numbers).
 *
 * The search is a fixed function of the probes' yes/no answers: from `start` it doubles
 * while the SLO is met (or halves while it is not) to find a bracket [lo, hi], then bisects
 * until (hi − lo) ≤ tolerance · hi. Since a looser SLO answers yes wherever a tighter one
 * does, the two searches probe the same rates until the first rate where they differ; from
 * there the looser one keeps rates ≥ that rate and the tighter one rates below it. So a
 * looser SLO never gives a lower capacity, whether or not attainment is monotone in the rate.
 */
import type { ReplicaOptions } from '../engine/replicas.ts';
import { evaluateSlo, sloMet, type Slo } from '../metrics/slo.ts';
import type { CostModel, RequestSpec } from '../model/types.ts';
import type { PolicyConfig } from '../policies/registry.ts';
import type { Instance } from './instance.ts';
import { runPolicy } from './run.ts';

export interface CapacityProbe {
  /** Mean arrival rate of the probe (requests per second). */
  readonly rate: number;
  readonly met: boolean;
  /** Attainment of the per-request bounds (NaN: the run failed or is unknown). */
  readonly attainment: number;
  readonly percentilesMet: boolean;
  /** Why the run failed (stuck, livelock), if it did: counted as not met. */
  readonly failure?: string;
}

export interface CapacitySearch {
  /** Largest probed rate that met the SLO (0: none did down to `minRate`). */
  readonly capacity: number;
  /** The final bracket: `lo` met, `hi` did not (null: met up to `maxRate`). */
  readonly lo: number;
  readonly hi: number | null;
  readonly probes: readonly CapacityProbe[];
}

export interface CapacityOptions {
  /** First rate probed (> 0). */
  readonly start: number;
  /** Relative width of the final bracket, in (0, 1). */
  readonly tolerance: number;
  readonly minRate: number;
  readonly maxRate: number;
}

export const CAPACITY_DEFAULTS = { start: 10, tolerance: 0.02, minRate: 1e-3, maxRate: 1e6 } as const;

export function searchCapacity(probe: (rate: number) => CapacityProbe, o: CapacityOptions): CapacitySearch {
  if (
    !(o.start > 0) ||
    !(o.tolerance > 0 && o.tolerance < 1) ||
    !(o.minRate > 0 && o.minRate <= o.start && o.start <= o.maxRate)
  ) {
    throw new RangeError(`capacity search: bad options ${JSON.stringify(o)}`);
  }
  const probes: CapacityProbe[] = [];
  const ask = (rate: number): boolean => {
    const p = probe(rate);
    probes.push(p);
    return p.met;
  };
  let lo: number;
  let hi: number | null;
  let r = o.start;
  if (ask(r)) {
    lo = r;
    hi = null;
    while (hi === null && lo * 2 <= o.maxRate) {
      r = lo * 2;
      if (ask(r)) lo = r;
      else hi = r;
    }
    if (hi === null) return { capacity: lo, lo, hi: null, probes };
  } else {
    hi = r;
    lo = 0;
    while (lo === 0 && hi / 2 >= o.minRate) {
      r = hi / 2;
      if (ask(r)) lo = r;
      else hi = r;
    }
    if (lo === 0) return { capacity: 0, lo: 0, hi, probes };
  }
  let top: number = hi;
  while (top - lo > o.tolerance * top) {
    const mid: number = (lo + top) / 2;
    if (ask(mid)) lo = mid;
    else top = mid;
  }
  return { capacity: lo, lo, hi: top, probes };
}

/**
 * The requests of `base` (arrival order, ≥ 2 distinct arrival times) rescaled in time to a
 * mean arrival rate `rate` per second: arrival′ = round(arrival · ρ / rate), where
 * ρ = (n − 1) / (last − first arrival) is the base's own mean rate. Rounding to whole µs
 * keeps the order (ties keep their id order).
 */
export class RescaledWorkload {
  readonly nativeRate: number;
  constructor(
    private readonly base: readonly RequestSpec[],
    private readonly memory: number,
    private readonly label: string,
  ) {
    const first = base[0];
    const last = base[base.length - 1];
    if (first === undefined || last === undefined || !(last.arrival > first.arrival)) {
      throw new RangeError(`${label}: rescaling in time needs at least two distinct arrival times`);
    }
    this.nativeRate = ((base.length - 1) / (last.arrival - first.arrival)) * 1e6;
  }

  at(rate: number): Instance {
    const f = this.nativeRate / rate;
    const reqs = this.base.map((q) => ({ ...q, arrival: Math.round(q.arrival * f) }));
    const lastArrival = reqs[reqs.length - 1]?.arrival ?? 0;
    if (!Number.isSafeInteger(lastArrival))
      throw new RangeError(`${this.label} at rate ${rate}: arrivals past the time range`);
    return {
      memory: this.memory,
      mode: 'seconds',
      size: reqs.length,
      rate,
      requests: () => reqs,
      description: `${this.label} rescaled to λ = ${rate}/s`,
    };
  }
}

export interface PolicyCapacityOptions {
  readonly costModel: CostModel;
  readonly slo: Slo;
  /** Target attainment in (0, 1]. */
  readonly attainment: number;
  readonly replicas?: ReplicaOptions;
  /** Search options; missing ones from CAPACITY_DEFAULTS. */
  readonly search?: Partial<CapacityOptions>;
  /** Called before each probe runs (for progress lines and bars). */
  readonly onProbe?: (rate: number, probesBefore: number) => void;
  readonly signal?: { readonly aborted: boolean };
}

/**
 * One policy's capacity under an SLO on a rescaled workload: every probe runs the policy on
 * the CPU engine at that rate and evaluates the SLO; a stuck or livelocked run counts as
 * missed. Used by `kvsched capacity` and the app's capacity panel (in its worker).
 */
export function policyCapacity(
  scaled: RescaledWorkload,
  policy: string | PolicyConfig,
  o: PolicyCapacityOptions,
): CapacitySearch {
  // Pooled TBT gaps are needed only for a TBT percentile term (per-request terms use each request's max gap).
  const needGaps = o.slo.terms.some((t) => t.metric === 'tbt' && t.percentile !== null);
  let count = 0;
  const probe = (rate: number): CapacityProbe => {
    o.onProbe?.(rate, count++);
    const r = runPolicy(scaled.at(rate), policy, {
      costModel: o.costModel,
      tokenGaps: needGaps,
      ...(o.replicas ? { replicas: o.replicas } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (!r.ok)
      return { rate, met: false, attainment: Number.NaN, percentilesMet: false, failure: `${r.kind}: ${r.error}` };
    const s = evaluateSlo(r.result, o.slo);
    return { rate, met: sloMet(s, o.attainment), attainment: s.attainment, percentilesMet: s.percentilesMet };
  };
  return searchCapacity(probe, { ...CAPACITY_DEFAULTS, ...o.search });
}
