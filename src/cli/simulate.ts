import { getCostModel, DEFAULT_COST_MODEL, listCostModels } from '../cost/registry.ts';
import type { SimulationResult } from '../engine/engine.ts';
import { runPolicy } from '../experiment/run.ts';
import { buildInstance, type WorkloadSpec } from '../experiment/instance.ts';
import { kvTimeline, type RunSummary } from '../metrics/summary.ts';
import { microsToSeconds, type TimeMode } from '../model/types.ts';
import { PAPER_POLICIES, parsePolicyList, POLICIES } from '../policies/registry.ts';
import { parsePredictionSpec, type PaperArrivals } from '../workload/index.ts';
import { choiceArg, intArg, numArg, parseCli } from './args.ts';
import { num, table } from './format.ts';
import { UsageError, type CliIo, type Command } from './io.ts';
import { JsonFileWriter } from './json-out.ts';
import { readTextFileSync } from '../workload/node-files.ts';
import { runPoliciesOnGpu } from '../gpu-engine/run.ts';

const HELP = `kvsched simulate — run scheduling policies on one instance and compare them

Usage:
  kvsched simulate [--workload lmsys|paper-synthetic | --trace FILE] [options]

Workload (pick one):
  --workload lmsys            LMSYS-Chat-1M lognormal stand-in (default): prompt ~ LogN(ln 11, 1.616),
                              output ~ LogN(ln 45, 1.131), redrawn until s + o ≤ 4096; Poisson arrivals
  --workload paper-synthetic  the paper's synthetic instance: M ~ U{30..50}, n ~ U{40..60},
                              s ~ U{1..5}, o ~ U{1..M−s}
  --trace FILE                CSV: arrived_at,num_prefill_tokens,num_decode_tokens[,predicted_decode_tokens]
                              (Vidur's format; arrived_at in seconds, or whole rounds with --time rounds)

Options:
  --time rounds|seconds   rounds: one round = one time unit (the paper's theory); seconds: each
                          round lasts what the cost model gives for its batch (default: seconds,
                          rounds for paper-synthetic)
  --memory M              KV capacity in tokens (default 16492; paper-synthetic: drawn)
  --policy LIST           comma-separated policies (default: ${PAPER_POLICIES.join(',')})
  --rate R                lmsys arrival rate per time unit (default 50)
  --arrivals zero|poisson paper-synthetic arrivals (default poisson, λ ~ U[0.5, 1.5])
  --requests N            number of requests (lmsys default 10000; paper-synthetic: drawn)
  --seed S                seed of every random draw, 0..4294967295 (default 1)
  --predict exact|noise:E output-length predictions: exact, or õ = max(1, round(o·U[1−E, 1+E]))
  --cost-model NAME       round cost model (default ${DEFAULT_COST_MODEL}); known: ${listCostModels().join(', ')}
  --out FILE.json         write every run: per-request schedule, summary, per-round KV timeline
  --no-rounds             leave the per-round timeline out of --out (smaller files)
  --engine cpu|gpu        cpu: the reference engine (default); gpu: the WebGPU engine (src/gpu-engine),
                          every policy a replica of one GPU job — same schedules, no per-round timeline,
                          per-request energy 0; refuses (never falls back) what it cannot run
  --quiet                 no progress on stderr
  -h, --help              this help

Policies:
${POLICIES.map((p) => `  ${p.usage.padEnd(28)}${p.summary}`).join('\n')}

Output: one row per policy. Latency = completion − arrival, TTFT = first token − arrival, in rounds
or seconds; throughput = output tokens per time unit; KV in tokens; energy in joules (2×A100 power
model: 400 W per GPU while a round runs, 60 W idle).
Exit status: 0 all runs completed, 1 some policy got stuck or livelocked (reported in its row),
2 bad input.`;

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'run policies on a workload and print their metrics',
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const a = parseCli(argv, {
      workload: { type: 'string' },
      trace: { type: 'string' },
      time: { type: 'string' },
      memory: { type: 'string' },
      policy: { type: 'string' },
      rate: { type: 'string' },
      arrivals: { type: 'string' },
      requests: { type: 'string' },
      seed: { type: 'string' },
      predict: { type: 'string' },
      'cost-model': { type: 'string' },
      out: { type: 'string' },
      'no-rounds': { type: 'boolean' },
      quiet: { type: 'boolean' },
      engine: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (a.help) {
      io.out(HELP + '\n');
      return 0;
    }
    if (a.trace !== undefined && a.workload !== undefined) throw new UsageError('give either --workload or --trace, not both');
    const kind = a.trace !== undefined ? 'trace' : (choiceArg(a.workload, 'workload', ['lmsys', 'paper-synthetic'] as const) ?? 'lmsys');
    const mode: TimeMode = choiceArg(a.time, 'time', ['rounds', 'seconds'] as const) ?? (kind === 'paper-synthetic' ? 'rounds' : 'seconds');
    const memory = intArg(a.memory, 'memory', 2, 2 ** 31 - 1);
    const requests = intArg(a.requests, 'requests', 1, 100_000_000);
    const seed = intArg(a.seed, 'seed', 0, 0xffffffff) ?? 1;
    const rate = numArg(a.rate, 'rate', 0);
    let predict;
    try {
      predict = parsePredictionSpec(a.predict ?? 'exact');
    } catch (e) {
      throw new UsageError(`--predict: ${(e as Error).message}`);
    }
    if (rate !== undefined && kind !== 'lmsys') throw new UsageError('--rate applies to --workload lmsys only');
    if (a.arrivals !== undefined && kind !== 'paper-synthetic') throw new UsageError('--arrivals applies to --workload paper-synthetic only');
    if (requests !== undefined && kind === 'trace') throw new UsageError('--requests does not apply to a trace (it has its own rows)');
    let policies: string[];
    try {
      policies = parsePolicyList(a.policy ?? PAPER_POLICIES.join(','));
    } catch (e) {
      throw new UsageError(`--policy: ${(e as Error).message}`);
    }
    let costModel;
    try {
      costModel = getCostModel(a['cost-model'] ?? DEFAULT_COST_MODEL);
    } catch (e) {
      throw new UsageError(`--cost-model: ${(e as Error).message}`);
    }

    let workload: WorkloadSpec;
    if (kind === 'trace') {
      const file = a.trace as string;
      workload = { kind: 'trace', fileName: file, text: readTextFileSync(file) };
    } else if (kind === 'paper-synthetic') {
      const arrivals: PaperArrivals = choiceArg(a.arrivals, 'arrivals', ['zero', 'poisson'] as const) ?? 'poisson';
      workload = { kind: 'paper-synthetic', arrivals, ...(requests !== undefined ? { requests } : {}) };
    } else {
      workload = { kind: 'lmsys', requests: requests ?? 10_000, rate: rate ?? 50 };
    }
    const instance = buildInstance({ workload, mode, seed, predict, ...(memory !== undefined ? { memory } : {}) });
    const unit = mode === 'seconds' ? 's' : 'rounds';
    if (!a.quiet) io.err(`kvsched: ${instance.description}, ${mode} mode, cost model ${costModel.name}\n`);

    const writer = a.out !== undefined ? new JsonFileWriter(a.out) : undefined;
    writer?.write(`{"workload":${JSON.stringify(instance.description)},"seed":${seed},"predict":${JSON.stringify(a.predict ?? 'exact')},"runs":[`);
    const rows: string[][] = [];
    let failed = 0;
    let first = true;
    // --engine gpu: every policy as a replica of one GPU job (src/gpu-engine/run.ts).
    const engine = choiceArg(a.engine, 'engine', ['cpu', 'gpu'] as const) ?? 'cpu';
    const gpuOutcomes = engine === 'gpu' ? await runPoliciesOnGpu(instance, policies, { costModel }) : undefined;
    for (const [policyIndex, spec] of policies.entries()) {
      let lastDraw = 0;
      const outcome = gpuOutcomes?.[policyIndex] ?? runPolicy(instance, spec, {
        costModel,
        keepRounds: writer !== undefined && !a['no-rounds'],
        onProgress: (p) => {
          if (a.quiet || !io.interactive) return;
          const t = performance.now();
          if (t - lastDraw < 200) return;
          lastDraw = t;
          const clock = mode === 'seconds' ? `${microsToSeconds(p.now).toFixed(1)} s` : `round ${p.round}`;
          io.err(`\r  ${spec}: ${p.completed}/${instance.size} done, ${p.running} running, ${p.waiting} waiting, ${clock}   `);
        },
      });
      if (!a.quiet && io.interactive) io.err('\r\x1b[K');
      if (!outcome.ok) {
        io.err(`kvsched: ${spec}: ${outcome.error}\n`);
        rows.push([spec, `${outcome.kind}: see stderr`]);
        failed++;
        continue;
      }
      const s = outcome.summary;
      if (!a.quiet) io.err(`  ${spec}: ${s.requests} requests in ${outcome.wallSeconds.toFixed(2)} s wall\n`);
      rows.push(summaryRow(spec, s));
      if (writer) {
        if (!first) writer.write(',');
        first = false;
        writeRun(writer, outcome.result, s, !a['no-rounds']);
      }
    }
    writer?.write(']}\n');
    writer?.close();
    io.out(
      table(
        ['policy', `mean lat (${unit})`, 'p50', 'p90', 'p99', 'max', `mean TTFT`, `makespan`, `tok/${unit === 's' ? 's' : 'round'}`, 'peak KV', 'mean KV', 'evictions', 'energy (J)'],
        rows,
      ),
    );
    if (a.out !== undefined) io.err(`kvsched: wrote ${a.out}\n`);
    return failed > 0 ? 1 : 0;
  },
};

function summaryRow(spec: string, s: RunSummary): string[] {
  return [
    spec, num(s.meanLatency, 3), num(s.p50Latency, 3), num(s.p90Latency, 3), num(s.p99Latency, 3), num(s.maxLatency, 3),
    num(s.meanTtft, 3), num(s.makespan, 3), num(s.throughput, 1), String(s.peakKv), num(s.meanKv, 0), String(s.evictions),
    num(s.energyJoules, 0),
  ];
}

/** One run as JSON, requests by id; times in seconds (seconds mode) or rounds. */
function writeRun(w: JsonFileWriter, r: SimulationResult, s: RunSummary, withRounds: boolean): void {
  const unit = r.mode === 'seconds' ? microsToSeconds : (x: number) => x;
  w.write(`{"policy":${JSON.stringify(r.policy)},"memory":${r.memory},"timeUnit":"${r.mode}","costModel":${JSON.stringify(r.costModel)},"requests":[`);
  let firstReq = true;
  for (const q of r.requests) {
    w.write(
      `${firstReq ? '' : ','}{"id":${q.id},"arrival":${unit(q.arrival)},"prompt":${q.prompt},"output":${q.output},"predicted":${q.predicted},"start":${unit(q.start)},"firstToken":${unit(q.firstToken)},"completion":${unit(q.completion)},"restarts":${q.restarts},"joules":${round6(q.joules)}}`,
    );
    firstReq = false;
  }
  w.write(`],"summary":${JSON.stringify(s)}`);
  const tl = withRounds ? kvTimeline(r) : null;
  if (tl) w.write(`,"rounds":${JSON.stringify(tl)}`);
  w.write('}');
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
