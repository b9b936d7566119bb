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
 * - token level (docs/model.md, token-level metrics): a request's k-th output token is
 *   delivered at the end of the first round in which it has produced k tokens. TBT: every
 *   gap between consecutive delivered tokens of a request, pooled over all requests
 *   (p50/p90/p99; max = the longest stall). TPOT = (completion − first token)/(o − 1) per
 *   request with o ≥ 2. Normalised latency = latency / o per request. NaN (JSON null)
 *   where the engine did not record token times (the GPU engine; TBT percentiles with
 *   `tokenGaps: false`).
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
  /** Time between tokens, pooled over every gap of every request. */
  p50Tbt: number;
  p90Tbt: number;
  p99Tbt: number;
  /** The longest gap between two consecutive tokens of any request (max stall). */
  maxTbt: number;
  /** Time per output token, over requests with o ≥ 2. */
  meanTpot: number;
  p50Tpot: number;
  p90Tpot: number;
  p99Tpot: number;
  /** Latency / output tokens, per request. */
  meanNormLatency: number;
  p50NormLatency: number;
  p90NormLatency: number;
  p99NormLatency: number;
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

/** Per-request columns and sums of a run (summarize's one pass over the request table). */
interface RequestStats {
  /** Sorted latency, TTFT and normalised latency of every request; TPOT of those with o ≥ 2. */
  lat: Float64Array;
  ttft: Float64Array;
  norm: Float64Array;
  tpot: Float64Array;
  sumLat: number;
  sumTtft: number;
  sumNorm: number;
  sumTpot: number;
  tokens: number;
  restarted: number;
  reqJoules: number;
  /** Longest token gap of any request; NaN when some request's was not recorded. */
  stall: number;
}

/**
 * The pass over the requests, apart from summarize: a small function is what V8 compiles
 * when the loop gets hot, rather than summarize with its result literal (a cold `kvsched
 * simulate` spent ~0.3 s of background compilation on summarize; docs/cli.md, start-up).
 */
function requestStats(result: SimulationResult): RequestStats {
  const t = result.requests;
  const n = t.count;
  const arrival = t.column('arrival');
  const completion = t.column('completion');
  const first = t.column('firstToken');
  const output = t.column('output');
  const restarts = t.column('restarts');
  const joules = t.column('joules');
  const maxGap = t.column('maxGap');
  const lat = new Float64Array(n);
  const ttft = new Float64Array(n);
  const norm = new Float64Array(n);
  const tpot = new Float64Array(n);
  let nTpot = 0;
  let sumTpot = 0;
  let sumNorm = 0;
  let stall = 0;
  let stallUnknown = false;
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
    const o = output[id] as number;
    lat[k] = l;
    ttft[k] = f;
    norm[k] = l / o;
    sumNorm += l / o;
    k++;
    if (o >= 2) {
      const x = ((completion[id] as number) - (first[id] as number)) / (o - 1);
      tpot[nTpot++] = x;
      sumTpot += x;
    }
    const g = maxGap[id] as number;
    if (Number.isNaN(g))
      stallUnknown = true; // not recorded: the max is unknown, not 0
    else if (g > stall) stall = g;
    sumLat += l;
    sumTtft += f;
    tokens += output[id] as number;
    if ((restarts[id] as number) > 0) restarted++;
    reqJoules += joules[id] as number;
  }
  return {
    lat: lat.sort(),
    ttft: ttft.sort(),
    norm: norm.sort(),
    tpot: tpot.subarray(0, nTpot).sort(),
    sumLat,
    sumTtft,
    sumNorm,
    sumTpot,
    tokens,
    restarted,
    reqJoules,
    stall: stallUnknown ? Number.NaN : stall,
  };
}

export function summarize(result: SimulationResult): RunSummary {
  const unit = result.mode === 'seconds' ? microsToSeconds : (x: number) => x;
  const n = result.requests.count;
  const s = requestStats(result);
  const tp = s.tpot;
  const nTpot = tp.length;
  const gapPcts = result.tokenGaps ? result.tokenGaps.percentiles([50, 90, 99]) : null;
  const gapPct = (i: number): number => (gapPcts ? unit(gapPcts[i] as number) : Number.NaN);
  const tot = result.totals;
  const makespan = unit(tot.end);
  return {
    requests: n,
    meanLatency: unit(s.sumLat / n),
    p50Latency: unit(percentile(s.lat, 50)),
    p90Latency: unit(percentile(s.lat, 90)),
    p99Latency: unit(percentile(s.lat, 99)),
    maxLatency: unit(percentile(s.lat, 100)),
    meanTtft: unit(s.sumTtft / n),
    p50Ttft: unit(percentile(s.ttft, 50)),
    p90Ttft: unit(percentile(s.ttft, 90)),
    p99Ttft: unit(percentile(s.ttft, 99)),
    maxTtft: unit(percentile(s.ttft, 100)),
    p50Tbt: gapPct(0),
    p90Tbt: gapPct(1),
    p99Tbt: gapPct(2),
    maxTbt: n > 0 && !Number.isNaN(s.stall) ? unit(s.stall) : Number.NaN,
    meanTpot: nTpot > 0 ? unit(s.sumTpot / nTpot) : Number.NaN,
    p50Tpot: unit(percentile(tp, 50)),
    p90Tpot: unit(percentile(tp, 90)),
    p99Tpot: unit(percentile(tp, 99)),
    meanNormLatency: unit(s.sumNorm / n),
    p50NormLatency: unit(percentile(s.norm, 50)),
    p90NormLatency: unit(percentile(s.norm, 90)),
    p99NormLatency: unit(percentile(s.norm, 99)),
    makespan,
    throughput: makespan > 0 ? s.tokens / makespan : 0,
    rounds: tot.rounds,
    peakKv: tot.peakKv,
    meanKv: tot.end > 0 ? tot.kvTime / tot.end : 0,
    evictions: tot.evictions,
    restartedRequests: s.restarted,
    energyJoules: tot.activeJoules + tot.idleJoules,
    joulesPerRequest: n > 0 ? s.reqJoules / n : 0,
  };
}

/** The KV-use timeline: one point per executed round (start time in display units). */
export function kvTimeline(
  result: SimulationResult,
): { start: number[]; duration: number[]; kv: number[]; batch: number[] } | null {
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
