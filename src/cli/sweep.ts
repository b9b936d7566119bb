import { buildInstance } from '../experiment/instance.ts';
import { runPolicy, type PolicyOutcome } from '../experiment/run.ts';
import { runCellsOnGpu, type GpuCell } from '../gpu-engine/run-cells.ts';
import type { RequestSpec, TimeMode } from '../model/types.ts';
import { formatPredictionSpec } from '../workload/index.ts';
import { count, fixed, table, timeDigits } from './format.ts';
import { checkGpuPolicies, cliGpuEngine } from './gpu.ts';
import { CliError, UsageError, type CliIo, type Command } from './io.ts';
import { defineCommand, helpText, listOf, OPT, Opt, parseOptions, SEED_MAX, whole } from './options.ts';
import { writeResult } from './out-file.ts';
import { progressLine } from './progress.ts';
import { checkArrivalSpan } from './ranges.ts';
import { quote } from './text.ts';

/** Seeds as a list of numbers and ranges a-b (at most 100,000 seeds). */
function seedList(text: string): number[] {
  const out: number[] = [];
  for (const part of listOf(text, (x) => x)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`${quote(part)} is not a seed or a range a-b`);
    const a = whole(m[1] as string, 0, SEED_MAX);
    const b = m[2] === undefined ? a : whole(m[2], 0, SEED_MAX);
    if (b < a) throw new Error(`range ${quote(part)} ends before it starts`);
    if (out.length + b - a + 1 > 100_000) throw new Error('more than 100,000 seeds');
    for (let s = a; s <= b; s++) out.push(s);
  }
  return out;
}

const required = <T>(o: Opt<T, undefined>, help: string): Opt<T, undefined> => o.withHelp(`${help} (required)`);

export const SWEEP = defineCommand({
  name: 'sweep',
  summary:
    'latency, TTFT, throughput and evictions over a grid of rates × memories × policies × seeds (CPU or one GPU job)',
  usage: ['--rates LIST --memory LIST --policy LIST --seeds LIST [options]'],
  description: 'One LMSYS instance per (rate, memory, seed); every policy runs on the same requests.',
  options: {
    rates: required(OPT.rates, 'lmsys arrival rates per time unit, e.g. 10,50'),
    memory: required(OPT.memoryList, 'KV capacities M in tokens, e.g. 8000,16492'),
    policy: required(
      new Opt('LIST', '', OPT.policies.parse, undefined),
      'policies, e.g. mcsf,vllm (see kvsched simulate --help)',
    ),
    seeds: required(new Opt('LIST', '', seedList, undefined), 'seeds, e.g. 1,2,3 or 1-8'),
    requests: OPT.requests(10_000_000).withHelp('requests per instance, 1..10,000,000').withDefault(2000),
    time: OPT.time.withDefault('seconds'),
    predict: OPT.predict,
    'cost-model': OPT.costModel,
    engine: OPT.engine.withHelp(
      'cpu: one run after another; gpu: the whole grid as one GPU job, every cell a ' +
        'replica (no fallback: refusals are reported)',
    ),
    out: OPT.out.withHelp('write every cell (outcome, mean/p99 latency, TTFT, throughput, evictions) as JSON'),
    quiet: OPT.quiet,
  },
  epilogue: `Output: one row per (rate, memory, policy), means over the seeds that finished: mean and p99
latency, mean TTFT (in the run's unit), throughput (output tokens per time unit), evictions,
and the range of the mean latency over seeds; failed cells (stuck, livelock) are counted.
Exit status: 0, 1 if any cell failed, 2 bad input, 3 --engine gpu without a usable adapter.`,
});

interface Cell {
  rate: number;
  memory: number;
  policy: string;
  seed: number;
}

export const sweepCommand: Command = {
  name: SWEEP.name,
  summary: SWEEP.summary,
  spec: SWEEP,
  help: helpText(SWEEP),
  async run(argv: string[], io: CliIo): Promise<number> {
    const { help, values: a } = parseOptions(SWEEP, argv);
    if (help) {
      io.out(helpText(SWEEP));
      return 0;
    }
    for (const k of ['rates', 'memory', 'policy', 'seeds'] as const)
      if (a[k] === undefined) throw new UsageError(`--${k} is required`);
    const rates = a.rates as number[];
    const memories = a.memory as number[];
    const policies = a.policy as string[];
    const seeds = a.seeds as number[];
    const { requests, engine, quiet } = a;
    const mode: TimeMode = a.time;
    const costModel = a['cost-model'];
    for (const rate of rates) checkArrivalSpan(requests, rate, mode, '--rates');
    const progress = progressLine(io, quiet);

    // Instances: one per (rate, memory, seed); every policy runs on the same requests.
    const instances = new Map<string, { requests: RequestSpec[]; memory: number }>();
    const cells: Cell[] = [];
    for (const rate of rates) {
      for (const memory of memories) {
        for (const seed of seeds) {
          const inst = buildInstance({
            workload: { kind: 'lmsys', requests, rate },
            mode,
            memory,
            seed,
            predict: a.predict,
          });
          instances.set(`${rate}/${memory}/${seed}`, { requests: [...inst.requests()], memory });
          for (const policy of policies) cells.push({ rate, memory, policy, seed });
        }
      }
    }
    const instOf = (c: Cell) =>
      instances.get(`${c.rate}/${c.memory}/${c.seed}`) as { requests: RequestSpec[]; memory: number };
    progress.note(
      `kvsched sweep: ${cells.length} cells (${rates.length} rates × ${memories.length} memories × ${policies.length} policies × ${seeds.length} seeds), ${requests} requests each, ${mode} mode, ${engine} engine`,
    );
    const t0 = performance.now();
    let outcomes: PolicyOutcome[];
    if (engine === 'gpu') {
      checkGpuPolicies(policies);
      const gpu = await cliGpuEngine();
      const gpuCells: GpuCell[] = cells.map((c) => ({
        requests: instOf(c).requests,
        memory: c.memory,
        policy: c.policy,
      }));
      outcomes = await runCellsOnGpu(gpu, gpuCells, {
        mode,
        costModel,
        onProgress: (p) =>
          progress.show(
            `  GPU job: ${count(p.finished)}/${count(p.replicas)} cells, ${count(p.completedRequests)}/${count(p.totalRequests)} requests done`,
          ),
      });
    } else {
      outcomes = cells.map((c, i) => {
        const inst = instOf(c);
        progress.show(`  cell ${i + 1}/${cells.length}: λ = ${c.rate}, M = ${c.memory}, ${c.policy}, seed ${c.seed}`);
        return runPolicy(
          { memory: c.memory, mode, size: inst.requests.length, requests: () => inst.requests, description: '' },
          c.policy,
          { costModel },
        );
      });
    }
    progress.clear();
    const wall = (performance.now() - t0) / 1000;
    progress.note(`kvsched sweep: ${cells.length} cells in ${fixed(wall, 2)} s wall (${engine})`);

    const rows: string[][] = [];
    let failed = 0;
    const json: unknown[] = [];
    const d = timeDigits(mode);
    const mean = (xs: readonly number[]) => (xs.length > 0 ? xs.reduce((s, x) => s + x, 0) / xs.length : Number.NaN);
    for (const rate of rates) {
      for (const memory of memories) {
        for (const policy of policies) {
          const ok: Extract<PolicyOutcome, { ok: true }>['summary'][] = [];
          let fails = 0;
          cells.forEach((c, i) => {
            if (c.rate !== rate || c.memory !== memory || c.policy !== policy) return;
            const o = outcomes[i] as PolicyOutcome;
            if (o.ok) ok.push(o.summary);
            else fails++;
            json.push({
              ...c,
              ok: o.ok,
              ...(o.ok
                ? {
                    meanLatency: o.summary.meanLatency,
                    p99Latency: o.summary.p99Latency,
                    meanTtft: o.summary.meanTtft,
                    throughput: o.summary.throughput,
                    evictions: o.summary.evictions,
                    error: null,
                  }
                : { meanLatency: null, error: o.error }),
            });
          });
          failed += fails;
          const lats = ok.map((s) => s.meanLatency);
          rows.push([
            fixed(rate, 1),
            count(memory),
            policy,
            fixed(mean(lats), d),
            fixed(mean(ok.map((s) => s.p99Latency)), d),
            fixed(mean(ok.map((s) => s.meanTtft)), d),
            fixed(mean(ok.map((s) => s.throughput)), 1),
            fixed(mean(ok.map((s) => s.evictions)), 1),
            lats.length > 0 ? `${fixed(Math.min(...lats), d)} – ${fixed(Math.max(...lats), d)}` : '—',
            `${lats.length}/${lats.length + fails}`,
          ]);
        }
      }
    }
    const unit = mode === 'seconds' ? 's' : 'rounds';
    const perUnit = mode === 'seconds' ? 's' : 'round';
    io.out(
      table(
        [
          `rate (/${perUnit})`,
          'memory (tok)',
          'policy',
          `mean lat (${unit})`,
          `p99 lat (${unit})`,
          `mean TTFT (${unit})`,
          `tok/${perUnit}`,
          'evictions',
          `mean lat range (${unit})`,
          'seeds ok',
        ],
        rows,
      ),
    );
    if (a.out !== undefined) {
      const text =
        JSON.stringify(
          {
            engine,
            mode,
            requests,
            predict: formatPredictionSpec(a.predict),
            costModel: costModel.name,
            wallSeconds: wall,
            cells: json,
          },
          null,
          1,
        ) + '\n';
      const w = writeResult(a.out, text, 'sweep');
      if (!w.ok) throw new CliError(w.message);
      progress.note(`kvsched: ${w.message}`);
    }
    return failed > 0 ? 1 : 0;
  },
};
