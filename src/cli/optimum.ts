import type { RequestSpec } from '../model/types.ts';
import { solveOptimum, type OptimumResult } from '../theory/optimum.ts';
import { InputError, paperSynthetic } from '../workload/index.ts';
import { readTraceFileSync } from '../workload/node-files.ts';
import { count, fixed, table } from './format.ts';
import { CliError, UsageError, type CliIo, type Command } from './io.ts';
import { choice, defineCommand, helpText, int, num, OPT, parseOptions } from './options.ts';
import { writeResult } from './out-file.ts';
import { progressLine } from './progress.ts';

export const OPTIMUM = defineCommand({
  name: 'optimum',
  summary: 'exact hindsight optimum of an instance (rounds), with the policies for comparison',
  usage: [
    '--trace FILE --memory M [--time-limit SEC] [--out FILE.json]',
    '--workload paper-synthetic [--seed S] [--arrivals zero|poisson] [--requests N] [--memory M] [...]',
  ],
  description: `Minimises the total latency Σ (c_i − a_i) over every schedule that keeps the KV tokens of
each round within M, knowing every request's true output length (docs/model.md). Arrival times
are whole rounds. The best schedule of the paper's policies, improved by a local search over
start orders (at most a fifth of the time limit), is the starting point; a branch and bound
either proves it optimal or improves it. If a first search (a tenth of the time limit) has
not proved it, the time-indexed LP relaxation with conflict-clique cuts (HiGHS) gives a
lower bound (and proves optimality when it reaches the best schedule), and the search then
resumes with the time left.`,
  options: {
    trace: OPT.trace.withHelp('CSV arrived_at,num_prefill_tokens,num_decode_tokens (arrived_at in whole rounds)'),
    workload: choice(
      ['paper-synthetic'] as const,
      "the paper's synthetic instance (M ~ U{30..50}, n ~ U{40..60}, " + 's ~ U{1..5}, o ~ U{1..M−s})',
    ),
    seed: OPT.seed.withHelp('paper-synthetic seed, 0..4294967295'),
    arrivals: OPT.arrivals,
    requests: OPT.requests(100_000).withHelp('paper-synthetic: number of requests, 1..100,000 (default: drawn)'),
    memory: OPT.memory.withHelp('KV capacity in tokens, 2..2147483647 (required with --trace; paper-synthetic: drawn)'),
    'time-limit': OPT.timeLimit
      .withHelp('stop after SEC seconds with the best schedule found, > 0 and ≤ 1000000')
      .withDefault(60),
    'lp-share': num(
      'F',
      'share of the time limit the LP bound may use, in [0, 1] (0: search only); it runs after ' +
        'a first search of a tenth of the limit, then the search resumes',
      { min: 0, max: 1 },
    ).withDefault(0.5),
    'local-search': int(
      'N',
      'start orders the local search decodes per run, 0..10^12 (default 1000 × requests; ' +
        '0: off). Given explicitly, it may use the whole time limit',
      0,
      1e12,
    ),
    'local-search-runs': int(
      'R',
      'independent runs of the local search, other move seeds; the best is kept, ' + '1..1000000',
      1,
      1e6,
    ).withDefault(4),
    out: OPT.out.withHelp(
      'write {"status","stoppedBy","objective","lowerBound","seconds","requests":[{"id","start",' +
        '"completion"}],"policies",…} (checked before the search; a finished result is never lost)',
    ),
    quiet: OPT.quiet,
  },
  epilogue: `Output: status (optimal, or time-limit with the gap between the best schedule and the proven
lower bound), the policies' totals for comparison ("ratio to OPT" when proved optimal, else
"ratio to best found"); a stuck or livelocked policy's reason is printed under the table.
Exit status 0 (also on time-limit), 2 bad input.`,
});

export const optimumCommand: Command = {
  name: OPTIMUM.name,
  summary: OPTIMUM.summary,
  spec: OPTIMUM,
  help: helpText(OPTIMUM),
  async run(argv: string[], io: CliIo): Promise<number> {
    const { help, values: a, given } = parseOptions(OPTIMUM, argv);
    if (help) {
      io.out(helpText(OPTIMUM));
      return 0;
    }
    if (a.trace !== undefined && a.workload !== undefined)
      throw new UsageError('give either --trace or --workload, not both');
    if (a.trace === undefined && a.workload === undefined)
      throw new UsageError('give --trace FILE or --workload paper-synthetic');
    const memory = a.memory;
    const timeLimit = a['time-limit'];
    const lpShare = a['lp-share'];
    const orders = a['local-search'];
    const runs = given.has('local-search-runs') ? a['local-search-runs'] : undefined;
    if (orders === 0 && runs !== undefined)
      throw new UsageError('--local-search-runs needs the local search on (--local-search 0 turns it off)');
    let requests: RequestSpec[];
    let M: number;
    let description: string;
    if (a.trace !== undefined) {
      if (memory === undefined) throw new UsageError('--memory M is required with --trace');
      for (const k of ['seed', 'arrivals', 'requests'] as const)
        if (given.has(k)) throw new UsageError(`--${k} applies to --workload paper-synthetic only`);
      const file = a.trace;
      requests = readTraceFileSync(file, { mode: 'rounds', memory }).requests;
      M = memory;
      description = `${file}, ${requests.length} requests`;
    } else {
      const { seed, arrivals } = a;
      const n = a.requests;
      const wl = paperSynthetic({
        seed,
        arrivals,
        mode: 'rounds',
        ...(n !== undefined ? { requests: n } : {}),
        ...(memory !== undefined ? { memory } : {}),
      });
      requests = wl.requests;
      M = wl.memory;
      description = `paper-synthetic seed ${seed}, ${arrivals} arrivals, ${requests.length} requests`;
    }
    if (requests.length === 0) throw new InputError(description, null, null, 'no requests');
    const progress = progressLine(io, a.quiet);
    progress.note(`kvsched: ${description}, M = ${M}, time limit ${timeLimit} s`);

    const res: OptimumResult = await solveOptimum(
      { memory: M, requests },
      {
        timeLimitSec: timeLimit,
        lpShare,
        ...(orders === 0
          ? { localSearch: false }
          : orders === undefined && runs === undefined
            ? {}
            : {
                localSearch: {
                  ...(orders !== undefined ? { iterations: orders } : {}),
                  ...(runs !== undefined ? { runs } : {}),
                },
                localSearchShare: 1,
              }),
        onProgress: (p) =>
          progress.show(
            `  best ${count(p.bestObjective)}, bound ${count(Math.ceil(p.lowerBound))}, ${count(p.nodes)} nodes, ${fixed(p.seconds, 1)} s`,
          ),
      },
    );
    progress.clear();

    const lb = Math.ceil(res.lowerBound - 1e-9);
    const gap = res.objective > 0 ? (res.objective - lb) / res.objective : 0;
    const n = requests.length;
    const lines = [
      `status      ${res.status}${res.stats.stoppedBy === 'depth' ? ' (the search ran out of stack depth on this long horizon: best schedule and root bound shown)' : ''}`,
      `objective   ${res.objective} (mean latency ${fixed(res.objective / n, 3)} rounds)`,
      `lower bound ${lb}${res.status === 'optimal' ? (res.stats.lpBound !== null ? ' (proved by the LP bound)' : '') : ` (gap ${fixed(100 * gap, 2)} %, from the ${res.stats.boundFrom === 'lp' ? 'LP with clique cuts' : 'branch and bound'})`}`,
      `seconds     ${fixed(res.seconds, 2)}  (${res.stats.nodes} nodes)`,
      `incumbent   ${res.stats.incumbentPolicy} ${res.stats.incumbent}${
        res.stats.localSearch === null
          ? ''
          : `, local search over start orders → ${res.stats.localSearch.value} (${res.stats.localSearch.runs} run${res.stats.localSearch.runs === 1 ? '' : 's'}, ${res.stats.localSearch.iterations} orders, ${fixed(res.stats.localSearch.seconds, 2)} s)`
      }`,
      '',
    ];
    io.out(lines.join('\n') + '\n');
    // "OPT" only when proved; otherwise the ratio is to the best schedule found (an upper bound on OPT).
    const ratioHeader = res.status === 'optimal' ? 'ratio to OPT' : 'ratio to best found';
    io.out(
      table(
        ['policy', 'total latency (rounds)', 'mean latency (rounds)', ratioHeader],
        res.stats.policies.map((q) =>
          q.total === null
            ? [q.policy, `failed: ${/livelock/i.test(q.error ?? '') ? 'livelock' : 'stuck'} (below)`, '—', '—']
            : [q.policy, count(q.total), fixed(q.total / n, 3), fixed(q.total / res.objective, 4)],
        ),
      ),
    );
    for (const q of res.stats.policies)
      if (q.total === null) io.out(`${q.policy}: ${q.error ?? 'failed (stuck or livelock)'}\n`);
    if (a.out !== undefined) {
      const byId = [...requests].sort((x, y) => x.id - y.id);
      const parts = [
        `{"status":${JSON.stringify(res.status)},"stoppedBy":${JSON.stringify(res.stats.stoppedBy)},"boundFrom":${JSON.stringify(res.stats.boundFrom)},"objective":${res.objective},"lowerBound":${lb},"seconds":${Math.round(res.seconds * 1000) / 1000},"memory":${M},"method":${JSON.stringify(res.method)},"requests":[`,
        byId.map((r) => `{"id":${r.id},"start":${res.starts[r.id]},"completion":${res.completions[r.id]}}`).join(','),
        `],"policies":${JSON.stringify(res.stats.policies)},"localSearch":${JSON.stringify(res.stats.localSearch)}}\n`,
      ];
      const w = writeResult(a.out, parts.join(''), 'optimum');
      if (!w.ok) throw new CliError(w.message);
      progress.note(`kvsched: ${w.message}`);
    }
    return 0;
  },
};
