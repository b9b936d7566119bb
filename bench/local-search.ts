/**
 * How far the local search over start orders (src/theory/local-search.ts) is from
 * converged on the paper's synthetic instances: the same instances as bench/optimum.ts
 * (seeds 1..K per arrival model, n drawn), the search started from the best policy
 * schedule with several budgets (orders decoded = B × n) and move seeds.
 * Writes bench/results/local-search.json.
 *
 *   npx tsx bench/local-search.ts [--k 5] [--budgets 2000,20000] [--seeds 1,2,3]
 *                                 [--arrivals zero,poisson] [--out FILE]
 *
 * Budgets, not time limits: the values are the same on every machine; only the seconds
 * vary. What it answers: does a larger budget (the same seed) still improve, how far
 * apart do the seeds end (the local optima the search gets stuck in), and what do k
 * independent runs buy (`bestOfRuns`: the best of the first k seeds given; with
 * consecutive seeds from S that is what improveSchedule's `runs: k, seed: S` returns)
 * against one run of k times the budget?
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bestPolicySchedule, policySchedules } from '../src/theory/incumbent.ts';
import { improveSchedule } from '../src/theory/local-search.ts';
import { prepare } from '../src/theory/problem.ts';
import { paperSynthetic, type PaperArrivals } from '../src/workload/index.ts';

const { values: a } = parseArgs({
  options: {
    k: { type: 'string' },
    budgets: { type: 'string' },
    seeds: { type: 'string' },
    arrivals: { type: 'string' },
    out: { type: 'string' },
  },
  strict: true,
});

const list = (s: string, what: string): number[] =>
  s.split(',').map((x) => {
    const v = Number(x);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${what}: expected positive integers, got "${x}"`);
    return v;
  });
const K = list(a.k ?? '5', 'k')[0] as number;
const budgets = list(a.budgets ?? '2000,20000', 'budgets');
const seeds = list(a.seeds ?? '1,2,3', 'seeds');
const arrivalsList = (a.arrivals ?? 'zero,poisson').split(',') as PaperArrivals[];
const out = a.out ?? path.join('bench', 'results', 'local-search.json');

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

interface Run {
  budget: number;
  seed: number;
  value: number;
  seconds: number;
  ordersPerSecond: number;
}
interface Row {
  arrivals: PaperArrivals;
  seed: number;
  n: number;
  memory: number;
  policy: string;
  policyTotal: number;
  mcsf: number | null;
  runs: Run[];
  best: number;
}

const rows: Row[] = [];
for (const arrivals of arrivalsList) {
  for (let seed = 1; seed <= K; seed++) {
    const wl = paperSynthetic({ seed, arrivals, mode: 'rounds' });
    const p = prepare(wl);
    const schedules = policySchedules(wl, p);
    const mcsf = schedules.find((s) => s.policy === 'mcsf')?.total ?? null;
    const start = bestPolicySchedule(schedules);
    if (start === undefined) throw new Error(`${arrivals} seed ${seed}: no policy produced a schedule`);
    const runs: Run[] = [];
    for (const budget of budgets) {
      for (const ms of seeds) {
        const r = improveSchedule(p, start.starts, start.total, { iterations: budget * p.n, runs: 1, seed: ms });
        runs.push({
          budget,
          seed: ms,
          value: r.value,
          seconds: Math.round(r.seconds * 1000) / 1000,
          ordersPerSecond: Math.round(r.iterations / r.seconds),
        });
        process.stderr.write(
          `${arrivals} seed ${seed} (n ${p.n}, M ${p.memory}): ${start.policy} ${start.total}, budget ${budget}·n seed ${ms} → ${r.value} (${r.seconds.toFixed(1)} s)\n`,
        );
      }
    }
    rows.push({
      arrivals,
      seed,
      n: p.n,
      memory: p.memory,
      policy: start.policy,
      policyTotal: start.total,
      mcsf,
      runs,
      best: Math.min(...runs.map((r) => r.value)),
    });
  }
}

// Per budget: the median (over instances) of the mean value relative to the best of all runs,
// the spread between seeds, and the gain over the smallest budget with the same seed.
const b0 = budgets[0] as number;
const perBudget = budgets.map((budget) => {
  const rel: number[] = [];
  const spread: number[] = [];
  const gain: number[] = [];
  for (const row of rows) {
    const rs = row.runs.filter((r) => r.budget === budget);
    const vals = rs.map((r) => r.value);
    rel.push(vals.reduce((z, v) => z + v, 0) / vals.length / row.best - 1);
    spread.push((Math.max(...vals) - Math.min(...vals)) / Math.min(...vals));
    for (const r of rs) {
      const base = row.runs.find((q) => q.budget === b0 && q.seed === r.seed) as Run;
      gain.push(1 - r.value / base.value);
    }
  }
  return {
    budget,
    medianAboveBestOfAll: median(rel),
    medianSeedSpread: median(spread),
    maxSeedSpread: Math.max(...spread),
    medianGainOverFirstBudget: median(gain),
    maxGainOverFirstBudget: Math.max(...gain),
    medianSeconds: median(rows.flatMap((row) => row.runs.filter((r) => r.budget === budget).map((r) => r.seconds))),
  };
});
// Best of the first k seeds (= `runs: k` from seed 1) for k = 1, 2, 4, … up to the seeds given.
const bestOfRuns: {
  budget: number;
  runs: number;
  ordersPerN: number;
  medianAboveBestOfAll: number;
  meanAboveBestOfAll: number;
}[] = [];
for (const budget of budgets) {
  for (let k = 1; k <= seeds.length; k *= 2) {
    const first = seeds.slice(0, k);
    const rel = rows.map(
      (row) =>
        Math.min(...row.runs.filter((r) => r.budget === budget && first.includes(r.seed)).map((r) => r.value)) /
          row.best -
        1,
    );
    bestOfRuns.push({
      budget,
      runs: k,
      ordersPerN: budget * k,
      medianAboveBestOfAll: median(rel),
      meanAboveBestOfAll: rel.reduce((z, v) => z + v, 0) / rel.length,
    });
  }
}
const summary = {
  instances: rows.length,
  perBudget,
  bestOfRuns,
  medianMcsfOverBest: median(rows.filter((r) => r.mcsf !== null).map((r) => (r.mcsf as number) / r.best)),
  medianOrdersPerSecond: median(rows.flatMap((r) => r.runs.map((q) => q.ordersPerSecond))),
};
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  node: process.version,
  date: new Date().toISOString(),
};
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ machine, k: K, budgets, seeds, summary, rows }, null, 1) + '\n');
process.stdout.write(JSON.stringify(summary, null, 1) + `\nwrote ${out}\n`);
