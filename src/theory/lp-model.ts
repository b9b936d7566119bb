/**
 * Pieces of the time-indexed model (model.md §4) shared by the full IP (lp.ts) and the
 * column-generation LP (lp-priced.ts): the columns of start decisions and the row bounds.
 * Rows 0..n−1: request i starts once (Σ_p x_{i,p} = 1); row n + r: tokens held in round r ≤ M.
 */
import type { Prepared } from './problem.ts';

export interface CscBlock {
  readonly cost: Float64Array;
  readonly starts: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float64Array;
}

/** Columns "request job[c] starts at round start[c]": cost t + o − a (its latency), 1 in its assignment row, s + q + 1 in memory row n + t + q. */
export function startColumns(p: Prepared, job: ArrayLike<number>, start: ArrayLike<number>): CscBlock {
  const count = job.length;
  let nnz = 0;
  for (let c = 0; c < count; c++) nnz += 1 + (p.o[job[c] as number] as number);
  const cost = new Float64Array(count);
  const starts = new Int32Array(count + 1);
  const indices = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let k = 0;
  for (let c = 0; c < count; c++) {
    const i = job[c] as number;
    const t = start[c] as number;
    cost[c] = t + (p.o[i] as number) - (p.a[i] as number);
    starts[c] = k;
    indices[k] = i;
    values[k++] = 1;
    for (let q = 0; q < (p.o[i] as number); q++) {
      indices[k] = p.n + t + q;
      values[k++] = (p.s[i] as number) + q + 1;
    }
  }
  starts[count] = k;
  return { cost, starts, indices, values };
}

/** Bounds of the assignment rows (= 1) and of `nRows − n` memory rows (≤ M). */
export function rowBounds(p: Prepared, nRows: number, infinity: number): { lower: Float64Array; upper: Float64Array } {
  const lower = new Float64Array(nRows);
  const upper = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) {
    lower[r] = r < p.n ? 1 : -infinity;
    upper[r] = r < p.n ? 1 : p.memory;
  }
  return { lower, upper };
}
