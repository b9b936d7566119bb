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

/**
 * y = c₀ + Σ cⱼ·xⱼ by weighted least squares (see fitMulti), with the coefficients'
 * covariance, so that a combination of them (an extrapolated term, the typical round)
 * gets its variance with the covariances between coefficients of the same fit.
 */
export interface MultiFit {
  /** Intercept first, then one per regressor (each with se and the fit's df). */
  coef: Estimate[];
  cov: number[][];
  df: number;
  r2: number;
  points: number;
}

/** Solve the symmetric system a·x = b (Gauss–Jordan, partial pivoting); null when singular. */
function invert(a: readonly (readonly number[])[]): number[][] | null {
  const n = a.length;
  const m = a.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  const scale = Math.max(...a.map((r) => Math.max(...r.map(Math.abs))), 1e-300);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (!(Math.abs(m[p]![c]!) > 1e-13 * scale)) return null;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const rc = m[c]!;
    const d = rc[c]!;
    for (let k = 0; k < 2 * n; k++) rc[k] = rc[k]! / d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const rr = m[r]!;
      const f = rr[c]!;
      if (f !== 0) for (let k = 0; k < 2 * n; k++) rr[k] = rr[k]! - f * rc[k]!;
    }
  }
  return m.map((r) => r.slice(n));
}

/** Weighted least squares of y on [1, x…]: coefficients and (X'WX)⁻¹; null when singular. */
function wlsMulti(
  xs: readonly (readonly number[])[],
  ys: readonly number[],
  ws: readonly number[],
): { c: number[]; inv: number[][] } | null {
  const p = (xs[0]?.length ?? 0) + 1;
  // Columns scaled to unit max for conditioning, unscaled at the end.
  const sc = Array.from({ length: p }, (_, j) =>
    j === 0 ? 1 : Math.max(1e-300, ...xs.map((r) => Math.abs(r[j - 1] as number))),
  );
  const ata = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const aty = new Array<number>(p).fill(0);
  xs.forEach((r, i) => {
    const v = [1, ...r].map((x, j) => x / sc[j]!);
    const w = ws[i] as number;
    for (let a = 0; a < p; a++) {
      aty[a] = aty[a]! + w * v[a]! * (ys[i] as number);
      for (let b = 0; b < p; b++) ata[a]![b] = ata[a]![b]! + w * v[a]! * v[b]!;
    }
  });
  const inv = invert(ata);
  if (!inv) return null;
  const c = inv.map((r, a) => r.reduce((s, x, b) => s + x * aty[b]!, 0) / sc[a]!);
  return { c, inv: inv.map((r, a) => r.map((x, b) => x / (sc[a]! * sc[b]!))) };
}

/**
 * y = c₀ + Σ cⱼ·xⱼ over points by weighted least squares, weights 1/ŷ² from an ordinary
 * first pass (relative errors, floored at 10⁻³ of the largest y so that a near-zero
 * prediction cannot dominate). Covariance s²·(X'WX)⁻¹ from the weighted residuals with
 * k − p degrees of freedom. Throws when k ≤ p or the regressors are collinear.
 */
export function fitMulti(points: ReadonlyArray<{ x: readonly number[]; y: number }>): MultiFit {
  const k = points.length;
  const p = (points[0]?.x.length ?? 0) + 1;
  if (k <= p) throw new RangeError(`a fit of ${p} coefficients needs ≥ ${p + 1} points, got ${k}`);
  const xs = points.map((q) => q.x);
  const ys = points.map((q) => q.y);
  const first = wlsMulti(
    xs,
    ys,
    xs.map(() => 1),
  );
  if (!first) throw new RangeError("the fit's regressors do not vary independently");
  const pred = (c: readonly number[], x: readonly number[]) => x.reduce((s, v, j) => s + c[j + 1]! * v, c[0]!);
  const yMax = Math.max(...ys.map(Math.abs), 1e-300);
  const ws = xs.map((x) => 1 / Math.max(Math.abs(pred(first.c, x)), 1e-3 * yMax) ** 2);
  const f = wlsMulti(xs, ys, ws) ?? { ...first, inv: first.inv };
  const df = k - p;
  const rss = xs.reduce((s, x, i) => s + ws[i]! * (ys[i]! - pred(f.c, x)) ** 2, 0);
  const s2 = rss / df;
  const cov = f.inv.map((r) => r.map((v) => v * s2));
  const mean = ys.reduce((s, y) => s + y, 0) / k;
  const ssTot = ys.reduce((s, y) => s + (y - mean) ** 2, 0);
  const ssRes = xs.reduce((s, x, i) => s + (ys[i]! - pred(f.c, x)) ** 2, 0);
  return {
    coef: f.c.map((value, j) => ({ value, se: Math.sqrt(Math.max(0, cov[j]![j]!)), df })),
    cov,
    df,
    r2: ssTot > 0 ? 1 - ssRes / ssTot : 1,
    points: k,
  };
}

/** Σ w[j]·coef[j] of one fit, its variance with the fit's covariances. */
export function combineFit(f: MultiFit, w: readonly number[]): Estimate {
  let value = 0;
  let variance = 0;
  f.coef.forEach((c, a) => {
    value += (w[a] ?? 0) * c.value;
    f.coef.forEach((_, b) => (variance += (w[a] ?? 0) * (w[b] ?? 0) * f.cov[a]![b]!));
  });
  return { value, se: Math.sqrt(Math.max(0, variance)), df: f.df };
}

/** A one-regressor MultiFit as a LineFit (intercept, slope). */
export function lineOf(f: MultiFit): LineFit {
  return { intercept: f.coef[0]!, slope: f.coef[1]!, r2: f.r2, points: f.points };
}

/**
 * y = a + b·x over points (x, y) by weighted least squares, weights 1/ŷ² from an
 * ordinary first pass (relative errors). Standard errors from the weighted residuals
 * with k − 2 degrees of freedom. Throws when fewer than 3 points or x does not vary.
 */
export function fitLine(points: ReadonlyArray<{ x: number; y: number }>): LineFit {
  if (points.length < 3) throw new RangeError(`a line fit needs ≥ 3 points, got ${points.length}`);
  if (points.every((q) => q.x === points[0]?.x)) throw new RangeError('a line fit needs points with different x');
  return lineOf(fitMulti(points.map((q) => ({ x: [q.x], y: q.y }))));
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
