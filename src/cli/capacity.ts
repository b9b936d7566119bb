import { CAPACITY_DEFAULTS, policyCapacity, RescaledWorkload, type CapacitySearch } from '../experiment/capacity.ts';
import { buildInstance, type WorkloadSpec } from '../experiment/instance.ts';
import { readTextFileSync } from '../workload/node-files.ts';
import { formatPredictionSpec } from '../workload/index.ts';
import { count, fixed, table } from './format.ts';
import { UsageError, type CliIo, type Command } from './io.ts';
import { defineCommand, helpText, num, OPT, parseOptions } from './options.ts';
import { writeJsonResult } from './out-file.ts';
import { progressLine } from './progress.ts';

export const CAPACITY = defineCommand({
  name: 'capacity',
  summary: 'largest arrival rate at which each policy meets an SLO (bisection)',
  usage: ['--slo SLO [--policy LIST] [--attainment A] [--trace FILE | --requests N] [options]'],
  description:
    'For each policy, finds by bracketing and bisection the largest mean arrival rate (requests/s) at which the ' +
    "fraction of requests meeting the SLO's per-request bounds is at least --attainment and every percentile bound " +
    'holds. Every probe replays the same requests rescaled in time (the LMSYS stand-in drawn once, or the trace): ' +
    "arrival′ = round(arrival · ρ / rate), ρ = the instance's own mean rate (n − 1)/(last − first arrival). " +
    'From --rate-start the rate doubles while the SLO is met (halves while it is not), then the bracket is bisected ' +
    'until its width is ≤ tolerance × its top. A looser SLO never gives a lower capacity. Seconds mode only.',
  options: {
    policy: OPT.policies,
    slo: OPT.slo,
    attainment: OPT.attainment,
    trace: OPT.trace.withHelp(
      'rescale this trace CSV instead of the LMSYS stand-in (needs ≥ 2 distinct arrival times)',
    ),
    requests: OPT.requests(1_000_000)
      .withHelp('requests per probe of the LMSYS stand-in, 2..1,000,000')
      .withDefault(5000),
    memory: OPT.memory.withHelp('KV capacity in tokens, 2..2147483647 (default 16492)'),
    seed: OPT.seed,
    predict: OPT.predict,
    'cost-model': OPT.costModel,
    replicas: OPT.replicas.withHelp(OPT.replicas.help + '; the capacity is then of all K together'),
    router: OPT.router,
    'rate-start': num(
      'R',
      `first rate probed (requests/s), ≥ ${CAPACITY_DEFAULTS.minRate} and ≤ ${CAPACITY_DEFAULTS.maxRate}`,
      { min: CAPACITY_DEFAULTS.minRate, max: CAPACITY_DEFAULTS.maxRate },
    ).withDefault(CAPACITY_DEFAULTS.start),
    tolerance: num('T', 'relative width of the final bracket, in (0, 0.5]', { gt: 0, max: 0.5 }).withDefault(
      CAPACITY_DEFAULTS.tolerance,
    ),
    out: OPT.out.withHelp("write every policy's capacity, bracket and probes as JSON"),
    quiet: OPT.quiet,
  },
  epilogue: `Output: one row per policy: capacity = the largest probed rate that met the SLO (0: none did down to
${CAPACITY_DEFAULTS.minRate}/s), the final bracket [met, missed] ("—": met up to ${CAPACITY_DEFAULTS.maxRate}/s), the number of
probes (runs), and the attainment at the capacity. A probe where the policy got stuck counts as missed.
Exit status: 0 done, 2 bad input.`,
});

interface PolicyCapacity extends CapacitySearch {
  readonly policy: string;
}

export const capacityCommand: Command = {
  name: CAPACITY.name,
  summary: CAPACITY.summary,
  spec: CAPACITY,
  help: helpText(CAPACITY),
  async run(argv: string[], io: CliIo): Promise<number> {
    const { help, values: a, given } = parseOptions(CAPACITY, argv);
    if (help) {
      io.out(helpText(CAPACITY));
      return 0;
    }
    const slo = a.slo;
    if (slo === undefined) throw new UsageError('--slo is required (e.g. --slo ttft=2s,tpot=0.2s)');
    if (a.trace !== undefined && given.has('requests'))
      throw new UsageError('--requests does not apply to a trace (it has its own rows)');
    if (a.requests < 2) throw new UsageError('--requests: rescaling needs at least 2 requests');
    const progress = progressLine(io, a.quiet);
    if (given.has('router') && a.replicas === 1) throw new UsageError('--router needs --replicas K with K ≥ 2');
    const replicas = a.replicas > 1 ? { replicas: a.replicas, router: a.router, seed: a.seed } : undefined;
    const workload: WorkloadSpec =
      a.trace !== undefined
        ? { kind: 'trace', fileName: a.trace, text: readTextFileSync(a.trace) }
        : { kind: 'lmsys', requests: a.requests, rate: 1 };
    const base = buildInstance({
      workload,
      mode: 'seconds',
      seed: a.seed,
      predict: a.predict,
      ...(a.memory !== undefined ? { memory: a.memory } : {}),
    });
    const label =
      a.trace !== undefined ? `trace ${a.trace}` : `lmsys stand-in (${a.requests} requests, seed ${a.seed})`;
    const scaled = new RescaledWorkload([...base.requests()], base.memory, label);
    progress.note(
      `kvsched: capacity of ${label}, M = ${base.memory}, cost model ${a['cost-model'].name}, SLO ${slo.text} ` +
        `at attainment ≥ ${a.attainment}`,
    );

    const results: PolicyCapacity[] = [];
    for (const spec of a.policy) {
      const found = policyCapacity(scaled, spec, {
        costModel: a['cost-model'],
        slo,
        attainment: a.attainment,
        ...(replicas ? { replicas } : {}),
        search: { start: a['rate-start'], tolerance: a.tolerance },
        onProbe: (rate) => progress.show(`  ${spec}: probing ${fixed(rate, 3)} req/s`),
      });
      progress.clear();
      progress.note(`  ${spec}: capacity ${fixed(found.capacity, 3)} req/s after ${found.probes.length} probes`);
      results.push({ policy: spec, ...found });
    }
    io.out(
      table(
        [
          'policy',
          'capacity (req/s)',
          'bracket met (req/s)',
          'bracket missed (req/s)',
          'probes',
          'attainment at capacity',
        ],
        results.map((r) => {
          const at = r.probes.find((p) => p.rate === r.capacity && p.met);
          return [
            r.policy,
            // Met at every probe up to the search's limit: the capacity is at least this.
            `${r.hi === null ? '≥ ' : ''}${fixed(r.capacity, 3)}`,
            fixed(r.lo, 3),
            r.hi === null ? '—' : fixed(r.hi, 3),
            count(r.probes.length),
            at ? fixed(at.attainment, 4) : '—',
          ];
        }),
      ),
    );
    if (a.out !== undefined) {
      writeJsonResult(
        a.out,
        {
          command: 'capacity',
          workload: label,
          memory: base.memory,
          costModel: a['cost-model'].name,
          seed: a.seed,
          predict: formatPredictionSpec(a.predict),
          replicas: a.replicas,
          router: replicas ? a.router : null,
          slo: slo.text,
          attainment: a.attainment,
          tolerance: a.tolerance,
          policies: results.map((r) => ({
            policy: r.policy,
            capacity: r.capacity,
            bracket: [r.lo, r.hi],
            probes: r.probes.length,
            probeLog: r.probes,
          })),
        },
        'capacity',
        progress,
      );
    }
    return 0;
  },
};
