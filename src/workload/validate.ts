import type { RequestSpec } from '../model/types.ts';
import { InputError } from './errors.ts';

/** Largest token count or memory accepted anywhere: keeps every sum a GPU engine forms in 32-bit range. */
export const MAX_TOKENS = 0x7fffffff;

/** Throws an InputError unless `value` is an integer in [min, MAX_TOKENS]. */
export function checkIntOption(value: unknown, source: string, field: string, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_TOKENS) {
    throw new InputError(source, null, field, `must be an integer in [${min}, ${MAX_TOKENS}], got ${String(value)}`);
  }
  return value;
}

/** Throws an InputError unless `value` is a positive finite number. */
export function checkPositiveOption(value: unknown, source: string, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InputError(source, null, field, `must be a positive number, got ${String(value)}`);
  }
  return value;
}

/**
 * The capacity check: a request's KV cache peaks at s + o tokens (its last round), so
 * an instance is feasible only if s + o ≤ M for every request. Throws an InputError
 * naming the peak and M; `line` is the trace line, or null for generated requests (the
 * message then names the request id).
 */
export function checkPeak(r: RequestSpec, memory: number, source: string, line: number | null): void {
  const peak = r.prompt + r.output;
  if (peak > memory) {
    const who = line === null ? `request ${r.id}: ` : '';
    throw new InputError(
      source,
      line,
      null,
      `${who}peak KV cache s + o = ${r.prompt} + ${r.output} = ${peak} tokens exceeds M = ${memory}`,
    );
  }
}

/**
 * Validates a whole instance before it reaches an engine: memory M is an integer ≥ 1;
 * every request has integer fields, prompt, output and predicted ≥ 1, arrival ≥ 0;
 * arrivals are non-decreasing in array order; and s + o ≤ M. Throws the first
 * violation as an InputError (`source` is its `file`; `lineOf(i)` maps the array index
 * to a file line when the requests came from a file).
 */
export function validateInstance(
  requests: readonly RequestSpec[],
  memory: number,
  source: string,
  lineOf?: (index: number) => number,
): void {
  checkIntOption(memory, source, 'memory');
  let prev = 0;
  requests.forEach((r, i) => {
    const line = lineOf ? lineOf(i) : null;
    const who = line === null ? `request ${r.id}: ` : '';
    const fields: [keyof RequestSpec, number][] = [
      ['id', 0],
      ['arrival', 0],
      ['prompt', 1],
      ['output', 1],
      ['predicted', 1],
    ];
    for (const [field, min] of fields) {
      const v = r[field];
      if (!Number.isSafeInteger(v) || v < min) {
        throw new InputError(source, line, field, `${who}must be an integer ≥ ${min}, got ${v}`);
      }
    }
    if (r.arrival < prev) {
      throw new InputError(source, line, 'arrival', `${who}arrival ${r.arrival} is earlier than the previous request's ${prev} (arrivals must be non-decreasing)`);
    }
    prev = r.arrival;
    checkPeak(r, memory, source, line);
  });
}
