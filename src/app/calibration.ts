/**
 * The calibration feature (src/calibrate/, src/gpu/), loaded on demand by the
 * Calibrate view; and reading stored profiles (`kvsched.profile/2`, /1 read as legacy)
 * for display: verdicts, intervals, the kernel-efficiency table, the ratio bars.
 */
import { coefficientsOf, predict, TERM_NAMES, TERMS, type Term } from '../calibrate/fit.ts';
import {
  measurementFeatures,
  PROFILE_SCHEMA,
  PROFILE_SCHEMA_V1,
  profileSchema,
  type Profile,
} from '../calibrate/profile.ts';
import { deviceReferenceText } from '../calibrate/device-reference.ts';
import { verdictOf, type Verdict } from '../calibrate/verdict.ts';
import { fixed } from './format.ts';
import type { StoredRecord } from '../storage/schema.ts';
import type { ChartSpec } from './components/kv-chart.ts';
import { getStore } from './services.ts';

export type { Profile };

/** Stored `profile` records in store order, split into valid profiles (checked with the
 *  profile schema, loaded on demand) and records that are not valid profiles. */
export async function loadStoredProfiles(): Promise<{
  valid: { record: StoredRecord; profile: Profile }[];
  invalid: StoredRecord[];
}> {
  const [records, { profileSchema }] = await Promise.all([
    getStore().then((s) => s.list('profile')),
    import('../calibrate/profile.ts'),
  ]);
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
  const [calib, grid, session, shaders, refs] = await Promise.all([
    import('../calibrate/calibrate.ts'),
    import('../calibrate/grid.ts'),
    import('../gpu/session.ts'),
    import('../gpu/shaders-browser.ts'),
    import('./device-reference.ts'),
  ]);
  return {
    calibrate: calib.calibrate,
    phases: calib.CALIBRATION_PHASES,
    PRESETS: grid.PRESETS,
    openSession: session.openSession,
    shaders: shaders.browserShaders,
    deviceReferences: (replaceUnreadable: boolean) => refs.browserDeviceReferences(localStorage, replaceUnreadable),
  };
}

/** A number with about 4 significant digits for tables. */
export function sig(v: number): string {
  const a = Math.abs(v);
  return fixed(v, a === 0 ? 0 : a >= 100 ? 0 : a >= 1 ? 2 : a >= 0.001 ? 5 : 8);
}

/** `value [lo – hi]` (95 % interval) when known, else the value alone. */
export function withInterval(v: number, i: readonly [number, number] | undefined): string {
  return i ? `${sig(v)} [${sig(i[0])} – ${sig(i[1])}]` : sig(v);
}

/**
 * The verdict of a stored profile record's data without validating it (pickers and
 * History lines): a /2 profile's `quality`, a /1 profile's from its held-out R² (legacy);
 * null when the data is not recognisably a profile.
 */
export function verdictOfData(data: unknown): { verdict: Verdict; reasons: string[] } | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as { schema?: unknown; quality?: { verdict?: unknown; reasons?: unknown }; fit?: { r2?: unknown } };
  const v = d.quality?.verdict;
  if (d.schema === PROFILE_SCHEMA && (v === 'good' || v === 'noisy' || v === 'unusable')) {
    return {
      verdict: v,
      reasons: Array.isArray(d.quality?.reasons)
        ? d.quality.reasons.filter((r): r is string => typeof r === 'string')
        : [],
    };
  }
  if (d.schema === PROFILE_SCHEMA_V1 && typeof d.fit?.r2 === 'number') {
    return verdictOf({
      heldOutR2: d.fit.r2,
      typicalHalfWidth: NaN,
      targetHalfWidth: 0.05,
      notIdentifiable: [],
      probeDrift: NaN,
      repeatSpread: NaN,
      replayError: null,
      legacy: true,
    });
  }
  return null;
}

/** Label of a stored profile as a cost-model choice: an unusable one says so (a warning in the picker itself). */
export function profileOptionLabel(title: string, data: unknown): string {
  const v = verdictOfData(data);
  if (!v) return `Profile: ${title} (not a valid profile)`;
  if (v.verdict === 'unusable')
    return `⚠ Profile: ${title} — UNUSABLE (${v.reasons[0] ?? 'see Calibrate'}): predictions not trustworthy`;
  return `Profile: ${title} (${v.verdict})`;
}

/**
 * The energy a profile's simulations use: its own power model (a /1 profile gets its
 * adapter class's default on migration), labelled as a default or as set by the user.
 */
export function profilePowerHint(data: unknown): string {
  const r = profileSchema.safeParse(data);
  if (!r.success) return 'energy: the profile is not valid, so its power model is unknown';
  const w = r.data.power;
  const total = w.gpus * w.activeWattsPerGpu;
  const who = w.source === 'user' ? 'set by the user' : `the default for a ${w.adapterClass} adapter`;
  return `energy at the profile's ${fixed(total, 0)} W busy, ${fixed(w.gpus * w.idleWattsPerGpu, 0)} W idle (${who}), not the A100's`;
}

/** One line about a stored profile for History: device, preset, verdict, typical round vs the A100. */
export function profileSummaryLine(data: unknown): string {
  const v = verdictOfData(data);
  if (!v) return 'calibration profile (not valid)';
  const d = data as {
    device?: { name?: string };
    preset?: string;
    reference?: { typicalRound?: { ratio?: number; ratioInterval?: [number, number] } };
  };
  const t = d.reference?.typicalRound;
  const ratio =
    typeof t?.ratio === 'number' ? `; typical round ${withInterval(t.ratio, t.ratioInterval)}× the A100` : '';
  return `calibration profile of ${d.device?.name ?? '?'} (${d.preset ?? '?'}): ${v.verdict}${v.reasons.length > 0 ? ` — ${v.reasons.join('; ')}` : ''}${ratio}`;
}

/** The kernel-efficiency table: each kernel's rate at the sweeps' largest size against its roof probe. */
export function kernelRows(
  p: Profile,
): { kernel: string; size: string; ms: number; rate: string; efficiency: number; roof: string }[] {
  const k = p.kernels;
  const rate = (x: number, unit: string) => {
    for (const [s, v] of [
      ['T', 1e12],
      ['G', 1e9],
      ['M', 1e6],
      ['k', 1e3],
    ] as const)
      if (x >= v) return `${(x / v).toFixed(2)} ${s}${unit}`;
    return `${x.toFixed(2)} ${unit}`;
  };
  return [
    {
      kernel: 'decode attention',
      size: `B=${k.decode.point.decodeBatch} L=${k.decode.point.kvLen}`,
      ms: k.decode.measurement.medianMs,
      rate: rate(k.decode.bytesPerSecond, 'B/s'),
      efficiency: k.decode.efficiency,
      roof: 'streaming probe',
    },
    {
      kernel: 'prefill attention',
      size: `C=${k.prefill.point.prefillChunk}`,
      ms: k.prefill.measurement.medianMs,
      rate: rate(k.prefill.flopPerSecond, 'FLOP/s'),
      efficiency: k.prefill.efficiency,
      roof: 'FMA probe',
    },
    {
      kernel: 'linear layers',
      size: `T=${k.linear.point.tokens}`,
      ms: k.linear.measurement.medianMs,
      rate: rate(k.linear.flopPerSecond, 'FLOP/s'),
      efficiency: k.linear.efficiency,
      roof: 'FMA probe',
    },
  ];
}

/**
 * How many devices of the adapter the linear sweep rotated over, with their levels' range
 * (docs/calibration.md, "Device levels"); '—' for profiles written before the rotation.
 */
export function linearDevicesFact(p: Profile): string {
  const d = p.design?.linearDevices;
  if (!d) return '—';
  const lv = d.levels;
  const range = lv.length > 1 ? ` (levels ${fixed(Math.min(...lv), 2)}–${fixed(Math.max(...lv), 2)})` : '';
  return `${d.count}${range}${d.note !== undefined ? `: ${d.note}` : ''}`;
}

/** What the calibration did with this machine's device reference; "—" for profiles without (given no store, or older). */
export function deviceReferenceFact(p: Profile): string {
  const r = p.design?.drift?.deviceReference;
  return r ? deviceReferenceText(r) : '—';
}

/** Headline numbers of a profile, for tables (intervals as `value [lo – hi]`). */
export function profileFacts(p: Profile): [string, string, number | string][] {
  const c = p.fullModel.coefficients;
  const ci = p.fullModel.intervals;
  const t = p.reference.typicalRound;
  const rp = p.validation.replay;
  return [
    ['quality', 'verdict', p.quality.verdict],
    ['quality', 'reasons', p.quality.reasons.join('; ') || '—'],
    ['device', 'adapter', p.device.name],
    ['device', 'software fallback', p.device.adapter.isFallbackAdapter ? 'yes' : 'no'],
    ['device', 'timing', p.device.timing.method],
    ['device', 'linear sweep devices', linearDevicesFact(p)],
    ['device', 'device reference', deviceReferenceFact(p)],
    ['device', 'round trip (µs)', p.device.timing.roundTripMicros],
    [
      'device',
      'board power (W)',
      `${sig(p.power.activeWattsPerGpu)} (${p.power.source === 'default' ? `default, ${p.power.adapterClass} adapter` : 'set by the user'})`,
    ],
    ['probes', 'stream read (GB/s)', p.probes.stream.bytesPerSecond / 1e9],
    ['probes', 'FMA (GFLOP/s)', p.probes.fma.flopPerSecond / 1e9],
    ['fit', 'R² (held out)', p.fit.r2],
    ['fit', 'MAPE (held out, %)', p.fit.mape * 100],
    [
      'fit',
      'replay error (%)',
      rp ? `${rp.error >= 0 ? '+' : ''}${fixed(100 * rp.error, 1)} (${rp.rounds} rounds)` : 'not run',
    ],
    ...TERMS.map((t): [string, string, number | string] => {
      const v = c[t];
      return [
        'Llama-2 70B',
        `${TERM_NAMES[t]} (µs)`,
        v === undefined
          ? TERM_ABSENT
          : withInterval(v, ci?.[t]) + (p.reference.coefficients[t] ? '' : ` (${NOT_IN_A100})`),
      ];
    }),
    ['typical round', 'this device (µs)', withInterval(t.deviceMicros, t.deviceInterval)],
    ['typical round', `${p.reference.name} (µs)`, t.referenceMicros],
    ['typical round', 'ratio to reference', withInterval(t.ratio, t.ratioInterval)],
  ];
}

/** The fit's prediction at each grid point against the measurement (µs, emulated geometry). */
export function fitPoints(p: Profile): { train: { x: number; y: number }[]; heldOut: { x: number; y: number }[] } {
  const train: { x: number; y: number }[] = [];
  const heldOut: { x: number; y: number }[] = [];
  for (const m of p.measurements) {
    const pt = { x: m.micros, y: predict(coefficientsOf(p.fit.coefficients), measurementFeatures(m)) };
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
    title: 'Measured vs predicted round time (emulated geometry)',
    xLabel: 'measured (µs)',
    yLabel: 'fitted (µs)',
    xMin: 0,
    yMin: 0,
    ...(hi > 0 ? { xMax: hi, yMax: hi } : {}),
    series: [
      // /2 profiles fit sweeps, not rounds: every round shown is held out (legacy /1 profiles also have fitted rounds).
      ...(train.length > 0
        ? [{ label: `fitted points (${train.length})`, points: train, scatter: true, color: '#0072B2' }]
        : []),
      {
        label: `held out (${heldOut.length})`,
        points: heldOut,
        scatter: true,
        pointStyle: 'triangle',
        color: '#D55E00',
      },
      {
        label: 'y = x',
        points: [
          { x: 0, y: 0 },
          { x: hi, y: hi },
        ],
        dashed: true,
        color: '#8C8C8C',
      },
    ],
  };
}

/** The per-term ratios of reference.ratios, in chart order (every term of TERMS). */
export const RATIO_TERMS: readonly [Term, string][] = TERMS.map((t) => [t, TERM_NAMES[t]]);

/** How a term the A100 model lacks is shown (never as a ratio or a missing bar). */
export const NOT_IN_A100 = 'not in the A100 model';
/** How a term a profile predates is shown (the cost model reads it as 0). */
export const TERM_ABSENT = 'absent from this profile (older kvsched): read as 0';

/** One bar of the ratio chart: a profile's term ÷ the A100's, with its 95 % interval (null: a legacy profile). */
export interface RatioBar {
  term: string;
  value: number;
  interval: [number, number] | null;
  /** The term was fitted to zero (not a missing bar: drawn as a marker at the axis' foot). */
  zero: boolean;
  /**
   * No ratio: the A100 model has no such term (`reference`; the profile's own value in µs
   * is in `micros`), or the profile predates it (`profile`, read as 0).
   */
  noRatio?: { why: 'reference' | 'profile'; micros: number | null; interval: [number, number] | null };
}

/** Each profile's time per term relative to the reference (A100), with intervals, for kv-ratio-bars. */
export function ratioBars(
  profiles: readonly { title: string; profile: Profile }[],
): { title: string; verdict: Verdict; bars: RatioBar[] }[] {
  return profiles.map((p) => ({
    title: p.title,
    verdict: p.profile.quality.verdict,
    bars: RATIO_TERMS.map(([t, label]): RatioBar => {
      const v = p.profile.reference.ratios[t];
      const i = p.profile.reference.ratioIntervals?.[t];
      if (v === undefined || !(p.profile.reference.coefficients[t] ?? 0)) {
        const micros = p.profile.fullModel.coefficients[t];
        const fi = p.profile.fullModel.intervals?.[t];
        return {
          term: label,
          value: 0,
          interval: null,
          zero: false,
          noRatio: {
            why: micros === undefined ? 'profile' : 'reference',
            micros: micros ?? null,
            interval: fi ? [fi[0], fi[1]] : null,
          },
        };
      }
      return { term: label, value: v, interval: i ? [i[0], i[1]] : null, zero: !(v > 0) };
    }),
  }));
}

/** `kvsched-profile-<device>.json`, the device name made file-safe. */
export function profileFileName(p: Profile): string {
  const dev = p.device.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'device';
  return `kvsched-profile-${dev}.json`;
}

/** Downloads the profile as JSON (a Blob and a temporary <a download>): the same text as `kvsched calibrate --out`. */
export async function downloadProfile(p: Profile): Promise<void> {
  const { serializeProfile } = await import('../calibrate/profile.ts');
  const url = URL.createObjectURL(new Blob([serializeProfile(p)], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = profileFileName(p);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
