import { existsSync } from 'node:fs';
import { readTextFileSync } from '../workload/node-files.ts';
import { getCostModel, DEFAULT_COST_MODEL } from '../cost/registry.ts';
import { buildInstance, type Instance } from '../experiment/instance.ts';
import { runPolicy, type PolicyOutcome } from '../experiment/run.ts';
import { InputError, type PredictionSpec } from '../workload/index.ts';
import { count, fixed, table } from './format.ts';
import { AZURE_TRACE_FILE, azureTracePath } from '../workload/data-path.ts';
import { UsageError, type CliIo, type Command } from './io.ts';
import { decimal, defineCommand, flag, helpText, listOf, OPT, Opt, parseOptions, type CommandSpec } from './options.ts';
import { writeJsonResult as writeExperimentJson } from './out-file.ts';
import { progressLine, type ProgressLine } from './progress.ts';
import { checkArrivalSpan } from './ranges.ts';
import { THEORY_EXPERIMENTS } from './paper-theory.ts';
import { quote } from './text.ts';

/** One `kvsched paper <name>` experiment. */
export interface PaperExperiment {
  readonly name: string;
  readonly summary: string;
  readonly spec: CommandSpec;
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Runs policies on an instance, with a progress line naming the step. */
function runAll(
  instance: Instance,
  policies: readonly string[],
  io: CliIo,
  progress: ProgressLine,
  label: string,
): PolicyOutcome[] {
  const costModel = getCostModel(DEFAULT_COST_MODEL);
  const out: PolicyOutcome[] = [];
  for (const [i, spec] of policies.entries()) {
    const o = runPolicy(instance, spec, {
      costModel,
      onProgress: (p) =>
        progress.show(
          `${label}: ${spec} (${i + 1}/${policies.length}) ${count(p.completed)}/${count(instance.size)} done`,
        ),
    });
    progress.clear();
    if (!o.ok) io.err(`kvsched: ${label}: ${o.error}\n`);
    out.push(o);
  }
  return out;
}

/** Shown in the help; the default resolves it against the package root, not the working directory. */
const AZURE_TRACE = AZURE_TRACE_FILE;

const LMSYS = defineCommand({
  name: 'paper lmsys',
  summary: 'all policies on LMSYS at λ = 50 and 10 /s, and on the Azure trace',
  usage: ['[--requests N] [--seed S] [--trace FILE | --no-trace] [--policy LIST] [--out FILE.json]'],
  description: `Runs every policy of the paper's line-up (MC-SF, MC-FCFS, α-greedy 0.1 / 0.2, α-clearing
0.1 / 0.2, vLLM) on the LMSYS stand-in at λ = 50 /s (high demand) and λ = 10 /s (low demand),
M = 16492, seconds mode with the ${DEFAULT_COST_MODEL} cost model, then on a real trace
(default ${AZURE_TRACE}, the Azure conversation trace; vLLM runs there as vllm:16384 since
its prompts reach 14,050 tokens, above vLLM's default 4096 tokens per batch).`,
  options: {
    requests: OPT.requests(100_000_000).withHelp('LMSYS requests, 1..100,000,000').withDefault(10_000),
    seed: OPT.seed,
    trace: OPT.trace.withHelp(`the real trace (default ${AZURE_TRACE})`),
    'no-trace': flag('skip the real trace'),
    policy: OPT.policies,
    out: OPT.out.withHelp('write the tables as JSON'),
    quiet: OPT.quiet,
  },
});

const paperLmsys: PaperExperiment = {
  name: 'lmsys',
  summary: LMSYS.summary,
  spec: LMSYS,
  async run(argv, io) {
    const { help, values: a } = parseOptions(LMSYS, argv);
    if (help) return (io.out(helpText(LMSYS)), 0);
    if (a.trace !== undefined && a['no-trace']) throw new UsageError('give either --trace or --no-trace, not both');
    const { requests, seed, policy: policies } = a;
    const progress = progressLine(io, a.quiet);
    const file = a['no-trace'] ? null : (a.trace ?? azureTracePath());
    // Checked before the LMSYS runs: a missing trace is found in a second, not after minutes.
    if (file !== null && !existsSync(file))
      throw new InputError(file, null, null, 'no such file (give --trace FILE or --no-trace)');
    const sections: { name: string; description: string; rows: Row[] }[] = [];
    for (const rate of [50, 10]) {
      const inst = buildInstance({
        workload: { kind: 'lmsys', requests, rate },
        mode: 'seconds',
        seed,
        predict: { kind: 'exact' },
      });
      const name = `LMSYS λ = ${rate}/s (${rate === 50 ? 'high' : 'low'} demand)`;
      sections.push({ name, description: inst.description, rows: toRows(runAll(inst, policies, io, progress, name)) });
    }
    if (file !== null) {
      const inst = buildInstance({
        workload: { kind: 'trace', fileName: file, text: readTextFileSync(file) },
        mode: 'seconds',
        seed,
        predict: { kind: 'exact' },
      });
      const tracePolicies = policies.map((p) => (p === 'vllm' ? 'vllm:16384' : p));
      sections.push({
        name: `trace ${a.trace ?? AZURE_TRACE}`,
        description: inst.description,
        rows: toRows(runAll(inst, tracePolicies, io, progress, 'trace')),
      });
    }
    for (const s of sections) {
      io.out(`\n${s.name} — ${s.description}\n`);
      io.out(
        table(
          [
            'policy',
            'mean latency (s)',
            'p99 latency (s)',
            'mean TTFT (s)',
            'throughput (tok/s)',
            'energy (kJ)',
            'J/request',
            'evictions',
          ],
          s.rows.map((r) =>
            r.ok
              ? [
                  r.policy,
                  fixed(r.meanLatency ?? NaN, 2),
                  fixed(r.p99Latency ?? NaN, 2),
                  fixed(r.meanTtft ?? NaN, 2),
                  fixed(r.throughput ?? NaN, 1),
                  fixed((r.energyJoules ?? NaN) / 1000, 1),
                  fixed(r.joulesPerRequest ?? NaN, 1),
                  count(r.evictions ?? NaN),
                ]
              : [r.policy, r.error ?? ''],
          ),
        ),
      );
      const best = s.rows.filter((r) => r.ok).sort((x, y) => (x.meanLatency ?? 0) - (y.meanLatency ?? 0))[0];
      if (best) io.out(`lowest mean latency: ${best.policy}\n`);
    }
    if (a.out) writeExperimentJson(a.out, { experiment: 'paper lmsys', seed, requests, sections }, 'lmsys', progress);
    return 0;
  },
};

interface Row {
  policy: string;
  ok: boolean;
  error?: string;
  meanLatency?: number;
  p99Latency?: number;
  meanTtft?: number;
  throughput?: number;
  energyJoules?: number;
  joulesPerRequest?: number;
  evictions?: number;
  restartedRequests?: number;
}

function toRows(outcomes: PolicyOutcome[]): Row[] {
  return outcomes.map((o) =>
    o.ok
      ? {
          policy: o.policy,
          ok: true,
          meanLatency: o.summary.meanLatency,
          p99Latency: o.summary.p99Latency,
          meanTtft: o.summary.meanTtft,
          throughput: o.summary.throughput,
          energyJoules: o.summary.energyJoules,
          joulesPerRequest: o.summary.joulesPerRequest,
          evictions: o.summary.evictions,
          restartedRequests: o.summary.restartedRequests,
        }
      : { policy: o.policy, ok: false, error: `${o.kind}` },
  );
}

const PREDICTIONS = defineCommand({
  name: 'paper predictions',
  summary: 'every policy with prediction noise ε ∈ {0, 0.2, 0.5, 0.8} on LMSYS',
  usage: ['[--rate R] [--requests N] [--epsilons LIST] [--seed S] [--policy LIST] [--out FILE.json]'],
  description: `Every policy with predictions õ = max(1, round(o·U[1−ε, 1+ε])) for each ε on the LMSYS
stand-in (seconds mode, M = 16492, ${DEFAULT_COST_MODEL}); prints the average latency and the
evictions per policy and ε. The sizes and arrivals are the same for every ε (independent
random streams), and so are the uniform draws: only ε scales the error.`,
  options: {
    rate: OPT.rate.withHelp('arrival rate per second, > 0 and ≤ 1000000').withDefault(50),
    requests: OPT.requests(100_000_000).withHelp('requests, 1..100,000,000').withDefault(10_000),
    epsilons: new Opt(
      'LIST',
      'comma-separated ε values in [0, 1)',
      (t) =>
        listOf(t, (x) => {
          const e = decimal(x, { min: 0, max: 1 });
          if (e >= 1) throw new Error(`${e} must be < 1`);
          return e;
        }),
      undefined,
    ).withDefault([0, 0.2, 0.5, 0.8], '0,0.2,0.5,0.8'),
    seed: OPT.seed,
    policy: OPT.policies,
    out: OPT.out.withHelp('write the table as JSON'),
    quiet: OPT.quiet,
  },
});

const paperPredictions: PaperExperiment = {
  name: 'predictions',
  summary: PREDICTIONS.summary,
  spec: PREDICTIONS,
  async run(argv, io) {
    const { help, values: a } = parseOptions(PREDICTIONS, argv);
    if (help) return (io.out(helpText(PREDICTIONS)), 0);
    const { rate, requests, seed, policy: policies, epsilons } = a;
    checkArrivalSpan(requests, rate, 'seconds', '--rate');
    const progress = progressLine(io, a.quiet);
    const results: { epsilon: number; rows: Row[] }[] = [];
    for (const eps of epsilons) {
      const predict: PredictionSpec = eps === 0 ? { kind: 'exact' } : { kind: 'noise', epsilon: eps };
      const inst = buildInstance({ workload: { kind: 'lmsys', requests, rate }, mode: 'seconds', seed, predict });
      results.push({ epsilon: eps, rows: toRows(runAll(inst, policies, io, progress, `ε = ${eps}`)) });
    }
    io.out(
      `\nLMSYS stand-in, ${count(requests)} requests, λ = ${rate}/s, M = 16492, seed ${seed}: mean latency in s (evictions)\n`,
    );
    const header = ['policy', ...results.map((r) => `ε = ${r.epsilon} (s)`)];
    const rows = policies.map((p, i) => [
      p,
      ...results.map((r) => {
        const row = r.rows[i] as Row;
        return row.ok
          ? `${fixed(row.meanLatency ?? NaN, 2)} (${count(row.evictions ?? NaN)})`
          : (row.error ?? 'failed');
      }),
    ]);
    io.out(table(header, rows));
    if (a.out)
      writeExperimentJson(
        a.out,
        { experiment: 'paper predictions', seed, rate, requests, results },
        'predictions',
        progress,
      );
    return 0;
  },
};

/** Registered experiments; the theory lab adds `synthetic`, `adversary` and `regret`. */
export const PAPER_EXPERIMENTS: PaperExperiment[] = [paperLmsys, paperPredictions, ...THEORY_EXPERIMENTS];

function paperHelp(): string {
  return `kvsched paper — reproduce the paper's experiments as tables

Usage: kvsched paper <experiment> [options]   (kvsched paper <experiment> --help)

Experiments:
${PAPER_EXPERIMENTS.map((e) => `  ${e.name.padEnd(13)}${e.summary}`).join('\n')}
`;
}

export const paperCommand: Command = {
  name: 'paper',
  summary: "reproduce the paper's experiments (tables, with --out JSON)",
  get help() {
    return paperHelp();
  },
  async run(argv, io) {
    const [name, ...rest] = argv;
    if (name === undefined || name === '-h' || name === '--help') {
      io.out(paperHelp());
      return name === undefined ? 2 : 0;
    }
    const exp = PAPER_EXPERIMENTS.find((e) => e.name === name);
    if (!exp)
      throw new UsageError(
        `unknown experiment ${quote(name)}; known: ${PAPER_EXPERIMENTS.map((e) => e.name).join(', ')}`,
      );
    return exp.run(rest, io);
  },
};
