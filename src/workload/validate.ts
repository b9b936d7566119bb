import { LIMITS, limitText, rangeProblem, type LimitName } from '../model/limits.ts';
import type { RequestSpec } from '../model/types.ts';
import { InputError } from './errors.ts';

/** Largest token count or memory accepted anywhere (src/model/limits.ts). */
export const MAX_TOKENS = LIMITS.tokens.max;

/** Throws an InputError unless `value` is an integer in [min, max] (max: MAX_TOKENS unless given). */
export function checkIntOption(
  value: unknown,
  source: string,
  field: string,
  min = 1,
  max: number = MAX_TOKENS,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InputError(
      source,
      null,
      field,
      `must be an integer in [${min}, ${limitText(max)}], got ${String(value)}`,
    );
  }
  return value;
}

/** Number of requests of an instance, in LIMITS.requests. */
export function checkRequestCount(value: unknown, source: string, field = 'requests', min = 1): number {
  return checkIntOption(value, source, field, min, LIMITS.requests.max);
}

/** An InputError naming `field` when `x` is outside the named range; `unit` follows the value. */
export function checkLimit(
  name: LimitName,
  x: number,
  source: string,
  line: number | null,
  field: string,
  unit = '',
): number {
  const why = rangeProblem(name, x);
  if (why !== null) throw new InputError(source, line, field, `${why}${unit}`);
  return x;
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
    if (!Number.isSafeInteger(r.id) || r.id < 0)
      throw new InputError(source, line, 'id', `${who}must be an integer ≥ 0, got ${r.id}`);
    const fields: [keyof RequestSpec, LimitName][] = [
      ['arrival', 'time'],
      ['prompt', 'tokens'],
      ['output', 'tokens'],
      ['predicted', 'tokens'],
    ];
    for (const [field, range] of fields) {
      const why = rangeProblem(range, r[field]);
      if (why !== null) throw new InputError(source, line, field, `${who}${why}`);
    }
    if (r.arrival < prev) {
      throw new InputError(
        source,
        line,
        'arrival',
        `${who}arrival ${r.arrival} is earlier than the previous request's ${prev} (arrivals must be non-decreasing)`,
      );
    }
    prev = r.arrival;
    checkPeak(r, memory, source, line);
  });
}
