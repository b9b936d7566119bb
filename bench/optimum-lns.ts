/**
 * Can the best schedule of `bench:optimum` be improved? A large-neighbourhood search from a
 * schedule of each paper instance (see --from): free K requests consecutive
 * in start order (a seeded random window), fix the rest, re-solve the freed ones exactly
 * with HiGHS (time-indexed IP against the residual memory, starts within ±20 rounds of the
 * window), keep the result when it is better; repeat until the time is up.
 * Writes bench/results/optimum-lns.json.
 *
 * --from local-search (default) starts from the local search over start orders
 * (local-search.ts) run on that schedule, --from policy from the policy schedule itself.
 *
 *   npx tsx bench/optimum-lns.ts [--seeds 1,2] [--arrivals zero,poisson] [--k 10] [--seconds 60]
 *                                [--from local-search|policy]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { paperSynthetic, type PaperArrivals } from '../src/workload/index.ts';
import { Rng } from '../src/workload/rng.ts';
import { checkSchedule, prepare, tokensPerRound, totalLatency, type Prepared } from '../src/theory/problem.ts';
import { bestPolicySchedule, policySchedules } from '../src/theory/incumbent.ts';
import { improveSchedule } from '../src/theory/local-search.ts';
import { getHighs } from '../src/theory/highs.ts';
import { rowBounds, startColumns } from '../src/theory/lp-model.ts';

const { values: a } = parseArgs({
  options: {
    seeds: { type: 'string' },
    arrivals: { type: 'string' },
    k: { type: 'string' },
    seconds: { type: 'string' },
    from: { type: 'string' },
    out: { type: 'string' },
  },
  strict: true,
});
const seeds = (a.seeds ?? '1,2').split(',').map(Number);
const arrivalsList = (a.arrivals ?? 'zero').split(',') as PaperArrivals[];
const K = Number(a.k ?? 10);
const seconds = Number(a.seconds ?? 60);
const from = a.from ?? 'local-search';
if (from !== 'policy' && from !== 'local-search') throw new Error(`--from must be policy or local-search, got ${from}`);
const SLACK = 20;

/** Best re-placement of `free` with every other start fixed (null: HiGHS found none in time). */
async function resolve(
  p: Prepared,
  starts: Int32Array,
  free: readonly number[],
  timeLimit: number,
): Promise<Int32Array | null> {
  const M = p.memory;
  const isFree = new Uint8Array(p.n);
  for (const i of free) isFree[i] = 1;
  const kept = Int32Array.from(starts);
  const bg = new Int32Array(tokensPerRound(p, kept).length + 4 * M + 2 * SLACK);
  for (let i = 0; i < p.n; i++) {
    if (isFree[i]) continue;
    for (let q = 0; q < (p.o[i] as number); q++)
      bg[(starts[i] as number) + q] = (bg[(starts[i] as number) + q] as number) + (p.s[i] as number) + q + 1;
  }
  let lo = Infinity;
  let hi = 0;
  for (const i of free) {
    lo = Math.min(lo, starts[i] as number);
    hi = Math.max(hi, starts[i] as number);
  }
  const job: number[] = [];
  const at: number[] = [];
  for (const i of free) {
    for (let t = Math.max(p.a[i] as number, lo - SLACK); t <= hi + SLACK; t++) {
      let fits = true;
      for (let q = 0; q < (p.o[i] as number) && fits; q++)
        if ((bg[t + q] as number) + (p.s[i] as number) + q + 1 > M) fits = false;
      if (fits) {
        job.push(i);
        at.push(t);
      }
    }
  }
  // the instance's own column builder (lp-model.ts): a request's assignment row is its index,
  // so the kept requests' rows are left free; memory rows get the residual capacity
  const cols = startColumns(p, job, at);
  const highs = await getHighs();
  const nRows = p.n + bg.length;
  const { lower: rowLower, upper: rowUpper } = rowBounds(p, nRows, highs.infinity);
  for (let i = 0; i < p.n; i++) if (!isFree[i]) [rowLower[i], rowUpper[i]] = [-highs.infinity, highs.infinity];
  for (let r = p.n; r < nRows; r++) rowUpper[r] = M - (bg[r - p.n] as number);
  const n = job.length;
  const model = highs.createModel({
    numCols: n,
    numRows: nRows,
    colCost: cols.cost,
    colLower: new Float64Array(n),
    colUpper: new Float64Array(n).fill(1),
    rowLower,
    rowUpper,
    matrix: {
      format: 'csc',
      numRows: nRows,
      numCols: n,
      starts: cols.starts,
      indices: cols.indices,
      values: cols.values,
    },
    integrality: new Int32Array(n).fill(1),
  });
  try {
    model.options.set({ output_flag: false, time_limit: timeLimit });
    model.run();
    if (Number(model.info.get('primal_solution_status')) !== 2) return null;
    const x = model.getSolution().colValue;
    for (let c = 0; c < n; c++) if ((x[c] as number) > 0.5) kept[job[c] as number] = at[c] as number;
    return kept;
  } finally {
    model.dispose();
  }
}

const rows: {
  arrivals: PaperArrivals;
  seed: number;
  n: number;
  memory: number;
  policy: number;
  start: number;
  best: number;
  improvement: number;
  iterations: number;
  seconds: number;
}[] = [];
for (const arrivals of arrivalsList) {
  for (const seed of seeds) {
    const w = paperSynthetic({ seed, arrivals, mode: 'rounds' });
    const inst = { memory: w.memory, requests: w.requests };
    const p = prepare(inst);
    const best = bestPolicySchedule(policySchedules(inst, p));
    if (best === undefined) throw new Error(`seed ${seed}: no policy schedule`);
    let cur = best.starts;
    let value = best.total;
    const policyValue = value;
    if (from === 'local-search') {
      const ls = improveSchedule(p, cur, value);
      [cur, value] = [ls.starts, ls.value];
      console.log(`  ${arrivals} seed ${seed}: local search ${policyValue} → ${value} in ${ls.seconds.toFixed(1)} s`);
    }
    const start = value;
    const rng = new Rng(seed);
    const t0 = performance.now();
    let it = 0;
    while ((performance.now() - t0) / 1000 < seconds) {
      it++;
      const s = cur;
      const order = Array.from({ length: p.n }, (_, i) => i).sort(
        (x, y) => (s[x] as number) - (s[y] as number) || x - y,
      );
      const from = rng.int(0, Math.max(0, p.n - K));
      const next = await resolve(p, cur, order.slice(from, from + K), 2);
      if (next === null) continue;
      const bad = checkSchedule(p, next);
      if (bad !== null) throw new Error(`internal error: the neighbourhood's schedule is infeasible: ${bad}`);
      const v = totalLatency(p, next);
      if (v < value) {
        [cur, value] = [next, v];
        console.log(`  ${arrivals} seed ${seed}: ${v} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    }
    const row = {
      arrivals,
      seed,
      n: p.n,
      memory: p.memory,
      policy: policyValue,
      start,
      best: value,
      improvement: (start - value) / start,
      iterations: it,
      seconds,
    };
    rows.push(row);
    console.log(
      `${arrivals} seed ${seed} (n ${p.n}, M ${p.memory}): ${start} → ${value} (${(100 * row.improvement).toFixed(2)} %), ${it} neighbourhoods`,
    );
  }
}
const out = a.out ?? path.join('bench', 'results', 'optimum-lns.json');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ k: K, seconds, from, date: new Date().toISOString(), rows }, null, 2) + '\n');
console.log(`wrote ${out}`);
process.exit(0);
