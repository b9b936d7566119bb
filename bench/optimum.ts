/**
 * Benchmark of the exact hindsight optimum (src/theory/optimum.ts) on the paper's
 * synthetic instances (model.md §5): seeds 1..K for each arrival model, rounds mode,
 * a time limit per instance. Writes bench/results/optimum.json.
 *
 *   npx tsx bench/optimum.ts [--k 5] [--time-limit 60] [--arrivals zero,poisson]
 *                            [--requests N] [--ablation] [--mip] [--out FILE]
 *
 * The time limit is used as in `kvsched optimum`: local search, a first search, the LP
 * bound with clique cuts when that has not proved its schedule optimal, then the search
 * resumes with the time left.
 *
 * --mip also gives each instance, after our solver, the generic time-indexed IP of
 * model.md §4 in HiGHS for the same time limit (start windows from our best schedule, which
 * only helps HiGHS), so the two are compared in one run (default out:
 * bench/results/optimum-mip.json).
 *
 * --requests N replaces the drawn n (smaller instances); --ablation instead runs the
 * solver with its prunings added one at a time on a fixed set of small instances
 * (n = 10, seeds 1..K, both arrival models) and reports the median time of each step
 * (--from S skips the steps before S).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { solveTimeIndexed } from '../src/theory/lp.ts';
import { solveOptimum, type OptimumOptions } from '../src/theory/optimum.ts';
import { paperSynthetic, type PaperArrivals } from '../src/workload/index.ts';

const { values: a } = parseArgs({
  options: {
    k: { type: 'string' },
    'time-limit': { type: 'string' },
    arrivals: { type: 'string' },
    requests: { type: 'string' },
    ablation: { type: 'boolean' },
    from: { type: 'string' },
    mip: { type: 'boolean' },
    out: { type: 'string' },
  },
  strict: true,
});

const K = Number(a.k ?? (a.ablation ? 10 : 5));
const limit = Number(a['time-limit'] ?? (a.ablation ? 20 : 60));
const arrivalsList = (a.arrivals ?? 'zero,poisson').split(',') as PaperArrivals[];
const requests = a.requests === undefined ? (a.ablation ? 10 : undefined) : Number(a.requests);
const out =
  a.out ??
  path.join('bench', 'results', a.ablation ? 'optimum-ablation.json' : a.mip ? 'optimum-mip.json' : 'optimum.json');

const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
  date: new Date().toISOString(),
};

interface Row {
  arrivals: PaperArrivals;
  seed: number;
  n: number;
  memory: number;
  status: string;
  objective: number;
  lowerBound: number;
  rootBound: number;
  incumbent: number;
  incumbentPolicy: string;
  mcsf: number | null;
  /** Best total latency of the local search over start orders (null: off). */
  localSearch: number | null;
  gap: number;
  /** Gap with the search's own bound only (before the LP bound). */
  searchGap: number;
  boundFrom: string;
  lpBound: number | null;
  seconds: number;
  nodes: number;
  /** --mip: the time-indexed IP in HiGHS (null fields: HiGHS found no schedule or no bound). */
  mip?: {
    status: string;
    objective: number | null;
    dualBound: number | null;
    gap: number | null;
    seconds: number;
    binaries: number;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function runSet(opts: OptimumOptions, label: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const arrivals of arrivalsList) {
    for (let seed = 1; seed <= K; seed++) {
      const wl = paperSynthetic({ seed, arrivals, mode: 'rounds', ...(requests !== undefined ? { requests } : {}) });
      const r = await solveOptimum(wl, { timeLimitSec: limit, ...opts });
      const lb = Math.ceil(r.lowerBound - 1e-9);
      const row: Row = {
        arrivals,
        seed,
        n: wl.requests.length,
        memory: wl.memory,
        status: r.status,
        objective: r.objective,
        lowerBound: lb,
        rootBound: Math.ceil(r.stats.rootBound - 1e-9),
        incumbent: r.stats.incumbent,
        incumbentPolicy: r.stats.incumbentPolicy,
        mcsf: r.stats.policies.find((q) => q.policy === 'mcsf')?.total ?? null,
        localSearch: r.stats.localSearch?.value ?? null,
        gap: (r.objective - lb) / r.objective,
        searchGap: (r.objective - Math.min(r.objective, Math.ceil(r.stats.rootBound - 1e-9))) / r.objective,
        boundFrom: r.stats.boundFrom,
        lpBound: r.stats.lpBound === null ? null : Math.round(r.stats.lpBound * 10) / 10,
        seconds: Math.round(r.seconds * 1000) / 1000,
        nodes: r.stats.nodes,
      };
      if (a.mip) {
        // Windows from our best schedule: every schedule at least as good stays inside them.
        const m = await solveTimeIndexed(wl, { integer: true, upperBound: r.objective, timeLimitSec: limit });
        const obj = m.value === null ? null : Math.round(m.value);
        const dual = m.dualBound === null ? null : Math.ceil(m.dualBound - 1e-6);
        row.mip = {
          status: m.status,
          objective: obj,
          dualBound: dual,
          seconds: Math.round(m.seconds * 1000) / 1000,
          binaries: m.columns,
          gap: obj === null || dual === null ? null : (obj - Math.min(obj, dual)) / obj,
        };
        process.stderr.write(
          `  HiGHS time-indexed IP: ${m.status}, best ${obj}, bound ${dual}, ${m.seconds.toFixed(1)} s, ${m.columns} binaries\n`,
        );
      }
      rows.push(row);
      process.stderr.write(
        `${label}${arrivals} seed ${seed}: n ${row.n} M ${row.memory} ${row.status} ${row.objective} (bound ${lb} from ${row.boundFrom}, gap ${(100 * row.gap).toFixed(2)} %, search-only gap ${(100 * row.searchGap).toFixed(2)} %, mcsf ${row.mcsf}, local search ${row.localSearch}) ${row.seconds.toFixed(2)} s, ${row.nodes} nodes\n`,
      );
    }
  }
  return rows;
}

function summarise(rows: Row[]): Record<string, unknown> {
  const by = (xs: Row[]) => ({
    instances: xs.length,
    medianSeconds: median(xs.map((r) => r.seconds)),
    optimalShare: xs.filter((r) => r.status === 'optimal').length / Math.max(1, xs.length),
    medianGap: median(xs.map((r) => r.gap)),
    medianSearchGap: median(xs.map((r) => r.searchGap)),
    meanGap: xs.reduce((z, r) => z + r.gap, 0) / Math.max(1, xs.length),
    improvedOverIncumbent: xs.filter((r) => r.objective < r.incumbent).length,
    improvedByLocalSearch: xs.filter((r) => r.localSearch !== null && r.localSearch < r.incumbent).length,
    improvedBySearch: xs.filter((r) => r.objective < (r.localSearch ?? r.incumbent)).length,
    /** MC-SF's total over the best schedule found (an upper bound on what MC-SF loses to OPT is not known; this is a lower bound on it). */
    medianMcsfOverBest: median(xs.filter((r) => r.mcsf !== null).map((r) => (r.mcsf as number) / r.objective)),
    ...(a.mip
      ? {
          mipOptimalShare: xs.filter((r) => r.mip?.status === 'optimal').length / Math.max(1, xs.length),
          mipMedianSeconds: median(xs.map((r) => r.mip?.seconds ?? NaN)),
          mipWithSchedule: xs.filter((r) => r.mip?.objective !== null && r.mip?.objective !== undefined).length,
          /** HiGHS' proven bound over ours (< 1: weaker). */
          mipMedianBoundOverOurs: median(
            xs.filter((r) => r.mip?.dualBound != null).map((r) => (r.mip?.dualBound as number) / r.lowerBound),
          ),
        }
      : {}),
  });
  const res: Record<string, unknown> = { all: by(rows) };
  for (const arr of arrivalsList) res[arr] = by(rows.filter((r) => r.arrivals === arr));
  return res;
}

if (a.ablation) {
  const steps: { name: string; opts: OptimumOptions }[] = [
    {
      name: '1 release bound only',
      opts: {
        bound: { area: false, betas: [], pair: false },
        obligations: false,
        memo: false,
        symmetry: false,
        localSearch: false,
      },
    },
    {
      name: '2 + area bound',
      opts: {
        bound: { area: true, betas: [], pair: false },
        obligations: false,
        memo: false,
        symmetry: false,
        localSearch: false,
      },
    },
    {
      name: '3 + pair-machine bound',
      opts: {
        bound: { area: true, betas: [], pair: true },
        obligations: false,
        memo: false,
        symmetry: false,
        localSearch: false,
      },
    },
    {
      name: '4 + active-schedule obligations',
      opts: {
        bound: { area: true, betas: [], pair: true },
        obligations: true,
        memo: false,
        symmetry: false,
        localSearch: false,
      },
    },
    {
      name: '5 + memo',
      opts: {
        bound: { area: true, betas: [], pair: true },
        obligations: true,
        memo: true,
        symmetry: false,
        localSearch: false,
      },
    },
    {
      name: '6 + symmetry',
      opts: {
        bound: { area: true, betas: [], pair: true },
        obligations: true,
        memo: true,
        symmetry: true,
        localSearch: false,
      },
    },
    {
      name: '7 + idle tokens in the area bound (off by default)',
      opts: {
        bound: { area: true, betas: [], pair: true, waste: true },
        obligations: true,
        memo: true,
        symmetry: true,
        localSearch: false,
      },
    },
    {
      name: '8 6 + coupled area/pair-machine bound',
      opts: {
        bound: { area: true, betas: [], pair: true, coupled: true },
        obligations: true,
        memo: true,
        symmetry: true,
        localSearch: false,
      },
    },
    {
      name: '9 6 + local-search incumbent',
      opts: { bound: { area: true, betas: [], pair: true }, obligations: true, memo: true, symmetry: true },
    },
  ];
  const results: Record<string, unknown>[] = [];
  const from = Number(a.from ?? 1);
  for (const s of steps.filter((x) => Number(x.name.split(' ')[0]) >= from)) {
    const rows = await runSet({ ...s.opts, lpShare: 0 }, `[${s.name}] `);
    const summary = summarise(rows);
    results.push({ step: s.name, summary, rows });
    process.stderr.write(`${s.name}: ${JSON.stringify(summary.all)}\n`);
  }
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ machine, k: K, timeLimitSec: limit, requests, steps: results }, null, 1) + '\n');
  process.stdout.write(
    results
      .map((r) => {
        const all = (r.summary as Record<string, { medianSeconds: number; optimalShare: number }>).all!;
        return `${String(r.step).padEnd(46)} median ${all.medianSeconds.toFixed(3)} s, optimal ${(100 * all.optimalShare).toFixed(0)} %`;
      })
      .join('\n') + `\nwrote ${out}\n`,
  );
} else {
  const rows = await runSet({}, '');
  const summary = summarise(rows);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      { machine, k: K, timeLimitSec: limit, requests: requests ?? 'drawn (U{40..60})', summary, rows },
      null,
      1,
    ) + '\n',
  );
  process.stdout.write(JSON.stringify(summary, null, 1) + `\nwrote ${out}\n`);
}
