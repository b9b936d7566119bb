/**
 * Calibration profiles: versioned JSON (`"schema": "kvsched.profile/1"`), validated with
 * zod on import, and usable as the engine's cost model.
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
 * with x = tokens (prefillTokens + decodeRequests), decodeContext and prefillSquares.
 * Each term is one `mulDivFloor` (exact: BigInt when a product passes 2⁵³), so the result
 * is a whole number of µs computed with integer arithmetic only, like the A100 model.
 */
import { shownText } from '../model/text.ts';
import { z } from '../model/zod.ts';
import { mulDivFloor } from '../cost/piecewise.ts';
import { LIMITS, limitText } from '../model/limits.ts';
import type { BatchStats, CostModel } from '../model/types.ts';

export const PROFILE_SCHEMA = 'kvsched.profile/1';
export const PROFILE_VERSION = 1;
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

export const profileSchema = z.object({
  schema: z.literal(PROFILE_SCHEMA),
  createdAt: z.string().datetime(),
  tool: z.object({ name: z.literal('kvsched'), version: z.string() }),
  preset: z.enum(['quick', 'full']),
  device: z.object({
    adapter: z.object({ vendor: z.string(), architecture: z.string(), device: z.string(), description: z.string(), isFallbackAdapter: z.boolean() }),
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
  measurements: z.array(
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
  ).min(5),
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
    ratios: z.object({ fixedMicros: nonNeg, perTokenMicros: nonNeg, perKvTokenMicros: nonNeg, perPrefillSquareMicros: nonNeg }),
    typicalRound: z.object({
      description: z.string(),
      rounds: int,
      mean: z.object({ requests: nonNeg, prefillTokens: nonNeg, prefillSquares: nonNeg, decodeRequests: nonNeg, decodeContext: nonNeg }),
      deviceMicros: nonNeg,
      referenceMicros: nonNeg,
      ratio: nonNeg,
    }),
  }),
});

export type Profile = z.infer<typeof profileSchema>;

export class ProfileError extends Error {
  override name = 'ProfileError';
}

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)';
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
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ProfileError(`${source}: (root): expected an object`);
  const schema = (data as { schema?: unknown }).schema;
  const m = typeof schema === 'string' ? /^kvsched\.profile\/(\d+)$/.exec(schema) : null;
  if (!m) throw new ProfileError(`${source}: schema: expected "${PROFILE_SCHEMA}", got ${JSON.stringify(schema)}`);
  const version = Number(m[1]);
  if (version > PROFILE_VERSION) {
    throw new ProfileError(`${source}: schema: ${schema} is newer than this kvsched understands (${PROFILE_SCHEMA}); update kvsched`);
  }
  const r = profileSchema.safeParse(data);
  if (!r.success) {
    const msgs = r.error.issues.slice(0, 3).map((i) => {
      const where = pathOf(i.path);
      if (i.code === 'invalid_type') return `${where}: expected ${i.expected}`;
      return `${where}: ${i.message}`;
    });
    const more = r.error.issues.length > 3 ? ` (and ${r.error.issues.length - 3} more)` : '';
    throw new ProfileError(`${source}: ${msgs.join('; ')}${more}`);
  }
  return r.data;
}

/** The profile as JSON text (stable key order: the object's own). */
export function serializeProfile(p: Profile): string {
  return JSON.stringify(p, null, 2) + '\n';
}

/** µs coefficient → integer picoseconds (round half up). */
export function toPicoseconds(micros: number): number {
  if (!Number.isFinite(micros) || micros < 0) throw new RangeError(`coefficient ${micros} is not a non-negative number`);
  const ps = Math.round(micros * PS_PER_MICRO);
  if (!Number.isSafeInteger(ps)) throw new RangeError(`coefficient ${micros} µs does not fit in a safe integer of ps`);
  return ps;
}

const HALF = PS_PER_MICRO / 2;

/** Round duration from the integer coefficients (see the header). */
export function profileRoundMicros(c: Profile['costModel'], b: BatchStats): number {
  for (const f of ['prefillTokens', 'decodeRequests', 'decodeContext', 'prefillSquares'] as const) {
    const v = b[f];
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`BatchStats.${f} must be a non-negative integer, got ${v}`);
  }
  const tokens = b.prefillTokens + b.decodeRequests;
  const sum =
    mulDivFloor(1, c.fixedPs, PS_PER_MICRO, HALF) +
    mulDivFloor(tokens, c.perTokenPs, PS_PER_MICRO, HALF) +
    mulDivFloor(b.decodeContext, c.perKvTokenPs, PS_PER_MICRO, HALF) +
    mulDivFloor(b.prefillSquares, c.perPrefillSquarePs, PS_PER_MICRO, HALF);
  return Math.max(1, sum);
}

/** A CostModel from a validated profile. */
export function profileCostModel(p: Profile, name = `profile:${p.device.name}`): CostModel {
  const c = p.costModel;
  return { name, roundMicros: (b) => profileRoundMicros(c, b) };
}
