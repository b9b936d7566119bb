/** A complete, valid calibration profile for tests (numbers made up; shape as calibrate() writes it). */
import type { Coefficients } from '../../../src/calibrate/fit.ts';
import { gridPoints, PRESETS } from '../../../src/calibrate/grid.ts';
import type { Profile } from '../../../src/calibrate/profile.ts';

export const TRUE: Coefficients = { fixedMicros: 1500, perTokenMicros: 12.5, perKvTokenMicros: 0.75, perPrefillSquareMicros: 0.02 };

export function sampleProfile(): Profile {
  const m = { method: 'timestamp' as const, innerReps: 1, samplesMs: [1.5, 1.25, 1.75], medianMs: 1.5, minMs: 1.25, maxMs: 1.75, spread: 1 / 3 };
  const kr = (tokens: number) => ({ point: { decodeBatch: 0, kvLen: 0, prefillChunk: tokens, tokens }, measurement: m, bytes: 1e6, flops: 1e8, bytesPerSecond: 1e9, flopPerSecond: 2e9, efficiency: 0.5 });
  return {
    schema: 'kvsched.profile/1',
    createdAt: '2026-01-02T03:04:05.678Z',
    tool: { name: 'kvsched', version: '0.1.0' },
    preset: 'quick',
    device: {
      adapter: { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader', isFallbackAdapter: true },
      name: 'google / swiftshader / SwiftShader',
      limits: { maxStorageBufferBindingSize: 1073741824 },
      features: ['timestamp-query'],
      runtime: 'test',
      shaderF16: false,
      precision: 'f32',
      timing: { method: 'timestamp', roundTripMicros: 100 },
    },
    geometry: { model: 'llama2-70b', layers: 80, queryHeads: 64, kvHeads: 8, headDim: 128, hidden: 8192, intermediate: 28672, emulatedLayers: 1, widthDivisor: 32, emulatedHidden: 256, emulatedKvDim: 32, emulatedIntermediate: 896 },
    probes: { stream: { bytes: 1e6, measurement: m, bytesPerSecond: 1e9 }, fma: { flops: 1e9, measurement: m, flopPerSecond: 3e9 } },
    kernels: { decode: kr(0), prefill: kr(64), linear: kr(96) },
    measurements: gridPoints(PRESETS.quick).map((g, i) => ({
      decodeBatch: g.decodeBatch, kvLen: g.kvLen, prefillChunk: g.prefillChunk, tokens: g.decodeBatch + g.prefillChunk,
      kvTokens: g.decodeBatch * g.kvLen, prefillSquares: g.prefillChunk ** 2, heldOut: i % 3 === 2, micros: 1000 + i, measurement: m,
    })),
    fit: { coefficients: TRUE, r2: 0.99, mape: 0.03, train: { r2: 0.995, mape: 0.02 }, trainPoints: 7, heldOutPoints: 3 },
    fullModel: { coefficients: TRUE, method: 'test' },
    costModel: { unit: 'ps', fixedPs: 1_500_000_000, perTokenPs: 12_500_000, perKvTokenPs: 750_000, perPrefillSquarePs: 20_000 },
    reference: {
      name: 'a100-llama2-70b-tp2', coefficients: TRUE, r2: 0.99, mape: 0.1,
      ratios: { fixedMicros: 1, perTokenMicros: 1, perKvTokenMicros: 1, perPrefillSquareMicros: 1 },
      typicalRound: { description: 'x', rounds: 10, mean: { requests: 1, prefillTokens: 1, prefillSquares: 1, decodeRequests: 1, decodeContext: 1 }, deviceMicros: 1, referenceMicros: 1, ratio: 1 },
    },
  };
}

