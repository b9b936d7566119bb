/**
 * Downloads from the app: CSV of a results table and of a sweep (every metric). Cells
 * are the stored numbers (full precision), headers carry the units; the per-request CSV
 * comes from the worker (src/worker/runner.ts requestsCsv).
 */
import { csvField } from '../metrics/requests-csv.ts';
import type { RunSummary } from '../metrics/summary.ts';
import type { CapacityResult, ExperimentResult, SweepResult } from '../worker/protocol.ts';
import { SWEEP_METRICS } from '../worker/protocol.ts';

export function downloadText(name: string, text: string, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function cell(v: string | number | null): string {
  return v === null ? '' : csvField(String(v));
}

const SUMMARY_COLUMNS = [
  ['meanLatency', 'mean_latency'],
  ['p50Latency', 'p50_latency'],
  ['p90Latency', 'p90_latency'],
  ['p99Latency', 'p99_latency'],
  ['meanTtft', 'mean_ttft'],
  ['p99Ttft', 'p99_ttft'],
  ['throughput', 'throughput_tokens_per_unit'],
  ['evictions', 'evictions'],
  ['peakKv', 'peak_kv_tokens'],
  ['energyJoules', 'energy_j'],
] as const;

/** Token level (issue 15): after the older columns and `error`, so that their positions stay. */
const TOKEN_COLUMNS = [
  ['p50Tbt', 'p50_tbt'],
  ['p90Tbt', 'p90_tbt'],
  ['p99Tbt', 'p99_tbt'],
  ['maxTbt', 'max_stall'],
  ['meanTpot', 'mean_tpot'],
  ['p99Tpot', 'p99_tpot'],
  ['meanNormLatency', 'mean_latency_per_token'],
] as const;

/** A stored metric as a cell: NaN (not recorded) and absent (older runs) are empty, never "NaN". */
function metric(v: number | null | undefined): number | null {
  return v === undefined || v === null || Number.isNaN(v) ? null : v;
}

/** The results table as CSV: one row per policy, times in the run's unit (named in the header). */
export function resultsCsv(r: ExperimentResult): string {
  const unit = r.mode === 'seconds' ? 's' : 'rounds';
  const head = [
    'policy',
    'ok',
    ...SUMMARY_COLUMNS.map(([k, name]) =>
      /latency|ttft/.test(name)
        ? `${name}_${unit}`
        : k === 'throughput'
          ? `throughput_tokens_per_${r.mode === 'seconds' ? 's' : 'round'}`
          : name,
    ),
    'error',
    ...TOKEN_COLUMNS.map(([, name]) => `${name}_${unit}`),
  ];
  const slo = r.runs.some((x) => x.ok && x.slo);
  const reps = r.runs.some((x) => x.ok && x.replicas);
  if (slo) head.push('slo', 'slo_attainment', 'slo_percentiles_met');
  if (reps) head.push('replica');
  const rows: (string | number | null)[][] = [];
  for (const run of r.runs) {
    if (!run.ok) {
      rows.push([run.policy, 'false', ...SUMMARY_COLUMNS.map(() => null), run.error]);
      rows[rows.length - 1]?.push(...TOKEN_COLUMNS.map(() => null));
      continue;
    }
    // Older stored runs lack the token columns: read as possibly absent.
    const values = (s: RunSummary) => [
      ...SUMMARY_COLUMNS.map(([k]) => metric(s[k])),
      '',
      ...TOKEN_COLUMNS.map(([k]) => metric((s as Partial<RunSummary>)[k])),
    ];
    const o = run.slo;
    const sloCells = slo ? [o?.slo ?? null, metric(o?.attainment), o ? String(o.percentilesMet) : null] : [];
    rows.push([run.policy, 'true', ...values(run.summary), ...sloCells, ...(reps ? ['all'] : [])]);
    run.replicas?.summaries.forEach((s, k) =>
      rows.push([run.policy, 'true', ...values(s), ...(slo ? [null, null, null] : []), String(k)]),
    );
  }
  return [head, ...rows].map((row) => row.map(cell).join(',')).join('\n') + '\n';
}

/** A sweep as CSV: one row per policy and rate, every metric kept. */
export function sweepCsv(s: SweepResult): string {
  const metrics = SWEEP_METRICS.filter((m) => s.series.every((x) => Array.isArray(x[m])));
  const head = ['policy', 'rate', ...metrics];
  const rows: (string | number | null)[][] = [];
  for (const x of s.series)
    s.rates.forEach((rate, i) => rows.push([x.policy, rate, ...metrics.map((m) => x[m]?.[i] ?? null)]));
  return [head, ...rows].map((row) => row.map(cell).join(',')).join('\n') + '\n';
}

/** A capacity search as CSV: one row per probe, in the order probed, with its policy's capacity and bracket. */
export function capacityCsv(r: CapacityResult): string {
  const head = [
    'policy',
    'slo',
    'target_attainment',
    'capacity_req_per_s',
    'bracket_met_req_per_s',
    'bracket_missed_req_per_s',
    'probe',
    'rate_req_per_s',
    'met',
    'attainment',
    'percentiles_met',
    'failure',
  ];
  const rows: (string | number | null)[][] = [];
  for (const p of r.policies)
    p.probes.forEach((q, i) =>
      rows.push([
        p.policy,
        r.slo,
        r.attainment,
        p.capacity,
        p.lo,
        p.hi,
        i + 1,
        q.rate,
        String(q.met),
        metric(q.attainment),
        String(q.percentilesMet),
        q.failure ?? null,
      ]),
    );
  return [head, ...rows].map((row) => row.map(cell).join(',')).join('\n') + '\n';
}
