import type { SimulationResult } from '../engine/engine.ts';
import { microsToSeconds } from '../model/types.ts';

/**
 * Per-run metrics. Times are in the run's display unit: rounds, or seconds in seconds
 * mode (the engine's integer µs divided by 10⁶).
 *
 * - latency = completion − arrival; TTFT = firstToken − arrival (first token ever,
 *   including an attempt later lost to an eviction).
 * - percentiles: nearest rank, the smallest value with at least p % of requests at or
 *   below it (value at sorted index ceil(p/100 · n) − 1).
 * - makespan: the time the last round ends (time starts at 0).
 * - throughput: output tokens delivered (Σ o) per time unit over the makespan.
 * - KV: peak over rounds; time-averaged over [0, makespan] (idle time counts as 0).
 * - energy: active (rounds) + idle (seconds-mode gaps) joules; per request: the mean of
 *   the per-request attribution (src/cost/energy.ts), which excludes idle energy.
 */
export interface RunSummary {
  requests: number;
  meanLatency: number;
  p50Latency: number;
  p90Latency: number;
  p99Latency: number;
  maxLatency: number;
  meanTtft: number;
  p50Ttft: number;
  p90Ttft: number;
  p99Ttft: number;
  maxTtft: number;
  makespan: number;
  throughput: number;
  rounds: number;
  peakKv: number;
  meanKv: number;
  evictions: number;
  restartedRequests: number;
  energyJoules: number;
  joulesPerRequest: number;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const idx = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
  return sorted[idx] as number;
}

export function summarize(result: SimulationResult): RunSummary {
  const unit = result.mode === 'seconds' ? microsToSeconds : (x: number) => x;
  const t = result.requests;
  const n = t.count;
  const arrival = t.column('arrival');
  const completion = t.column('completion');
  const first = t.column('firstToken');
  const output = t.column('output');
  const restarts = t.column('restarts');
  const joules = t.column('joules');
  const lat = new Float64Array(n);
  const ttft = new Float64Array(n);
  let k = 0;
  let sumLat = 0;
  let sumTtft = 0;
  let tokens = 0;
  let restarted = 0;
  let reqJoules = 0;
  for (let id = 0; id < t.length; id++) {
    if (!t.has(id)) continue;
    const a = arrival[id] as number;
    const l = (completion[id] as number) - a;
    const f = (first[id] as number) - a;
    lat[k] = l;
    ttft[k] = f;
    k++;
    sumLat += l;
    sumTtft += f;
    tokens += output[id] as number;
    if ((restarts[id] as number) > 0) restarted++;
    reqJoules += joules[id] as number;
  }
  lat.sort();
  ttft.sort();
  const tot = result.totals;
  const makespan = unit(tot.end);
  return {
    requests: n,
    meanLatency: unit(sumLat / n),
    p50Latency: unit(percentile(lat, 50)),
    p90Latency: unit(percentile(lat, 90)),
    p99Latency: unit(percentile(lat, 99)),
    maxLatency: unit(percentile(lat, 100)),
    meanTtft: unit(sumTtft / n),
    p50Ttft: unit(percentile(ttft, 50)),
    p90Ttft: unit(percentile(ttft, 90)),
    p99Ttft: unit(percentile(ttft, 99)),
    maxTtft: unit(percentile(ttft, 100)),
    makespan,
    throughput: makespan > 0 ? tokens / makespan : 0,
    rounds: tot.rounds,
    peakKv: tot.peakKv,
    meanKv: tot.end > 0 ? tot.kvTime / tot.end : 0,
    evictions: tot.evictions,
    restartedRequests: restarted,
    energyJoules: tot.activeJoules + tot.idleJoules,
    joulesPerRequest: n > 0 ? reqJoules / n : 0,
  };
}

/** The KV-use timeline: one point per executed round (start time in display units). */
export function kvTimeline(result: SimulationResult): { start: number[]; duration: number[]; kv: number[]; batch: number[] } | null {
  const r = result.rounds;
  if (!r) return null;
  const unit = result.mode === 'seconds' ? microsToSeconds : (x: number) => x;
  return {
    start: Array.from(r.column('start'), unit),
    duration: Array.from(r.column('duration'), unit),
    kv: Array.from(r.column('kv')),
    batch: Array.from(r.column('batch')),
  };
}
