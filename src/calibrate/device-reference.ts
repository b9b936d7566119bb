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
 * stored rate: its normalised samples are multiplied by (R_run / R_stored)^β, the run's own
 * drift normalisation carried on to the stored rate (analysis.ts, Drift.deviceScale). The stored rate is an anchor: it never changes by itself, and the
 * profile records the run's own rate beside it (the verdict flags a run that is far from it).
 *
 * Pure: no DOM, no Node. Stores live where the state lives: a JSON file for the CLI and the
 * benches (./device-reference-node.ts), localStorage in the app (src/app/device-reference.ts).
 */
import { z } from '../model/zod.ts';

export const DEVICE_REFERENCES_SCHEMA = 'kvsched.device-references/1';

export const deviceReferenceSchema = z.object({
  /** The reference probe's rate (FLOP/s) the samples of later calibrations are expressed at. */
  rate: z.number().positive().finite(),
  /** When the calibration that set it was made (ISO 8601). */
  setAt: z.string().min(1),
  /** The adapter's name, for people reading the file. */
  device: z.string().optional(),
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
  note: z.string().optional(),
});
export type DeviceReferenceUse = z.infer<typeof deviceReferenceUseSchema>;

/**
 * What a calibration does with the device reference once its verdict is known: applied the
 * stored one (`anchor`, which its samples were expressed at), or — when it had none — stores
 * its own rate unless it is `unusable`. A `noisy` run may store it: its rate is the upper
 * decile of ~150 probes, robust to what made it noisy (wide intervals, a slow visit), and any
 * level is as good an anchor as another — later runs are expressed at it, not compared with
 * a truth; a reference far from the device's usual speed shows in every later run's shift
 * (the verdict's reason) and is replaced on request. A store that cannot be written leaves
 * the profile as it is, with the reason in `note`. null without a store.
 */
export async function settleDeviceReference(a: {
  store: DeviceReferenceStore | undefined;
  key: string;
  anchor: DeviceReference | undefined;
  runRate: number | undefined;
  verdict: 'good' | 'noisy' | 'unusable';
  createdAt: string;
  device: string;
}): Promise<DeviceReferenceUse | null> {
  const { store, anchor, runRate } = a;
  if (!store || runRate === undefined) return null;
  if (anchor) return { status: 'applied', runRate, rate: anchor.rate, setAt: anchor.setAt };
  if (a.verdict === 'unusable')
    return {
      status: 'none',
      runRate,
      note: `this calibration is unusable, so its speed was not kept (the next usable calibration's will be)`,
    };
  try {
    await store.set(a.key, { rate: runRate, setAt: a.createdAt, device: a.device });
  } catch (e) {
    return { status: 'none', runRate, note: `could not store it in ${store.where}: ${(e as Error).message}` };
  }
  return { status: 'stored', runRate, rate: runRate, setAt: a.createdAt };
}

/** What a calibration did with its device reference, in a line (the CLI and the app's profile table). */
export function deviceReferenceText(r: DeviceReferenceUse): string {
  const g = (x: number) => `${(x / 1e9).toFixed(2)} GFLOP/s`;
  const at = (iso: string | undefined) => `${(iso ?? '?').slice(0, 16).replace('T', ' ')} UTC`;
  if (r.status === 'applied' && r.rate !== undefined)
    return `times expressed at this device's stored reference, ${g(r.rate)} (set ${at(r.setAt)}); this run's probe ran at ${g(r.runRate)}, ${(r.runRate / r.rate).toFixed(3)}× it`;
  if (r.status === 'stored') return `none was stored; this run's ${g(r.runRate)} is now this device's reference`;
  return `none stored yet; ${r.note ?? 'no reason recorded'}`;
}
