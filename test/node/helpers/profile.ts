/** A complete, valid calibration profile for tests (numbers made up; shape as calibrate() writes it). */
import type { Coefficients, StoredCoefficients } from '../../../src/calibrate/fit.ts';
import { gridPoints, PRESETS } from '../../../src/calibrate/grid.ts';
import { migrateV1, type Profile, type ProfileV1 } from '../../../src/calibrate/profile.ts';

/** The four terms of kvsched.profile/1 (and of /2 profiles written before the per-request terms). */
export const TRUE_V1 = {
  fixedMicros: 1500,
  perTokenMicros: 12.5,
  perKvTokenMicros: 0.75,
  perPrefillSquareMicros: 0.02,
};
export const TRUE: Coefficients = { ...TRUE_V1, perDecodeRequestMicros: 40, perPrefillRequestMicros: 300 };
/** The A100 model in the calibrated form: no per-request terms. */
const REF: Coefficients = { ...TRUE_V1, perDecodeRequestMicros: 0, perPrefillRequestMicros: 0 };

/** A kvsched.profile/1 profile as the first version wrote it. */
export function sampleProfileV1(): ProfileV1 {
  const m = {
    method: 'timestamp' as const,
    innerReps: 1,
    samplesMs: [1.5, 1.25, 1.75],
    medianMs: 1.5,
    minMs: 1.25,
    maxMs: 1.75,
    spread: 1 / 3,
  };
  const kr = (tokens: number) => ({
    point: { decodeBatch: 0, kvLen: 0, prefillChunk: tokens, tokens },
    measurement: m,
    bytes: 1e6,
    flops: 1e8,
    bytesPerSecond: 1e9,
    flopPerSecond: 2e9,
    efficiency: 0.5,
  });
  return {
    schema: 'kvsched.profile/1',
    createdAt: '2026-01-02T03:04:05.678Z',
    tool: { name: 'kvsched', version: '0.1.0' },
    preset: 'quick',
    device: {
      adapter: {
        vendor: 'google',
        architecture: 'swiftshader',
        device: '',
        description: 'SwiftShader',
        isFallbackAdapter: true,
      },
      name: 'google / swiftshader / SwiftShader',
      limits: { maxStorageBufferBindingSize: 1073741824 },
      features: ['timestamp-query'],
      runtime: 'test',
      shaderF16: false,
      precision: 'f32',
      timing: { method: 'timestamp', roundTripMicros: 100 },
    },
    geometry: {
      model: 'llama2-70b',
      layers: 80,
      queryHeads: 64,
      kvHeads: 8,
      headDim: 128,
      hidden: 8192,
      intermediate: 28672,
      emulatedLayers: 1,
      widthDivisor: 32,
      emulatedHidden: 256,
      emulatedKvDim: 32,
      emulatedIntermediate: 896,
    },
    probes: {
      stream: { bytes: 1e6, measurement: m, bytesPerSecond: 1e9 },
      fma: { flops: 1e9, measurement: m, flopPerSecond: 3e9 },
    },
    kernels: { decode: kr(0), prefill: kr(64), linear: kr(96) },
    measurements: [
      ...gridPoints(PRESETS.quick),
      { decodeBatch: 2, kvLen: 64, prefillChunk: 0 },
      { decodeBatch: 8, kvLen: 256, prefillChunk: 0 },
    ].map((g, i) => ({
      decodeBatch: g.decodeBatch,
      kvLen: g.kvLen,
      prefillChunk: g.prefillChunk,
      tokens: g.decodeBatch + g.prefillChunk,
      kvTokens: g.decodeBatch * g.kvLen,
      prefillSquares: g.prefillChunk ** 2,
      heldOut: i % 3 === 2,
      micros: 1000 + i,
      measurement: m,
    })),
    fit: {
      coefficients: TRUE_V1,
      r2: 0.99,
      mape: 0.03,
      train: { r2: 0.995, mape: 0.02 },
      trainPoints: 7,
      heldOutPoints: 3,
    },
    fullModel: { coefficients: TRUE_V1, method: 'test' },
    costModel: {
      unit: 'ps',
      fixedPs: 1_500_000_000,
      perTokenPs: 12_500_000,
      perKvTokenPs: 750_000,
      perPrefillSquarePs: 20_000,
    },
    reference: {
      name: 'a100-llama2-70b-tp2',
      coefficients: TRUE_V1,
      r2: 0.99,
      mape: 0.1,
      ratios: { fixedMicros: 1, perTokenMicros: 1, perKvTokenMicros: 1, perPrefillSquareMicros: 1 },
      typicalRound: {
        description: 'x',
        rounds: 10,
        mean: { requests: 1, prefillTokens: 1, prefillSquares: 1, decodeRequests: 1, decodeContext: 1 },
        deviceMicros: 1,
        referenceMicros: 1,
        ratio: 1,
      },
    },
  };
}

const iv = <C extends StoredCoefficients>(c: C): { [K in keyof C]: [number, number] } =>
  Object.fromEntries(Object.entries(c).map(([k, v = 0]) => [k, [v * 0.98, v * 1.02]])) as {
    [K in keyof C]: [number, number];
  };

/**
 * A complete kvsched.profile/2 profile: intervals, verdict `good`, a replay, a default power
 * model, all six terms (the A100 reference with its per-request terms 0 and no ratio for them).
 */
export function sampleProfile(): Profile {
  const { legacy: _legacy, ...m } = migrateV1(sampleProfileV1());
  const line = { intercept: { value: 10, se: 1, df: 4 }, slope: { value: 2, se: 0.01, df: 4 }, r2: 0.999, points: 6 };
  const pts = [1, 2, 3].map((x) => ({
    x,
    label: `x=${x}`,
    samplesMicros: [10 + 2 * x, 10.1 + 2 * x, 9.9 + 2 * x],
    medianMicros: 10 + 2 * x,
  }));
  const sweep = { points: pts, fit: line };
  return {
    ...m,
    measurements: m.measurements.map((x) => ({ ...x, heldOut: true })),
    design: {
      linear: sweep,
      decode: sweep,
      prefill: sweep,
      roundTrip: { samplesMicros: [100, 101, 99], estimate: { value: 100, se: 1, df: 2 } },
      minimalRound: { measuredMicros: 1510, predictedMicros: 1500 },
      visits: 3,
      samples: 90,
      remeasured: 1,
      elapsedMs: 20_000,
      budgetMs: 25_000,
      stoppedBecause: 'target',
      probeRates: [3e9, 3.1e9, 2.9e9],
    },
    fit: { ...m.fit, coefficients: TRUE, intervals: iv(TRUE), heldOutPoints: 10 },
    fullModel: { ...m.fullModel, coefficients: TRUE, intervals: iv(TRUE) },
    costModel: { ...m.costModel, perDecodeRequestPs: 40_000_000, perPrefillRequestPs: 300_000_000 },
    reference: {
      ...m.reference,
      coefficients: REF,
      ratioIntervals: iv({ fixedMicros: 1, perTokenMicros: 1, perKvTokenMicros: 1, perPrefillSquareMicros: 1 }),
      typicalRound: { ...m.reference.typicalRound, deviceInterval: [0.98, 1.02], ratioInterval: [0.98, 1.02] },
    },
    quality: {
      verdict: 'good',
      reasons: [],
      typicalHalfWidth: 0.02,
      probeDrift: 1.05,
      repeatSpread: 0.05,
      notIdentifiable: [],
    },
    validation: {
      replay: {
        schedule: 'mcsf on lmsys',
        rounds: 60,
        skipped: 0,
        measured: 1_000_000,
        predicted: 1_040_000,
        error: 0.04,
      },
    },
  };
}
