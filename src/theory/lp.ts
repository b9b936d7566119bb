/**
 * The time-indexed integer program of model.md §4 and its LP relaxation, via HiGHS:
 * x_{i,p} = 1 when request i starts at round p (a_i ≤ p ≤ L_i);
 * minimise Σ (p + o_i − a_i) x_{i,p}; Σ_p x_{i,p} = 1; in every round r,
 * Σ_{i,p ≤ r < p+o_i} (s_i + r − p + 1) x_{i,p} ≤ M.
 *
 * Start windows. A schedule better than an upper bound U has, for every j,
 * c_j − a_j ≤ U − Σ_{i≠j} (c_i − a_i) ≤ U − Σ_{i≠j} o_i, so L_j = a_j + U − Σ_i o_i is
 * valid (the brief's window); it is tightened with the combinatorial bound of the others
 * (bounds.ts): L_j = a_j + U − o_j − LB(all but j). The LP value over these windows is a
 * lower bound on every schedule of value ≤ U, hence on the optimum.
 */
import { boundWork, waitingLowerBound } from './bounds.ts';
import { rowBounds, startColumns } from './lp-model.ts';
import { solvePricedLp } from './lp-priced.ts';
import { getHighs } from './highs.ts';
import { DEFAULT_BOUND_OPTIONS } from './defaults.ts';
import { bestPolicySchedule, policySchedules } from './incumbent.ts';
import { prepare, type OptimumInstance, type Prepared } from './problem.ts';

export interface TimeIndexedOptions {
  /** Upper bound U on the optimum (default: the best paper policy). */
  upperBound?: number;
  /** Solve the integer program instead of its LP relaxation. */
  integer?: boolean;
  timeLimitSec?: number;
  /** Use only L_j = a_j + U − Σ o (no combinatorial tightening). */
  plainWindows?: boolean;
  /**
   * LP only: add conflict-clique cuts (cliques.ts) in rounds, re-solving from the previous
   * basis, until none is violated, `maxRounds` is reached or the time limit is near.
   * Every round's Lagrangian bound is valid (lp-priced.ts); the best is returned.
   */
  cuts?: boolean | { maxRounds?: number; maxCutsPerRound?: number };
  /** Called after each LP solve (column generation and cut rounds). */
  onRound?: (r: { round: number; value: number; cuts: number; columns: number; seconds: number }) => void;
  /** LP only: a schedule (starts by instance index) to seed the columns (default: the best policy's). */
  hint?: ArrayLike<number>;
}

export interface TimeIndexedResult {
  /** IP: HiGHS status. LP: "optimal" when the LP (with its cuts) is solved; "time-limit": value is still a valid lower bound. */
  status: 'optimal' | 'time-limit' | 'error';
  /** IP: objective of the best schedule. LP: the best lower bound met (≤ LP optimum ≤ OPT). */
  value: number | null;
  /** For an IP: HiGHS' dual bound. */
  dualBound: number | null;
  /** Start by instance index (IP only, when a solution exists). */
  starts: number[] | null;
  columns: number;
  rows: number;
  /** Clique cuts added (0 without `cuts`). */
  cuts: number;
  /** LP solves (pricing and cut rounds; 1 for the IP). */
  rounds: number;
  seconds: number;
}

/**
 * Most window starts the LP bound takes on (beyond: status 'error', no bound). The LP itself only holds the starts that
 * column generation brings in, but pricing scans every window start each round; on an
 * overloaded instance of hundreds of requests the windows span many thousand rounds.
 */
export const LP_MAX_STARTS = 10_000_000;

/** Latest start of each request (by instance index) for schedules of value ≤ U. */
export function startWindows(p: Prepared, upper: number, plain = false, deadline = Infinity): Int32Array {
  const L = new Int32Array(p.n);
  const work = boundWork(p.n);
  const all = Array.from({ length: p.n }, (_, i) => i);
  for (let j = 0; j < p.n; j++) {
    let others = p.sumO - (p.o[j] as number);
    // Each tightening is a whole lower bound over n − 1 requests (n = 10,000: hours in all):
    // past the deadline the rest keep the plain window, which is valid, only looser.
    if (!plain && performance.now() < deadline) {
      const rest = all.filter((i) => i !== j);
      const lb = waitingLowerBound(
        p,
        {
          t: 0,
          usage: new Int32Array(0),
          waiting: rest,
          nWaiting: rest.length,
          running: [],
          runningStart: [],
          nRunning: 0,
          started: [],
          startedAt: [],
          nStarted: 0,
          outside: 1,
        },
        work,
        DEFAULT_BOUND_OPTIONS,
      );
      others = Math.max(others, Math.ceil(lb - 1e-9));
    }
    L[j] = (p.a[j] as number) + upper - others - (p.o[j] as number);
  }
  return L;
}

export async function solveTimeIndexed(
  inst: OptimumInstance,
  opts: TimeIndexedOptions = {},
): Promise<TimeIndexedResult> {
  const t0 = performance.now();
  const p = prepare(inst);
  let U = opts.upperBound;
  let hint = opts.hint;
  if (U === undefined || (hint === undefined && !opts.integer)) {
    // The best policy schedule: the upper bound when none is given, and the LP's seed columns.
    const best = bestPolicySchedule(policySchedules(inst, p));
    U ??= best?.total;
    hint ??= best?.starts;
    if (U === undefined) throw new Error('no policy produced a schedule: give upperBound');
  }
  const L = startWindows(
    p,
    U,
    opts.plainWindows ?? false,
    opts.timeLimitSec === undefined ? Infinity : t0 + opts.timeLimitSec * 1000,
  );
  if (!opts.integer) {
    let starts = 0;
    for (let i = 0; i < p.n; i++) starts += Math.max(0, (L[i] as number) - (p.a[i] as number) + 1);
    if (starts > LP_MAX_STARTS) {
      return {
        status: 'error',
        value: null,
        dualBound: null,
        starts: null,
        columns: 0,
        rows: 0,
        cuts: 0,
        rounds: 0,
        seconds: (performance.now() - t0) / 1000,
      };
    }
    const cfg = typeof opts.cuts === 'object' ? opts.cuts : {};
    const r = await solvePricedLp(p, {
      latest: L,
      upper: U,
      ...(hint ? { hint } : {}),
      cuts: !!opts.cuts,
      ...(cfg.maxRounds !== undefined ? { maxCutRounds: cfg.maxRounds } : {}),
      ...(cfg.maxCutsPerRound !== undefined ? { maxCutsPerRound: cfg.maxCutsPerRound } : {}),
      ...(opts.timeLimitSec !== undefined ? { timeLimitSec: opts.timeLimitSec } : {}),
      ...(opts.onRound ? { onRound: opts.onRound } : {}),
    });
    return {
      // 'optimal': the LP (with every violated clique added) is solved; otherwise the value is
      // still a valid lower bound (the best Lagrangian bound met), just not the LP optimum.
      status: r.bound === null ? 'error' : r.converged ? 'optimal' : 'time-limit',
      value: r.bound,
      dualBound: null,
      starts: null,
      columns: r.columns,
      rows: r.rows,
      cuts: r.cuts,
      rounds: r.rounds,
      seconds: (performance.now() - t0) / 1000,
    };
  }
  // columns
  const colJob: number[] = [];
  const colStart: number[] = [];
  let horizon = 0;
  for (let i = 0; i < p.n; i++) {
    for (let t = p.a[i] as number; t <= (L[i] as number); t++) {
      colJob.push(i);
      colStart.push(t);
    }
    horizon = Math.max(horizon, (L[i] as number) + (p.o[i] as number));
  }
  const nCols = colJob.length;
  const nRows = p.n + horizon;
  const cols = startColumns(p, colJob, colStart);
  const highs = await getHighs();
  const rows = rowBounds(p, nRows, highs.infinity);
  const model = highs.createModel({
    numCols: nCols,
    numRows: nRows,
    colCost: cols.cost,
    colLower: new Float64Array(nCols),
    colUpper: new Float64Array(nCols).fill(1),
    rowLower: rows.lower,
    rowUpper: rows.upper,
    matrix: {
      format: 'csc',
      numRows: nRows,
      numCols: nCols,
      starts: cols.starts,
      indices: cols.indices,
      values: cols.values,
    },
    ...(opts.integer ? { integrality: new Int32Array(nCols).fill(1) } : {}),
  });
  try {
    model.options.set({
      output_flag: false,
      ...(opts.timeLimitSec !== undefined ? { time_limit: opts.timeLimitSec } : {}),
    });
    const run = model.run();
    const st = run.modelStatus;
    const C = highs.constants.modelStatus;
    const optimal = st === C.optimal;
    let value: number | null = null;
    let dual: number | null = null;
    let sched: number[] | null = null;
    if (opts.integer) {
      const d = Number(model.info.get('mip_dual_bound'));
      dual = Number.isFinite(d) ? d : null;
      const ps = Number(model.info.get('primal_solution_status'));
      if (ps === 2) {
        value = model.getObjectiveValue();
        const x = model.getSolution().colValue;
        sched = new Array<number>(p.n).fill(-1);
        for (let c = 0; c < nCols; c++) if ((x[c] as number) > 0.5) sched[colJob[c] as number] = colStart[c] as number;
      }
    } else if (optimal) value = model.getObjectiveValue();
    return {
      status: optimal ? 'optimal' : st === C.timeLimit ? 'time-limit' : 'error',
      value,
      dualBound: dual,
      starts: sched,
      columns: nCols,
      rows: nRows,
      cuts: 0,
      rounds: 1,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    model.dispose();
  }
}

/**
 * The LP relaxation of the time-indexed IP (optionally with clique cuts): a lower bound on
 * the optimum, for instances too large to solve exactly. On a time limit the best bound met
 * so far is returned (still valid); null when HiGHS failed on the first solve.
 */
export async function lpLowerBound(
  inst: OptimumInstance,
  opts: Pick<TimeIndexedOptions, 'timeLimitSec' | 'upperBound' | 'plainWindows' | 'cuts'> = {},
): Promise<number | null> {
  const r = await solveTimeIndexed(inst, { ...opts, integer: false });
  return r.value;
}
