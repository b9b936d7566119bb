import type { SimulationResult } from '../engine/engine.ts';
import { microsToSeconds } from '../model/types.ts';

/**
 * The per-request CSV, declared once: `kvsched simulate --csv-requests` and the app's
 * "Download per-request data" write the same columns from the same rows. Times are in the
 * run's unit (seconds in seconds mode, rounds otherwise); energy in joules, rounded to
 * 1 µJ (the attribution's float sums carry noise below that).
 */
export const REQUEST_CSV_COLUMNS = [
  'policy',
  'id',
  'arrival',
  'prompt_tokens',
  'output_tokens',
  'predicted_output_tokens',
  'start',
  'first_token',
  'completion',
  'latency',
  'ttft',
  'restarts',
  'energy_j',
] as const;

/**
 * The header; a run with replicas adds a last column, `replica`, the replica each request
 * was routed to (src/engine/replicas.ts).
 */
export function requestCsvHeader(replicas: boolean): string {
  return [...REQUEST_CSV_COLUMNS, ...(replicas ? ['replica'] : [])].join(',');
}

/** A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * One run's requests as CSV lines (no header), each ending in a newline, in completion
 * order; `assignment` (by request id): the replica column of a replicated run.
 */
export function* requestCsvLines(r: SimulationResult, assignment?: ArrayLike<number>): Generator<string, void, void> {
  const t = r.mode === 'seconds' ? microsToSeconds : (x: number) => x;
  const policy = csvField(r.policy);
  for (const q of r.requests) {
    yield (
      `${policy},${q.id},${t(q.arrival)},${q.prompt},${q.output},${q.predicted},${t(q.start)},` +
      `${t(q.firstToken)},${t(q.completion)},${t(q.completion - q.arrival)},${t(q.firstToken - q.arrival)},` +
      `${q.restarts},${Math.round(q.joules * 1e6) / 1e6}${assignment ? `,${assignment[q.id]}` : ''}\n`
    );
  }
}
