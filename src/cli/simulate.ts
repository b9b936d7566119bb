import type { SimulationResult } from '../engine/engine.ts';
import { runPolicy, type PolicyOutcome, type ReplicaBreakdown } from '../experiment/run.ts';
import { buildInstance, type InstanceOptions, type WorkloadSpec } from '../experiment/instance.ts';
import { kvTimeline, type RunSummary } from '../metrics/summary.ts';
import { checkSloMode, evaluateSlo, type SloOutcome } from '../metrics/slo.ts';
import { requestCsvHeader, requestCsvLines } from '../metrics/requests-csv.ts';
import { microsToSeconds, type TimeMode } from '../model/types.ts';
import { POLICIES } from '../policies/registry.ts';
import { formatPredictionSpec } from '../workload/index.ts';
import { readTextFileSync } from '../workload/node-files.ts';
import { gpuRouterRefusal, runPoliciesOnEngine } from '../gpu-engine/run-cells.ts';
import { checkArrivalSpan } from './ranges.ts';
import { count, fixed, table, timeDigits } from './format.ts';
import { checkGpuPolicies, cliGpuEngine } from './gpu.ts';
import { UsageError, type CliIo, type Command } from './io.ts';
import { choice, defineCommand, flag, helpText, int, OPT, parseOptions } from './options.ts';
import { runPoliciesInWorkers } from './policy-pool.ts';
import { OutFile } from './out-file.ts';
import { progressLine } from './progress.ts';

export const SIMULATE = defineCommand({
  name: 'simulate',
  summary: 'run policies on a workload and print their metrics',
  usage: ['[--workload lmsys|paper-synthetic | --trace FILE] [options]'],
  options: {
    workload: choice(
      ['lmsys', 'paper-synthetic'] as const,
      'lmsys: the LMSYS-Chat-1M lognormal stand-in (prompt ~ LogN(ln 11, 1.616), output ~ LogN(ln 45, 1.131), ' +
        "s + o ≤ 4096, Poisson arrivals); paper-synthetic: the paper's synthetic instance (M ~ U{30..50}, " +
        'n ~ U{40..60}, s ~ U{1..5}, o ~ U{1..M−s})',
    ).withDefault('lmsys'),
    trace: OPT.trace.withHelp(
      'a trace CSV instead of a workload: arrived_at,num_prefill_tokens,num_decode_tokens' +
        "[,predicted_decode_tokens] (Vidur's format; arrived_at in seconds, or whole rounds with --time rounds)",
    ),
    time: OPT.time.withHelp(
      "rounds: one round = one time unit (the paper's theory); seconds: each round lasts what " +
        'the cost model gives for its batch (default: seconds, rounds for paper-synthetic)',
    ),
    memory: OPT.memory.withHelp('KV capacity in tokens, 2..2147483647 (default 16492; paper-synthetic: drawn)'),
    policy: OPT.policies,
    rate: OPT.rate.withHelp('lmsys arrival rate per time unit, > 0 and ≤ 1000000').withDefault(50),
    arrivals: OPT.arrivals,
    requests: OPT.requests(100_000_000).withHelp(
      'number of requests, 1..100,000,000 (default: lmsys 10000; ' + 'paper-synthetic: drawn)',
    ),
    seed: OPT.seed,
    predict: OPT.predict,
    'cost-model': OPT.costModel,
    out: OPT.out.withHelp('write every run as JSON: per-request schedule, summary, per-round KV timeline'),
    'no-rounds': flag('leave the per-round timeline out of --out (smaller files)'),
    csv: OPT.out.withHelp(
      "write the results table as CSV: one row per policy, full precision, times in the run's unit",
    ),
    'csv-requests': OPT.out.withHelp(
      'write the per-request data of every policy as CSV (policy,id,arrival,…,completion,' +
        "latency,ttft,restarts,joules; times in the run's unit)",
    ),
    engine: OPT.engine.withHelp(
      'cpu: the reference engine; gpu: the WebGPU engine (src/gpu-engine), every policy a ' +
        'replica of one GPU job — same schedules, no per-round timeline, per-request energy 0; refuses (never falls ' +
        'back) what it cannot run',
    ),
    threads: int(
      'N',
      "run the CPU engine's policies in N worker threads, 1..64 (identical results; each thread " +
        'rebuilds the instance and warms up its own JIT, so it pays only with idle cores; not with --out)',
      1,
      64,
    ).withDefault(1),
    replicas: OPT.replicas.withHelp(OPT.replicas.help + ' (--engine gpu: round-robin and random routers only)'),
    router: OPT.router,
    slo: OPT.slo.withHelp(OPT.slo.help + '; adds the attainment per policy to the table and the JSON'),
    quiet: OPT.quiet,
  },
  epilogue: `Policies:
${POLICIES.map((p) => `  ${p.usage.padEnd(28)}${p.summary}`).join('\n')}

Output: one row per policy. Latency = completion − arrival, TTFT = first token − arrival, in the
run's unit (s or rounds); throughput = output tokens per time unit; KV in tokens; energy in kJ
(2×A100 power model: 400 W per GPU while a round runs, 60 W idle; in rounds mode each round's
energy uses the cost model's duration of its batch, and there is no idle time).
A second table gives token-level metrics: TBT = time between consecutive tokens of a request
(percentiles over all gaps; max stall = the longest), TPOT = (completion − first token)/(o − 1)
per request, normalised latency = latency / o; with --slo, the attainment and whether every
percentile bound holds. The GPU engine records no token times: its TBT is shown as —.
With --replicas K: a row for all replicas together (latencies over all requests; totals summed,
makespan and peak KV the largest of any replica), then one row per replica. The GPU engine
runs round-robin and random routing (the trace is split as the CPU engine routes it, the
results are the same), not least-outstanding (it routes by the replicas' state).
Exit status: 0 all runs completed, 1 some policy got stuck or livelocked (its reason on stderr),
2 bad input, 3 --engine gpu without a usable adapter.`,
});

export const simulateCommand: Command = {
  name: SIMULATE.name,
  summary: SIMULATE.summary,
  spec: SIMULATE,
  help: helpText(SIMULATE),
  async run(argv: string[], io: CliIo): Promise<number> {
    const { help, values: a, given } = parseOptions(SIMULATE, argv);
    if (help) {
      io.out(helpText(SIMULATE));
      return 0;
    }
    if (a.trace !== undefined && given.has('workload'))
      throw new UsageError('give either --workload or --trace, not both');
    const kind = a.trace !== undefined ? 'trace' : a.workload;
    const mode: TimeMode = a.time ?? (kind === 'paper-synthetic' ? 'rounds' : 'seconds');
    if (given.has('rate') && kind !== 'lmsys') throw new UsageError('--rate applies to --workload lmsys only');
    if (given.has('arrivals') && kind !== 'paper-synthetic')
      throw new UsageError('--arrivals applies to --workload paper-synthetic only');
    if (a.requests !== undefined && kind === 'trace')
      throw new UsageError('--requests does not apply to a trace (it has its own rows)');
    const files = [
      ['out', a.out],
      ['csv', a.csv],
      ['csv-requests', a['csv-requests']],
    ] as const;
    for (const [i, [name, f]] of files.entries()) {
      for (const [other, g] of files.slice(i + 1)) {
        if (f !== undefined && g !== undefined && f.kind === 'regular' && f.real === g.real) {
          throw new UsageError(`--${name} and --${other} name the same file`);
        }
      }
    }
    const policies = a.policy;
    const costModel = a['cost-model'];
    const progress = progressLine(io, a.quiet);
    if (a.engine === 'gpu' && a.replicas > 1) {
      const why = gpuRouterRefusal(a.router);
      if (why !== undefined)
        throw new UsageError(`--engine gpu --replicas: ${why}; use --engine cpu, or --router round-robin or random`);
    }
    if (a.engine === 'gpu' && a.slo?.terms.some((t) => t.metric === 'tbt')) {
      // Attainment would be unknown and a percentile bound neither met nor missed.
      throw new UsageError(
        '--slo: tbt needs the time of every token, which the GPU engine does not record; use --engine cpu',
      );
    }
    if (given.has('router') && a.replicas === 1) throw new UsageError('--router needs --replicas K with K ≥ 2');
    const replicas = a.replicas > 1 ? { replicas: a.replicas, router: a.router, seed: a.seed } : undefined;
    if (a.slo !== undefined) {
      try {
        checkSloMode(a.slo, mode);
      } catch (e) {
        throw new UsageError(`--slo: ${(e as Error).message}`);
      }
    }

    let workload: WorkloadSpec;
    if (kind === 'trace') {
      const file = a.trace as string;
      workload = { kind: 'trace', fileName: file, text: readTextFileSync(file) };
    } else if (kind === 'paper-synthetic') {
      workload = {
        kind: 'paper-synthetic',
        arrivals: a.arrivals,
        ...(a.requests !== undefined ? { requests: a.requests } : {}),
      };
    } else {
      const requests = a.requests ?? 10_000;
      checkArrivalSpan(requests, a.rate, mode, '--rate');
      workload = { kind: 'lmsys', requests, rate: a.rate };
    }
    const instanceOptions: InstanceOptions = {
      workload,
      mode,
      seed: a.seed,
      predict: a.predict,
      ...(a.memory !== undefined ? { memory: a.memory } : {}),
    };
    const instance = buildInstance(instanceOptions);
    if (given.has('threads') && (a.engine === 'gpu' || a.out !== undefined || a['csv-requests'] !== undefined)) {
      throw new UsageError(`--threads applies to the CPU engine without --out or --csv-requests`);
    }
    // Policies in parallel threads: each rebuilds the instance, so only instances that are
    // stored (not streamed: ≤ 200,000 requests) and runs without --out (summaries only).
    const threads = instance.size <= 200_000 ? Math.min(a.threads, policies.length) : 1;
    progress.note(`kvsched: ${instance.description}, ${mode} mode, cost model ${costModel.name}, ${a.engine} engine`);

    const rows: string[][] = [];
    const tokenRows: string[][] = [];
    let failed = 0;
    // Each run is written as soon as it finishes (and then dropped): a million-request run
    // per policy is never held all at once.
    if (a.engine === 'gpu') checkGpuPolicies(policies); // before any file or device is opened
    const writer = a.out !== undefined ? new OutFile(a.out) : undefined;
    const requestsCsv = a['csv-requests'] !== undefined ? new OutFile(a['csv-requests']) : undefined;
    requestsCsv?.write(`${requestCsvHeader(replicas !== undefined)}\n`);
    const summaries: { policy: string; summary: RunSummary }[] = [];
    let firstRun = true;
    /** A row for the table; false when the policy did not finish. */
    const emitSummary = (
      o: Pick<PolicyOutcome, 'policy'> &
        ({ ok: true; summary: RunSummary } | { ok: false; error: string; kind: string }),
    ): boolean => {
      if (!o.ok) {
        io.err(`kvsched: ${o.policy}: ${o.error}\n`);
        rows.push([o.policy, `${o.kind}: see stderr`]);
        failed++;
        return false;
      }
      rows.push(summaryRow(o.policy, o.summary, mode));
      summaries.push({ policy: o.policy, summary: o.summary });
      return true;
    };
    const emit = (o: PolicyOutcome): void => {
      if (!o.ok) {
        emitSummary(o);
        return;
      }
      const label = o.replicas ? `${o.policy} (${o.replicas.summaries.length} × ${o.replicas.router})` : o.policy;
      emitSummary({ ...o, policy: label });
      const slo = a.slo !== undefined ? evaluateSlo(o.result, a.slo) : undefined;
      tokenRows.push(tokenRow(label, o.summary, mode, slo));
      o.replicas?.summaries.forEach((s, k) => {
        rows.push(summaryRow(`  replica ${k} (${count(s.requests)} req)`, s, mode));
        tokenRows.push(tokenRow(`  replica ${k}`, s, mode, undefined));
      });
      if (requestsCsv) writeRequestsCsv(requestsCsv, o.result, o.replicas?.assignment);
      if (writer === undefined) return;
      if (!firstRun) writer.write(',');
      firstRun = false;
      writeRun(writer, o.result, o.summary, !a['no-rounds'], slo, o.replicas);
    };
    try {
      writer?.write(
        `{"workload":${JSON.stringify(instance.description)},"seed":${a.seed},"predict":${JSON.stringify(formatPredictionSpec(a.predict))},"runs":[`,
      );
      if (a.engine === 'gpu') {
        const gpu = await cliGpuEngine();
        const t0 = performance.now();
        const job = replicas
          ? `${policies.length} policies × ${replicas.replicas} replicas (${replicas.router})`
          : `${policies.length} policies`;
        const outcomes = await runPoliciesOnEngine(gpu, instance, policies, {
          costModel,
          ...(replicas ? { replicas } : {}),
          onProgress: (p) =>
            progress.show(
              `  GPU job (${job} as one job): ${count(p.completedRequests)}/${count(p.totalRequests)} requests done`,
            ),
        });
        progress.clear();
        progress.note(
          `  GPU job: ${job} ${replicas ? 'on' : '×'} ${count(instance.size)} requests in ${fixed((performance.now() - t0) / 1000, 2)} s wall`,
        );
        outcomes.forEach(emit);
      } else if (
        writer === undefined &&
        requestsCsv === undefined &&
        a.slo === undefined &&
        replicas === undefined &&
        threads > 1 &&
        policies.length > 1
      ) {
        const outcomes = await runPoliciesInWorkers(instanceOptions, costModel.name, policies, threads, (o, done) => {
          progress.clear();
          if (o.ok)
            progress.note(`  ${o.policy}: ${count(instance.size)} requests in ${fixed(o.wallSeconds, 2)} s wall`);
          progress.show(`  ${done}/${policies.length} policies done (${threads} threads)`);
        });
        progress.clear();
        for (const o of outcomes)
          if (emitSummary(o) && o.ok) tokenRows.push(tokenRow(o.policy, o.summary, mode, undefined));
      } else {
        for (const [i, spec] of policies.entries()) {
          const o = runPolicy(instance, spec, {
            costModel,
            keepRounds: writer !== undefined && !a['no-rounds'] && replicas === undefined,
            ...(replicas ? { replicas } : {}),
            onProgress: (p) => {
              const clock = mode === 'seconds' ? `${fixed(microsToSeconds(p.now), 1)} s` : `round ${count(p.round)}`;
              progress.show(
                `  ${spec} (${i + 1}/${policies.length}): ${count(p.completed)}/${count(instance.size)} done, ` +
                  `${count(p.running)} running, ${count(p.waiting)} waiting, ${clock}`,
              );
            },
          });
          progress.clear();
          if (o.ok)
            progress.note(`  ${spec}: ${count(o.summary.requests)} requests in ${fixed(o.wallSeconds, 2)} s wall`);
          emit(o);
        }
      }
      writer?.write(']}\n');
      writer?.close();
      requestsCsv?.close();
      if (a.csv !== undefined) {
        const csv = new OutFile(a.csv);
        csv.write(summaryCsv(summaries));
        csv.close();
      }
    } catch (e) {
      writer?.discard();
      requestsCsv?.discard();
      throw e;
    }
    const unit = mode === 'seconds' ? 's' : 'rounds';
    const perUnit = mode === 'seconds' ? 's' : 'round';
    io.out(
      table(
        [
          'policy',
          `mean lat (${unit})`,
          `p50 (${unit})`,
          `p90 (${unit})`,
          `p99 (${unit})`,
          `max (${unit})`,
          `mean TTFT (${unit})`,
          `makespan (${unit})`,
          `tok/${perUnit}`,
          'peak KV (tok)',
          'mean KV (tok)',
          'evictions',
          'energy (kJ)',
        ],
        rows,
      ),
    );
    if (tokenRows.length > 0) {
      io.out('\n');
      io.out(
        table(
          [
            'policy',
            `p50 TTFT (${unit})`,
            `p99 TTFT (${unit})`,
            `p50 TBT (${unit})`,
            `p90 TBT (${unit})`,
            `p99 TBT (${unit})`,
            `max stall (${unit})`,
            `mean TPOT (${unit})`,
            `p50 TPOT (${unit})`,
            `p90 TPOT (${unit})`,
            `p99 TPOT (${unit})`,
            `mean lat/tok (${unit})`,
            `p99 lat/tok (${unit})`,
            ...(a.slo !== undefined ? ['SLO attainment', 'SLO pct bounds'] : []),
          ],
          tokenRows,
        ),
      );
      if (a.slo !== undefined) {
        io.out(
          `SLO ${a.slo.text}: attainment = fraction of requests meeting every per-request bound; pct bounds = ` +
            'whether every percentile bound holds (met, missed, none)\n',
        );
      }
    }
    for (const f of [a.out, a.csv, a['csv-requests']]) if (f !== undefined) progress.note(`kvsched: wrote ${f.given}`);
    return failed > 0 ? 1 : 0;
  },
};

function summaryRow(spec: string, s: RunSummary, mode: TimeMode): string[] {
  const d = timeDigits(mode);
  return [
    spec,
    fixed(s.meanLatency, d),
    fixed(s.p50Latency, d),
    fixed(s.p90Latency, d),
    fixed(s.p99Latency, d),
    fixed(s.maxLatency, d),
    fixed(s.meanTtft, d),
    fixed(s.makespan, d),
    fixed(s.throughput, 1),
    count(s.peakKv),
    count(s.meanKv),
    count(s.evictions),
    fixed(s.energyJoules / 1000, 1),
  ];
}

const SUMMARY_COLUMNS = [
  'meanLatency',
  'p50Latency',
  'p90Latency',
  'p99Latency',
  'maxLatency',
  'meanTtft',
  'p50Ttft',
  'p90Ttft',
  'p99Ttft',
  'maxTtft',
  'makespan',
  'throughput',
  'rounds',
  'peakKv',
  'meanKv',
  'evictions',
  'restartedRequests',
  'energyJoules',
  'joulesPerRequest',
  'requests',
] as const satisfies readonly (keyof RunSummary)[];

/** The results table as CSV (RFC 4180: a policy spec has no comma or quote, so no quoting is needed). */
function summaryCsv(rows: readonly { policy: string; summary: RunSummary }[]): string {
  const lines = [['policy', ...SUMMARY_COLUMNS].join(',')];
  for (const r of rows) lines.push([r.policy, ...SUMMARY_COLUMNS.map((k) => String(r.summary[k]))].join(','));
  return lines.join('\n') + '\n';
}

/** One run's requests as CSV rows (src/metrics/requests-csv.ts). */
function writeRequestsCsv(w: OutFile, r: SimulationResult, assignment?: Int32Array): void {
  for (const line of requestCsvLines(r, assignment)) w.write(line);
}

function tokenRow(spec: string, s: RunSummary, mode: TimeMode, slo: SloOutcome | undefined): string[] {
  const d = timeDigits(mode);
  const row = [
    spec,
    fixed(s.p50Ttft, d),
    fixed(s.p99Ttft, d),
    fixed(s.p50Tbt, d),
    fixed(s.p90Tbt, d),
    fixed(s.p99Tbt, d),
    fixed(s.maxTbt, d),
    fixed(s.meanTpot, d),
    fixed(s.p50Tpot, d),
    fixed(s.p90Tpot, d),
    fixed(s.p99Tpot, d),
    fixed(s.meanNormLatency, d),
    fixed(s.p99NormLatency, d),
  ];
  if (slo) {
    const pct = slo.percentiles;
    row.push(fixed(slo.attainment, 4), pct.length === 0 ? 'none' : pct.every((p) => p.met) ? 'met' : 'missed');
  }
  return row;
}

/** One run as JSON, requests by id; times in seconds (seconds mode) or rounds. */
function writeRun(
  w: OutFile,
  r: SimulationResult,
  s: RunSummary,
  withRounds: boolean,
  slo?: SloOutcome,
  replicas?: ReplicaBreakdown,
): void {
  const unit = r.mode === 'seconds' ? microsToSeconds : (x: number) => x;
  w.write(
    `{"policy":${JSON.stringify(r.policy)},"memory":${r.memory},"timeUnit":"${r.mode}","costModel":${JSON.stringify(r.costModel)},"requests":[`,
  );
  let firstReq = true;
  for (const q of r.requests) {
    const maxGap = q.maxGap === undefined || Number.isNaN(q.maxGap) ? 'null' : String(unit(q.maxGap));
    const replica = replicas ? `,"replica":${replicas.assignment[q.id]}` : '';
    w.write(
      `${firstReq ? '' : ','}{"id":${q.id},"arrival":${unit(q.arrival)},"prompt":${q.prompt},"output":${q.output},"predicted":${q.predicted},"start":${unit(q.start)},"firstToken":${unit(q.firstToken)},"completion":${unit(q.completion)},"restarts":${q.restarts},"joules":${round6(q.joules)},"maxGap":${maxGap}${replica}}`,
    );
    firstReq = false;
  }
  w.write(`],"summary":${JSON.stringify(s)}`);
  if (slo) w.write(`,"slo":${JSON.stringify(slo)}`);
  if (replicas) {
    const per = replicas.summaries.map((summary, replica) => ({ replica, summary }));
    w.write(`,"router":${JSON.stringify(replicas.router)},"replicas":${JSON.stringify(per)}`);
  }
  const tl = withRounds ? kvTimeline(r) : null;
  if (tl) w.write(`,"rounds":${JSON.stringify(tl)}`);
  w.write('}');
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
