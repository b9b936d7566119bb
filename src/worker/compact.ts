/**
 * Downsampling of a finished run into a few hundred chart points (done in the worker,
 * so the main thread never touches per-request or per-round data).
 */
import type { SimulationResult } from '../engine/engine.ts';
import { kvTimeline } from '../metrics/summary.ts';
import { microsToSeconds } from '../model/types.ts';
import type { Series } from './protocol.ts';

/** Points of a latency CDF (quantiles at evenly spaced probabilities, plus min and max). */
export function latencyCdf(result: SimulationResult, points = 200): Series {
  const unit = result.mode === 'seconds' ? microsToSeconds : (v: number) => v;
  const t = result.requests;
  const arrival = t.column('arrival');
  const completion = t.column('completion');
  const lat = new Float64Array(t.count);
  let k = 0;
  for (let id = 0; id < t.length; id++) {
    if (!t.has(id)) continue;
    lat[k++] = unit((completion[id] as number) - (arrival[id] as number));
  }
  return cdfOf(lat, points);
}

/** Points of the time-between-tokens CDF over every recorded gap (empty: none recorded). */
export function tbtCdf(result: SimulationResult, points = 200): Series {
  if (!result.tokenGaps) return { x: [], y: [] };
  const gaps = result.tokenGaps.toArray();
  if (result.mode === 'seconds') for (let i = 0; i < gaps.length; i++) gaps[i] = microsToSeconds(gaps[i] as number);
  return cdfOf(gaps, points);
}

/** CDF points of a sample (sorted in place). */
export function cdfOf(values: Float64Array, points = 200): Series {
  values.sort();
  const n = values.length;
  const x: number[] = [];
  const y: number[] = [];
  if (n === 0) return { x, y };
  const m = Math.min(points, n);
  for (let j = 1; j <= m; j++) {
    // Nearest rank of probability j/m (same rule as summarize's percentiles).
    const idx = Math.min(n - 1, Math.max(0, Math.ceil((j / m) * n) - 1));
    x.push(values[idx] as number);
    y.push((idx + 1) / n);
  }
  x.unshift(values[0] as number);
  y.unshift(0);
  return { x, y };
}

/** KV use over time, at most `buckets` points: the peak KV of the rounds starting in each time bucket. */
export function kvSeries(result: SimulationResult, buckets = 400): Series {
  const tl = kvTimeline(result);
  if (!tl || tl.start.length === 0) return { x: [], y: [] };
  return peakBuckets(tl.start, tl.kv, buckets);
}

export function peakBuckets(start: readonly number[], kv: readonly number[], buckets: number): Series {
  const n = start.length;
  const t0 = start[0] as number;
  const t1 = start[n - 1] as number;
  if (n <= buckets || t1 <= t0) return { x: start.slice(), y: kv.slice() };
  const width = (t1 - t0) / buckets;
  const x: number[] = [];
  const y: number[] = [];
  let b = -1;
  for (let i = 0; i < n; i++) {
    const s = start[i] as number;
    const v = kv[i] as number;
    const bi = Math.min(buckets - 1, Math.floor((s - t0) / width));
    if (bi !== b) {
      b = bi;
      x.push(t0 + bi * width);
      y.push(v);
    } else if (v > (y[y.length - 1] as number)) {
      y[y.length - 1] = v;
    }
  }
  return { x, y };
}
