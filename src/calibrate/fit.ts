/**
 * Least-squares fit of the per-term round cost model
 *
 *   round µs = fixed + perToken · T + perKvToken · C_kv + perPrefillSquare · S
 *
 * with T = tokens through the linear layers (prefillTokens + decodeRequests),
 * C_kv = decodeContext (KV tokens read by decode attention: bandwidth-bound) and
 * S = prefillSquares (Σ prompt², causal prefill attention: compute-bound).
 * Coefficients are kept non-negative (a term that fits negative is dropped and the rest
 * refitted: an active-set NNLS over four columns). Quality: R² and MAPE.
 */
import type { BatchStats } from '../model/types.ts';

export const TERMS = ['fixedMicros', 'perTokenMicros', 'perKvTokenMicros', 'perPrefillSquareMicros'] as const;
export type Term = (typeof TERMS)[number];
export type Coefficients = Record<Term, number>;

/** The model's inputs of one round. */
export interface Features {
  readonly tokens: number;
  readonly kvTokens: number;
  readonly prefillSquares: number;
}

export function featuresOf(b: BatchStats): Features {
  return { tokens: b.prefillTokens + b.decodeRequests, kvTokens: b.decodeContext, prefillSquares: b.prefillSquares };
}

function row(f: Features): number[] {
  return [1, f.tokens, f.kvTokens, f.prefillSquares];
}

export function predict(c: Coefficients, f: Features): number {
  return (
    c.fixedMicros +
    c.perTokenMicros * f.tokens +
    c.perKvTokenMicros * f.kvTokens +
    c.perPrefillSquareMicros * f.prefillSquares
  );
}

/** Solve A x = b (n × n, partial pivoting); null when singular. */
function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((r, i) => [...r, b[i] as number]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++)
      if (Math.abs((m[r] as number[])[c] as number) > Math.abs((m[p] as number[])[c] as number)) p = r;
    const pr = m[p] as number[];
    if (Math.abs(pr[c] as number) < 1e-12) return null;
    [m[c], m[p]] = [pr, m[c] as number[]];
    const rc = m[c] as number[];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const rr = m[r] as number[];
      const f = (rr[c] as number) / (rc[c] as number);
      for (let k = c; k <= n; k++) rr[k] = (rr[k] as number) - f * (rc[k] as number);
    }
  }
  return m.map((r, i) => (r[n] as number) / (r[i] as number));
}

/** Unconstrained least squares over the active columns (columns scaled to unit max for conditioning). */
function lsq(xs: number[][], ys: number[], active: number[]): number[] | null {
  const scale = active.map((j) => Math.max(1e-300, ...xs.map((r) => Math.abs(r[j] as number))));
  const k = active.length;
  const ata = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const aty = new Array<number>(k).fill(0);
  xs.forEach((r, i) => {
    const v = active.map((j, a) => (r[j] as number) / (scale[a] as number));
    for (let a = 0; a < k; a++) {
      aty[a] = (aty[a] as number) + (v[a] as number) * (ys[i] as number);
      for (let b = 0; b < k; b++)
        (ata[a] as number[])[b] = ((ata[a] as number[])[b] as number) + (v[a] as number) * (v[b] as number);
    }
  });
  const sol = solve(ata, aty);
  return sol ? sol.map((x, a) => x / (scale[a] as number)) : null;
}

/** Non-negative least squares: drop the most negative term and refit until all are ≥ 0. Columns that are all zero are dropped. */
export function fitCoefficients(points: ReadonlyArray<{ features: Features; micros: number }>): Coefficients {
  if (points.length === 0) throw new Error('fit: no points');
  const xs = points.map((p) => row(p.features));
  const ys = points.map((p) => p.micros);
  let active = [0, 1, 2, 3].filter((j) => xs.some((r) => (r[j] as number) !== 0));
  for (;;) {
    const sol = active.length > 0 ? lsq(xs, ys, active) : [];
    if (sol === null) {
      // Singular (e.g. two columns proportional on this grid): drop the last term and retry.
      active = active.slice(0, -1);
      continue;
    }
    let worst = -1;
    sol.forEach((v, a) => {
      if (v < 0 && (worst < 0 || v < (sol[worst] as number))) worst = a;
    });
    if (worst >= 0) {
      active = active.filter((_, a) => a !== worst);
      continue;
    }
    const full = [0, 0, 0, 0];
    active.forEach((j, a) => (full[j] = sol[a] as number));
    return {
      fixedMicros: full[0] as number,
      perTokenMicros: full[1] as number,
      perKvTokenMicros: full[2] as number,
      perPrefillSquareMicros: full[3] as number,
    };
  }
}

export interface FitQuality {
  /** Coefficient of determination, 1 − SSres/SStot (1 when SStot is 0 and the fit is exact). */
  r2: number;
  /** Mean absolute percentage error, as a fraction (0.05 = 5 %). */
  mape: number;
}

export function quality(c: Coefficients, points: ReadonlyArray<{ features: Features; micros: number }>): FitQuality {
  if (points.length === 0) return { r2: NaN, mape: NaN };
  const mean = points.reduce((s, p) => s + p.micros, 0) / points.length;
  let ssRes = 0;
  let ssTot = 0;
  let ape = 0;
  for (const p of points) {
    const e = p.micros - predict(c, p.features);
    ssRes += e * e;
    ssTot += (p.micros - mean) ** 2;
    ape += Math.abs(e) / Math.max(Math.abs(p.micros), 1e-9);
  }
  return { r2: ssTot > 0 ? 1 - ssRes / ssTot : ssRes === 0 ? 1 : 0, mape: ape / points.length };
}
