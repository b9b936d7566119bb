/**
 * Workload generators (model.md §5). Pure and deterministic: the same options give
 * the same requests in Node and in a browser.
 *
 * Random streams. Each generator draws from independent sub-streams of the user seed
 * (rng.ts `deriveSeed`): `<gen>/sizes` for M, n and the (s, o) pairs, `<gen>/arrivals`
 * for the Poisson rate and gaps. Predictions use yet another stream (predictions.ts),
 * so changing the arrival model, the rate or the noise level leaves the sizes alone,
 * and vice versa.
 *
 * Arrivals: see time.ts. A Poisson process of rate λ starts at time 0 and its first
 * request arrives after one exponential gap: T_1 = E_1, T_i = T_{i−1} + E_i with
 * E_i ~ Exp(λ). Requests come out in arrival order with ids 0..n−1; generated
 * requests have exact predictions (predicted = output).
 */
import type { RequestSpec, TimeMode } from '../model/types.ts';
import { Rng, deriveSeed } from './rng.ts';
import { arrivalFromTime, checkTimeMode } from './time.ts';
import { LIMITS, limitText } from '../model/limits.ts';
import { checkIntOption, checkPositiveOption, checkRequestCount } from './validate.ts';
import { InputError } from './errors.ts';

/** A generated instance: the KV capacity M, the Poisson rate if any, and the requests. */
export interface Workload {
  readonly memory: number;
  /** Arrival rate λ per time unit (round or second); absent when all arrive at 0. */
  readonly rate?: number;
  readonly requests: RequestSpec[];
}

/** A generated arrival, refused (naming the rate) when it leaves the supported time range. */
function checkedArrival(t: number, mode: TimeMode, source: string, id: number, rate: number | undefined): number {
  const a = arrivalFromTime(t, mode);
  if (a <= LIMITS.time.max) return a;
  const unit = mode === 'rounds' ? 'rounds' : 'µs';
  throw new InputError(
    source,
    null,
    'rate',
    `λ = ${String(rate)} puts request ${id}'s arrival at ${a} ${unit}, beyond the supported maximum ${limitText(LIMITS.time.max)} ${unit}; use a larger rate`,
  );
}

function checkSeedOption(seed: unknown, source: string): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new InputError(source, null, 'seed', `must be an integer in [0, 4294967295], got ${String(seed)}`);
  }
  return seed;
}

// ---------------------------------------------------------------------------------
// The paper's synthetic instances.

export type PaperArrivals = 'zero' | 'poisson';

export interface PaperSyntheticOptions {
  /** Unsigned 32-bit seed. */
  readonly seed: number;
  /** `zero`: everything arrives at time 0 (semi-online); `poisson`: rate λ ~ U[0.5, 1.5] per time unit. */
  readonly arrivals: PaperArrivals;
  /** Number of requests n; default n ~ U{40..60}. */
  readonly requests?: number;
  /** KV capacity M (≥ 6 so that o ~ U{1..M−s} is never empty); default M ~ U{30..50}. */
  readonly memory?: number;
  readonly mode: TimeMode;
}

const PAPER = 'paper-synthetic';

/**
 * One instance of the paper's synthetic experiment: M ~ U{30..50}, n ~ U{40..60},
 * s_i ~ U{1..5}, o_i ~ U{1..M−s_i}; arrivals all at 0 or Poisson with λ ~ U[0.5, 1.5].
 *
 * Draw order on `paper/sizes`: M, n, then (s_i, o_i) for i = 0..n−1. M and n are drawn
 * even when given (and then replaced), so a given `memory` or `requests` keeps the rest
 * of the stream aligned with the default instance of the same seed. On
 * `paper/arrivals`: λ, then the n gaps (nothing is drawn for `zero`).
 */
export function paperSynthetic(opts: PaperSyntheticOptions): Workload {
  const r = resolvePaper(opts);
  const requests = Array.from(paperGen(r));
  return r.rate === undefined ? { memory: r.memory, requests } : { memory: r.memory, rate: r.rate, requests };
}

interface PaperResolved {
  seed: number;
  mode: TimeMode;
  memory: number;
  n: number;
  rate: number | undefined;
}

function resolvePaper(opts: PaperSyntheticOptions): PaperResolved {
  const seed = checkSeedOption(opts.seed, PAPER);
  const mode = checkTimeMode(opts.mode);
  if (opts.arrivals !== 'zero' && opts.arrivals !== 'poisson') {
    throw new InputError(PAPER, null, 'arrivals', `must be "zero" or "poisson", got ${JSON.stringify(opts.arrivals)}`);
  }
  const sizes = new Rng(deriveSeed(seed, 'paper/sizes'));
  const drawnM = sizes.int(30, 50);
  const drawnN = sizes.int(40, 60);
  const memory = opts.memory === undefined ? drawnM : checkIntOption(opts.memory, PAPER, 'memory', 6);
  const n = opts.requests === undefined ? drawnN : checkRequestCount(opts.requests, PAPER);
  const rate = opts.arrivals === 'poisson' ? new Rng(deriveSeed(seed, 'paper/arrivals')).uniform(0.5, 1.5) : undefined;
  return { seed, mode, memory, n, rate };
}

function* paperGen(o: PaperResolved): Generator<RequestSpec, void, undefined> {
  const sizes = new Rng(deriveSeed(o.seed, 'paper/sizes'));
  sizes.int(30, 50); // M and n were drawn first (resolvePaper): keep the stream aligned
  sizes.int(40, 60);
  let arrivalRng: Rng | undefined;
  if (o.rate !== undefined) {
    arrivalRng = new Rng(deriveSeed(o.seed, 'paper/arrivals'));
    arrivalRng.uniform(0.5, 1.5); // λ
  }
  let t = 0;
  for (let id = 0; id < o.n; id++) {
    const prompt = sizes.int(1, 5);
    const output = sizes.int(1, o.memory - prompt);
    if (arrivalRng !== undefined && o.rate !== undefined) t += arrivalRng.exponential(o.rate);
    yield { id, arrival: checkedArrival(t, o.mode, PAPER, id, o.rate), prompt, output, predicted: output };
  }
}

/**
 * The paper's synthetic instance as a lazy stream (same requests as `paperSynthetic`),
 * with its M and rate; options are checked at the call. For instances too large to hold.
 */
export function paperSyntheticStream(opts: PaperSyntheticOptions): {
  memory: number;
  rate?: number;
  size: number;
  requests: () => Generator<RequestSpec, void, undefined>;
} {
  const r = resolvePaper(opts);
  const base = { memory: r.memory, size: r.n, requests: () => paperGen(r) };
  return r.rate === undefined ? base : { ...base, rate: r.rate };
}

// ---------------------------------------------------------------------------------
// LMSYS-Chat-1M stand-in.

/** KV capacity of the paper's LMSYS experiment (Llama2-70B on two A100s), tokens. */
export const LMSYS_MEMORY = 16492;
/** Default context limit: a request with s + o above it is redrawn. */
export const LMSYS_MAX_CONTEXT = 4096;
/** Lognormal parameters fitted to the paper's LMSYS statistics (model.md §5). */
export const LMSYS_PROMPT = { mu: Math.log(11), sigma: 1.616 } as const;
export const LMSYS_OUTPUT = { mu: Math.log(45), sigma: 1.131 } as const;

export interface LmsysOptions {
  readonly seed: number;
  /** Number of requests; default 10,000. */
  readonly requests?: number;
  /** Poisson arrival rate per time unit (the paper: 50 /s high demand, 10 /s low). */
  readonly rate: number;
  readonly mode: TimeMode;
  /** Pairs with s + o above this are redrawn; default 4096; must be ≤ memory. */
  readonly maxContext?: number;
  /** KV capacity M reported with the instance; default LMSYS_MEMORY. */
  readonly memory?: number;
}

const LMSYS = 'lmsys';

interface LmsysResolved {
  seed: number;
  n: number;
  rate: number;
  mode: TimeMode;
  maxContext: number;
  memory: number;
}

function resolveLmsys(opts: LmsysOptions): LmsysResolved {
  const seed = checkSeedOption(opts.seed, LMSYS);
  const mode = checkTimeMode(opts.mode);
  const n = checkRequestCount(opts.requests ?? 10000, LMSYS, 'requests', 0);
  const rate = checkPositiveOption(opts.rate, LMSYS, 'rate');
  const maxContext = checkIntOption(opts.maxContext ?? LMSYS_MAX_CONTEXT, LMSYS, 'maxContext', 2);
  const memory = checkIntOption(opts.memory ?? LMSYS_MEMORY, LMSYS, 'memory');
  if (maxContext > memory) {
    throw new InputError(
      LMSYS,
      null,
      'maxContext',
      `${maxContext} exceeds the memory M = ${memory}: some requests could never run`,
    );
  }
  return { seed, n, rate, mode, maxContext, memory };
}

function* lmsysGen(o: LmsysResolved): Generator<RequestSpec, void, undefined> {
  const sizes = new Rng(deriveSeed(o.seed, 'lmsys/sizes'));
  const arrivals = new Rng(deriveSeed(o.seed, 'lmsys/arrivals'));
  let t = 0;
  for (let id = 0; id < o.n; id++) {
    let prompt: number;
    let output: number;
    do {
      prompt = Math.max(1, Math.round(Math.exp(LMSYS_PROMPT.mu + LMSYS_PROMPT.sigma * sizes.normal())));
      output = Math.max(1, Math.round(Math.exp(LMSYS_OUTPUT.mu + LMSYS_OUTPUT.sigma * sizes.normal())));
    } while (prompt + output > o.maxContext);
    t += arrivals.exponential(o.rate);
    yield { id, arrival: checkedArrival(t, o.mode, LMSYS, id, o.rate), prompt, output, predicted: output };
  }
}

/**
 * Lazy LMSYS stand-in: yields the requests one at a time in arrival order, holding
 * O(1) state, so an engine can simulate millions of requests. Options are checked
 * eagerly (at the call, not at the first `next()`).
 *
 * Per request, on `lmsys/sizes`: Z_s, Z_o ~ N(0,1) (in that order), prompt
 * s = max(1, round(exp(ln 11 + 1.616 Z_s))), output o = max(1, round(exp(ln 45 +
 * 1.131 Z_o))), the pair redrawn until s + o ≤ maxContext. On `lmsys/arrivals`: one
 * exponential gap at `rate`.
 */
export function lmsysStream(opts: LmsysOptions): Generator<RequestSpec, void, undefined> {
  return lmsysGen(resolveLmsys(opts));
}

/** The LMSYS stand-in as an array: exactly `lmsysStream(opts)` collected. */
export function lmsys(opts: LmsysOptions): Workload & { readonly rate: number } {
  const r = resolveLmsys(opts);
  return { memory: r.memory, rate: r.rate, requests: Array.from(lmsysGen(r)) };
}
