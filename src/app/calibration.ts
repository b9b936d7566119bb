/**
 * The calibration feature (src/calibrate/, src/gpu/), loaded on demand by the
 * Calibrate view; and reading stored profiles (`kvsched.profile/1`) for display.
 */
import type { Profile } from '../calibrate/profile.ts';

export type { Profile };

/** Loads everything a calibration needs (kernels, shaders, fit) as one chunk. */
export async function loadCalibration() {
  const [calib, grid, session, shaders] = await Promise.all([
    import('../calibrate/calibrate.ts'),
    import('../calibrate/grid.ts'),
    import('../gpu/session.ts'),
    import('../gpu/shaders-browser.ts'),
  ]);
  return { calibrate: calib.calibrate, PRESETS: grid.PRESETS, openSession: session.openSession, shaders: shaders.browserShaders };
}

/** Headline numbers of a profile, for tables. */
export function profileFacts(p: Profile): [string, string, number | string][] {
  const c = p.fullModel.coefficients;
  const t = p.reference.typicalRound;
  return [
    ['device', 'adapter', p.device.name],
    ['device', 'software fallback', p.device.adapter.isFallbackAdapter ? 'yes' : 'no'],
    ['device', 'timing', p.device.timing.method],
    ['device', 'round trip (µs)', p.device.timing.roundTripMicros],
    ['probes', 'stream read (GB/s)', p.probes.stream.bytesPerSecond / 1e9],
    ['probes', 'FMA (GFLOP/s)', p.probes.fma.flopPerSecond / 1e9],
    ['fit', 'R² (held out)', p.fit.r2],
    ['fit', 'MAPE (held out, %)', p.fit.mape * 100],
    ['Llama-2 70B', 'fixed (µs/round)', c.fixedMicros],
    ['Llama-2 70B', 'per token (µs)', c.perTokenMicros],
    ['Llama-2 70B', 'per KV token (µs)', c.perKvTokenMicros],
    ['Llama-2 70B', 'per prefill square (µs)', c.perPrefillSquareMicros],
    ['typical round', 'this device (µs)', t.deviceMicros],
    ['typical round', `${p.reference.name} (µs)`, t.referenceMicros],
    ['typical round', 'ratio to reference', t.ratio],
  ];
}
