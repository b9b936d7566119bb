/**
 * Conflict-clique cuts for the time-indexed LP (lp.ts).
 *
 * Two starts conflict when the two requests, started there, would hold more than M
 * tokens together in some round: both ramps grow, so it is enough to check the last
 * round they share. A set of starts that pairwise conflict (starts of one request
 * always "conflict": the request starts once) holds at most one start of any schedule,
 * so Σ x ≤ 1 over the set is valid for every integer schedule.
 *
 * Why: the plain LP spreads a request over many starts and so packs fractions of big
 * ramps side by side, which no schedule can do (two requests of peak > M/2 cannot even
 * share their last rounds). On the paper’s synthetic instances these cuts close 40–67 %
 * of the plain LP’s gap to the optimum (n = 14, where it is known; docs/theory.md).
 */
import type { Prepared } from './problem.ts';

/** Does request i started at pi conflict with request j ≠ i started at pj? */
export function startsConflict(p: Prepared, i: number, pi: number, j: number, pj: number): boolean {
  const ci = pi + (p.o[i] as number);
  const cj = pj + (p.o[j] as number);
  const last = Math.min(ci, cj) - 1;
  if (last < Math.max(pi, pj)) return false; // never in a batch together
  return (p.s[i] as number) + last - pi + 1 + (p.s[j] as number) + last - pj + 1 > p.memory;
}

/** The LP's columns: column c is request job[c] starting at start[c]; byJob[i] lists request i's columns. */
export interface Columns {
  readonly job: ArrayLike<number>;
  readonly start: ArrayLike<number>;
  readonly byJob: readonly (readonly number[])[];
}

export interface CliqueSeparation {
  /** Each cut: the columns of a clique (Σ x ≤ 1). */
  readonly cuts: Int32Array[];
  /** Largest Σ x over the cuts found (> 1 when any). */
  readonly maxViolation: number;
}

/**
 * Finds cliques that the LP point x violates: from each fractional start (largest first),
 * grows a clique greedily over the other fractional starts (largest first), and when its
 * sum exceeds 1, lifts it with every other start that conflicts with all its members
 * (nearest in time first) so the cut also binds the starts the LP would move to next.
 */
export function separateCliques(
  p: Prepared,
  cols: Columns,
  x: ArrayLike<number>,
  opts: { maxCuts?: number; seen?: Set<string> } = {},
): CliqueSeparation {
  const maxCuts = opts.maxCuts ?? 200;
  const seen = opts.seen ?? new Set<string>();
  const eps = 1e-6;
  const frac: number[] = [];
  for (let c = 0; c < cols.job.length; c++) if ((x[c] as number) > eps) frac.push(c);
  frac.sort((u, v) => (x[v] as number) - (x[u] as number) || u - v);

  const cuts: Int32Array[] = [];
  let maxViolation = 0;
  const inClique = new Uint8Array(cols.job.length);
  // Does column d conflict with every member of the clique that belongs to another request?
  const fitsClique = (clique: number[], d: number): boolean => {
    const j = cols.job[d] as number;
    const q = cols.start[d] as number;
    for (const e of clique) {
      const i = cols.job[e] as number;
      if (i !== j && !startsConflict(p, i, cols.start[e] as number, j, q)) return false;
    }
    return true;
  };

  for (const seed of frac) {
    if (cuts.length >= maxCuts) break;
    const clique = [seed];
    let sum = x[seed] as number;
    for (const d of frac) {
      if (d === seed) continue;
      if (fitsClique(clique, d)) {
        clique.push(d);
        sum += x[d] as number;
      }
    }
    if (sum <= 1 + 1e-5) continue;
    // Lift: add every start (request by request, earliest first) that conflicts with all
    // members, so the cut also binds the starts the LP would move to next.
    for (const e of clique) inClique[e] = 1;
    let lo = Infinity;
    let hi = -Infinity;
    for (const e of clique) {
      lo = Math.min(lo, cols.start[e] as number);
      hi = Math.max(hi, (cols.start[e] as number) + (p.o[cols.job[e] as number] as number));
    }
    for (let k = 0; k < p.n; k++) {
      for (const d of cols.byJob[k] as readonly number[]) {
        const q = cols.start[d] as number;
        if (q + (p.o[k] as number) <= lo || q >= hi) continue; // cannot overlap every member
        if (inClique[d] === 1) continue;
        if (fitsClique(clique, d)) {
          clique.push(d);
          inClique[d] = 1;
        }
      }
    }
    for (const e of clique) inClique[e] = 0;
    clique.sort((u, v) => u - v);
    const key = clique.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    cuts.push(Int32Array.from(clique));
    maxViolation = Math.max(maxViolation, sum);
  }
  return { cuts, maxViolation };
}
