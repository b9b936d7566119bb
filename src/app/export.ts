/**
 * Downloads from the app: CSV of a results table and of a sweep (every metric). Cells
 * are the stored numbers (full precision), headers carry the units; the per-request CSV
 * comes from the worker (src/worker/runner.ts requestsCsv).
 */
import type { ExperimentResult, SweepResult } from '../worker/protocol.ts';
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
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
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
  ];
  const rows = r.runs.map((run) =>
    run.ok
      ? [run.policy, 'true', ...SUMMARY_COLUMNS.map(([k]) => run.summary[k]), '']
      : [run.policy, 'false', ...SUMMARY_COLUMNS.map(() => null), run.error],
  );
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
