import type { RequestSpec } from '../model/types.ts';
import { solveOptimum, type OptimumResult } from '../theory/optimum.ts';
import { InputError, paperSynthetic, type PaperArrivals } from '../workload/index.ts';
import { choiceArg, intArg, numArg, parseCli } from './args.ts';
import { num, table } from './format.ts';
import { UsageError, type CliIo, type Command } from './io.ts';
import { JsonFileWriter } from './json-out.ts';
import { readTraceFileSync } from '../workload/node-files.ts';

const HELP = `kvsched optimum — the exact hindsight optimum (model.md §4) of one instance, in rounds

Usage:
  kvsched optimum --trace FILE --memory M [--time-limit SEC] [--out FILE.json]
  kvsched optimum --workload paper-synthetic [--seed S] [--arrivals zero|poisson] [--requests N] [--memory M] [...]

Minimises the total latency Σ (c_i − a_i) over every schedule that keeps the KV tokens of
each round within M, knowing every request's true output length. Arrival times are whole
rounds. The best schedule of the paper's policies, improved by a local search over start
orders (at most a fifth of the time limit), is the starting point; a branch and bound
either proves it optimal or improves it. If a first search (a tenth of the time limit) has
not proved it, the time-indexed LP relaxation with conflict-clique cuts (HiGHS) gives a
lower bound (and proves optimality when it reaches the best schedule), and the search then
resumes with the time left.

Options:
  --trace FILE            CSV arrived_at,num_prefill_tokens,num_decode_tokens (arrived_at in whole rounds)
  --workload paper-synthetic   the paper's synthetic instance (M ~ U{30..50}, n ~ U{40..60}, s ~ U{1..5}, o ~ U{1..M−s})
  --seed S                paper-synthetic seed (default 1)
  --arrivals zero|poisson paper-synthetic arrivals (default zero)
  --requests N            paper-synthetic: number of requests (default: drawn)
  --memory M              KV capacity in tokens (required with --trace; paper-synthetic: drawn)
  --time-limit SEC        stop after SEC seconds with the best schedule found (default 60)
  --lp-share F            share of the time limit the LP bound may use (default 0.5; 0: search only);
                          it runs after a first search of a tenth of the limit, then the search resumes
  --local-search N        start orders the local search decodes per run (default 1000 × requests;
                          0: off). Given explicitly, it may use the whole time limit
  --local-search-runs R   independent runs of the local search, other move seeds; the best is kept
                          (default 4)
  --out FILE.json         write {"status","objective","lowerBound","seconds","requests":[{"id","start","completion"}],…}
  --quiet                 no progress on stderr
  -h, --help              this help

Output: status (optimal, or time-limit with the gap between the best schedule and the proven
lower bound), the policies' totals for comparison. Exit status 0 (also on time-limit), 2 bad input.`;

export const optimumCommand: Command = {
  name: 'optimum',
  summary: 'exact hindsight optimum of an instance (rounds), with the policies for comparison',
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const a = parseCli(argv, {
      trace: { type: 'string' },
      workload: { type: 'string' },
      seed: { type: 'string' },
      arrivals: { type: 'string' },
      requests: { type: 'string' },
      memory: { type: 'string' },
      'time-limit': { type: 'string' },
      'lp-share': { type: 'string' },
      'local-search': { type: 'string' },
      'local-search-runs': { type: 'string' },
      out: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (a.help) {
      io.out(HELP + '\n');
      return 0;
    }
    if (a.trace !== undefined && a.workload !== undefined) throw new UsageError('give either --trace or --workload, not both');
    if (a.trace === undefined && a.workload === undefined) throw new UsageError('give --trace FILE or --workload paper-synthetic');
    const memory = intArg(a.memory, 'memory', 2, 2 ** 31 - 1);
    const timeLimit = numArg(a['time-limit'], 'time-limit', 0) ?? 60;
    // numArg wants a value above its minimum, and 0 (LP off) is allowed here.
    const lpShare = numArg(a['lp-share'], 'lp-share', -1) ?? 0.5;
    if (lpShare < 0 || lpShare > 1) throw new UsageError(`--lp-share must be a fraction in [0, 1], got ${lpShare}`);
    const orders = intArg(a['local-search'], 'local-search', 0, 1e12);
    const runs = intArg(a['local-search-runs'], 'local-search-runs', 1, 1e6);
    if (orders === 0 && runs !== undefined) throw new UsageError('--local-search-runs needs the local search on (--local-search 0 turns it off)');
    let requests: RequestSpec[];
    let M: number;
    let description: string;
    if (a.trace !== undefined) {
      if (memory === undefined) throw new UsageError('--memory M is required with --trace');
      for (const k of ['seed', 'arrivals', 'requests'] as const) if (a[k] !== undefined) throw new UsageError(`--${k} applies to --workload paper-synthetic only`);
      const file = a.trace;
      requests = readTraceFileSync(file, { mode: 'rounds', memory }).requests;
      M = memory;
      description = `${file}, ${requests.length} requests`;
    } else {
      choiceArg(a.workload, 'workload', ['paper-synthetic'] as const);
      const seed = intArg(a.seed, 'seed', 0, 0xffffffff) ?? 1;
      const arrivals: PaperArrivals = choiceArg(a.arrivals, 'arrivals', ['zero', 'poisson'] as const) ?? 'zero';
      const n = intArg(a.requests, 'requests', 1, 100_000);
      const wl = paperSynthetic({ seed, arrivals, mode: 'rounds', ...(n !== undefined ? { requests: n } : {}), ...(memory !== undefined ? { memory } : {}) });
      requests = wl.requests;
      M = wl.memory;
      description = `paper-synthetic seed ${seed}, ${arrivals} arrivals, ${requests.length} requests`;
    }
    if (requests.length === 0) throw new InputError(description, null, null, 'no requests');
    if (!a.quiet) io.err(`kvsched: ${description}, M = ${M}, time limit ${timeLimit} s\n`);

    let lastDraw = 0;
    const res: OptimumResult = await solveOptimum(
      { memory: M, requests },
      {
        timeLimitSec: timeLimit,
        lpShare,
        ...(orders === 0
          ? { localSearch: false }
          : orders === undefined && runs === undefined
            ? {}
            : { localSearch: { ...(orders !== undefined ? { iterations: orders } : {}), ...(runs !== undefined ? { runs } : {}) }, localSearchShare: 1 }),
        onProgress: (p) => {
          if (a.quiet || !io.interactive) return;
          const t = performance.now();
          if (t - lastDraw < 200) return;
          lastDraw = t;
          io.err(`\r  best ${p.bestObjective}, bound ${Math.ceil(p.lowerBound)}, ${p.nodes} nodes, ${p.seconds.toFixed(1)} s   `);
        },
      },
    );
    if (!a.quiet && io.interactive) io.err('\r\x1b[K');

    const lb = Math.ceil(res.lowerBound - 1e-9);
    const gap = res.objective > 0 ? (res.objective - lb) / res.objective : 0;
    const n = requests.length;
    const lines = [
      `status      ${res.status}${res.stats.stoppedBy === 'depth' ? ' (the search ran out of stack depth on this long horizon: best schedule and root bound shown)' : ''}`,
      `objective   ${res.objective} (mean latency ${num(res.objective / n, 3)} rounds)`,
      `lower bound ${lb}${res.status === 'optimal' ? (res.stats.lpBound !== null ? ' (proved by the LP bound)' : '') : ` (gap ${num(100 * gap, 2)} %, from the ${res.stats.boundFrom === 'lp' ? 'LP with clique cuts' : 'branch and bound'})`}`,
      `seconds     ${num(res.seconds, 2)}  (${res.stats.nodes} nodes)`,
      `incumbent   ${res.stats.incumbentPolicy} ${res.stats.incumbent}${
        res.stats.localSearch === null
          ? ''
          : `, local search over start orders → ${res.stats.localSearch.value} (${res.stats.localSearch.runs} run${res.stats.localSearch.runs === 1 ? '' : 's'}, ${res.stats.localSearch.iterations} orders, ${num(res.stats.localSearch.seconds, 2)} s)`
      }`,
      '',
    ];
    io.out(lines.join('\n') + '\n');
    io.out(
      table(
        ['policy', 'total latency', 'mean latency', 'ratio to best found'],
        res.stats.policies.map((q) =>
          q.total === null ? [q.policy, 'failed (stuck or livelock)', '', ''] : [q.policy, String(q.total), num(q.total / n, 3), num(q.total / res.objective, 4)],
        ),
      ),
    );
    if (a.out !== undefined) {
      const w = new JsonFileWriter(a.out);
      const byId = [...requests].sort((x, y) => x.id - y.id);
      w.write(
        `{"status":${JSON.stringify(res.status)},"stoppedBy":${JSON.stringify(res.stats.stoppedBy)},"boundFrom":${JSON.stringify(res.stats.boundFrom)},"objective":${res.objective},"lowerBound":${lb},"seconds":${Math.round(res.seconds * 1000) / 1000},"memory":${M},"method":${JSON.stringify(res.method)},"requests":[`,
      );
      byId.forEach((r, k) => w.write(`${k ? ',' : ''}{"id":${r.id},"start":${res.starts[r.id]},"completion":${res.completions[r.id]}}`));
      w.write(`],"policies":${JSON.stringify(res.stats.policies)},"localSearch":${JSON.stringify(res.stats.localSearch)}}\n`);
      w.close();
      if (!a.quiet) io.err(`kvsched: wrote ${a.out}\n`);
    }
    return 0;
  },
};
