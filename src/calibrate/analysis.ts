/**
 * From raw timing samples to the cost model with 95 % intervals (pure; used by
 * ./calibrate.ts and by the synthetic-timing tests).
 *
 * Each term is fitted from its own sweep (./grid.ts): per token from the linear sweep's
 * slope; per KV token and per decode request from the decode sweep, fitted on B·L and B
 * (its B and L vary independently); per prefill square from the prefill sweep's slope and
 * per prefill request from its intercept (one prefill dispatch per prefilling request); the
 * fixed cost of a round is the round trip plus the linear and decode sweeps' intercepts
 * (work of every decoding round that does not grow with the batch). The prefill intercept
 * is not in the fixed term (rounds without a prefill do not pay it), so nothing is counted
 * twice. Every quantity derived from them — the emulated and the Llama-2-70B coefficients,
 * the typical round and its ratio to the A100 — is a linear combination of these
 * estimates (./stats.ts): the sweeps and the round trip are independent, coefficients of
 * the same sweep are combined with their covariance, so its interval accounts for all of
 * them at once.
 */
import { LLAMA2_70B } from '../gpu/kernels.ts';
import {
  isAddedTerm,
  predict,
  quality,
  TERM_X,
  TERMS,
  type Coefficients,
  type Features,
  type AddedTerm,
  type FitQuality,
  type StoredCoefficients,
  type Term,
} from './fit.ts';
import {
  combine,
  combineFit,
  fitMulti,
  interval,
  lineOf,
  median,
  medianEstimate,
  type Estimate,
  type Interval,
  type LineFit,
  type MultiFit,
} from './stats.ts';

/** One sweep point: its x (tokens, KV tokens or prefill squares) and per-execution times, µs. */
export interface SweepData {
  x: number;
  /** Decode sweep: the batch B (sequences) of the point, the per-request term's regressor. */
  requests?: number;
  samplesMicros: number[];
  /**
   * The reference probe's rate measured adjacent to each sample (same length as
   * samplesMicros; see normalizeSamples). Absent: the samples are used as measured.
   */
  referenceRates?: number[];
}

export interface RawTimings {
  layers: number;
  widthDivisor: number;
  /** Submit + wait of a trivial dispatch, µs (wall). */
  roundTripMicros: number[];
  /** Drift normalisation (driftOf the run's points). Absent or null: the samples as measured. */
  drift?: DriftNormalisation | null;
  linear: SweepData[];
  decode: SweepData[];
  prefill: SweepData[];
}

export type Intervals = Record<Term, Interval>;

/** The decode sweep's fit: the line's view (intercept, per-KV-token slope) and the per-request slope. */
export interface DecodeFit extends LineFit {
  perRequest: Estimate;
}

/** Where a combined estimate's variance comes from: the round trip or one sweep's fit. */
export type VarianceSource = 'roundTrip' | 'linear' | 'decode' | 'prefill';

export interface Analysis {
  sweeps: { linear: LineFit; decode: DecodeFit; prefill: LineFit };
  roundTrip: Estimate;
  /** Emulated geometry (µs per unit), values clamped at 0. */
  coefficients: Coefficients;
  intervals: Intervals;
  /** Llama-2-70B on this device. */
  full: Coefficients;
  fullIntervals: Intervals;
  /**
   * Term distinguishable from 0: its (emulated) interval excludes 0. The profile's
   * `quality.notIdentifiable` also counts a term whose interval is too wide (verdict.ts, notIdentifiableWhy).
   */
  identifiable: Record<Term, boolean>;
  /** The typical round (Llama-2-70B, µs) and its ratio to the reference's; `varianceShare`:
   *  each source's share of its estimate's variance (where more samples narrow it most). */
  typical: {
    estimate: Estimate;
    micros: number;
    interval: Interval;
    ratio: number;
    ratioInterval: Interval;
    varianceShare: Record<VarianceSource, number>;
  };
  /**
   * Ratios device / reference per term, with intervals; only for terms the reference has
   * (the A100 model has no per-request terms: "not in the A100 model", never a ratio).
   */
  ratios: StoredCoefficients;
  ratioIntervals: Omit<Intervals, AddedTerm> & { [K in AddedTerm]?: Interval | undefined };
}

/** The base estimates: the round trip and each sweep's coefficients. */
type Base = 'rt' | 'aLin' | 'bLin' | 'aDec' | 'bDec' | 'bSeq' | 'aPre' | 'bPre';
/** Which fit each base comes from and its index there (bases of one fit are correlated). */
const BASE_OF: Record<Exclude<Base, 'rt'>, readonly ['linear' | 'decode' | 'prefill', number]> = {
  aLin: ['linear', 0],
  bLin: ['linear', 1],
  aDec: ['decode', 0],
  bDec: ['decode', 1],
  bSeq: ['decode', 2],
  aPre: ['prefill', 0],
  bPre: ['prefill', 1],
};

/**
 * Weights of each Llama-2-70B term over the base estimates (see ./calibrate.ts,
 * extrapolate): attention terms (per KV token, per decode request, per prefill square,
 * per prefill request) × 80/layers — attention runs at full head geometry, so only the
 * layer count differs; per token × 80/layers × widthDivisor²; fixed = the round trip once
 * + the intercepts × 80/layers.
 */
function fullWeights(layers: number, widthDivisor: number): Record<Term, Partial<Record<Base, number>>> {
  const ls = LLAMA2_70B.layers / layers;
  return {
    fixedMicros: { rt: 1, aLin: ls, aDec: ls },
    perTokenMicros: { bLin: ls * widthDivisor * widthDivisor },
    perKvTokenMicros: { bDec: ls },
    perPrefillSquareMicros: { bPre: ls },
    perDecodeRequestMicros: { bSeq: ls },
    perPrefillRequestMicros: { aPre: ls },
  };
}
/** The emulated geometry's terms: the same bases, every weight 1 (80 layers of 80, width ÷ 1). */
const EMULATED: Record<Term, Partial<Record<Base, number>>> = fullWeights(LLAMA2_70B.layers, 1);

/**
 * The speed every sample is expressed at: this quantile of the run's reference rates, i.e.
 * the device's speed when it is not slowed by other work (a high quantile of many probes
 * is a robust estimate of it; the median would move with the load of each run).
 */
export const REFERENCE_QUANTILE = 0.9;

/** Quantile q of xs (linear interpolation between order statistics); NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(s.length - 1, lo + 1);
  return (s[lo] as number) + (h - lo) * ((s[hi] as number) - (s[lo] as number));
}

/** Drift normalisation of a run: the rate samples are expressed at, and how strongly. */
export interface Drift {
  /** REFERENCE_QUANTILE of the run's reference rates. */
  referenceRate: number;
  /**
   * Sensitivity of the work's time to the reference's rate, fitted: the slope of log time
   * on −log rate within points (pooled over every point of the run), clamped to [0, 1].
   * 1: the work slows exactly as the probe does; 0: the probe tells nothing (a probe much
   * shorter than the work sees only a slice of the scheduler's time and is noisier).
   */
  beta: number;
  /** Share of the within-point variance of log time removed by the normalisation. */
  commonModeShare: number;
  /** Samples the slope was fitted on (those with a reference rate, in points of ≥ 2). */
  samples: number;
  /**
   * With a device reference applied (./device-reference.ts): (R / stored rate)^0.75
   * (BETWEEN_RUN_SENSITIVITY, measured between runs), carrying the run from its own
   * reference rate R to the stored one; every normalised sample is multiplied by it. Absent:
   * the run is expressed at its own R.
   */
  deviceScale?: number | undefined;
}

/** What normalising a sample needs of a Drift. */
export type DriftNormalisation = Pick<Drift, 'referenceRate' | 'beta' | 'deviceScale'>;

const usable = (r: number | undefined): r is number => r !== undefined && Number.isFinite(r) && r > 0;

/**
 * Within-point moments of log time (e) and −log reference rate (f), pooled over points:
 * Σ (e − ē)², Σ (e − ē)(f − f̄), Σ (f − f̄)² over the samples with a positive time and a
 * usable rate, in points with at least 2 of them (`samples` of them in `groups` points),
 * and every usable rate (`rates`, points of one sample included). The drift normalisation
 * (driftOf) and its diagnosis (bench/calibration-drift.ts) both read these.
 */
export function withinPointMoments(
  points: ReadonlyArray<{ samples: readonly number[]; rates?: readonly number[] | undefined }>,
): { see: number; sef: number; sff: number; samples: number; groups: number; rates: number[] } {
  const rates: number[] = [];
  let see = 0;
  let sef = 0;
  let sff = 0;
  let samples = 0;
  let groups = 0;
  for (const p of points) {
    const r = p.rates;
    if (!r || r.length !== p.samples.length) continue;
    const ok = p.samples.map((s, i) => [s, r[i]] as const).filter(([s, ri]) => s > 0 && usable(ri));
    ok.forEach(([, ri]) => rates.push(ri as number));
    if (ok.length < 2) continue;
    const e = ok.map(([s]) => Math.log(s));
    const f = ok.map(([, ri]) => -Math.log(ri as number));
    const me = e.reduce((a, b) => a + b, 0) / e.length;
    const mf = f.reduce((a, b) => a + b, 0) / f.length;
    e.forEach((ei, i) => {
      const a = ei - me;
      const b = (f[i] as number) - mf;
      see += a * a;
      sef += a * b;
      sff += b * b;
    });
    samples += ok.length;
    groups++;
  }
  return { see, sef, sff, samples, groups, rates };
}

/**
 * The drift normalisation of a run from its points' samples and reference rates (see Drift).
 * null when no point has reference rates for its samples.
 */
export function driftOf(
  points: ReadonlyArray<{ samples: readonly number[]; rates?: readonly number[] | undefined }>,
): Drift | null {
  const { see, sef, sff, samples: n, rates: all } = withinPointMoments(points);
  if (all.length === 0) return null;
  const beta = sff > 0 ? Math.min(1, Math.max(0, sef / sff)) : 0;
  const remaining = see - 2 * beta * sef + beta * beta * sff;
  return {
    referenceRate: quantile(all, REFERENCE_QUANTILE),
    beta,
    commonModeShare: see > 0 ? 1 - remaining / see : 0,
    samples: n,
  };
}

/**
 * Drift normalisation: a sample taken while the reference probe ran at rate r is the time
 * the work would have taken at the run's reference rate R: sample × (r / R)^β. A change of
 * the device's speed that the probes around the sample see (clock, scheduling, other
 * processes) cancels; what they do not see stays in the samples (and so in the
 * intervals). With a device reference applied, × deviceScale on top (see Drift). Without
 * rates or without a drift the samples are returned as measured.
 */
export function normalizeSamples(
  samples: readonly number[],
  rates: readonly number[] | undefined,
  drift: DriftNormalisation | null | undefined,
): number[] {
  if (!rates || !drift || !(drift.referenceRate > 0)) return [...samples];
  if (rates.length !== samples.length)
    throw new RangeError(`${rates.length} reference rates for ${samples.length} samples`);
  const scale = drift.deviceScale ?? 1;
  return samples.map((s, i) => {
    const r = rates[i];
    return (usable(r) ? s * (r / drift.referenceRate) ** drift.beta : s) * scale;
  });
}

/** A point's samples as the fit uses them (normalised when the run has a drift normalisation). */
export function pointSamples(d: SweepData, drift: RawTimings['drift']): number[] {
  return normalizeSamples(d.samplesMicros, d.referenceRates, drift);
}

/**
 * A sweep's fit on its points' medians: a line in x, or (decode, `perRequest`) a plane in
 * x = B·L and B, whose B and L vary independently in the presets (./grid.ts).
 */
function sweepFit(name: string, data: readonly SweepData[], drift: RawTimings['drift'], perRequest = false): MultiFit {
  const pts = data
    .filter((d) => d.samplesMicros.length > 0)
    .map((d) => {
      if (perRequest && d.requests === undefined) throw new RangeError(`${name} sweep: a point without its batch size`);
      return { x: perRequest ? [d.x, d.requests as number] : [d.x], y: median(pointSamples(d, drift)) };
    });
  const need = perRequest ? 4 : 3;
  if (pts.length < need) throw new RangeError(`${name} sweep: ${pts.length} measured points, need ≥ ${need}`);
  try {
    return fitMulti(pts);
  } catch (e) {
    throw new RangeError(`${name} sweep: ${(e as Error).message}`, { cause: e });
  }
}

export function analyze(raw: RawTimings, reference: Coefficients, typical: Features): Analysis {
  const fits = {
    linear: sweepFit('linear', raw.linear, raw.drift),
    decode: sweepFit('decode', raw.decode, raw.drift, true),
    prefill: sweepFit('prefill', raw.prefill, raw.drift),
  };
  const linear = lineOf(fits.linear);
  const decode: DecodeFit = { ...lineOf(fits.decode), perRequest: fits.decode.coef[2] as Estimate };
  const prefill = lineOf(fits.prefill);
  const roundTrip = medianEstimate(raw.roundTripMicros);
  // One estimate per source (the round trip, each sweep: its bases combined with their
  // covariance), then the sources combined as independent estimates.
  const sources = (w: Partial<Record<Base, number>>) => {
    const parts: Array<readonly [number, Estimate]> = [];
    const variance: Record<VarianceSource, number> = { roundTrip: 0, linear: 0, decode: 0, prefill: 0 };
    if (w.rt !== undefined) {
      parts.push([w.rt, roundTrip]);
      variance.roundTrip = (w.rt * roundTrip.se) ** 2;
    }
    for (const sweep of ['linear', 'decode', 'prefill'] as const) {
      const ws: number[] = [];
      for (const [b, [s, i]] of Object.entries(BASE_OF) as Array<[Exclude<Base, 'rt'>, (typeof BASE_OF)['aLin']]>)
        if (s === sweep && w[b] !== undefined) ws[i] = w[b];
      if (ws.length > 0) {
        const e = combineFit(fits[sweep], ws);
        parts.push([1, e]);
        variance[sweep] = e.se ** 2;
      }
    }
    return { estimate: combine(parts), variance };
  };
  const lin = (w: Partial<Record<Base, number>>): Estimate => sources(w).estimate;
  const terms = (ws: Record<Term, Partial<Record<Base, number>>>) => {
    const est = Object.fromEntries(TERMS.map((t) => [t, lin(ws[t])])) as Record<Term, Estimate>;
    return {
      est,
      values: Object.fromEntries(TERMS.map((t) => [t, Math.max(0, est[t].value)])) as Coefficients,
      intervals: Object.fromEntries(TERMS.map((t) => [t, interval(est[t], 0)])) as Intervals,
    };
  };
  const em = terms(EMULATED);
  const fw = fullWeights(raw.layers, raw.widthDivisor);
  const full = terms(fw);
  // The typical round: Σ_term x_term · (that term's weights), one combination over the bases.
  const tw: Partial<Record<Base, number>> = {};
  for (const t of TERMS)
    for (const [k, v] of Object.entries(fw[t]) as Array<[Base, number]>) tw[k] = (tw[k] ?? 0) + TERM_X[t](typical) * v;
  const { estimate: typ, variance: typVariance } = sources(tw);
  const typVarianceTotal = Object.values(typVariance).reduce((s, v) => s + v, 0);
  const typMicros = predict(full.values, typical);
  const typInterval = interval({ ...typ, value: typMicros }, 0);
  const refTypical = predict(reference, typical);
  // A term the reference lacks gets no ratio (the four original terms: 0, as before; the
  // A100 model has all four).
  const shown = TERMS.filter((t) => reference[t] > 0 || !isAddedTerm(t));
  const ratios = Object.fromEntries(
    shown.map((t) => [t, reference[t] > 0 ? full.values[t] / reference[t] : 0]),
  ) as Analysis['ratios'];
  const ratioIntervals = Object.fromEntries(
    shown.map((t) => [t, reference[t] > 0 ? (full.intervals[t].map((v) => v / reference[t]) as Interval) : [0, 0]]),
  ) as Analysis['ratioIntervals'];
  return {
    sweeps: { linear, decode, prefill },
    roundTrip,
    coefficients: em.values,
    intervals: em.intervals,
    full: full.values,
    fullIntervals: full.intervals,
    identifiable: Object.fromEntries(TERMS.map((t) => [t, em.intervals[t][0] > 0])) as Record<Term, boolean>,
    typical: {
      estimate: typ,
      micros: typMicros,
      interval: typInterval,
      ratio: typMicros / refTypical,
      ratioInterval: [typInterval[0] / refTypical, typInterval[1] / refTypical],
      varianceShare: Object.fromEntries(
        Object.entries(typVariance).map(([k, v]) => [k, typVarianceTotal > 0 ? v / typVarianceTotal : 0]),
      ) as Record<VarianceSource, number>,
    },
    ratios,
    ratioIntervals,
  };
}

/** Held-out check: the model's prediction of composite rounds (µs) against their medians. */
export function heldOutQuality(
  c: Coefficients,
  rounds: ReadonlyArray<{ features: Features; samplesMicros: readonly number[] }>,
): FitQuality {
  return quality(
    c,
    rounds.map((r) => ({ features: r.features, micros: median(r.samplesMicros) })),
  );
}

/** Relative half-width of an interval around a value (Infinity when the value is 0). */
export function relativeHalfWidth(i: Interval, value: number): number {
  return value > 0 ? (i[1] - i[0]) / 2 / value : Infinity;
}
