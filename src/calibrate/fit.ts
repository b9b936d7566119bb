/**
 * The per-term round cost model and its least-squares fit:
 *
 *   round µs = fixed + perToken · T + perKvToken · C_kv + perPrefillSquare · S
 *              + perDecodeRequest · B + perPrefillRequest · P
 *
 * with T = tokens through the linear layers (prefillTokens + decodeRequests),
 * C_kv = decodeContext (KV tokens read by decode attention: bandwidth-bound),
 * S = prefillSquares (Σ prompt², causal prefill attention: compute-bound),
 * B = decodeRequests (decode attention's cost per sequence: its work items and their
 * softmax/output set-up, whatever the sequence's length) and P = prefillRequests (one
 * prefill-attention dispatch per prefilling request, per layer: the composite rounds,
 * the replay and the engine's BatchStats all count prefills that way).
 * TERMS is the one list of terms; everything that lists them (profiles, the Compare
 * ratio bars, the CLI table) derives from it. The last two came after kvsched.profile/2
 * was first written (ADDED_TERMS): profiles without them read them as 0.
 * Coefficients are kept non-negative (a term that fits negative is dropped and the rest
 * refitted: an active-set NNLS). Quality: R² and MAPE.
 */
import type { BatchStats } from '../model/types.ts';

export const TERMS = [
  'fixedMicros',
  'perTokenMicros',
  'perKvTokenMicros',
  'perPrefillSquareMicros',
  'perDecodeRequestMicros',
  'perPrefillRequestMicros',
] as const;
export type Term = (typeof TERMS)[number];
export type Coefficients = Record<Term, number>;
/** Each term's name where it is shown (tables, the ratio bars, the CLI). */
export const TERM_NAMES: Readonly<Record<Term, string>> = {
  fixedMicros: 'fixed per round',
  perTokenMicros: 'per token',
  perKvTokenMicros: 'per KV token',
  perPrefillSquareMicros: 'per prefill square',
  perDecodeRequestMicros: 'per decode request',
  perPrefillRequestMicros: 'per prefill request',
};
/** Terms added after kvsched.profile/2 was first written: optional in profiles, absent = 0. */
export const ADDED_TERMS = ['perDecodeRequestMicros', 'perPrefillRequestMicros'] as const satisfies readonly Term[];
export type AddedTerm = (typeof ADDED_TERMS)[number];
export const isAddedTerm = (t: Term): t is AddedTerm => (ADDED_TERMS as readonly Term[]).includes(t);

/** A profile's coefficients: the added terms may be absent (profiles written before them). */
export type StoredCoefficients = Omit<Coefficients, AddedTerm> & { [K in AddedTerm]?: number | undefined };

/** Stored coefficients with an absent added term read as 0 (what the cost model does). */
export function coefficientsOf(c: StoredCoefficients): Coefficients {
  return {
    ...c,
    perDecodeRequestMicros: c.perDecodeRequestMicros ?? 0,
    perPrefillRequestMicros: c.perPrefillRequestMicros ?? 0,
  };
}

/** The added terms a stored set of coefficients lacks (shown as "absent: read as 0"). */
export function absentTerms(c: StoredCoefficients): AddedTerm[] {
  return ADDED_TERMS.filter((t) => c[t] === undefined);
}

/** The model's inputs of one round. */
export interface Features {
  readonly tokens: number;
  readonly kvTokens: number;
  readonly prefillSquares: number;
  readonly decodeRequests: number;
  readonly prefillRequests: number;
}

export function featuresOf(b: BatchStats): Features {
  return {
    tokens: b.prefillTokens + b.decodeRequests,
    kvTokens: b.decodeContext,
    prefillSquares: b.prefillSquares,
    decodeRequests: b.decodeRequests,
    prefillRequests: b.prefillRequests,
  };
}

/** Each term's x in a round (the fixed term's is 1). */
export const TERM_X: Readonly<Record<Term, (f: Features) => number>> = {
  fixedMicros: () => 1,
  perTokenMicros: (f) => f.tokens,
  perKvTokenMicros: (f) => f.kvTokens,
  perPrefillSquareMicros: (f) => f.prefillSquares,
  perDecodeRequestMicros: (f) => f.decodeRequests,
  perPrefillRequestMicros: (f) => f.prefillRequests,
};

function row(f: Features): number[] {
  return TERMS.map((t) => TERM_X[t](f));
}

export function predict(c: Coefficients, f: Features): number {
  let s = 0;
  for (const t of TERMS) s += c[t] * TERM_X[t](f);
  return s;
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
  let active = TERMS.map((_, j) => j).filter((j) => xs.some((r) => (r[j] as number) !== 0));
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
    const full = TERMS.map(() => 0);
    active.forEach((j, a) => (full[j] = sol[a] as number));
    return Object.fromEntries(TERMS.map((t, j) => [t, full[j] as number])) as Coefficients;
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
