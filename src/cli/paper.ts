import { existsSync, writeFileSync } from 'node:fs';
import { readTextFileSync } from '../workload/node-files.ts';
import { getCostModel, DEFAULT_COST_MODEL } from '../cost/registry.ts';
import { buildInstance, type Instance } from '../experiment/instance.ts';
import { runPolicy, type PolicyOutcome } from '../experiment/run.ts';
import { PAPER_POLICIES, parsePolicyList } from '../policies/registry.ts';
import { InputError, parsePredictionSpec } from '../workload/index.ts';
import { AZURE_TRACE_FILE, azureTracePath } from '../workload/data-path.ts';
import { intArg, numArg, parseCli } from './args.ts';
import { num, table } from './format.ts';
import { UsageError, type CliIo, type Command } from './io.ts';
import { THEORY_EXPERIMENTS } from './paper-theory.ts';

/** One `kvsched paper <name>` experiment. */
export interface PaperExperiment {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Progress on stderr, one line redrawn, only on a terminal. */
export function progressLine(io: CliIo, quiet: boolean): (text: string) => void {
  let last = 0;
  return (text: string) => {
    if (quiet || !io.interactive) return;
    const t = performance.now();
    if (t - last < 150) return;
    last = t;
    io.err(`\r\x1b[K${text}`);
  };
}

export function clearProgress(io: CliIo, quiet: boolean): void {
  if (!quiet && io.interactive) io.err('\r\x1b[K');
}

/** Runs policies on an instance, with a progress line naming the step. */
function runAll(instance: Instance, policies: readonly string[], io: CliIo, quiet: boolean, label: string): PolicyOutcome[] {
  const costModel = getCostModel(DEFAULT_COST_MODEL);
  const show = progressLine(io, quiet);
  const out: PolicyOutcome[] = [];
  for (const [i, spec] of policies.entries()) {
    const o = runPolicy(instance, spec, {
      costModel,
      onProgress: (p) => show(`${label}: ${spec} (${i + 1}/${policies.length}) ${p.completed}/${instance.size} done`),
    });
    if (!o.ok) {
      clearProgress(io, quiet);
      io.err(`kvsched: ${label}: ${o.error}\n`);
    }
    out.push(o);
  }
  clearProgress(io, quiet);
  return out;
}

/** Shown in the help; the default resolves it against the package root, not the working directory. */
const AZURE_TRACE = AZURE_TRACE_FILE;

const lmsysHelp = `kvsched paper lmsys — the paper's real-trace experiment

Runs every policy of the paper's line-up (MC-SF, MC-FCFS, α-greedy 0.1 / 0.2, α-clearing
0.1 / 0.2, vLLM) on the LMSYS stand-in at λ = 50 /s (high demand) and λ = 10 /s (low demand),
M = 16492, seconds mode with the ${DEFAULT_COST_MODEL} cost model, then on a real trace
(default ${AZURE_TRACE}, the Azure conversation trace; vLLM runs there as vllm:16384 since
its prompts reach 14,050 tokens, above vLLM's default 4096 tokens per batch).

Options:
  --requests N     LMSYS requests (default 10000)
  --seed S         seed (default 1)
  --trace FILE     the real trace (default ${AZURE_TRACE}); --no-trace skips it
  --no-trace
  --policy LIST    override the line-up
  --out FILE.json  write the tables
  --quiet`;

const paperLmsys: PaperExperiment = {
  name: 'lmsys',
  summary: 'all policies on LMSYS at λ = 50 and 10 /s, and on the Azure trace',
  help: lmsysHelp,
  async run(argv, io) {
    const a = parseCli(argv, {
      requests: { type: 'string' }, seed: { type: 'string' }, trace: { type: 'string' }, 'no-trace': { type: 'boolean' },
      policy: { type: 'string' }, out: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    });
    if (a.help) return io.out(lmsysHelp + '\n'), 0;
    const requests = intArg(a.requests, 'requests', 1) ?? 10_000;
    const seed = intArg(a.seed, 'seed', 0, 0xffffffff) ?? 1;
    const policies = a.policy ? parsePolicyList(a.policy) : PAPER_POLICIES;
    const quiet = Boolean(a.quiet);
    const sections: { name: string; description: string; rows: Row[] }[] = [];
    for (const rate of [50, 10]) {
      const inst = buildInstance({ workload: { kind: 'lmsys', requests, rate }, mode: 'seconds', seed, predict: { kind: 'exact' } });
      const name = `LMSYS λ = ${rate}/s (${rate === 50 ? 'high' : 'low'} demand)`;
      sections.push({ name, description: inst.description, rows: toRows(runAll(inst, policies, io, quiet, name)) });
    }
    if (!a['no-trace']) {
      const file = a.trace ?? azureTracePath();
      if (!existsSync(file)) throw new InputError(file, null, null, 'no such file (give --trace FILE or --no-trace)');
      const inst = buildInstance({ workload: { kind: 'trace', fileName: file, text: readTextFileSync(file) }, mode: 'seconds', seed, predict: { kind: 'exact' } });
      const tracePolicies = policies.map((p) => (p === 'vllm' ? 'vllm:16384' : p));
      sections.push({ name: `trace ${a.trace ?? AZURE_TRACE}`, description: inst.description, rows: toRows(runAll(inst, tracePolicies, io, quiet, 'trace')) });
    }
    for (const s of sections) {
      io.out(`\n${s.name} — ${s.description}\n`);
      io.out(
        table(
          ['policy', 'mean latency (s)', 'p99 latency (s)', 'mean TTFT (s)', 'throughput (tok/s)', 'energy (kJ)', 'J/request', 'evictions'],
          s.rows.map((r) => (r.ok
            ? [r.policy, num(r.meanLatency ?? NaN, 2), num(r.p99Latency ?? NaN, 2), num(r.meanTtft ?? NaN, 2), num(r.throughput ?? NaN, 1), num((r.energyJoules ?? NaN) / 1000, 1), num(r.joulesPerRequest ?? NaN, 1), String(r.evictions)]
            : [r.policy, r.error ?? ''])),
        ),
      );
      const best = s.rows.filter((r) => r.ok).sort((x, y) => (x.meanLatency ?? 0) - (y.meanLatency ?? 0))[0];
      if (best) io.out(`lowest mean latency: ${best.policy}\n`);
    }
    if (a.out) writeJson(a.out, { experiment: 'paper lmsys', seed, requests, sections }, io);
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
          policy: o.policy, ok: true, meanLatency: o.summary.meanLatency, p99Latency: o.summary.p99Latency, meanTtft: o.summary.meanTtft,
          throughput: o.summary.throughput, energyJoules: o.summary.energyJoules, joulesPerRequest: o.summary.joulesPerRequest,
          evictions: o.summary.evictions, restartedRequests: o.summary.restartedRequests,
        }
      : { policy: o.policy, ok: false, error: `${o.kind}` },
  );
}

function writeJson(path: string, value: unknown, io: CliIo): void {
  writeFileSync(path, JSON.stringify(value, null, 1) + '\n');
  io.err(`kvsched: wrote ${path}\n`);
}

const predictionsHelp = `kvsched paper predictions — policies under prediction errors

Every policy with predictions õ = max(1, round(o·U[1−ε, 1+ε])) for ε ∈ {0, 0.2, 0.5, 0.8}
on the LMSYS stand-in (seconds mode, M = 16492, ${DEFAULT_COST_MODEL}); prints the average
latency and the evictions per policy and ε. The sizes and arrivals are the same for every ε
(independent random streams), and so are the uniform draws: only ε scales the error.

Options:
  --rate R          arrival rate per second (default 50)
  --requests N      requests (default 10000)
  --epsilons LIST   comma-separated ε values in [0, 1) (default 0,0.2,0.5,0.8)
  --seed S          seed (default 1)
  --policy LIST     override the line-up
  --out FILE.json
  --quiet`;

const paperPredictions: PaperExperiment = {
  name: 'predictions',
  summary: 'every policy with prediction noise ε ∈ {0, 0.2, 0.5, 0.8} on LMSYS',
  help: predictionsHelp,
  async run(argv, io) {
    const a = parseCli(argv, {
      rate: { type: 'string' }, requests: { type: 'string' }, epsilons: { type: 'string' }, seed: { type: 'string' },
      policy: { type: 'string' }, out: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    });
    if (a.help) return io.out(predictionsHelp + '\n'), 0;
    const rate = numArg(a.rate, 'rate', 0) ?? 50;
    const requests = intArg(a.requests, 'requests', 1) ?? 10_000;
    const seed = intArg(a.seed, 'seed', 0, 0xffffffff) ?? 1;
    const policies = a.policy ? parsePolicyList(a.policy) : PAPER_POLICIES;
    const epsilons = (a.epsilons ?? '0,0.2,0.5,0.8').split(',').map((x) => x.trim());
    const specs = epsilons.map((e) => {
      try {
        return Number(e) === 0 ? parsePredictionSpec('exact') : parsePredictionSpec(`noise:${e}`);
      } catch (err) {
        throw new UsageError(`--epsilons: ${(err as Error).message}`);
      }
    });
    const quiet = Boolean(a.quiet);
    const results: { epsilon: number; rows: Row[] }[] = [];
    for (const [i, predict] of specs.entries()) {
      const inst = buildInstance({ workload: { kind: 'lmsys', requests, rate }, mode: 'seconds', seed, predict });
      const eps = predict.kind === 'noise' ? predict.epsilon : 0;
      results.push({ epsilon: eps, rows: toRows(runAll(inst, policies, io, quiet, `ε = ${epsilons[i]}`)) });
    }
    io.out(`\nLMSYS stand-in, ${requests} requests, λ = ${rate}/s, M = 16492, seed ${seed}: mean latency in s (evictions)\n`);
    const header = ['policy', ...results.map((r) => `ε = ${r.epsilon}`)];
    const rows = policies.map((p, i) => [
      p,
      ...results.map((r) => {
        const row = r.rows[i] as Row;
        return row.ok ? `${num(row.meanLatency ?? 0, 2)} (${row.evictions})` : (row.error ?? 'failed');
      }),
    ]);
    io.out(table(header, rows));
    if (a.out) writeJson(a.out, { experiment: 'paper predictions', seed, rate, requests, results }, io);
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
    if (!exp) throw new UsageError(`unknown experiment "${name}"; known: ${PAPER_EXPERIMENTS.map((e) => e.name).join(', ')}`);
    return exp.run(rest, io);
  },
};


