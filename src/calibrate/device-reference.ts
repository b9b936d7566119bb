/**
 * A device's reference speed, kept across calibrations on this machine
 * (docs/calibration.md, "Device reference").
 *
 * Drift normalisation (./analysis.ts) expresses every sample at one rate of the reference
 * probe. Within a calibration that rate is the run's own; between calibrations the machine's
 * speed moves too (a shared VM is faster or slower from one minute to the next), and a
 * calibration normalised only to itself carries that minute's speed into every term. So the
 * first calibration of a device that is not `unusable` stores its run's reference rate R
 * here, and every later calibration of the same device and probe is expressed at that
 * stored rate: its normalised samples are multiplied by (R_run / R_stored)^0.75
 * (BETWEEN_RUN_SENSITIVITY, analysis.ts Drift.deviceScale). The stored rate is an anchor:
 * it never changes by itself, and the profile records the run's own rate beside it (the
 * verdict flags a run that is far from it). The reference also keeps the history of the
 * calibrations expressed at it, and each new one is compared with them (repeatabilityOf):
 * how far a device's calibrations move between runs, which no single run's interval holds.
 *
 * Pure: no DOM, no Node. Stores live where the state lives: a JSON file for the CLI and the
 * benches (./device-reference-node.ts), localStorage in the app (src/app/device-reference.ts).
 */
import { z } from '../model/zod.ts';
import { median } from './stats.ts';

export const DEVICE_REFERENCES_SCHEMA = 'kvsched.device-references/1';

/**
 * How a run's times are carried from its own reference rate R to the stored one: × (R /
 * stored)^BETWEEN_RUN_SENSITIVITY (`deviceScaleOf`). Measured, not assumed: over fourteen
 * quiet five-run series on the 2-core SwiftShader machine (70 quick calibrations), the
 * typical round's between-run standard deviation (log) was 4.68 % at 0.75, 4.65–4.81 % for
 * 0.6–1, 4.96 % at 0.5 and 5.76 % with each run's own within-run β (the fifth session's
 * choice: fitted on two 40 ms probes around each sample, β is attenuated and noisy, 0.07–0.69),
 * 6.23 % without a reference; log typical round on log R between runs has slope −0.86
 * (docs/calibration.md, "Device reference").
 */
export const BETWEEN_RUN_SENSITIVITY = 0.75;

/** The factor a run's normalised samples are multiplied by to express them at the stored rate. */
export function deviceScaleOf(runRate: number, storedRate: number): number {
  return (runRate / storedRate) ** BETWEEN_RUN_SENSITIVITY;
}

/**
 * A calibration whose typical round's 95 % interval is wider than ± this does not set the
 * reference: it was disturbed throughout (a busy machine), and its R would anchor every later
 * calibration to that minute. Seen in the sixth session's run 20: a first calibration made
 * during a type-check (±41 %, R 12.8 × 10⁹ FLOP/s against 16.9–18.9 for the next four,
 * which then all ran at 1.33–1.48× it). Quiet quick calibrations on the 2-core machine:
 * ±2.4–13.5 % (75 of them).
 */
export const MAX_ANCHOR_HALF_WIDTH = 0.2;

/** Calibrations of a device kept with its reference (the last this many). */
export const DEVICE_HISTORY_LENGTH = 20;

/** One calibration of the device, as it reported its typical round (at the stored reference). */
export const deviceCalibrationSchema = z.object({
  /** When it was made (ISO 8601). */
  at: z.string().min(1),
  /** Its typical round, Llama-2-70B on this device (µs), expressed at the stored reference. */
  typicalMicros: z.number().positive().finite(),
  verdict: z.enum(['good', 'noisy']),
});
export type DeviceCalibration = z.infer<typeof deviceCalibrationSchema>;

export const deviceReferenceSchema = z.object({
  /** The reference probe's rate (FLOP/s) the samples of later calibrations are expressed at. */
  rate: z.number().positive().finite(),
  /** When the calibration that set it was made (ISO 8601). */
  setAt: z.string().min(1),
  /** The adapter's name, for people reading the file. */
  device: z.string().optional(),
  /**
   * The calibrations expressed at this reference that were not unusable, oldest first (the
   * last DEVICE_HISTORY_LENGTH): each later calibration is compared with them
   * (`repeatabilityOf`). A new reference starts a new history.
   */
  history: z.array(deviceCalibrationSchema).optional(),
});
export type DeviceReference = z.infer<typeof deviceReferenceSchema>;

export const deviceReferencesSchema = z.object({
  schema: z.literal(DEVICE_REFERENCES_SCHEMA),
  /** By deviceReferenceKey. */
  references: z.record(z.string(), deviceReferenceSchema),
});
export type DeviceReferences = z.infer<typeof deviceReferencesSchema>;

/** Where a calibration reads and keeps device references. */
export interface DeviceReferenceStore {
  /** Where it lives, for messages ("~/.local/state/kvsched/device-references.json"). */
  readonly where: string;
  get(key: string): DeviceReference | undefined;
  /** Stores (replacing) a reference; throws with a one-line reason when it cannot. */
  set(key: string, reference: DeviceReference): Promise<void>;
}

/**
 * The key of a device and its reference probe: the adapter's identity (JSON of its vendor,
 * architecture, device, description, fallback flag) and the probe's size (the presets'
 * sentinels differ, and so do their rates).
 */
export function deviceReferenceKey(adapterIdentity: string, fmaIters: number): string {
  return `${adapterIdentity}|fma${fmaIters}`;
}

/** Parses a device-references document; throws a one-line error naming `where` when it is not one. */
export function parseDeviceReferences(text: string, where: string): DeviceReferences {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const r = deviceReferencesSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(
      `${where} is not a ${DEVICE_REFERENCES_SCHEMA} file (${i ? `${i.path.join('.') || 'top level'}: ${i.message}` : 'invalid'})`,
    );
  }
  return r.data;
}

export function emptyDeviceReferences(): DeviceReferences {
  return { schema: DEVICE_REFERENCES_SCHEMA, references: {} };
}

/** A store over a document kept in memory, written through `persist` on every set. */
export function documentStore(
  where: string,
  doc: DeviceReferences,
  persist: (doc: DeviceReferences) => Promise<void>,
): DeviceReferenceStore {
  return {
    where,
    get: (key) => doc.references[key],
    async set(key, reference) {
      const next: DeviceReferences = { ...doc, references: { ...doc.references, [key]: reference } };
      await persist(next);
      doc = next;
    },
  };
}

/**
 * How a calibration's typical round compares with the device's earlier calibrations here
 * (the history of the reference it is expressed at): their count, median and range (µs),
 * and this run's typical round over their median.
 */
export const repeatabilitySchema = z.object({
  runs: z.number().int().positive(),
  medianMicros: z.number().positive(),
  minMicros: z.number().positive(),
  maxMicros: z.number().positive(),
  ratio: z.number().positive(),
});
export type Repeatability = z.infer<typeof repeatabilitySchema>;

/**
 * This run's typical round against the device's earlier calibrations at the same reference;
 * undefined when there are none. What no interval of a single calibration can show — how
 * far the device's own calibrations move from one minute to the next — shows here.
 */
export function repeatabilityOf(
  history: readonly DeviceCalibration[] | undefined,
  typicalMicros: number,
): Repeatability | undefined {
  const t = (history ?? []).map((h) => h.typicalMicros);
  if (t.length === 0 || !(typicalMicros > 0)) return undefined;
  const medianMicros = median(t);
  return {
    runs: t.length,
    medianMicros,
    minMicros: Math.min(...t),
    maxMicros: Math.max(...t),
    ratio: typicalMicros / medianMicros,
  };
}

/** What a calibration did with the device reference (the profile's design.drift.deviceReference). */
export const deviceReferenceUseSchema = z.object({
  /**
   * applied: the samples are expressed at the stored reference (rate, set at setAt);
   * stored: there was none (or a reset was asked for), and this run's rate became it;
   * none: there was none and this run did not set it (why in `note`).
   */
  status: z.enum(['applied', 'stored', 'none']),
  /** The run's own reference rate (FLOP/s): the REFERENCE_QUANTILE of its probe rates. */
  runRate: z.number().nonnegative(),
  /** The stored reference's rate (FLOP/s) and when it was set, when applied or stored. */
  rate: z.number().positive().optional(),
  setAt: z.string().optional(),
  /** Applied: the exponent of (runRate / rate) the times were scaled by (BETWEEN_RUN_SENSITIVITY). */
  sensitivity: z.number().nonnegative().optional(),
  /** Applied: this run against the earlier calibrations expressed at the same reference. */
  earlier: repeatabilitySchema.optional(),
  note: z.string().optional(),
});
export type DeviceReferenceUse = z.infer<typeof deviceReferenceUseSchema>;

/**
 * What a calibration does with the device reference once its verdict is known: applied the
 * stored one (`anchor`, which its samples were expressed at), or — when it had none — stores
 * its own rate unless it is `unusable`. A `noisy` run may store it: its rate is the upper
 * decile of ~150 probes, robust to what made it noisy (a slow visit, intervals a little
 * wide), and any level is as good an anchor as another — later runs are expressed at it,
 * not compared with a truth; a reference far from the device's usual speed shows in every
 * later run's shift (the verdict's reason) and is replaced on request. A run disturbed
 * throughout (its typical round's interval wider than ±MAX_ANCHOR_HALF_WIDTH) does not set
 * it. A calibration that is not `unusable` is added to the reference's history (the next
 * calibrations are compared with it; a new reference starts a new one). A store that cannot
 * be written leaves the profile as it is, with the reason in `note`. null without a store.
 */
export async function settleDeviceReference(a: {
  store: DeviceReferenceStore | undefined;
  key: string;
  anchor: DeviceReference | undefined;
  runRate: number | undefined;
  verdict: 'good' | 'noisy' | 'unusable';
  createdAt: string;
  device: string;
  /** The typical round the profile reports (µs, at the anchor when applied) … */
  typicalMicros: number;
  /** … and its 95 % interval's relative half-width. */
  typicalHalfWidth: number;
  /** With an anchor: the run against its history (`repeatabilityOf`, which the verdict read too). */
  earlier?: Repeatability | undefined;
}): Promise<DeviceReferenceUse | null> {
  const { store, anchor, runRate, verdict, earlier } = a;
  if (!store || runRate === undefined) return null;
  const entry = (): DeviceCalibration[] =>
    verdict === 'unusable' || !(a.typicalMicros > 0)
      ? []
      : [{ at: a.createdAt, typicalMicros: a.typicalMicros, verdict }];
  if (anchor) {
    const use: DeviceReferenceUse = {
      status: 'applied',
      runRate,
      rate: anchor.rate,
      setAt: anchor.setAt,
      sensitivity: BETWEEN_RUN_SENSITIVITY,
      ...(earlier ? { earlier } : {}),
    };
    const add = entry();
    if (add.length === 0) return use;
    try {
      await store.set(a.key, { ...anchor, history: [...(anchor.history ?? []), ...add].slice(-DEVICE_HISTORY_LENGTH) });
    } catch (e) {
      return {
        ...use,
        note: `could not add this calibration to its history in ${store.where}: ${(e as Error).message}`,
      };
    }
    return use;
  }
  if (verdict === 'unusable')
    return {
      status: 'none',
      runRate,
      note: `this calibration is unusable, so its speed was not kept (the next usable calibration's will be)`,
    };
  if (!(a.typicalHalfWidth <= MAX_ANCHOR_HALF_WIDTH))
    return {
      status: 'none',
      runRate,
      note: `this calibration's typical round is known only to ±${Number.isFinite(a.typicalHalfWidth) ? Math.round(100 * a.typicalHalfWidth) : '∞'} % (the device was busy), so its speed was not kept (the next calibration within ±${100 * MAX_ANCHOR_HALF_WIDTH} % will set it)`,
    };
  try {
    await store.set(a.key, { rate: runRate, setAt: a.createdAt, device: a.device, history: entry() });
  } catch (e) {
    return { status: 'none', runRate, note: `could not store it in ${store.where}: ${(e as Error).message}` };
  }
  return { status: 'stored', runRate, rate: runRate, setAt: a.createdAt };
}

/** A typical round in whole seconds, as the lines show it ("3,512"). */
const wholeSeconds = (micros: number) => Math.round(micros / 1e6).toLocaleString('en-US');
/** … with its unit ("3,512 s"; the verdict's history reason too). */
export const secondsText = (micros: number) => `${wholeSeconds(micros)} s`;

/** How a run compares with the device's earlier calibrations, in words (undefined: none). */
export function repeatabilityText(r: Repeatability | undefined): string | undefined {
  if (!r) return undefined;
  const x = `typical round ${r.ratio.toFixed(3)}×`;
  return r.runs === 1
    ? `${x} this device's earlier calibration here (${secondsText(r.medianMicros)})`
    : `${x} the median of this device's ${r.runs} earlier calibrations here (${secondsText(r.medianMicros)}; range ${wholeSeconds(r.minMicros)}–${secondsText(r.maxMicros)})`;
}

/** What a calibration did with its device reference, in a line (the CLI and the app's profile table). */
export function deviceReferenceText(r: DeviceReferenceUse): string {
  const g = (x: number) => `${(x / 1e9).toFixed(2)} GFLOP/s`;
  const at = (iso: string | undefined) => `${(iso ?? '?').slice(0, 16).replace('T', ' ')} UTC`;
  if (r.status === 'applied' && r.rate !== undefined)
    return [
      `times expressed at this device's stored reference, ${g(r.rate)} (set ${at(r.setAt)}); this run's probe ran at ${g(r.runRate)}, ${(r.runRate / r.rate).toFixed(3)}× it`,
      repeatabilityText(r.earlier),
      r.note,
    ]
      .filter((x) => x !== undefined)
      .join('; ');
  if (r.status === 'stored') return `none was stored; this run's ${g(r.runRate)} is now this device's reference`;
  return `none stored yet; ${r.note ?? 'no reason recorded'}`;
}
