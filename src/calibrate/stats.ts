/**
 * Statistics of the calibration: robust point estimates, straight-line fits with
 * analytic 95 % confidence intervals, and linear combinations of independent estimates.
 *
 * Interval method (docs/calibration.md, "Intervals"):
 * - Each sweep point's value is the median of its repeated samples.
 * - A sweep is fitted as y = a + b·x by weighted least squares with weights 1/ŷ² (the
 *   timing noise is multiplicative: a few per cent of the time, whatever its size); the
 *   residual variance gives the standard errors (so scatter between points — noise or a
 *   kernel that is not quite linear — widens the interval), with k − 2 degrees of freedom.
 * - A directly measured quantity (the round trip, the minimal round) is the median of
 *   its samples, with standard error 1.2533·s/√n (the median's asymptotic efficiency
 *   for normal noise) and n − 1 degrees of freedom.
 * - Derived quantities (Llama-2-70B terms, the typical round) are linear combinations
 *   of these independent estimates: variances add, degrees of freedom by
 *   Welch–Satterthwaite; the interval is value ± t₀.₉₇₅(df)·se.
 * Coverage is checked on synthetic timings in test/node/calibrate-stats.test.ts.
 */

/** Two-sided 95 % Student-t quantiles t₀.₉₇₅ for 1–30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
/** Beyond 30: (df, t) knots, interpolated linearly in 1/df; the last is the normal quantile. */
const T975_TAIL: ReadonlyArray<[number, number]> = [
  [30, 2.042],
  [40, 2.021],
  [60, 2.0],
  [120, 1.98],
  [Infinity, 1.96],
];

/** t₀.₉₇₅(df) for df ≥ 1 (fractional df interpolated in 1/df); Infinity for df < 1. */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) return Infinity;
  if (df <= 30) {
    const lo = Math.floor(df);
    const hi = Math.ceil(df);
    const tl = T975[lo - 1] as number;
    const th = T975[hi - 1] as number;
    if (lo === hi) return tl;
    const f = (1 / lo - 1 / df) / (1 / lo - 1 / hi);
    return tl + f * (th - tl);
  }
  for (let i = 1; i < T975_TAIL.length; i++) {
    const [d0, t0] = T975_TAIL[i - 1] as [number, number];
    const [d1, t1] = T975_TAIL[i] as [number, number];
    if (df <= d1) {
      const f = (1 / d0 - 1 / df) / (1 / d0 - (d1 === Infinity ? 0 : 1 / d1));
      return t0 + f * (t1 - t0);
    }
  }
  return 1.96;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Median absolute deviation (unscaled). */
export function mad(xs: readonly number[]): number {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}

/** A point estimate with its standard error and degrees of freedom. */
export interface Estimate {
  readonly value: number;
  readonly se: number;
  readonly df: number;
}

/** A 95 % interval [lo, hi]. */
export type Interval = [number, number];

export function interval(e: Estimate, floor = -Infinity): Interval {
  const h = tQuantile975(e.df) * e.se;
  return [Math.max(floor, e.value - h), Math.max(floor, e.value + h)];
}

/** The median of repeated samples as an estimate (see the header). */
export function medianEstimate(samples: readonly number[]): Estimate {
  const n = samples.length;
  const m = median(samples);
  if (n < 2) return { value: m, se: Infinity, df: 0 };
  const mean = samples.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(samples.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  return { value: m, se: (1.2533 * sd) / Math.sqrt(n), df: n - 1 };
}

/**
 * Σ weights[i] · estimates[i] for independent estimates: variances add, degrees of
 * freedom by Welch–Satterthwaite.
 */
export function combine(terms: ReadonlyArray<readonly [number, Estimate]>): Estimate {
  let value = 0;
  let variance = 0;
  let denom = 0;
  for (const [w, e] of terms) {
    value += w * e.value;
    const v = w * w * e.se * e.se;
    variance += v;
    if (v > 0) denom += (v * v) / Math.max(e.df, 1e-9);
  }
  if (!Number.isFinite(variance)) return { value, se: Infinity, df: 0 };
  return { value, se: Math.sqrt(variance), df: denom > 0 ? (variance * variance) / denom : Infinity };
}

export interface LineFit {
  intercept: Estimate;
  slope: Estimate;
  /** R² of the fit over its own points (unweighted). */
  r2: number;
  points: number;
}

/** Weighted least squares y = a + b·x with weights w; null when x does not vary. */
function wls(
  xs: readonly number[],
  ys: readonly number[],
  ws: readonly number[],
): { a: number; b: number; sxx: number; sw: number; sx: number } | null {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  xs.forEach((x, i) => {
    const w = ws[i] as number;
    const y = ys[i] as number;
    sw += w;
    sx += w * x;
    sy += w * y;
    sxx += w * x * x;
    sxy += w * x * y;
  });
  const det = sw * sxx - sx * sx;
  if (!(Math.abs(det) > 1e-12 * sw * sxx)) return null;
  const b = (sw * sxy - sx * sy) / det;
  const a = (sy - b * sx) / sw;
  return { a, b, sxx, sw, sx };
}

/**
 * y = a + b·x over points (x, y) by weighted least squares, weights 1/ŷ² from an
 * ordinary first pass (relative errors). Standard errors from the weighted residuals
 * with k − 2 degrees of freedom. Throws when fewer than 3 points or x does not vary.
 */
export function fitLine(points: ReadonlyArray<{ x: number; y: number }>): LineFit {
  const k = points.length;
  if (k < 3) throw new RangeError(`a line fit needs ≥ 3 points, got ${k}`);
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const first = wls(
    xs,
    ys,
    xs.map(() => 1),
  );
  if (!first) throw new RangeError('a line fit needs points with different x');
  const yMax = Math.max(...ys.map(Math.abs), 1e-300);
  // Weights from the first pass's prediction; floored so that a near-zero prediction cannot dominate.
  const ws = xs.map((x) => 1 / Math.max(Math.abs(first.a + first.b * x), 1e-3 * yMax) ** 2);
  const f = wls(xs, ys, ws) ?? first;
  const rss = xs.reduce((s, x, i) => s + (ws[i] as number) * ((ys[i] as number) - f.a - f.b * x) ** 2, 0);
  const s2 = rss / (k - 2);
  const det = f.sw * f.sxx - f.sx * f.sx;
  const df = k - 2;
  const mean = ys.reduce((s, y) => s + y, 0) / k;
  const ssTot = ys.reduce((s, y) => s + (y - mean) ** 2, 0);
  const ssRes = xs.reduce((s, x, i) => s + ((ys[i] as number) - f.a - f.b * x) ** 2, 0);
  return {
    intercept: { value: f.a, se: Math.sqrt((s2 * f.sxx) / det), df },
    slope: { value: f.b, se: Math.sqrt((s2 * f.sw) / det), df },
    r2: ssTot > 0 ? 1 - ssRes / ssTot : 1,
    points: k,
  };
}

/** Seeded PRNG (mulberry32), uniform in [0, 1): visit orders and synthetic tests. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle with the given PRNG (a new array). */
export function shuffle<T>(xs: readonly T[], rand: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

/** Standard normal variate (Box–Muller) from a uniform PRNG. */
export function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}
