import { writeFileSync } from 'node:fs';
import { getCostModel, DEFAULT_COST_MODEL } from '../cost/registry.ts';
import { buildInstance } from '../experiment/instance.ts';
import { runPolicy, type PolicyOutcome } from '../experiment/run.ts';
import { nodeGpuEngine, runCellsOnGpu, type GpuCell } from '../gpu-engine/run.ts';
import type { RequestSpec, TimeMode } from '../model/types.ts';
import { parsePolicyList } from '../policies/registry.ts';
import { parsePredictionSpec } from '../workload/index.ts';
import { choiceArg, intArg, parseCli } from './args.ts';
import { num, table } from './format.ts';
import { UsageError, type CliIo, type Command } from './io.ts';

const HELP = `kvsched sweep — average latency over a grid of arrival rates × memories × policies × seeds

Usage:
  kvsched sweep --rates LIST --memory LIST --policy LIST --seeds LIST [options]

Options (LIST = comma-separated):
  --rates LIST          lmsys arrival rates per time unit, e.g. 10,50
  --memory LIST         KV capacities M in tokens, e.g. 8000,16492
  --policy LIST         policies, e.g. mcsf,vllm (see kvsched simulate --help)
  --seeds LIST          seeds (one instance per seed and rate), e.g. 1,2,3 or 1-8
  --requests N          requests per instance (default 2000)
  --time rounds|seconds time mode (default seconds)
  --predict SPEC        exact|noise:E (default exact)
  --cost-model NAME     default ${DEFAULT_COST_MODEL}
  --engine cpu|gpu      cpu (default): one run after another; gpu: the whole grid as one GPU job,
                        every cell a replica (no fallback: refusals are reported)
  --out FILE.json       every cell's mean latency and outcome
  --quiet               no progress on stderr

Output: one row per (rate, memory, policy): the mean over seeds of the average latency, and its
range over seeds; failed cells (stuck, livelock) are counted. Exit status 1 if any cell failed.`;

function list(text: string | undefined, name: string): string[] {
  if (text === undefined) throw new UsageError(`--${name} is required`);
  const xs = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (xs.length === 0) throw new UsageError(`--${name}: empty list`);
  return xs;
}

function seedList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of list(text, 'seeds')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new UsageError(`--seeds: "${part}" is not a seed or a range a-b`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b > 0xffffffff || b - a > 100_000) throw new UsageError(`--seeds: bad range "${part}"`);
    for (let s = a; s <= b; s++) out.push(s);
  }
  return out;
}

interface Cell {
  rate: number;
  memory: number;
  policy: string;
  seed: number;
}

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'average latency over a grid of rates × memories × policies × seeds (CPU or one GPU job)',
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const a = parseCli(argv, {
      rates: { type: 'string' },
      memory: { type: 'string' },
      policy: { type: 'string' },
      seeds: { type: 'string' },
      requests: { type: 'string' },
      time: { type: 'string' },
      predict: { type: 'string' },
      'cost-model': { type: 'string' },
      engine: { type: 'string' },
      out: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (a.help) {
      io.out(HELP + '\n');
      return 0;
    }
    const rates = list(a.rates, 'rates').map((t) => {
      const v = Number(t);
      if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--rates: "${t}" must be a number > 0`);
      return v;
    });
    const memories = list(a.memory, 'memory').map((t) => intArg(t, 'memory', 2, 2 ** 31 - 1) as number);
    let policies: string[];
    try {
      policies = parsePolicyList(list(a.policy, 'policy').join(','));
    } catch (e) {
      throw new UsageError(`--policy: ${(e as Error).message}`);
    }
    const seeds = seedList(a.seeds);
    const requests = intArg(a.requests, 'requests', 1, 10_000_000) ?? 2000;
    const mode: TimeMode = choiceArg(a.time, 'time', ['rounds', 'seconds'] as const) ?? 'seconds';
    const engine = choiceArg(a.engine, 'engine', ['cpu', 'gpu'] as const) ?? 'cpu';
    let predict;
    try {
      predict = parsePredictionSpec(a.predict ?? 'exact');
    } catch (e) {
      throw new UsageError(`--predict: ${(e as Error).message}`);
    }
    let costModel;
    try {
      costModel = getCostModel(a['cost-model'] ?? DEFAULT_COST_MODEL);
    } catch (e) {
      throw new UsageError(`--cost-model: ${(e as Error).message}`);
    }

    // Instances: one per (rate, memory, seed); every policy runs on the same requests.
    const instances = new Map<string, { requests: RequestSpec[]; memory: number }>();
    const cells: Cell[] = [];
    for (const rate of rates) {
      for (const memory of memories) {
        for (const seed of seeds) {
          const inst = buildInstance({ workload: { kind: 'lmsys', requests, rate }, mode, memory, seed, predict });
          instances.set(`${rate}/${memory}/${seed}`, { requests: [...inst.requests()], memory });
          for (const policy of policies) cells.push({ rate, memory, policy, seed });
        }
      }
    }
    const instOf = (c: Cell) => instances.get(`${c.rate}/${c.memory}/${c.seed}`) as { requests: RequestSpec[]; memory: number };
    if (!a.quiet) io.err(`kvsched sweep: ${cells.length} cells (${rates.length} rates × ${memories.length} memories × ${policies.length} policies × ${seeds.length} seeds), ${requests} requests each, ${mode} mode, ${engine} engine\n`);
    const t0 = performance.now();
    let outcomes: PolicyOutcome[];
    if (engine === 'gpu') {
      const gpu = await nodeGpuEngine();
      const gpuCells: GpuCell[] = cells.map((c) => ({ requests: instOf(c).requests, memory: c.memory, policy: c.policy }));
      let last = 0;
      outcomes = await runCellsOnGpu(gpu, gpuCells, {
        mode, costModel,
        onProgress: (p) => {
          if (a.quiet || !io.interactive || performance.now() - last < 200) return;
          last = performance.now();
          io.err(`\r  ${p.finished}/${p.replicas} cells, ${p.completedRequests}/${p.totalRequests} requests done   `);
        },
      });
      if (!a.quiet && io.interactive) io.err('\r\x1b[K');
    } else {
      outcomes = cells.map((c) => {
        const inst = instOf(c);
        return runPolicy({ memory: c.memory, mode, size: inst.requests.length, requests: () => inst.requests, description: '' }, c.policy, { costModel });
      });
    }
    const wall = (performance.now() - t0) / 1000;
    if (!a.quiet) io.err(`kvsched sweep: ${cells.length} cells in ${wall.toFixed(2)} s wall (${engine})\n`);

    const rows: string[][] = [];
    let failed = 0;
    const json: unknown[] = [];
    for (const rate of rates) {
      for (const memory of memories) {
        for (const policy of policies) {
          const lats: number[] = [];
          let fails = 0;
          cells.forEach((c, i) => {
            if (c.rate !== rate || c.memory !== memory || c.policy !== policy) return;
            const o = outcomes[i] as PolicyOutcome;
            if (o.ok) lats.push(o.summary.meanLatency);
            else fails++;
            json.push({ ...c, ok: o.ok, meanLatency: o.ok ? o.summary.meanLatency : null, error: o.ok ? null : o.error });
          });
          failed += fails;
          const mean = lats.length > 0 ? lats.reduce((s, x) => s + x, 0) / lats.length : Number.NaN;
          rows.push([String(rate), String(memory), policy, lats.length > 0 ? num(mean, 3) : '-', lats.length > 0 ? num(Math.min(...lats), 3) : '-', lats.length > 0 ? num(Math.max(...lats), 3) : '-', String(lats.length), String(fails)]);
        }
      }
    }
    const unit = mode === 'seconds' ? 's' : 'rounds';
    io.out(table(['rate', 'memory', 'policy', `mean lat (${unit})`, 'min', 'max', 'seeds ok', 'failed'], rows));
    if (a.out !== undefined) {
      writeFileSync(a.out, JSON.stringify({ engine, mode, requests, predict: a.predict ?? 'exact', costModel: costModel.name, wallSeconds: wall, cells: json }, null, 1) + '\n');
      io.err(`kvsched: wrote ${a.out}\n`);
    }
    return failed > 0 ? 1 : 0;
  },
};
