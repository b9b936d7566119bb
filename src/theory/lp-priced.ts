/**
 * The time-indexed LP relaxation (lp.ts) solved by column generation, with optional
 * conflict-clique cuts (cliques.ts).
 *
 * Why: the start windows a_i ≤ p ≤ L_i that a loose upper bound allows span thousands of
 * rounds on the paper's larger synthetic instances (200k+ columns, 5M nonzeros); almost
 * none of those starts is ever used by the LP. So the LP starts from a few starts around
 * the best policy's schedule and adds the starts with negative reduced cost.
 *
 * Bound at every iteration (so a time limit still leaves a valid bound): for duals y ≤ 0
 * of the memory and cut rows (clamped), the Lagrangian function
 *   L(y) = Σ_i min_{p ∈ window_i} [cost_{i,p} − Σ_rows y·a_{·,(i,p)}] + Σ_rows y·rhs
 * is at most the LP optimum over every window column (weak duality, with the assignment
 * rows Σ_p x_{i,p} = 1 kept in the inner minimum), hence at most OPT. When no column
 * prices out, L(y) equals the LP optimum.
 */
import { getHighs } from './highs.ts';
import { separateCliques } from './cliques.ts';
import { rowBounds, startColumns, type CscBlock } from './lp-model.ts';
import type { Prepared } from './problem.ts';

/** Columns added per request and pricing round (most negative first); 8 took twice the solves of 100. */
const COLS_PER_PRICE = 100;

export interface PricedLpOptions {
  /** Start windows: request i may start in [a_i, L_i]. */
  readonly latest: ArrayLike<number>;
  /** An upper bound U on the optimum (fixes the cost of the artificial columns). */
  readonly upper: number;
  /** A schedule (starts by instance index) to seed the columns; clamped into the windows. */
  readonly hint?: ArrayLike<number>;
  readonly cuts?: boolean;
  readonly maxCutRounds?: number;
  readonly maxCutsPerRound?: number;
  readonly timeLimitSec?: number;
  readonly onRound?: (r: { round: number; value: number; cuts: number; columns: number; seconds: number }) => void;
}

export interface PricedLpResult {
  /** Best Lagrangian bound found (≤ LP optimum ≤ OPT); null when HiGHS failed on the first solve. */
  readonly bound: number | null;
  /** True when the last LP was priced out and (with cuts) no violated clique remained. */
  readonly converged: boolean;
  readonly columns: number;
  readonly universe: number;
  readonly rows: number;
  readonly cuts: number;
  readonly rounds: number;
}

export async function solvePricedLp(p: Prepared, o: PricedLpOptions): Promise<PricedLpResult> {
  const t0 = performance.now();
  const deadline = o.timeLimitSec === undefined ? Infinity : t0 + o.timeLimitSec * 1000;
  const n = p.n;
  const M = p.memory;
  // Universe of columns: request i, start a_i + k for k < width_i.
  const base = new Int32Array(n + 1);
  let horizon = 0;
  for (let i = 0; i < n; i++) {
    const w = Math.max(0, (o.latest[i] as number) - (p.a[i] as number) + 1);
    base[i + 1] = (base[i] as number) + w;
    horizon = Math.max(horizon, (p.a[i] as number) + w - 1 + (p.o[i] as number));
  }
  const universe = base[n] as number;
  const modelCol = new Int32Array(universe).fill(-1); // universe id → model column
  const colU: number[] = []; // model column → universe id (−1: artificial)
  const colJob: number[] = [];
  const colStart: number[] = [];
  const byJob: number[][] = Array.from({ length: n }, () => []);
  const cutRows: Int32Array[] = []; // model columns of each cut
  const highs = await getHighs();
  const nRows = n + horizon;

  const costOf = (i: number, t: number) => t + (p.o[i] as number) - (p.a[i] as number);
  const block = (count: number, c: CscBlock) => ({
    cost: c.cost,
    lower: new Float64Array(count),
    upper: new Float64Array(count).fill(1),
    matrix: {
      format: 'csc' as const,
      numRows: nRows + cutRows.length,
      numCols: count,
      starts: c.starts,
      indices: c.indices,
      values: c.values,
    },
  });
  /** The columns of the given universe ids, recorded in the bookkeeping, as a block for HiGHS. */
  const columnsOf = (ids: number[]) => {
    const job = new Int32Array(ids.length);
    const start = new Int32Array(ids.length);
    ids.forEach((u, c) => {
      const i = jobOf(u);
      const t = (p.a[i] as number) + u - (base[i] as number);
      job[c] = i;
      start[c] = t;
      modelCol[u] = colU.length;
      byJob[i]?.push(colU.length);
      colU.push(u);
      colJob.push(i);
      colStart.push(t);
    });
    return block(ids.length, startColumns(p, job, start));
  };
  /** One artificial column per request: in its assignment row only, at cost U + 1. Any
   *  column only relaxes a minimisation; this one keeps the first LPs feasible. */
  const artificialColumns = () => {
    const cost = new Float64Array(n).fill(o.upper + 1);
    const starts = Int32Array.from({ length: n + 1 }, (_, c) => c);
    const indices = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < n; i++) {
      colU.push(-1);
      colJob.push(i);
      colStart.push(-1);
    }
    return block(n, { cost, starts, indices, values: new Float64Array(n).fill(1) });
  };
  const jobOf = (u: number): number => {
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((base[mid] as number) <= u) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  // Seed columns: the hint's start ± 2 and the earliest starts, per request.
  const seed: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = p.a[i] as number;
    const w = (base[i + 1] as number) - (base[i] as number);
    const want = new Set<number>();
    for (let k = 0; k < Math.min(w, 3); k++) want.add(k);
    if (o.hint) {
      const h = (o.hint[i] as number) - a;
      for (let k = h - 2; k <= h + 2; k++) if (k >= 0 && k < w) want.add(k);
    }
    for (const k of [...want].sort((x, y) => x - y)) seed.push((base[i] as number) + k);
  }
  const first = columnsOf(seed);
  const rows = rowBounds(p, nRows, highs.infinity);
  const model = highs.createModel({
    numCols: first.cost.length,
    numRows: nRows,
    colCost: first.cost,
    colLower: first.lower,
    colUpper: first.upper,
    rowLower: rows.lower,
    rowUpper: rows.upper,
    matrix: first.matrix,
  });
  let bestBound: number | null = null;
  let converged = false;
  let rounds = 0;
  let cutRounds = 0;
  const seenCuts = new Set<string>();
  const S0 = new Float64Array(horizon + 1);
  const S1 = new Float64Array(horizon + 1);
  const cutAdj = new Float64Array(universe);
  try {
    model.addCols(artificialColumns());
    model.options.set({ output_flag: false });
    const C = highs.constants.modelStatus;
    for (;;) {
      const left = (deadline - performance.now()) / 1000;
      if (left <= 0.05) break;
      if (Number.isFinite(left)) {
        model.zeroAllClocks(); // HiGHS' time_limit is cumulative over runs of one model
        model.options.set({ time_limit: left });
      }
      if (model.run().modelStatus !== C.optimal) break;
      rounds++;
      const sol = model.getSolution();
      const y = sol.rowDual;
      // Memory duals (clamped to ≤ 0) as prefix sums over rounds.
      let sumY = 0;
      for (let r = 0; r < horizon; r++) {
        const v = Math.min(0, y[n + r] as number);
        S0[r + 1] = (S0[r] as number) + v;
        S1[r + 1] = (S1[r] as number) + r * v;
        sumY += M * v;
      }
      cutAdj.fill(0);
      cutRows.forEach((cols, k) => {
        const v = Math.min(0, y[nRows + k] as number);
        if (v === 0) return;
        sumY += v;
        for (const c of cols) cutAdj[colU[c] as number] = (cutAdj[colU[c] as number] as number) - v;
      });
      // Lagrangian bound and pricing in one pass over the universe.
      let L = sumY;
      const add: number[] = [];
      for (let i = 0; i < n; i++) {
        const a = p.a[i] as number;
        const s = p.s[i] as number;
        const oi = p.o[i] as number;
        const pi = y[i] as number;
        let best = Infinity;
        const neg: { u: number; rc: number }[] = [];
        for (let u = base[i] as number; u < (base[i + 1] as number); u++) {
          const t = a + u - (base[i] as number);
          const mem =
            (s - t + 1) * ((S0[t + oi] as number) - (S0[t] as number)) + ((S1[t + oi] as number) - (S1[t] as number));
          const rcp = costOf(i, t) - mem + (cutAdj[u] as number); // reduced cost without the assignment dual
          if (rcp < best) best = rcp;
          if (modelCol[u] === -1 && rcp - pi < -1e-7) neg.push({ u, rc: rcp - pi });
        }
        L += best === Infinity ? o.upper + 1 : Math.min(best, o.upper + 1);
        neg.sort((x, z) => x.rc - z.rc);
        for (const q of neg.slice(0, COLS_PER_PRICE)) add.push(q.u);
      }
      if (bestBound === null || L > bestBound) bestBound = L;
      o.onRound?.({
        round: rounds,
        value: bestBound,
        cuts: cutRows.length,
        columns: colU.length,
        seconds: (performance.now() - t0) / 1000,
      });
      if (add.length > 0) {
        model.addCols(columnsOf(add));
        continue;
      }
      // Priced out: the LP over every window column is solved; now the cuts. (Cutting
      // before the pricing has finished was tried: the bound, which needs a priced-out
      // dual, then lagged far behind.)
      if (!o.cuts || cutRounds >= (o.maxCutRounds ?? 200)) {
        converged = true;
        break;
      }
      const x = Float64Array.from(sol.colValue);
      for (let c = 0; c < x.length; c++) if ((colU[c] as number) < 0) x[c] = 0; // artificial columns are in no clique
      const sep = separateCliques(p, { job: colJob, start: colStart, byJob }, x, {
        seen: seenCuts,
        ...(o.maxCutsPerRound !== undefined ? { maxCuts: o.maxCutsPerRound } : {}),
      });
      if (sep.cuts.length === 0) {
        converged = true;
        break;
      }
      cutRounds++;
      let nnz = 0;
      for (const c of sep.cuts) nnz += c.length;
      const rs = new Int32Array(sep.cuts.length + 1);
      const ri = new Int32Array(nnz);
      let q = 0;
      sep.cuts.forEach((c, k) => {
        rs[k] = q;
        ri.set(c, q);
        q += c.length;
        cutRows.push(c);
      });
      rs[sep.cuts.length] = q;
      model.addRows({
        lower: new Float64Array(sep.cuts.length).fill(-highs.infinity),
        upper: new Float64Array(sep.cuts.length).fill(1),
        matrix: {
          format: 'csr',
          numRows: sep.cuts.length,
          numCols: colU.length,
          starts: rs,
          indices: ri,
          values: new Float64Array(nnz).fill(1),
        },
      });
    }
  } finally {
    model.dispose();
  }
  return {
    bound: bestBound,
    converged,
    columns: colU.length,
    universe,
    rows: nRows + cutRows.length,
    cuts: cutRows.length,
    rounds,
  };
}
