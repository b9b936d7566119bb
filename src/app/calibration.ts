/**
 * The calibration feature (src/calibrate/, src/gpu/), loaded on demand by the
 * Calibrate view; and reading stored profiles (`kvsched.profile/1`) for display.
 */
import { predict, type Term } from '../calibrate/fit.ts';
import type { Profile } from '../calibrate/profile.ts';
import type { StoredRecord } from '../storage/schema.ts';
import type { ChartSpec } from './components/kv-chart.ts';
import { getStore } from './services.ts';

export type { Profile };

/** Stored `profile` records in store order, split into valid profiles (checked with the
 *  profile schema, loaded on demand) and records that are not valid profiles. */
export async function loadStoredProfiles(): Promise<{ valid: { record: StoredRecord; profile: Profile }[]; invalid: StoredRecord[] }> {
  const [records, { profileSchema }] = await Promise.all([getStore().then((s) => s.list('profile')), import('../calibrate/profile.ts')]);
  const valid: { record: StoredRecord; profile: Profile }[] = [];
  const invalid: StoredRecord[] = [];
  for (const record of records) {
    const p = profileSchema.safeParse(record.data);
    if (p.success) valid.push({ record, profile: p.data });
    else invalid.push(record);
  }
  return { valid, invalid };
}

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

/** The fit's prediction at each grid point against the measurement (µs, emulated geometry). */
export function fitPoints(p: Profile): { train: { x: number; y: number }[]; heldOut: { x: number; y: number }[] } {
  const train: { x: number; y: number }[] = [];
  const heldOut: { x: number; y: number }[] = [];
  for (const m of p.measurements) {
    const pt = { x: m.micros, y: predict(p.fit.coefficients, { tokens: m.tokens, kvTokens: m.kvTokens, prefillSquares: m.prefillSquares }) };
    (m.heldOut ? heldOut : train).push(pt);
  }
  return { train, heldOut };
}

/** Chart: measured vs fitted round time, one point per grid measurement, and y = x. */
export function fitChartSpec(p: Profile): ChartSpec {
  const { train, heldOut } = fitPoints(p);
  const all = [...train, ...heldOut];
  const top = Math.max(0, ...all.map((q) => Math.max(q.x, q.y))) * 1.05;
  // Round the common axis maximum up to a half-decade step (2,500 → 3,000, not 3,292.8).
  const step = top > 0 ? 10 ** Math.floor(Math.log10(top)) / 2 : 1;
  const hi = top > 0 ? Math.ceil(top / step) * step : 0;
  return {
    kind: 'line',
    title: 'Measured vs fitted round time (emulated geometry)',
    xLabel: 'measured (µs)',
    yLabel: 'fitted (µs)',
    xMin: 0,
    yMin: 0,
    ...(hi > 0 ? { xMax: hi, yMax: hi } : {}),
    series: [
      { label: `fitted points (${train.length})`, points: train, scatter: true, color: '#0072B2' },
      { label: `held out (${heldOut.length})`, points: heldOut, scatter: true, pointStyle: 'triangle', color: '#D55E00' },
      { label: 'y = x', points: [{ x: 0, y: 0 }, { x: hi, y: hi }], dashed: true, color: '#8C8C8C' },
    ],
  };
}

/** The per-term ratios of reference.ratios, in chart order. */
export const RATIO_TERMS: readonly [Term, string][] = [
  ['fixedMicros', 'fixed per round'],
  ['perTokenMicros', 'per token'],
  ['perKvTokenMicros', 'per KV token'],
  ['perPrefillSquareMicros', 'per prefill square'],
];

/** Chart: each profile's time per term relative to the reference (A100), log scale. */
export function ratioChartSpec(profiles: readonly { title: string; profile: Profile }[]): ChartSpec {
  const series = profiles.map((p) => ({
    label: p.title,
    values: RATIO_TERMS.map(([t]) => {
      const v = p.profile.reference.ratios[t];
      return v > 0 && Number.isFinite(v) ? v : null;
    }),
  }));
  const vs = series.flatMap((s) => s.values).filter((v): v is number => v !== null);
  // Whole decades around the data, and always including 1 (as fast as the A100).
  const lo = 10 ** Math.floor(Math.log10(Math.min(1, ...vs)) - 1e-9);
  const hi = 10 ** Math.ceil(Math.log10(Math.max(1, ...vs)) + 1e-9);
  return {
    kind: 'bars',
    title: 'Time per term relative to the A100 model (Llama-2 70B; > 1: slower than the A100)',
    xLabel: 'cost-model term',
    yLabel: 'device time ÷ A100 time (×, log scale)',
    labels: RATIO_TERMS.map(([, l]) => l),
    logY: true,
    yMin: lo,
    yMax: hi,
    series,
  };
}

/** `kvsched-profile-<device>.json`, the device name made file-safe. */
export function profileFileName(p: Profile): string {
  const dev = p.device.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'device';
  return `kvsched-profile-${dev}.json`;
}

/** Downloads the profile as JSON (a Blob and a temporary <a download>). */
export function downloadProfile(p: Profile): void {
  const url = URL.createObjectURL(new Blob([JSON.stringify(p, null, 2) + '\n'], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = profileFileName(p);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
