/**
 * Calibration profiles: versioned JSON (`"schema": "kvsched.profile/2"`), validated with
 * zod on import, and usable as the engine's cost model (with the profile's own power
 * model). A `kvsched.profile/1` profile (before intervals, verdicts and replay) is still
 * read: it is migrated to /2 as a legacy profile (`legacy: true`, no intervals, verdict
 * from its held-out R², a default power model for its adapter class).
 *
 * Pure (no Node, no GPU): `parseProfile(text)` and `serializeProfile(p)`; the Node-side
 * `profile:FILE` cost-model scheme lives in ./profile-node.ts.
 *
 * Cost model. `costModel` holds the fit extrapolated to full Llama-2-70B (see
 * ./calibrate.ts, `extrapolate`) as integer fixed-point coefficients in picoseconds
 * (10⁻⁶ µs) per unit:
 *
 *   roundMicros = max(1, ⌊(fixedPs + 500 000) / 10⁶⌋ + Σ_term ⌊(x · ps + 500 000) / 10⁶⌋)
 *
 * with x = tokens (prefillTokens + decodeRequests), decodeContext, prefillSquares,
 * decodeRequests and prefillRequests (./fit.ts, TERM_X). The last two terms came later
 * (ADDED_TERMS): a profile without them reads them as 0, so it predicts what it did.
 * Each term is one `mulDivFloor` (exact: BigInt when a product passes 2⁵³), so the result
 * is a whole number of µs computed with integer arithmetic only, like the A100 model.
 */
import { shownText } from '../model/text.ts';
import { z } from '../model/zod.ts';
import { deviceReferenceUseSchema } from './device-reference.ts';
import { mulDivFloor } from '../cost/piecewise.ts';
import { LIMITS, limitText } from '../model/limits.ts';
import type { PowerModel } from '../cost/energy.ts';
import type { BatchStats, CostModel } from '../model/types.ts';
import { verdictOf } from './verdict.ts';
import { isAddedTerm, TERMS, type AddedTerm, type Features, type Term } from './fit.ts';

export const PROFILE_SCHEMA = 'kvsched.profile/2';
export const PROFILE_VERSION = 2;
export const PROFILE_SCHEMA_V1 = 'kvsched.profile/1';
/** Picoseconds per µs: the fixed-point scale of costModel's coefficients. */
export const PS_PER_MICRO = 1_000_000;

const num = z.number();
const nonNeg = z.number().nonnegative();
const int = z.number().int().nonnegative();

const coefficientPs = int.max(LIMITS.coefficientPs.max, {
  message: `exceeds the supported maximum ${limitText(LIMITS.coefficientPs.max)} ps (${LIMITS.coefficientPs.max / 1e12} s per unit)`,
});

const coefficients = z.object({
  fixedMicros: nonNeg,
  perTokenMicros: nonNeg,
  perKvTokenMicros: nonNeg,
  perPrefillSquareMicros: nonNeg,
});

const measurement = z.object({
  method: z.enum(['timestamp', 'wall']),
  innerReps: int,
  samplesMs: z.array(nonNeg).min(1),
  medianMs: nonNeg,
  minMs: nonNeg,
  maxMs: nonNeg,
  spread: nonNeg,
});

const kernelRate = z.object({
  point: z.object({ decodeBatch: int, kvLen: int, prefillChunk: int, tokens: int }),
  measurement,
  bytes: nonNeg,
  flops: nonNeg,
  bytesPerSecond: nonNeg,
  flopPerSecond: nonNeg,
  /** Against the streaming probe (decode) or the FMA probe (prefill, linear). */
  efficiency: nonNeg,
});

const quality = z.object({ r2: num, mape: nonNeg });

/** The first version's shape (read and migrated). */
export const profileSchemaV1 = z.object({
  schema: z.literal(PROFILE_SCHEMA_V1),
  createdAt: z.string().datetime(),
  tool: z.object({ name: z.literal('kvsched'), version: z.string() }),
  preset: z.enum(['quick', 'full']),
  device: z.object({
    adapter: z.object({
      vendor: z.string(),
      architecture: z.string(),
      device: z.string(),
      description: z.string(),
      isFallbackAdapter: z.boolean(),
    }),
    name: z.string(),
    limits: z.record(z.string(), num),
    features: z.array(z.string()),
    runtime: z.string(),
    shaderF16: z.boolean(),
    precision: z.literal('f32'),
    timing: z.object({ method: z.enum(['timestamp', 'wall']), roundTripMicros: nonNeg }),
  }),
  geometry: z.object({
    model: z.literal('llama2-70b'),
    layers: int,
    queryHeads: int,
    kvHeads: int,
    headDim: int,
    hidden: int,
    intermediate: int,
    emulatedLayers: int,
    widthDivisor: int,
    emulatedHidden: int,
    emulatedKvDim: int,
    emulatedIntermediate: int,
  }),
  probes: z.object({
    stream: z.object({ bytes: nonNeg, measurement, bytesPerSecond: nonNeg }),
    fma: z.object({ flops: nonNeg, measurement, flopPerSecond: nonNeg }),
  }),
  kernels: z.object({ decode: kernelRate, prefill: kernelRate, linear: kernelRate }),
  measurements: z
    .array(
      z.object({
        decodeBatch: int,
        kvLen: int,
        prefillChunk: int,
        tokens: int,
        kvTokens: int,
        prefillSquares: int,
        heldOut: z.boolean(),
        /** Round time on the emulated geometry, µs: GPU time of the round + the round trip. */
        micros: nonNeg,
        measurement,
      }),
    )
    .min(5),
  fit: z.object({
    /** Fitted on the emulated geometry (µs per unit), non-held-out points. */
    coefficients,
    /** On the held-out points. */
    r2: num,
    mape: nonNeg,
    train: quality,
    trainPoints: int,
    heldOutPoints: int,
  }),
  /** The fit extrapolated to Llama-2-70B (80 layers, full width) on this device. */
  fullModel: z.object({ coefficients, method: z.string() }),
  costModel: z.object({
    unit: z.literal('ps'),
    fixedPs: coefficientPs,
    perTokenPs: coefficientPs,
    perKvTokenPs: coefficientPs,
    perPrefillSquarePs: coefficientPs,
  }),
  reference: z.object({
    name: z.string(),
    coefficients,
    r2: num,
    mape: nonNeg,
    /** This device's time ÷ the reference's, per term (bandwidth-bound: perKvToken; compute-bound: perPrefillSquare, perToken). */
    ratios: z.object({
      fixedMicros: nonNeg,
      perTokenMicros: nonNeg,
      perKvTokenMicros: nonNeg,
      perPrefillSquareMicros: nonNeg,
    }),
    typicalRound: z.object({
      description: z.string(),
      rounds: int,
      mean: z.object({
        requests: nonNeg,
        prefillTokens: nonNeg,
        prefillSquares: nonNeg,
        decodeRequests: nonNeg,
        decodeContext: nonNeg,
      }),
      deviceMicros: nonNeg,
      referenceMicros: nonNeg,
      ratio: nonNeg,
    }),
  }),
});

export type ProfileV1 = z.infer<typeof profileSchemaV1>;

/** One field per term of TERMS (./fit.ts), the added terms optional (absent in profiles before them). */
type TermShape<V extends z.ZodType> = { [K in Term]: K extends AddedTerm ? z.ZodOptional<V> : V };
function termShape<V extends z.ZodType>(v: V): TermShape<V> {
  return Object.fromEntries(TERMS.map((t) => [t, isAddedTerm(t) ? v.optional() : v])) as TermShape<V>;
}

/** The costModel field of each term (picoseconds per unit). */
export const PS_KEYS = {
  fixedMicros: 'fixedPs',
  perTokenMicros: 'perTokenPs',
  perKvTokenMicros: 'perKvTokenPs',
  perPrefillSquareMicros: 'perPrefillSquarePs',
  perDecodeRequestMicros: 'perDecodeRequestPs',
  perPrefillRequestMicros: 'perPrefillRequestPs',
} as const satisfies Record<Term, string>;

const coefficientsV2 = z.object(termShape(nonNeg));
const interval = z.tuple([nonNeg, nonNeg]);
const intervals = z.object(termShape(interval));
const estimate = z.object({ value: num, se: nonNeg, df: nonNeg });
const lineFit = z.object({
  intercept: estimate,
  slope: estimate,
  r2: num,
  points: int,
  /** Decode sweep: the per-request (per sequence) slope of its fit on B·L and B (absent before). */
  perRequest: estimate.optional(),
});
const sweepPoint = z.object({
  x: nonNeg,
  /** Decode sweep: the point's batch B, the per-request term's regressor (absent before). */
  requests: int.optional(),
  label: z.string(),
  /** As measured. */
  samplesMicros: z.array(nonNeg).min(1),
  /** Of the drift-normalised samples (what the fit uses; profiles before drift normalisation: of the samples). */
  medianMicros: nonNeg,
  /** The reference probe's rate (FLOP/s) around each sample (absent before drift normalisation). */
  referenceRates: z.array(nonNeg).optional(),
  /** Linear sweep rotated over several devices: the device (index) of each sample. */
  devices: z.array(int).optional(),
});
const sweep = z.object({ points: z.array(sweepPoint).min(3), fit: lineFit });

/** Adapter classes with a default board power (W): the user can set their own. */
export const ADAPTER_CLASSES = ['software', 'integrated', 'discrete', 'datacenter'] as const;
export type AdapterClass = (typeof ADAPTER_CLASSES)[number];

const powerSchema = z.object({
  name: z.string(),
  gpus: z.number().int().positive(),
  activeWattsPerGpu: z.number().positive(),
  idleWattsPerGpu: nonNeg,
  /** `default`: from the adapter class (see defaultPower); `user`: set by the user. */
  source: z.enum(['default', 'user']),
  adapterClass: z.enum(ADAPTER_CLASSES),
});

const v1Shape = profileSchemaV1.shape;

export const profileSchemaV2 = z.object({
  schema: z.literal(PROFILE_SCHEMA),
  /** Migrated from kvsched.profile/1: no intervals, design or replay. */
  legacy: z.boolean().optional(),
  createdAt: v1Shape.createdAt,
  tool: v1Shape.tool,
  preset: v1Shape.preset,
  device: v1Shape.device,
  geometry: v1Shape.geometry,
  probes: v1Shape.probes,
  kernels: v1Shape.kernels,
  /** How the terms were measured (absent in legacy profiles). */
  design: z
    .object({
      linear: sweep,
      decode: sweep,
      prefill: sweep,
      roundTrip: z.object({ samplesMicros: z.array(nonNeg).min(1), estimate }),
      /** Cross-check of the fixed term: a round of 1 token and 1 KV token, measured and predicted (µs, emulated). */
      minimalRound: z.object({ measuredMicros: nonNeg, predictedMicros: nonNeg }),
      visits: int,
      samples: int,
      remeasured: int,
      elapsedMs: nonNeg,
      budgetMs: nonNeg,
      stoppedBecause: z.enum(['target', 'budget', 'max-samples']),
      /** The sentinel probe's rate (FLOP/s) at the start of each visit. */
      probeRates: z.array(nonNeg),
      /**
       * Drift normalisation (analysis.ts, Drift): every sample s taken while the reference
       * probe ran at r is used as s · (r / referenceRate)^beta; referenceRate (FLOP/s) is the
       * referenceQuantile of the run's reference rates, beta fitted within points, and
       * commonModeShare the share of the within-point variance it removed. Absent in
       * profiles written before it.
       */
      drift: z
        .object({
          referenceQuantile: nonNeg,
          referenceRate: nonNeg,
          beta: nonNeg,
          commonModeShare: num,
          samples: int,
          /**
           * With a device reference applied: (referenceRate / the stored rate)^sensitivity
           * (deviceReference.sensitivity); every normalised sample is multiplied by it
           * (analysis.ts, Drift.deviceScale).
           */
          deviceScale: z.number().positive().optional(),
          /**
           * The device reference (./device-reference.ts): what was done with it, the run's own
           * rate (referenceRate above) and the stored one. Absent when the calibration was given no
           * store (tests, benches that measure one calibration) and in older profiles.
           */
          deviceReference: deviceReferenceUseSchema.optional(),
        })
        .optional(),
      /** Wall time of each phase (compile, probes, setup, sweeps, kernels, replay, fit), ms; absent before. */
      phaseMs: z.record(z.string(), nonNeg).optional(),
      /**
       * The devices the linear sweep's samples rotated over (docs/calibration.md, "Device
       * levels"): how many, each one's level (median of its samples / their points' medians,
       * drift-normalised; 1 = the pooled median), and why fewer than the preset's were used
       * when that happened. Absent in profiles written before.
       */
      linearDevices: z.object({ count: int, levels: z.array(nonNeg), note: z.string().optional() }).optional(),
    })
    .optional(),
  /** The held-out composite rounds (`heldOut` true; legacy profiles: their grid). */
  measurements: z
    .array(
      v1Shape.measurements.element.extend({
        /** The reference probe's rate around each sample; `micros` is then of the drift-normalised samples. */
        referenceRates: z.array(nonNeg).optional(),
      }),
    )
    .min(1),
  fit: z.object({
    coefficients: coefficientsV2,
    intervals: intervals.optional(),
    /** On the held-out points. */
    r2: num,
    mape: nonNeg,
    /** Over the sweeps (legacy: the training grid). */
    train: quality,
    trainPoints: int,
    heldOutPoints: int,
  }),
  fullModel: z.object({ coefficients: coefficientsV2, intervals: intervals.optional(), method: z.string() }),
  costModel: v1Shape.costModel.extend({
    perDecodeRequestPs: coefficientPs.optional(),
    perPrefillRequestPs: coefficientPs.optional(),
  }),
  reference: z.object({
    name: z.string(),
    coefficients: coefficientsV2,
    r2: num,
    mape: nonNeg,
    /** Only for the terms the reference has (the A100 model has no per-request terms). */
    ratios: z.object(termShape(nonNeg)),
    ratioIntervals: intervals.optional(),
    typicalRound: v1Shape.reference.shape.typicalRound.extend({
      mean: v1Shape.reference.shape.typicalRound.shape.mean.extend({ prefillRequests: nonNeg.optional() }),
      deviceInterval: interval.optional(),
      ratioInterval: interval.optional(),
    }),
  }),
  quality: z.object({
    verdict: z.enum(['good', 'noisy', 'unusable']),
    reasons: z.array(z.string()),
    /** Relative half-width of the typical round's 95 % interval (legacy: null). */
    typicalHalfWidth: num.nullable(),
    probeDrift: num.nullable(),
    repeatSpread: num.nullable(),
    /**
     * Terms whose 95 % interval (Llama-2-70B) includes 0 or, since the fourth session's rule,
     * spans more than VERDICT_RULES.maxTermSpan; older profiles: includes 0 only.
     */
    notIdentifiable: z.array(z.enum(TERMS)),
    /** Not-identifiable terms below VERDICT_RULES.minorTermShare of the typical round (not a noisy reason). */
    minorTerms: z.array(z.enum(TERMS)).optional(),
  }),
  validation: z.object({
    replay: z
      .object({
        schedule: z.string(),
        rounds: int,
        /** Rounds of the sample left out as outsized (predicted above 5 × the median round; see calibrate.ts). */
        skipped: int,
        /** Σ over replayed rounds, µs (emulated geometry): wall time of each round's submit + wait. */
        measured: nonNeg,
        predicted: nonNeg,
        /** (predicted − measured) / measured: 0.08 = the profile over-predicts by 8 %. */
        error: num,
        /**
         * Σ as measured; `measured` is then drift-normalised to the sweeps' reference rate
         * (absent in profiles written before drift normalisation: `measured` is as measured).
         */
        measuredRaw: nonNeg.optional(),
      })
      .nullable(),
  }),
  power: powerSchema,
});
export type Profile = z.infer<typeof profileSchemaV2>;
export type ProfilePower = Profile['power'];

/** Default board power by adapter class (W per GPU, active / idle): labelled as defaults wherever shown. */
export const DEFAULT_POWER: Record<AdapterClass, { active: number; idle: number; label: string }> = {
  software: { active: 65, idle: 10, label: 'software adapter: a desktop CPU package (65 W)' },
  integrated: { active: 28, idle: 3, label: 'integrated GPU: a laptop SoC (28 W)' },
  discrete: { active: 250, idle: 20, label: 'discrete GPU (250 W board)' },
  datacenter: { active: 700, idle: 70, label: 'data-centre GPU (700 W board, H100/H200 SXM class)' },
};

/** The adapter class from its identity (vendor and description words). */
export function adapterClassOf(a: ProfileV1['device']['adapter']): AdapterClass {
  if (a.isFallbackAdapter || /swiftshader|llvmpipe|warp|software|cpu/i.test(`${a.architecture} ${a.description}`))
    return 'software';
  const text = `${a.vendor} ${a.architecture} ${a.device} ${a.description}`;
  if (/\b(h100|h200|h800|a100|a800|b100|b200|gh200|l40|mi2\d\d|mi3\d\d|tesla)\b/i.test(text)) return 'datacenter';
  if (/intel|apple|qualcomm|arm|mali|adreno|integrated/i.test(text) && !/\barc\b/i.test(text)) return 'integrated';
  return 'discrete';
}

export function defaultPower(a: ProfileV1['device']['adapter']): ProfilePower {
  const c = adapterClassOf(a);
  const d = DEFAULT_POWER[c];
  return {
    name: `default: ${d.label}`,
    gpus: 1,
    activeWattsPerGpu: d.active,
    idleWattsPerGpu: d.idle,
    source: 'default',
    adapterClass: c,
  };
}

/** The profile with a user-set board power (W while a round runs; idle kept in proportion). */
export function withBoardPower(p: Profile, activeWatts: number, idleWatts?: number): Profile {
  if (!(Number.isFinite(activeWatts) && activeWatts > 0))
    throw new RangeError(`board power must be a positive number of watts, got ${activeWatts}`);
  const idle = idleWatts ?? (p.power.idleWattsPerGpu * activeWatts) / p.power.activeWattsPerGpu;
  if (!(Number.isFinite(idle) && idle >= 0)) throw new RangeError(`idle power must be ≥ 0 W, got ${idle}`);
  return {
    ...p,
    power: {
      ...p.power,
      name: `set by the user: ${activeWatts} W`,
      activeWattsPerGpu: activeWatts,
      idleWattsPerGpu: idle,
      source: 'user',
    },
  };
}

/** A kvsched.profile/1 profile as /2: legacy, no intervals, verdict from its held-out R². */
export function migrateV1(p: ProfileV1): Profile {
  const { schema: _schema, ...rest } = p;
  const q = verdictOf({
    heldOutR2: p.fit.r2,
    typicalHalfWidth: NaN,
    targetHalfWidth: 0.05,
    notIdentifiable: [],
    probeDrift: NaN,
    repeatSpread: NaN,
    replayError: null,
    legacy: true,
  });
  return {
    ...rest,
    schema: PROFILE_SCHEMA,
    legacy: true,
    quality: { ...q, typicalHalfWidth: null, probeDrift: null, repeatSpread: null, notIdentifiable: [] },
    validation: { replay: null },
    power: defaultPower(p.device.adapter),
  };
}

function invalidTypeText(i: z.core.$ZodIssue): string {
  return i.code === 'invalid_type' ? `expected ${i.expected}` : i.message;
}

/**
 * Any supported version → a /2 profile: /1 is validated with its own schema and
 * migrated. Issues keep their paths (and say `expected number` for a wrong type).
 */
export const profileSchema = z.unknown().transform((data, ctx): Profile => {
  const version = typeof data === 'object' && data !== null ? (data as { schema?: unknown }).schema : undefined;
  const r = version === PROFILE_SCHEMA_V1 ? profileSchemaV1.safeParse(data) : profileSchemaV2.safeParse(data);
  if (r.success) return 'quality' in r.data ? r.data : migrateV1(r.data);
  for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: invalidTypeText(i), path: i.path });
  return z.NEVER;
});

export class ProfileError extends Error {
  override name = 'ProfileError';
}

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  return (
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '') || '(root)'
  );
}

/**
 * Parse and validate a profile. Throws a ProfileError naming the first bad field
 * (`fit.r2: expected number`), or saying the file is of a newer schema version.
 */
export function parseProfile(text: string, source = 'profile'): Profile {
  let data: unknown;
  try {
    // A UTF-8 byte-order mark is accepted, as in traces (editors on Windows write one).
    data = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch (e) {
    throw new ProfileError(`${source}: not JSON: ${shownText((e as Error).message, 200)}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new ProfileError(`${source}: (root): expected an object`);
  const schema = (data as { schema?: unknown }).schema;
  const m = typeof schema === 'string' ? /^kvsched\.profile\/(\d+)$/.exec(schema) : null;
  if (!m)
    throw new ProfileError(
      `${source}: schema: expected "${PROFILE_SCHEMA}" (or "${PROFILE_SCHEMA_V1}"), got ${JSON.stringify(schema)}`,
    );
  const version = Number(m[1]);
  if (version > PROFILE_VERSION) {
    throw new ProfileError(
      `${source}: schema: ${schema} is newer than this kvsched understands (${PROFILE_SCHEMA}); update kvsched`,
    );
  }
  const r = profileSchema.safeParse(data);
  if (!r.success) {
    const msgs = r.error.issues.slice(0, 3).map((i) => {
      const where = pathOf(i.path);
      return `${where}: ${invalidTypeText(i)}`;
    });
    const more = r.error.issues.length > 3 ? ` (and ${r.error.issues.length - 3} more)` : '';
    throw new ProfileError(`${source}: ${msgs.join('; ')}${more}`);
  }
  return r.data;
}

/**
 * The profile as JSON text, keys in the schema's order (so that export → import →
 * export gives the same text, whichever code built the object). The one writer of
 * profile files: the CLI's --out and the Calibrate view's export both use it.
 */
export function serializeProfile(p: Profile): string {
  return JSON.stringify(profileSchemaV2.parse(p), null, 2) + '\n';
}

/** A held-out composite round's model inputs (one decode batch, one prefill or none). */
export function measurementFeatures(m: Profile['measurements'][number]): Features {
  return {
    tokens: m.tokens,
    kvTokens: m.kvTokens,
    prefillSquares: m.prefillSquares,
    decodeRequests: m.decodeBatch,
    prefillRequests: m.prefillChunk > 0 ? 1 : 0,
  };
}

/** µs coefficient → integer picoseconds (round half up). */
export function toPicoseconds(micros: number): number {
  if (!Number.isFinite(micros) || micros < 0)
    throw new RangeError(`coefficient ${micros} is not a non-negative number`);
  const ps = Math.round(micros * PS_PER_MICRO);
  if (!Number.isSafeInteger(ps)) throw new RangeError(`coefficient ${micros} µs does not fit in a safe integer of ps`);
  return ps;
}

const HALF = PS_PER_MICRO / 2;

/** Round duration from the integer coefficients (see the header). */
export function profileRoundMicros(c: Profile['costModel'], b: BatchStats): number {
  for (const f of ['prefillTokens', 'decodeRequests', 'decodeContext', 'prefillSquares', 'prefillRequests'] as const) {
    const v = b[f];
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`BatchStats.${f} must be a non-negative integer, got ${v}`);
  }
  const tokens = b.prefillTokens + b.decodeRequests;
  let sum =
    mulDivFloor(1, c.fixedPs, PS_PER_MICRO, HALF) +
    mulDivFloor(tokens, c.perTokenPs, PS_PER_MICRO, HALF) +
    mulDivFloor(b.decodeContext, c.perKvTokenPs, PS_PER_MICRO, HALF) +
    mulDivFloor(b.prefillSquares, c.perPrefillSquarePs, PS_PER_MICRO, HALF);
  // Absent in profiles written before these terms: 0 (the profile predicts what it did).
  if (c.perDecodeRequestPs) sum += mulDivFloor(b.decodeRequests, c.perDecodeRequestPs, PS_PER_MICRO, HALF);
  if (c.perPrefillRequestPs) sum += mulDivFloor(b.prefillRequests, c.perPrefillRequestPs, PS_PER_MICRO, HALF);
  return Math.max(1, sum);
}

/** The profile's power model, for the energy of simulated rounds. */
export function profilePower(p: Profile): PowerModel {
  const w = p.power;
  return { name: w.name, gpus: w.gpus, activeWattsPerGpu: w.activeWattsPerGpu, idleWattsPerGpu: w.idleWattsPerGpu };
}

/** A CostModel from a validated profile; it carries the profile's power model. */
export function profileCostModel(p: Profile, name = `profile:${p.device.name}`): CostModel {
  const c = p.costModel;
  return { name, roundMicros: (b) => profileRoundMicros(c, b), power: profilePower(p) };
}
