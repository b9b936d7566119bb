/**
 * The supported ranges of every integer the model takes, declared once. Entry points
 * (trace parser, generators, profile and bundle import, the app's upload, the CLI)
 * validate against these with a message naming the value and the limit; the engines
 * check requests with `checkRequest` (one validator, one set of messages) and treat any
 * time that leaves the safe-integer range as an error, never as a rounded number.
 *
 * Why these numbers:
 * - tokens (s, o, õ) and M ≤ 2³¹ − 1: the GPU engine's u32 sums and the Int32Array
 *   request tables of the theory code;
 * - times (arrival rounds or µs) ≤ 2⁵⁰ (≈ 35.7 years in µs): leaves 2⁵³ − 2⁵⁰ of head
 *   room for the schedule itself, so the engines' time sums stay exact;
 * - requests per instance ≤ 10⁷: what the engines hold in memory (about 100 B a request
 *   in the CPU engine's tables) with room on a default Node heap; the app's form allows
 *   the same;
 * - profile coefficients ≤ 10¹⁵ ps (1,000 s per unit): above anything measured, an
 *   emulated 80-layer Llama-2-70B on SwiftShader included (its per-token term has been
 *   measured at 240 s), and small enough that one unit's µs (10⁹) times a batch of
 *   M tokens still lands where the engines' time checks turn overflow into an error.
 */
import type { RequestSpec } from './types.ts';
import { groupedInt } from './number-format.ts';

export const LIMITS = {
  /** Prompt, output and predicted lengths (tokens). */
  tokens: { min: 1, max: 0x7fffffff },
  /** KV capacity M (tokens). */
  memory: { min: 2, max: 0x7fffffff },
  /** Arrival or any time, in rounds (rounds mode) or µs (seconds mode). */
  time: { min: 0, max: 2 ** 50 },
  /** Requests in one instance. */
  requests: { min: 1, max: 10_000_000 },
  /** A calibration profile's integer cost coefficients (picoseconds per unit). */
  coefficientPs: { min: 0, max: 1e15 },
} as const;

/**
 * The most bytes read from one input file (the CLI reads no more; the app checks
 * `File.size` first). A trace of LIMITS.requests rows is about 300 MB at most; a V8
 * string cannot exceed about 512 MB anyway. Profiles are a few hundred kB.
 */
export const MAX_FILE_BYTES = {
  trace: 256 * 2 ** 20,
  profile: 16 * 2 ** 20,
  bundle: 256 * 2 ** 20,
} as const;

/** Why a file of `size` bytes is not read at all (over the cap of its kind), or null. */
export function fileTooLarge(kind: keyof typeof MAX_FILE_BYTES, size: number, fileName: string): string | null {
  const max = MAX_FILE_BYTES[kind];
  return size > max ? `${fileName} is ${bytesText(size)}, more than the ${bytesText(max)} a ${kind} file may be` : null;
}

/** "256 MiB" */
export function bytesText(n: number): string {
  return n >= 2 ** 20 ? `${Math.round(n / 2 ** 20)} MiB` : `${n} bytes`;
}

export type LimitName = keyof typeof LIMITS;

/** A readable number: 2^50 and friends as powers, others with thousands separators. */
export function limitText(x: number): string {
  for (const p of [31, 50, 53]) if (x === 2 ** p) return `2^${p}`;
  if (x === 2 ** 31 - 1) return '2^31 − 1';
  return x >= 1e12 && Number.isInteger(Math.log10(x)) ? `1e${Math.log10(x)}` : groupedInt(x);
}

/** null when `x` is an integer in the named range; otherwise what is wrong, naming the value and the limit. */
export function rangeProblem(name: LimitName, x: number): string | null {
  const { min, max } = LIMITS[name];
  if (!Number.isInteger(x)) return `must be an integer, got ${x}`;
  if (x < min) return `must be ≥ ${limitText(min)}, got ${x}`;
  if (x > max) return `${x} exceeds the supported maximum ${limitText(max)}`;
  return null;
}

/** Throws a RangeError `what: …` unless `x` is in the named range. */
export function checkRange(name: LimitName, x: number, what: string): number {
  const p = rangeProblem(name, x);
  if (p !== null) throw new RangeError(`${what}: ${p}`);
  return x;
}

/**
 * The engines' request check (CPU engine, GPU engine, theory): integer fields in range,
 * arrival order (ties by id) and the capacity s + o ≤ M. `prev` is the previous request
 * of the stream, or undefined for the first.
 */
export function checkRequest(p: RequestSpec, memory: number, prev?: RequestSpec): void {
  if (prev !== undefined && (p.arrival < prev.arrival || (p.arrival === prev.arrival && p.id < prev.id))) {
    throw new Error(
      `requests must come in arrival order (ties by id): request ${p.id} (arrival ${p.arrival}) after request ${prev.id} (arrival ${prev.arrival})`,
    );
  }
  for (const f of ['prompt', 'output', 'predicted'] as const) {
    const why = rangeProblem('tokens', p[f]);
    if (why !== null) throw new RangeError(`request ${p.id}: ${f} ${why}`);
  }
  const why = rangeProblem('time', p.arrival);
  if (why !== null) throw new RangeError(`request ${p.id}: arrival ${why}`);
  if (p.prompt + p.output > memory) {
    throw new RangeError(`request ${p.id}: peak KV s + o = ${p.prompt + p.output} exceeds M = ${memory}`);
  }
}

/** Throws a RangeError unless `t` (a time the engine computed) is still exact. */
export function checkTime(t: number, what: string): number {
  if (!Number.isSafeInteger(t)) {
    throw new RangeError(
      `${what}: time ${t} is beyond 2^53 and cannot be represented exactly; the instance is outside the supported range (times ≤ 2^50)`,
    );
  }
  return t;
}
