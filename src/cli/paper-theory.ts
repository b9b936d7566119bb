/**
 * `kvsched paper synthetic | adversary | regret`: the paper's policies against the
 * hindsight optimum (model.md §4–§6). The computations live in src/theory/experiments.ts;
 * this file parses options, shows progress on stderr (terminal only) and prints tables.
 *
 * Registered in paper.ts's PAPER_EXPERIMENTS. No value import from paper.ts (it imports
 * this module: a cycle would reach its experiments before they exist).
 */
import type { PaperArrivals } from '../workload/generators.ts';
import {
  adversaryRow,
  PAPER_SYNTHETIC_FIGURES,
  ratioRows,
  regretPoint,
  syntheticTrial,
  type AdversaryRow,
  type RatioRow,
  type RegretPoint,
  type SyntheticTrial,
} from '../theory/experiments.ts';
import { ADVERSARY_HEADROOM } from '../theory/adversary.ts';
import { count, fixed, table } from './format.ts';
import { UsageError } from './io.ts';
import { defineCommand, helpText, int, listOf, OPT, Opt, parseOptions, SEED_MAX, whole } from './options.ts';
import { writeJsonResult } from './out-file.ts';
import { progressLine } from './progress.ts';
import { checkArrivalSpan } from './ranges.ts';
import type { PaperExperiment } from './paper.ts';

const intList = (arg: string, help: string, min: number, max: number): Opt<number[], undefined> =>
  new Opt(arg, help, (t) => listOf(t, (x) => whole(x, min, max)), undefined);

const ratio = (x: number | null, bounded: boolean): string =>
  x === null ? '—' : `${bounded ? '≤' : ''}${x.toFixed(3)}`;

// ---------------------------------------------------------------------------------

const SYNTHETIC = defineCommand({
  name: 'paper synthetic',
  summary: "every policy vs the exact optimum on the paper's synthetic instances (ratio table)",
  usage: ['[--trials N] [--seed S] [--time-limit SEC] [--arrivals LIST] [--policy LIST] [--out FILE.json]'],
  description: `The paper's synthetic experiment (docs/model.md): M ~ U{30..50}, n ~ U{40..60},
s ~ U{1..5}, o ~ U{1..M−s}; all arrivals at round 0, and Poisson arrivals with
λ ~ U[0.5, 1.5] per round. Trial i uses seed S + i (the same instances for every policy).
OPT is the exact optimum (kvsched optimum: local search, then branch and bound); a trial
whose OPT hits the time limit uses the best proven lower bound instead (the branch and
bound's, or the LP relaxation's), so its ratio ALG/LB is an upper bound
(marked ≤ and counted in the "OPT bounded" column). Prints per arrival model and policy
ALG/OPT: mean, range (best – worst), trials proven optimal, trials "beaten" (a better
schedule was found: the policy is proven not optimal there), beside the paper's MC-SF
figures. A policy that cannot finish an instance (stuck or livelocked) is counted, not dropped.`,
  options: {
    trials: int('N', 'trials per arrival model, 1..1000000 (slow: minutes to hours)', 1, 1e6).withDefault(200),
    seed: OPT.seed.withHelp('seed of trial 0, 0..4294967295'),
    'time-limit': OPT.timeLimit
      .withHelp('per optimum, > 0 and ≤ 1000000 (an unproven one then gets as long again ' + 'for its LP lower bound)')
      .withDefault(20),
    arrivals: new Opt(
      'LIST',
      'arrival models, zero,poisson',
      (t) => listOf(t, (x) => OPT.arrivals.parse(x)),
      undefined,
    ).withDefault(['zero', 'poisson'], 'zero,poisson'),
    policy: OPT.policies,
    out: OPT.out.withHelp('write the tables and every trial as JSON'),
    quiet: OPT.quiet,
  },
});

const paperSyntheticExp: PaperExperiment = {
  name: 'synthetic',
  summary: SYNTHETIC.summary,
  spec: SYNTHETIC,
  async run(argv, io) {
    const { help, values: a } = parseOptions(SYNTHETIC, argv);
    if (help) return (io.out(helpText(SYNTHETIC)), 0);
    const { trials, seed, policy: policies } = a;
    if (seed + trials - 1 > SEED_MAX) throw new UsageError('--seed + --trials exceeds the 32-bit seed range');
    const timeLimitSec = a['time-limit'];
    const arrivalsList = [...new Set(a.arrivals)];
    const p = progressLine(io, a.quiet);
    const t0 = performance.now();
    const sections: {
      arrivals: PaperArrivals;
      rows: RatioRow[];
      trials: SyntheticTrial[];
      optimal: number;
      bounded: number;
      failed: number;
      optSeconds: number;
    }[] = [];
    for (const arrivals of arrivalsList) {
      const done: SyntheticTrial[] = [];
      for (let i = 0; i < trials; i++) {
        const label = `synthetic ${arrivals}: trial ${i + 1}/${trials}`;
        p.show(label);
        done.push(
          await syntheticTrial(arrivals, seed + i, policies, {
            timeLimitSec,
            onProgress: (t) => p.show(`${label}: ${t}`),
          }),
        );
      }
      sections.push({
        arrivals,
        trials: done,
        rows: ratioRows(done, policies),
        optimal: done.filter((t) => t.opt.status === 'optimal').length,
        bounded: done.filter((t) => t.opt.status === 'time-limit').length,
        failed: done.filter((t) => t.opt.status === 'failed').length,
        optSeconds: done.reduce((s, t) => s + t.opt.seconds, 0),
      });
    }
    p.clear();
    const wall = (performance.now() - t0) / 1000;
    for (const s of sections) {
      const fig = PAPER_SYNTHETIC_FIGURES[s.arrivals];
      io.out(
        `\nSynthetic, ${s.arrivals === 'zero' ? 'all arrivals at round 0' : 'Poisson arrivals, λ ~ U[0.5, 1.5]'}: ${trials} trials (seeds ${seed}..${seed + trials - 1}); OPT exact in ${s.optimal}, time-limited (lower bound used) in ${s.bounded}, exact solver failed in ${s.failed} (LP bound used where it finished); ${s.optSeconds.toFixed(1)} s solving\n`,
      );
      io.out(
        table(
          [
            'policy',
            'finished',
            'stuck',
            'livelock',
            'OPT bounded',
            'mean ALG/OPT',
            '(≥ mean)',
            'range (best – worst)',
            'optimal',
            'beaten',
            'paper (MC-SF): mean, range',
          ],
          s.rows.map((r) => {
            const b = r.bounded > 0;
            const paper =
              r.policy === 'mcsf'
                ? `${fig.mean.toFixed(3)}, ${fig.best.toFixed(3)} – ${fig.worst.toFixed(3)}${fig.optimal !== null ? `, ${fig.optimal}/${fig.trials} optimal` : ''}`
                : '';
            const low = b && r.meanLow !== null ? `≥${r.meanLow.toFixed(3)}` : '';
            const range = r.best === null || r.worst === null ? '—' : `${ratio(r.best, b)} – ${ratio(r.worst, false)}`;
            return [
              r.policy,
              String(r.finished),
              String(r.stuck),
              String(r.livelock),
              String(r.bounded),
              ratio(r.mean, b),
              low,
              range,
              `${r.optimal}/${r.finished}`,
              `${r.beaten}/${r.finished}`,
              paper,
            ];
          }),
        ),
      );
      const fails = s.trials.filter((t) => t.opt.status === 'failed');
      if (fails.length > 0)
        io.out(
          `exact solver failures: ${fails
            .map((t) => `seed ${t.seed}: ${t.opt.error}`)
            .slice(0, 5)
            .join('; ')}${fails.length > 5 ? ' …' : ''}\n`,
        );
    }
    io.out(
      `\nratio = ALG/OPT per trial (≤: some trials use ALG/lower bound, an upper bound; "≥ mean" uses the best schedule found instead, a lower bound); optimal = trials with ALG = OPT proven; beaten = trials where a better schedule was found (ALG proven not optimal); ${wall.toFixed(1)} s\n`,
    );
    if (a.out) {
      writeJsonResult(
        a.out,
        {
          experiment: 'paper synthetic',
          seed,
          trials,
          timeLimitSec,
          policies,
          seconds: wall,
          paper: PAPER_SYNTHETIC_FIGURES,
          sections: s2json(sections),
        },
        'paper-synthetic',
        p,
      );
    }
    return 0;
  },
};

function s2json(
  sections: {
    arrivals: PaperArrivals;
    rows: RatioRow[];
    trials: SyntheticTrial[];
    optimal: number;
    bounded: number;
    failed: number;
    optSeconds: number;
  }[],
): unknown {
  return sections.map((s) => ({
    arrivals: s.arrivals,
    optExact: s.optimal,
    optTimeLimited: s.bounded,
    optFailed: s.failed,
    optSeconds: s.optSeconds,
    rows: s.rows,
    trials: s.trials.map((t) => ({
      seed: t.seed,
      n: t.n,
      memory: t.memory,
      rate: t.rate,
      opt: t.opt,
      runs: t.runs.map((r) =>
        r.ok ? { policy: r.policy, total: r.total, evictions: r.evictions } : { policy: r.policy, failed: r.kind },
      ),
    })),
  }));
}

// ---------------------------------------------------------------------------------

const ADVERSARY = defineCommand({
  name: 'paper adversary',
  summary: 'the adaptive lower-bound adversary: ALG/OPT per policy grows with n',
  usage: ['[--n LIST] [--policy LIST] [--solve-up-to N] [--time-limit SEC] [--out FILE.json]'],
  description: `"Block, then flood": one long request (prompt P ≈ ${1 - ADVERSARY_HEADROOM}·M, output L = M − P − 32)
arrives at round 0. When the adversary sees the policy start it (round d), it releases
k = n − 1 short requests (prompt σ = M − P − 2, output 1) in round d + 1: none fits
beside the long request (P + 2 + σ + 1 = M + 1), so each waits about L rounds, while the
optimum runs them first (≈ 3 per round) and the long request after. M = 16·⌈max(4k², 2048)/16⌉.
vllm plays as vllm:M (a prefill of ~0.75·M tokens exceeds its default 4096-token budget).

OPT is exact for every n: for a fixed start of the long request, placing the identical
unit-length shorts greedily in the earliest rounds is optimal, and a scan over the long
request's start finds the optimum (src/theory/adversary.ts has the proof); its schedule
is memory-checked round by round. --solve-up-to N also runs the general exact solver on
instances of at most N requests as a cross-check.`,
  options: {
    n: intList('LIST', 'request counts, each 1..20000 (M grows like 4n²)', 1, 20_000).withDefault(
      [16, 64, 256, 1024],
      '16,64,256,1024',
    ),
    policy: OPT.policies,
    'solve-up-to': int(
      'N',
      'cross-check OPT with the exact solver up to N requests, 0..1000000 (0: off)',
      0,
      1e6,
    ).withDefault(0),
    'time-limit': OPT.timeLimit.withHelp('per cross-check, > 0 and ≤ 1000000').withDefault(20),
    out: OPT.out.withHelp('write the table as JSON'),
    quiet: OPT.quiet,
  },
});

const paperAdversaryExp: PaperExperiment = {
  name: 'adversary',
  summary: ADVERSARY.summary,
  spec: ADVERSARY,
  async run(argv, io) {
    const { help, values: a } = parseOptions(ADVERSARY, argv);
    if (help) return (io.out(helpText(ADVERSARY)), 0);
    const { n: ns, policy: policies } = a;
    const solveUpTo = a['solve-up-to'];
    const timeLimitSec = a['time-limit'];
    const p = progressLine(io, a.quiet);
    const t0 = performance.now();
    const rows: AdversaryRow[] = [];
    for (const n of ns) {
      for (const spec of policies) {
        p.show(`adversary n = ${n}: ${spec}`);
        rows.push(
          await adversaryRow(n, spec, {
            solveUpTo,
            timeLimitSec,
            onProgress: (t) => p.show(`adversary n = ${n}: ${spec}: ${t}`),
          }),
        );
      }
    }
    p.clear();
    const wall = (performance.now() - t0) / 1000;
    io.out(`\nAdaptive adversary (block, then flood): ALG and the exact OPT of the instance each policy was shown\n`);
    io.out(
      table(
        [
          'n',
          'M (tok)',
          'P / L / σ (tok)',
          'policy',
          'long start (round)',
          'ALG (rounds)',
          'OPT exact (rounds)',
          'ALG/OPT',
          ...(solveUpTo > 0 ? ['solver check'] : []),
        ],
        rows.map((r) => [
          count(r.n),
          count(r.params.memory),
          `${count(r.params.longPrompt)} / ${count(r.params.longOutput)} / ${count(r.params.shortPrompt)}`,
          r.policy,
          r.longStart === null ? 'never' : count(r.longStart),
          r.alg === null ? ((r.failure ?? 'failed').split(':')[0] ?? 'failed') : count(r.alg),
          count(r.opt),
          r.ratio === null ? '—' : fixed(r.ratio, 2),
          ...(solveUpTo > 0 ? [solverCheck(r)] : []),
        ]),
      ),
    );
    const perN = rows.filter((r) => r.ratio !== null).map((r) => (r.ratio as number) / r.n);
    const failed = rows.filter((r) => !r.ok).length;
    io.out(
      `\nOPT is exact (scan over the long request's start, schedule memory-checked)` +
        (perN.length
          ? `; ALG/OPT ÷ n ranges over [${Math.min(...perN).toFixed(2)}, ${Math.max(...perN).toFixed(2)}]`
          : '') +
        (failed ? `; ${failed} runs failed (stuck or livelocked: no ratio)` : '') +
        `; ${wall.toFixed(1)} s\n`,
    );
    if (a.out)
      writeJsonResult(
        a.out,
        {
          experiment: 'paper adversary',
          construction: 'block-then-flood',
          headroom: ADVERSARY_HEADROOM,
          seconds: wall,
          rows,
        },
        'paper-adversary',
        p,
      );
    return 0;
  },
};

function solverCheck(r: AdversaryRow): string {
  const s = r.solver;
  if (s === null) return '—';
  if (s.status === 'failed') return `failed: ${s.error ?? ''}`.slice(0, 60);
  if (s.status === 'optimal')
    return s.objective === r.opt ? `agrees (${s.seconds.toFixed(1)} s)` : `DISAGREES: ${s.objective}`;
  const lb = s.lowerBound ?? -Infinity;
  const ub = s.objective ?? Infinity;
  return lb <= r.opt && r.opt <= ub
    ? `consistent: [${Math.ceil(lb)}, ${ub}]`
    : `INCONSISTENT: [${Math.ceil(lb)}, ${ub}]`;
}

// ---------------------------------------------------------------------------------

const REGRET = defineCommand({
  name: 'paper regret',
  summary: "MC-SF's regret E[ALG − OPT] under Poisson arrivals as n grows",
  usage: ['[--n LIST] [--seeds K] [--seed S] [--rate λ] [--policy P] [--time-limit SEC] [--chunk K] [--out FILE.json]'],
  description: `MC-SF on the paper's synthetic sizes (M ~ U{30..50}, s ~ U{1..5}, o ~ U{1..M−s}) with
n requests and Poisson arrivals (λ ~ U[0.5, 1.5] per round, or --rate λ: the same
exponential gaps rescaled to rate λ), for growing n and several seeds (seed S + j).
Prints per n the mean of ALG − OPT. OPT is exact where the solver finishes within the
time limit; otherwise the best lower bound is used: the branch and bound's, the LP
relaxation's, the chunk bound (the requests split in arrival order into chunks of K,
Σ of the chunks' optima ≤ OPT since the optimum restricted to a chunk is feasible for
it alone; tight at light load), or at worst Σ o_i. The regret shown is then an upper bound (marked ≤), with
ALG − (best schedule found) as a lower bound beside it.

Note: at λ ~ U[0.5, 1.5] the paper's instances are overloaded (each request needs about
o·(s + o/2) ≈ 250 token-rounds against M ≈ 40 tokens per round), so waiting times grow
with n for every schedule; a stable variant is e.g. --rate 0.1.`,
  options: {
    n: intList('LIST', 'request counts, each 1..1000000', 1, 1e6).withDefault(
      [25, 50, 100, 200, 400, 800],
      '25,50,100,200,400,800',
    ),
    seeds: int('K', 'seeds per n, 1..1000000', 1, 1e6).withDefault(5),
    seed: OPT.seed.withHelp('first seed, 0..4294967295'),
    rate: OPT.rate.withHelp("fixed arrival rate per round, > 0 and ≤ 1000000 (default: the paper's U[0.5, 1.5])"),
    policy: OPT.policy.withHelp('the policy').withDefault('mcsf'),
    'time-limit': OPT.timeLimit
      .withHelp('per optimum, > 0 and ≤ 1000000 (chunks get min(2, SEC) each)')
      .withDefault(20),
    chunk: int('K', 'chunk size of the chunk bound, 0..1000000 (0: off)', 0, 1e6).withDefault(20),
    out: OPT.out.withHelp('write the table and every point as JSON'),
    quiet: OPT.quiet,
  },
});

const paperRegretExp: PaperExperiment = {
  name: 'regret',
  summary: REGRET.summary,
  spec: REGRET,
  async run(argv, io) {
    const { help, values: a } = parseOptions(REGRET, argv);
    if (help) return (io.out(helpText(REGRET)), 0);
    const { n: ns, seeds, seed, chunk } = a;
    if (seed + seeds - 1 > SEED_MAX) throw new UsageError('--seed + --seeds exceeds the 32-bit seed range');
    const rate = a.rate ?? null;
    if (rate !== null) checkArrivalSpan(Math.max(...ns), rate, 'rounds', '--rate');
    const spec = a.policy;
    const timeLimitSec = a['time-limit'];
    const p = progressLine(io, a.quiet);
    const t0 = performance.now();
    const points: RegretPoint[] = [];
    for (const n of ns) {
      for (let j = 0; j < seeds; j++) {
        const label = `regret n = ${n}: seed ${j + 1}/${seeds}`;
        p.show(label);
        points.push(
          await regretPoint(n, seed + j, rate, spec, {
            timeLimitSec,
            chunk,
            onProgress: (t) => p.show(`${label}: ${t}`),
          }),
        );
      }
    }
    p.clear();
    const wall = (performance.now() - t0) / 1000;
    const summary = ns.map((n) => {
      const pts = points.filter((q) => q.n === n);
      const withRegret = pts.filter((q) => q.regret !== null);
      const exact = pts.filter((q) => q.opt.status === 'optimal').length;
      const solverFailed = pts.filter((q) => q.opt.status === 'failed').length;
      const mean = (xs: number[]) => (xs.length ? xs.reduce((x, y) => x + y, 0) / xs.length : null);
      // ALG − (best schedule found): only when every seed has one (a failed solver leaves none).
      const lowsOk = withRegret.every((q) => q.opt.status === 'optimal' || q.regretLow !== null);
      const lows = lowsOk
        ? withRegret.map((q) => (q.opt.status === 'optimal' ? (q.regret as number) : (q.regretLow as number)))
        : [];
      return {
        n,
        seeds: pts.length,
        exact,
        bounded: withRegret.length - exact,
        failed: pts.length - withRegret.length,
        solverFailed,
        meanAlg: mean(pts.flatMap((q) => (q.alg === null ? [] : [q.alg]))),
        meanOptLow: mean(withRegret.map((q) => q.opt.lowerBound as number)),
        meanRegret: mean(withRegret.map((q) => q.regret as number)),
        meanRegretLow: mean(lows),
        maxRegret: withRegret.length ? Math.max(...withRegret.map((q) => q.regret as number)) : null,
        bnbUsed: pts.filter((q) => q.opt.boundFrom === 'branch-and-bound').length,
        lpUsed: pts.filter((q) => q.opt.boundFrom === 'lp').length,
        chunksUsed: pts.filter((q) => q.opt.boundFrom === 'chunks').length,
        sumOUsed: pts.filter((q) => q.opt.boundFrom === 'sum-o').length,
      };
    });
    io.out(
      `\nRegret of ${spec}, paper-synthetic sizes, Poisson arrivals ${rate === null ? 'λ ~ U[0.5, 1.5]' : `λ = ${rate}`}/round, ${seeds} seeds per n (from ${seed})\n`,
    );
    io.out(
      table(
        [
          'n',
          'OPT exact',
          'LB: B&B / LP / chunks / Σo',
          'mean ALG (rounds)',
          'mean OPT or LB (rounds)',
          'E[ALG − OPT] (rounds)',
          'lower bound (rounds)',
          'max (rounds)',
          'E[ALG − OPT]/n (rounds)',
        ],
        summary.map((s) => {
          const b = s.bounded > 0;
          return [
            count(s.n),
            `${s.exact}/${s.seeds}`,
            `${s.bnbUsed} / ${s.lpUsed} / ${s.chunksUsed} / ${s.sumOUsed}`,
            s.meanAlg === null ? '—' : fixed(s.meanAlg, 1),
            s.meanOptLow === null ? '—' : fixed(s.meanOptLow, 1),
            s.meanRegret === null ? '—' : `${b ? '≤' : ''}${fixed(s.meanRegret, 1)}`,
            s.meanRegretLow === null || !b ? '' : `≥${fixed(s.meanRegretLow, 1)}`,
            s.maxRegret === null ? '—' : `${b ? '≤' : ''}${fixed(s.maxRegret, 1)}`,
            s.meanRegret === null ? '—' : `${b ? '≤' : ''}${fixed(s.meanRegret / s.n, 3)}`,
          ];
        }),
      ),
    );
    const failures = points.filter((q) => q.opt.status === 'failed');
    io.out(
      `\n≤: for some seeds OPT is not known exactly (time limit ${timeLimitSec} s, or the exact solver failed) and a lower bound stands in — the branch and bound's, the LP relaxation's, the chunk bound, or Σ o_i (every latency ≥ o_i) — so the regret shown is an upper bound; "lower bound" uses the best schedule found instead, where there is one; ${wall.toFixed(1)} s\n` +
        (failures.length
          ? `exact solver failures: ${failures.length} (${[...new Set(failures.map((q) => q.opt.error))].slice(0, 3).join('; ')})\n`
          : ''),
    );
    if (a.out)
      writeJsonResult(
        a.out,
        {
          experiment: 'paper regret',
          policy: spec,
          seed,
          seeds,
          rate,
          timeLimitSec,
          chunk,
          seconds: wall,
          summary,
          points,
        },
        'paper-regret',
        p,
      );
    return 0;
  },
};

export const THEORY_EXPERIMENTS: PaperExperiment[] = [paperSyntheticExp, paperAdversaryExp, paperRegretExp];
