/**
 * The calibration's statistics on synthetic timings with known coefficients and noise:
 * line fits, intervals and their coverage, the per-sweep analysis, the verdict rules.
 * No GPU needed.
 */
import { describe, expect, it } from 'vitest';
import {
  analyze,
  driftOf,
  heldOutQuality,
  normalizeSamples,
  relativeHalfWidth,
  type RawTimings,
  type SweepData,
} from '../../src/calibrate/analysis.ts';
import { deviceLevels, extrapolate, focusRepeats } from '../../src/calibrate/calibrate.ts';
import { predict, TERMS, type Coefficients, type Features } from '../../src/calibrate/fit.ts';
import { midTile, PRESETS, SWEEP_TILES, tokensOf } from '../../src/calibrate/grid.ts';
import { MATMUL_GPU_TILE, MATMUL_TILE } from '../../src/gpu/kernels.ts';
import {
  combine,
  combineFit,
  fitLine,
  fitMulti,
  interval,
  median,
  medianEstimate,
  normal,
  rng,
  tQuantile975,
} from '../../src/calibrate/stats.ts';
import {
  minorTermsNote,
  minorTermsOf,
  notIdentifiableWhy,
  termAdjective,
  VERDICT_RULES,
  verdictOf,
  type VerdictInput,
} from '../../src/calibrate/verdict.ts';

/** Emulated-geometry truth (µs): the round trip, the sweeps' intercepts and slopes. */
const TRUTH = { rt: 300, aLin: 150, aDec: 80, aPre: 60, bLin: 4, bDec: 0.012, bSeq: 6, bPre: 0.05 };
/** Model inputs of a round (the per-request counts default to 0). */
const feat = (f: Partial<Features>): Features => ({
  tokens: 0,
  kvTokens: 0,
  prefillSquares: 0,
  decodeRequests: 0,
  prefillRequests: 0,
  ...f,
});
const TYPICAL = feat({ tokens: 60, kvTokens: 6000, prefillSquares: 9700, decodeRequests: 40, prefillRequests: 0.3 });
const REF: Coefficients = {
  fixedMicros: 20_000,
  perTokenMicros: 30,
  perKvTokenMicros: 0.1,
  perPrefillSquareMicros: 0.004,
  perDecodeRequestMicros: 0,
  perPrefillRequestMicros: 0,
};

/** Synthetic timings of the quick preset's sweeps: multiplicative log-normal noise σ per sample. */
function synthetic(rand: () => number, sigma: number, samples = 3, outlier = 0): RawTimings {
  const p = PRESETS.quick;
  const noisy = (y: number) =>
    Array.from({ length: samples }, () => y * Math.exp(sigma * normal(rand)) * (rand() < outlier ? 1.8 : 1));
  return {
    layers: p.layers,
    widthDivisor: p.widthDivisor,
    roundTripMicros: Array.from({ length: 21 }, () => TRUTH.rt * Math.exp(sigma * normal(rand))),
    linear: p.linearTokens.map((t) => ({ x: t, samplesMicros: noisy(TRUTH.aLin + TRUTH.bLin * t) })),
    decode: p.decodePoints.map((d) => ({
      x: d.decodeBatch * d.kvLen,
      requests: d.decodeBatch,
      samplesMicros: noisy(TRUTH.aDec + TRUTH.bDec * d.decodeBatch * d.kvLen + TRUTH.bSeq * d.decodeBatch),
    })),
    prefill: p.prefillChunks.map((c) => ({ x: c * c, samplesMicros: noisy(TRUTH.aPre + TRUTH.bPre * c * c) })),
  };
}

const emulatedTruth: Coefficients = {
  fixedMicros: TRUTH.rt + TRUTH.aLin + TRUTH.aDec,
  perTokenMicros: TRUTH.bLin,
  perKvTokenMicros: TRUTH.bDec,
  perPrefillSquareMicros: TRUTH.bPre,
  perDecodeRequestMicros: TRUTH.bSeq,
  perPrefillRequestMicros: TRUTH.aPre,
};

describe('t quantiles', () => {
  it('match the table and approach the normal quantile', () => {
    expect(tQuantile975(1)).toBeCloseTo(12.706, 3);
    expect(tQuantile975(10)).toBeCloseTo(2.228, 3);
    expect(tQuantile975(2.5)).toBeGreaterThan(tQuantile975(3));
    expect(tQuantile975(2.5)).toBeLessThan(tQuantile975(2));
    expect(tQuantile975(1e9)).toBeCloseTo(1.96, 2);
    expect(tQuantile975(0.5)).toBe(Infinity);
    for (let d = 1; d < 200; d += 0.5) expect(tQuantile975(d + 0.5)).toBeLessThanOrEqual(tQuantile975(d));
  });
});

describe('line fits and intervals', () => {
  it('recovers an exact line with a zero-width interval', () => {
    const f = fitLine([1, 2, 3, 4].map((x) => ({ x, y: 5 + 2 * x })));
    expect(f.slope.value).toBeCloseTo(2, 10);
    expect(f.intercept.value).toBeCloseTo(5, 10);
    expect(f.slope.se).toBeLessThan(1e-9);
    expect(f.r2).toBeCloseTo(1, 12);
  });
  it('refuses fewer than 3 points or a constant x', () => {
    expect(() =>
      fitLine([
        { x: 1, y: 1 },
        { x: 2, y: 2 },
      ]),
    ).toThrow(/≥ 3 points/);
    expect(() => fitLine([1, 1, 1].map((x) => ({ x, y: x })))).toThrow(/different x/);
  });
  it('combines independent estimates (variances add)', () => {
    const c = combine([
      [2, { value: 1, se: 3, df: 10 }],
      [1, { value: 4, se: 4, df: 10 }],
    ]);
    expect(c.value).toBe(6);
    expect(c.se).toBeCloseTo(Math.sqrt(36 + 16), 10);
    expect(c.df).toBeGreaterThan(10);
    expect(c.df).toBeLessThan(20);
    expect(interval({ value: 1, se: 1, df: 1e9 }, 0)).toEqual([0, expect.closeTo(2.96, 2)]);
    expect(medianEstimate([1]).se).toBe(Infinity);
  });

  it('95 % intervals hold the truth about 95 % of the time (coverage over 600 synthetic calibrations)', () => {
    const rand = rng(20260105);
    const reps = 600;
    const hits: Record<string, number> = { ...Object.fromEntries(TERMS.map((t) => [t, 0])), typical: 0, ratio: 0 };
    const full = extrapolate(emulatedTruth, PRESETS.quick.layers, PRESETS.quick.widthDivisor, TRUTH.rt);
    const typTruth = predict(full, TYPICAL);
    const ratioTruth = typTruth / predict(REF, TYPICAL);
    for (let r = 0; r < reps; r++) {
      const a = analyze(synthetic(rand, 0.05), REF, TYPICAL);
      for (const t of TERMS) {
        const [lo, hi] = a.intervals[t];
        if (lo <= emulatedTruth[t] && emulatedTruth[t] <= hi) hits[t] = (hits[t] as number) + 1;
      }
      if (a.typical.interval[0] <= typTruth && typTruth <= a.typical.interval[1])
        hits.typical = (hits.typical as number) + 1;
      if (a.typical.ratioInterval[0] <= ratioTruth && ratioTruth <= a.typical.ratioInterval[1])
        hits.ratio = (hits.ratio as number) + 1;
    }
    const coverage = Object.fromEntries(Object.entries(hits).map(([k, v]) => [k, v / reps]));
    console.log(
      'coverage of the 95 % intervals (600 synthetic calibrations, 5 % log-normal noise, 3 samples a point):',
      coverage,
    );
    for (const c of Object.values(coverage)) {
      expect(c).toBeGreaterThan(0.88);
      expect(c).toBeLessThan(0.99);
    }
  });
});

describe('two-regressor fits (the decode sweep on B·L and B)', () => {
  it('recovers an exact plane, and a combination of its coefficients gets their covariance', () => {
    const pts = PRESETS.quick.decodePoints.map((d) => ({
      x: [d.decodeBatch * d.kvLen, d.decodeBatch],
      y: 80 + 0.012 * d.decodeBatch * d.kvLen + 6 * d.decodeBatch,
    }));
    const f = fitMulti(pts);
    expect(f.coef.map((c) => c.value)).toEqual([expect.closeTo(80, 6), expect.closeTo(0.012, 9), expect.closeTo(6, 6)]);
    expect(f.df).toBe(pts.length - 3);
    expect(f.r2).toBeCloseTo(1, 12);
    // With noise: the variance of a + 1000·b₁ + 10·b₂ is w'Σw, not the sum of the three variances.
    const rand = rng(42);
    const noisy = fitMulti(pts.map((p) => ({ ...p, y: p.y * Math.exp(0.05 * normal(rand)) })));
    const w = [1, 1000, 10];
    const c = combineFit(noisy, w);
    const indep = Math.sqrt(noisy.coef.reduce((s, e, i) => s + ((w[i] as number) * e.se) ** 2, 0));
    expect(c.value).toBeCloseTo(
      noisy.coef.reduce((s, e, i) => s + (w[i] as number) * e.value, 0),
      9,
    );
    expect(c.se).toBeGreaterThan(0);
    expect(Math.abs(c.se - indep)).toBeGreaterThan(1e-6 * indep);
  });
  it('refuses regressors that do not vary independently (B·L ∝ B when L is constant)', () => {
    const pts = [2, 4, 8, 16].map((b) => ({ x: [b * 128, b], y: 100 + b }));
    expect(() => fitMulti(pts)).toThrow(/do not vary independently/);
    expect(() => fitMulti(pts.slice(0, 3))).toThrow(/≥ 4 points/);
  });
  it('the quick and full presets vary B and L independently enough to separate the terms', () => {
    for (const p of [PRESETS.quick, PRESETS.full]) {
      const bs = new Set(p.decodePoints.map((d) => d.decodeBatch));
      const ls = new Set(p.decodePoints.map((d) => d.kvLen));
      expect(bs.size, p.name).toBeGreaterThanOrEqual(3);
      expect(ls.size, p.name).toBeGreaterThanOrEqual(3);
      // Correlation of B·L and B over the sweep's points below 0.9 (not nearly collinear).
      const x1 = p.decodePoints.map((d) => d.decodeBatch * d.kvLen);
      const x2 = p.decodePoints.map((d) => d.decodeBatch);
      const m = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const [m1, m2] = [m(x1), m(x2)];
      const cov = x1.reduce((s, v, i) => s + (v - m1) * ((x2[i] as number) - m2), 0);
      const v1 = x1.reduce((s, v) => s + (v - m1) ** 2, 0);
      const v2 = x2.reduce((s, v) => s + (v - m2) ** 2, 0);
      expect(Math.abs(cov / Math.sqrt(v1 * v2)), p.name).toBeLessThan(0.9);
    }
  });
});

describe('analysis of the sweeps', () => {
  it('recovers the per-decode-request and per-prefill-request terms; the A100 has no ratio for them', () => {
    const a = analyze(synthetic(rng(13), 0.0), REF, TYPICAL);
    expect(a.coefficients.perDecodeRequestMicros).toBeCloseTo(TRUTH.bSeq, 6);
    expect(a.coefficients.perPrefillRequestMicros).toBeCloseTo(TRUTH.aPre, 6);
    // Nothing moved into the new terms is left in the fixed one (the prefill intercept never was in it).
    expect(a.coefficients.fixedMicros).toBeCloseTo(TRUTH.rt + TRUTH.aLin + TRUTH.aDec, 6);
    const ls = 80 / PRESETS.quick.layers;
    expect(a.full.perDecodeRequestMicros).toBeCloseTo(TRUTH.bSeq * ls, 4);
    expect(a.full.perPrefillRequestMicros).toBeCloseTo(TRUTH.aPre * ls, 4);
    expect(a.ratios.perDecodeRequestMicros).toBeUndefined();
    expect(a.ratioIntervals.perPrefillRequestMicros).toBeUndefined();
    expect(a.ratios.perTokenMicros).toBeGreaterThan(0);
    // A decode sweep without a per-sequence cost: the term is not identifiable, not invented.
    const raw = synthetic(rng(17), 0.05);
    raw.decode = PRESETS.quick.decodePoints.map((d) => ({
      x: d.decodeBatch * d.kvLen,
      requests: d.decodeBatch,
      samplesMicros: [0, 1, 2].map((i) => (TRUTH.aDec + TRUTH.bDec * d.decodeBatch * d.kvLen) * (1 + 0.03 * (i - 1))),
    }));
    const b = analyze(raw, REF, TYPICAL);
    expect(b.intervals.perDecodeRequestMicros[0]).toBe(0);
    expect(b.identifiable.perDecodeRequestMicros).toBe(false);
    expect(
      verdictOf({
        heldOutR2: 0.99,
        typicalHalfWidth: 0.03,
        targetHalfWidth: 0.05,
        notIdentifiable: TERMS.filter((t) => !b.identifiable[t]),
        probeDrift: 1.05,
        repeatSpread: 0.05,
        replayError: 0.04,
      }).reasons.join('; '),
    ).toContain('per-decode-request term not identifiable');
  });

  it("splits the typical round's variance by source; the dominant sweep gets repeated samples", () => {
    const a = analyze(synthetic(rng(5), 0.05), REF, TYPICAL);
    const share = a.typical.varianceShare;
    const sum = share.roundTrip + share.linear + share.decode + share.prefill;
    expect(sum).toBeCloseTo(1, 9);
    // The shares are the variance the typical round's standard error is made of.
    expect(Object.values(share).every((v) => v >= 0)).toBe(true);
    // Noise on the linear sweep alone: it carries the typical round's variance.
    const raw = synthetic(rng(7), 0.0);
    raw.linear = raw.linear.map((p, i) => ({
      ...p,
      samplesMicros: p.samplesMicros.map((v, j) => v * (1 + 0.05 * ((i + j) % 3) - 0.05)),
    }));
    const lin = analyze(raw, REF, TYPICAL).typical.varianceShare;
    expect(lin.linear).toBeGreaterThan(0.99);
    expect(focusRepeats(lin)).toEqual({ sweep: 'linear', times: 3 });
    expect(focusRepeats({ roundTrip: 0, linear: 0.6, decode: 0.3, prefill: 0.1 })).toEqual({
      sweep: 'linear',
      times: 2,
    });
    expect(focusRepeats({ roundTrip: 0.1, linear: 0.1, decode: 0.2, prefill: 0.6 })).toEqual({
      sweep: 'prefill',
      times: 2,
    });
    expect(focusRepeats({ roundTrip: 0.4, linear: 0.3, decode: 0.2, prefill: 0.1 })).toBeNull();
    expect(focusRepeats({ roundTrip: 0, linear: 0, decode: 0, prefill: 0 })).toBeNull();
  });

  it('recovers the coefficients and the Llama-2-70B terms, consistent with extrapolate()', () => {
    const a = analyze(synthetic(rng(3), 0.0), REF, TYPICAL);
    for (const t of TERMS) expect(a.coefficients[t]).toBeCloseTo(emulatedTruth[t], 6);
    const full = extrapolate(a.coefficients, PRESETS.quick.layers, PRESETS.quick.widthDivisor, a.roundTrip.value);
    for (const t of TERMS) expect(a.full[t]).toBeCloseTo(full[t], 3);
    expect(a.typical.micros).toBeCloseTo(predict(full, TYPICAL), 2);
    expect(a.typical.ratio).toBeCloseTo(predict(full, TYPICAL) / predict(REF, TYPICAL), 9);
    for (const t of TERMS) expect(a.identifiable[t]).toBe(true);
    // The held-out check on composite rounds the sweeps never saw.
    const rounds = [
      [10, 2000, 400],
      [40, 500, 0],
      [80, 9000, 2500],
    ].map(([tokens, kvTokens, prefillSquares]) => {
      const features = feat({
        tokens: tokens as number,
        kvTokens: kvTokens as number,
        prefillSquares: prefillSquares as number,
        decodeRequests: Math.round((tokens as number) / 2),
        prefillRequests: (prefillSquares as number) > 0 ? 1 : 0,
      });
      return { features, samplesMicros: [predict(emulatedTruth, features)] };
    });
    expect(heldOutQuality(a.coefficients, rounds).r2).toBeCloseTo(1, 9);
  });

  it('narrows with more samples, and a term with no signal is reported as not identifiable', () => {
    const few = analyze(synthetic(rng(5), 0.05, 3), REF, TYPICAL);
    const many = analyze(synthetic(rng(5), 0.05, 15), REF, TYPICAL);
    expect(relativeHalfWidth(many.typical.interval, many.typical.micros)).toBeLessThan(
      relativeHalfWidth(few.typical.interval, few.typical.micros),
    );
    const raw = synthetic(rng(7), 0.05);
    raw.prefill = raw.prefill.map((p) => ({
      x: p.x,
      samplesMicros: p.samplesMicros.map(() => 60 * Math.exp(0.05 * normal(rng(p.x)))),
    }));
    const a = analyze(raw, REF, TYPICAL);
    expect(a.identifiable.perPrefillSquareMicros).toBe(false);
    expect(a.coefficients.perPrefillSquareMicros).toBeGreaterThanOrEqual(0);
    expect(a.intervals.perPrefillSquareMicros[0]).toBe(0);
    expect(a.intervals.perPrefillSquareMicros[1]).toBeGreaterThan(0);
  });

  it('medians shrug off outliers', () => {
    const clean = analyze(synthetic(rng(11), 0.02, 5), REF, TYPICAL);
    const dirty = analyze(synthetic(rng(11), 0.02, 5, 0.15), REF, TYPICAL);
    expect(Math.abs(dirty.typical.micros / clean.typical.micros - 1)).toBeLessThan(0.1);
  });
});

/**
 * Synthetic timings on a drifting device: every sample runs at a speed factor k (time × k)
 * that the reference probe around it sees as rate R0 / k, each with its own small noise.
 * `load` is the share of samples slowed (by 1.4–2.3×, like SwiftShader on a shared
 * machine); the rest run undisturbed. Different runs get different loads, so their
 * speed levels differ, as between consecutive calibrations here.
 */
const R0 = 20e9;
function drifting(rand: () => number, load: number, noise = 0.03, probeNoise = 0.03): RawTimings {
  const p = PRESETS.quick;
  const point = (x: number, y: number): SweepData => {
    const samplesMicros: number[] = [];
    const referenceRates: number[] = [];
    for (let i = 0; i < 5; i++) {
      const k = rand() < load ? 1.4 + 0.9 * rand() : 1;
      samplesMicros.push(y * k * Math.exp(noise * normal(rand)));
      referenceRates.push((R0 / k) * Math.exp(probeNoise * normal(rand)));
    }
    return { x, samplesMicros, referenceRates };
  };
  const raw: RawTimings = {
    layers: p.layers,
    widthDivisor: p.widthDivisor,
    roundTripMicros: Array.from({ length: 21 }, () => TRUTH.rt * Math.exp(noise * normal(rand))),
    linear: p.linearTokens.map((t) => point(t, TRUTH.aLin + TRUTH.bLin * t)),
    decode: p.decodePoints.map((d) => ({
      ...point(d.decodeBatch * d.kvLen, TRUTH.aDec + TRUTH.bDec * d.decodeBatch * d.kvLen + TRUTH.bSeq * d.decodeBatch),
      requests: d.decodeBatch,
    })),
    prefill: p.prefillChunks.map((c) => point(c * c, TRUTH.aPre + TRUTH.bPre * c * c)),
  };
  const all = [...raw.linear, ...raw.decode, ...raw.prefill];
  return { ...raw, drift: driftOf(all.map((d) => ({ samples: d.samplesMicros, rates: d.referenceRates }))) };
}

describe('drift normalisation', () => {
  it('expresses a sample at the reference rate with the fitted sensitivity', () => {
    expect(normalizeSamples([100, 100], [10, 5], { referenceRate: 10, beta: 1 })).toEqual([100, 50]);
    expect(normalizeSamples([100, 100], [10, 5], { referenceRate: 10, beta: 0 })).toEqual([100, 100]);
    // A device reference applied: the run's normalised samples × its scale, unrated ones too.
    const scaled = normalizeSamples([100, 100], [10, 5], { referenceRate: 10, beta: 1, deviceScale: 1.1 });
    expect(scaled[0]).toBeCloseTo(110, 9);
    expect(scaled[1]).toBeCloseTo(55, 9);
    expect(normalizeSamples([100, 100], [10, 0], { referenceRate: 10, beta: 1, deviceScale: 2 })).toEqual([200, 200]);
    expect(normalizeSamples([100], [5], null)).toEqual([100]);
    expect(normalizeSamples([100], undefined, { referenceRate: 10, beta: 1 })).toEqual([100]);
    expect(() => normalizeSamples([1, 2], [1], { referenceRate: 1, beta: 1 })).toThrow(/1 reference rates for 2/);
  });

  it('fits β ≈ 1 when the work slows as the probe does, ≈ 0 when the probe is unrelated', () => {
    const rand = rng(17);
    const tracked = Array.from({ length: 20 }, () => {
      const ks = Array.from({ length: 5 }, () => 1 + rand());
      return { samples: ks.map((k) => 100 * k * Math.exp(0.02 * normal(rand))), rates: ks.map((k) => R0 / k) };
    });
    const t = driftOf(tracked);
    expect(t?.beta).toBeGreaterThan(0.9);
    expect(t?.commonModeShare).toBeGreaterThan(0.9);
    const unrelated = tracked.map((p) => ({ samples: p.samples, rates: p.rates.map(() => R0 * (1 + rand())) }));
    const u = driftOf(unrelated);
    expect(u?.beta).toBeLessThan(0.3);
    expect(u?.commonModeShare).toBeLessThan(0.1);
    expect(driftOf([{ samples: [1, 2] }])).toBeNull();
  });

  it('keeps the estimates stable across runs whose speed drifts, where the raw samples do not', () => {
    // Four series of eight runs (one draw can be unlucky: max/min of eight is a tail statistic).
    const loads = [0.2, 0.6, 0.4, 0.7, 0.3, 0.5, 0.65, 0.25];
    const typical = (raw: RawTimings) => analyze(raw, REF, TYPICAL).typical.micros;
    const maxMin = (xs: number[]) => Math.max(...xs) / Math.min(...xs);
    const full = extrapolate(emulatedTruth, PRESETS.quick.layers, PRESETS.quick.widthDivisor, TRUTH.rt);
    const truth = predict(full, TYPICAL);
    const series = [20261205, 1, 2, 3].map((seed) => {
      const rand = rng(seed);
      const normalised: number[] = [];
      const asMeasured: number[] = [];
      for (const load of loads) {
        const raw = drifting(rand, load);
        normalised.push(typical(raw));
        asMeasured.push(typical({ ...raw, drift: null }));
      }
      for (const v of normalised) expect(Math.abs(v / truth - 1)).toBeLessThan(0.1);
      return { normalised: maxMin(normalised), asMeasured: maxMin(asMeasured) };
    });
    console.log(
      `typical round over ${loads.length} drifting runs, max/min in four series: ` +
        `normalised ${series.map((s) => s.normalised.toFixed(3)).join(', ')}; as measured ${series.map((s) => s.asMeasured.toFixed(3)).join(', ')}`,
    );
    expect(median(series.map((s) => s.normalised))).toBeLessThan(1.1);
    for (const s of series) {
      expect(s.normalised).toBeLessThan(1.2);
      expect(s.asMeasured).toBeGreaterThan(1.3);
    }
  });
});

describe('device levels (the linear sweep rotated over devices)', () => {
  it("gives each device's level against the pooled medians, after drift normalisation", () => {
    const rand = rng(5);
    const factors = [0.9, 1, 1.12];
    const points = [16, 48, 80, 112, 144, 176].map((t) => {
      const sampleDevices = Array.from({ length: 9 }, (_, i) => i % 3);
      // Half the samples ran while the device was 1.5× slower, which the probe saw.
      const slow = sampleDevices.map(() => rand() < 0.5);
      return {
        sampleDevices,
        samples: sampleDevices.map((d, i) => 10 * t * (factors[d] as number) * (slow[i] ? 1.5 : 1)),
        referenceRates: slow.map((s) => (s ? R0 / 1.5 : R0)),
      };
    });
    const levels = deviceLevels(points, 3, { referenceRate: R0, beta: 1, commonModeShare: 0, samples: 54 });
    levels.forEach((l, d) => expect(l).toBeCloseTo(factors[d] as number, 6));
    // Without the normalisation the slow samples blur the levels.
    expect(deviceLevels(points, 3, null).some((l, d) => Math.abs(l - (factors[d] as number)) > 0.05)).toBe(true);
    expect(deviceLevels(points, 1, null)).toEqual([1]);
  });
});

describe('presets', () => {
  it('put every sweep point and held-out round mid-tile (the model is the staircase average there)', () => {
    // The GPU matmul has the same rows per tile, so the lattice holds on both paths.
    expect(MATMUL_GPU_TILE.rows).toBe(MATMUL_TILE.rows);
    for (const p of Object.values(PRESETS)) {
      for (const t of p.linearTokens) expect(midTile(t, SWEEP_TILES.linear), `${p.name} T=${t}`).toBe(true);
      for (const d of p.decodePoints) expect(midTile(d.kvLen, SWEEP_TILES.decode), `${p.name} L=${d.kvLen}`).toBe(true);
      for (const c of p.prefillChunks) expect(midTile(c, SWEEP_TILES.prefill), `${p.name} C=${c}`).toBe(true);
      for (const g of p.validation) {
        const at = `${p.name} ${JSON.stringify(g)}`;
        expect(midTile(tokensOf(g), SWEEP_TILES.linear), at).toBe(true);
        expect(midTile(g.kvLen, SWEEP_TILES.decode), at).toBe(true);
        expect(g.prefillChunk === 0 || midTile(g.prefillChunk, SWEEP_TILES.prefill), at).toBe(true);
      }
    }
  });
});

describe('verdict rules', () => {
  const good: VerdictInput = {
    heldOutR2: 0.99,
    typicalHalfWidth: 0.03,
    targetHalfWidth: 0.05,
    notIdentifiable: [],
    probeDrift: 1.05,
    repeatSpread: 0.05,
    replayError: 0.04,
  };

  it(`is noisy beyond ${VERDICT_RULES.maxReferenceShift}× either way, and good within`, () => {
    const m = VERDICT_RULES.maxReferenceShift;
    for (const shift of [1, m, 1 / m, 1.05, 0.9])
      expect(verdictOf({ ...good, referenceShift: shift }).verdict).toBe('good');
    for (const shift of [m * 1.01, 1 / (m * 1.01), 2, 0.5]) {
      const v = verdictOf({ ...good, referenceShift: shift });
      expect(v.verdict).toBe('noisy');
      expect(v.reasons).toEqual([
        `the device ran at ${shift.toFixed(2)}× its stored reference speed (beyond ${m}× either way); its times are scaled to that reference (replace it if it was set while the device was busy)`,
      ]);
    }
    expect(verdictOf(good).verdict).toBe('good');
  });
  it(`is noisy ${VERDICT_RULES.maxHistoryShift}× beyond the median of ${VERDICT_RULES.minHistoryRuns} or more earlier calibrations`, () => {
    const { maxHistoryShift: m, minHistoryRuns: n } = VERDICT_RULES;
    const history = (ratio: number, runs: number = n) => ({ runs, ratio, medianMicros: 3.5e9 });
    for (const ratio of [1, m, 1 / m, 1.1, 0.9])
      expect(verdictOf({ ...good, history: history(ratio) }).verdict).toBe('good');
    // Too few earlier calibrations to judge by: their median is itself one run's noise.
    expect(verdictOf({ ...good, history: history(1.5, n - 1) }).verdict).toBe('good');
    for (const ratio of [m * 1.01, 1 / (m * 1.01), 1.5]) {
      const v = verdictOf({ ...good, history: history(ratio, n + 2) });
      expect(v.verdict).toBe('noisy');
      expect(v.reasons).toEqual([
        `typical round ${ratio.toFixed(2)}× the median of this device's ${n + 2} earlier calibrations here (3,500 s; beyond ${m}× either way)`,
      ]);
    }
  });
  it('names each term in its reasons from TERM_NAMES, as an adjective', () => {
    expect(TERMS.map(termAdjective)).toEqual([
      'fixed',
      'per-token',
      'per-KV-token',
      'per-prefill-square',
      'per-decode-request',
      'per-prefill-request',
    ]);
  });
  it('good when everything is within the rules', () => {
    expect(verdictOf(good)).toEqual({ verdict: 'good', reasons: [] });
    expect(verdictOf({ ...good, replayError: null }).verdict).toBe('good');
  });
  it.each<[Partial<VerdictInput>, 'noisy' | 'unusable', RegExp]>([
    [{ heldOutR2: 0.08 }, 'unusable', /held-out R² 0\.08/],
    [{ heldOutR2: NaN }, 'unusable', /held-out R² not computed/],
    [{ heldOutR2: 0.9 }, 'noisy', /held-out R² 0\.900/],
    [{ typicalHalfWidth: 0.08 }, 'noisy', /typical-round interval ±8\.0 %/],
    [{ typicalHalfWidth: 0.8 }, 'unusable', /typical-round interval ±80 %/],
    [{ typicalHalfWidth: Infinity }, 'unusable', /±∞/],
    [{ notIdentifiable: ['perTokenMicros'] }, 'noisy', /per-token term not identifiable/],
    [{ probeDrift: 1.6 }, 'noisy', /interference: the probe's rate varied 1\.60×/],
    [{ repeatSpread: 0.5 }, 'noisy', /repeats spread 50 %/],
    [{ replayError: -0.2 }, 'noisy', /replay error −20 %/],
    [{ replayError: 0.7 }, 'unusable', /replay error 70 %/],
    [{ legacy: true }, 'noisy', /legacy profile/],
    [{ legacy: true, heldOutR2: 0.077 }, 'unusable', /held-out R² 0\.08/],
  ])('%o → %s', (change, verdict, reason) => {
    const v = verdictOf({ ...good, ...change });
    expect(v.verdict).toBe(verdict);
    expect(v.reasons.join('; ')).toMatch(reason);
  });
  it('thresholds sit where the docs say', () => {
    expect(verdictOf({ ...good, heldOutR2: VERDICT_RULES.noisyR2 }).verdict).toBe('good');
    expect(verdictOf({ ...good, replayError: VERDICT_RULES.noisyReplayError }).verdict).toBe('good');
    expect(verdictOf({ ...good, typicalHalfWidth: 0.05 }).verdict).toBe('good');
    expect(verdictOf({ ...good, heldOutR2: 0.5, typicalHalfWidth: 0.5 }).verdict).toBe('noisy');
  });
  it('a not-identifiable term below 1 % of the typical round at its far end is minor: noted, not a noisy reason', () => {
    const typical = 4_000_000; // µs
    // Far ends: per decode request 30,000 µs × 42 requests = 1.26 M (31 %); per prefill request 1,000 × 5 = 0.005 M.
    const far: Partial<Record<string, number>> = {
      perDecodeRequestMicros: 30_000 * 42,
      perPrefillRequestMicros: 1_000 * 5,
    };
    const contribution = (t: string) => far[t] ?? Number.NaN;
    const notIdentifiable = ['perDecodeRequestMicros', 'perPrefillRequestMicros'] as const;
    const minor = minorTermsOf(notIdentifiable, contribution, typical);
    expect(minor).toEqual(['perPrefillRequestMicros']);
    const v = verdictOf({ ...good, notIdentifiable, minorTerms: minor });
    expect(v.verdict).toBe('noisy');
    expect(v.reasons).toEqual(['per-decode-request term not identifiable (its interval includes 0)']);
    expect(verdictOf({ ...good, notIdentifiable: ['perPrefillRequestMicros'], minorTerms: minor })).toEqual({
      verdict: 'good',
      reasons: [],
    });
    expect(minorTermsNote(minor)).toMatch(
      /^per-prefill-request term not identifiable .* but minor: below 1 % of the typical round/,
    );
    expect(minorTermsNote([])).toBeNull();
    // The boundary: exactly 1 % is not minor; an unknown typical round makes nothing minor.
    expect(minorTermsOf(['perTokenMicros'], () => 0.01 * typical, typical)).toEqual([]);
    expect(minorTermsOf(['perTokenMicros'], () => 0, Number.NaN)).toEqual([]);
  });

  it('calls a term not identifiable when its interval includes 0 or spans more than 2×, and says which', () => {
    expect(VERDICT_RULES.maxTermSpan).toBe(2);
    expect(notIdentifiableWhy([0, 5])).toBe('its interval includes 0');
    expect(notIdentifiableWhy([10, 20])).toBeNull();
    expect(notIdentifiableWhy([10, 20.5])).toBe('its 95 % interval spans 2.0×, more than 2×');
    expect(notIdentifiableWhy([47_000, 148_000])).toBe('its 95 % interval spans 3.1×, more than 2×');
    expect(notIdentifiableWhy([Number.NaN, 1])).toBe('its interval includes 0');
    const v = verdictOf({
      ...good,
      notIdentifiable: ['perKvTokenMicros', 'fixedMicros'],
      termIntervals: { perKvTokenMicros: [400, 1_600], fixedMicros: [0, 3] },
    });
    expect(v).toEqual({
      verdict: 'noisy',
      reasons: [
        'per-KV-token term not identifiable (its 95 % interval spans 4.0×, more than 2×)',
        'fixed term not identifiable (its interval includes 0)',
      ],
    });
    // The 2× rule follows from the 1.5× target: the 95 % interval of a log-normal estimate
    // spanning 2× has sd 0.177 in log; the expected range of five draws is ~2.33 sd.
    const rand = rng(7);
    const sd = Math.log(2) / 2 / 1.96;
    const ranges = Array.from({ length: 4000 }, () => {
      const xs = Array.from({ length: 5 }, () => sd * normal(rand));
      return Math.exp(Math.max(...xs) - Math.min(...xs));
    });
    expect(median(ranges)).toBeGreaterThan(1.4);
    expect(median(ranges)).toBeLessThan(1.6);
  });
});
