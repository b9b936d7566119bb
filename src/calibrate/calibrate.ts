/**
 * Device calibration: time each cost term with the work that carries it and fit the
 * engine's six-term cost model with 95 % intervals (docs/calibration.md). Phases:
 *
 * 1. `measureProbes`: streaming-read bandwidth and FMA rate (the device's roofs); the round
 *    trip (submit + wait of a trivial dispatch, 21 samples).
 * 2. `sweepPoints` + `sampleSweeps` (./grid.ts): the linear layers over tokens, decode
 *    attention over KV tokens, prefill attention over chunk², each `layers` times per pass;
 *    a minimal round; and composite rounds held out for the check. Visits go over every
 *    point in a shuffled (seeded) order, one sample each, so a drift of the device's speed
 *    spreads over all points; the linear sweep's samples rotate over `preset.linearDevices`
 *    devices of the adapter (a SwiftShader device keeps its own speed for its lifetime;
 *    `openSession`); every sample is bracketed by a 40 ms reference probe and
 *    drift-normalised (./analysis.ts, `driftOf`, `normalizeSamples`); a sample far from its
 *    point's normalised median is re-measured at once. After `minSamples` visits the fit
 *    (./analysis.ts) is redone after every visit until the typical round's interval is
 *    within ±targetHalfWidth, or the budget or `maxSamples` ends sampling.
 * 3. `kernelEfficiencies`: at the sweeps' largest sizes against their roof probes.
 * 4. `replayCheck` (./replay.ts): rounds of a real schedule, run, timed and normalised like
 *    the sweeps, against the profile's prediction.
 * 5. `assess`: held-out check, spreads, verdict (./verdict.ts); `buildProfile`: the profile
 *    with the power model by adapter class.
 *
 * Progress events and cancellation (AbortSignal, checked between timed intervals).
 */
import { abortReason } from '../model/abort.ts';
import { adapterIdentity, adapterName, readLimits } from '../gpu/detect.ts';
import { Kernels, LLAMA2_70B, linearWidths, type Job } from '../gpu/kernels.ts';
import type { GpuSession } from '../gpu/session.ts';
import { SHADER_NAMES, type ShaderSet } from '../gpu/shaders.ts';
import { summarize, Timer, type Measurement } from '../gpu/timing.ts';
import {
  analyze,
  heldOutQuality,
  driftOf,
  normalizeSamples,
  REFERENCE_QUANTILE,
  relativeHalfWidth,
  type Analysis,
  type Drift,
  type RawTimings,
  type SweepData,
  type VarianceSource,
} from './analysis.ts';
import {
  deviceReferenceKey,
  deviceScaleOf,
  repeatabilityOf,
  settleDeviceReference,
  type Repeatability,
  type DeviceReference,
  type DeviceReferenceStore,
  type DeviceReferenceUse,
} from './device-reference.ts';
import { featuresOf, predict, TERMS, type Coefficients, type Features } from './fit.ts';
import { batchOf, tokensOf, type GridPoint, type Preset } from './grid.ts';
import { defaultPower, PROFILE_SCHEMA, toPicoseconds, type Profile } from './profile.ts';
import { referenceFit, typicalLmsysRound } from './reference.ts';
import { replayRounds } from './replay.ts';
import { median, rng, shuffle } from './stats.ts';
import { farEndMicros, minorTermsOf, notIdentifiableWhy, verdictOf } from './verdict.ts';

/** Phases in order (the app's progress bar reads them). */
export const CALIBRATION_PHASES = ['compile', 'probes', 'sweeps', 'kernels', 'replay', 'fit'] as const;

export interface CalibrationProgress {
  phase: (typeof CALIBRATION_PHASES)[number];
  /** Steps done / total in this phase. */
  done: number;
  total: number;
  label: string;
}

export interface CalibrationOptions {
  session: GpuSession;
  shaders: ShaderSet;
  preset: Preset;
  /** Runtime description for the profile (user agent, or Node + Dawn versions). */
  runtime: string;
  onProgress?: (p: CalibrationProgress) => void;
  signal?: AbortSignal;
  /** Tool version recorded in the profile. */
  version?: string;
  /** Injected clock for reproducible tests. */
  now?: () => Date;
  /** Seed of the visit order (default 1). */
  seed?: number;
  /** Override the preset's sampling budget (ms); tests use a small one. */
  budgetMs?: number;
  /**
   * Opens another device on the same adapter (a fresh `requestAdapter()` + `requestDevice()`):
   * the linear sweep's samples rotate over `preset.linearDevices` devices (docs/calibration.md,
   * "Device levels"). Without it every sample runs on `session` (`design.linearDevices.count`
   * says 1). The calibration destroys the devices it opened.
   */
  openSession?: () => Promise<GpuSession>;
  /**
   * The device references kept on this machine (./device-reference.ts): with one stored for
   * this adapter and reference probe, the run is expressed at it; without, a calibration
   * that is not unusable stores its own. Absent: each calibration is at its own rate.
   */
  deviceReferences?: DeviceReferenceStore;
  /** Replace the stored device reference with this calibration's own rate (unless it is unusable). */
  resetDeviceReference?: boolean;
}

/** A device the calibration times work on: its compiled kernels and its timer. */
interface Device {
  kernels: Kernels;
  timer: Timer;
}

/** Keep a grid point's buffers between visits while the kept total stays under this. */
export const GRID_KEEP_BYTES = 1 << 30;

export class CalibrationError extends Error {
  override name = 'CalibrationError';
}

/**
 * Fitted emulated-geometry coefficients → full Llama-2-70B on this device:
 * - the attention terms — per KV token, per decode request, per prefill square, per
 *   prefill request — × (80 / emulated layers) (attention has the full head geometry
 *   already; a decode request's and a prefill dispatch's own costs are per layer);
 * - per token × (80 / layers) × widthDivisor² (matmul FLOPs grow with width²);
 * - fixed: the round trip once, plus the rest of the intercept (per-layer work that does
 *   not grow with the batch: dispatch gaps, tile padding, pass set-up) × (80 / layers).
 *   It is not scaled by width²: at the emulated widths the intercept is not weight
 *   streaming (the weights of a ÷32 layer fit in cache), so scaling it would multiply noise.
 */
export function extrapolate(
  c: Coefficients,
  layers: number,
  widthDivisor: number,
  roundTripMicros: number,
): Coefficients {
  const ls = LLAMA2_70B.layers / layers;
  const ws = widthDivisor * widthDivisor;
  const rt = Math.min(roundTripMicros, c.fixedMicros);
  return {
    fixedMicros: rt + (c.fixedMicros - rt) * ls,
    perTokenMicros: c.perTokenMicros * ls * ws,
    perKvTokenMicros: c.perKvTokenMicros * ls,
    perPrefillSquareMicros: c.perPrefillSquareMicros * ls,
    perDecodeRequestMicros: c.perDecodeRequestMicros * ls,
    perPrefillRequestMicros: c.perPrefillRequestMicros * ls,
  };
}

function measurementJson(m: Measurement): Profile['measurements'][number]['measurement'] {
  return {
    method: m.method,
    innerReps: m.innerReps,
    samplesMs: m.samplesMs,
    medianMs: m.medianMs,
    minMs: m.minMs,
    maxMs: m.maxMs,
    spread: m.spread,
  };
}

/** A timed point of the sweeps: its jobs are made on demand and kept between visits when they fit. */
interface Point {
  kind: 'linear' | 'decode' | 'prefill' | 'minimal' | 'validation';
  label: string;
  /** The sweep's x (tokens, KV tokens, chunk²); 0 for rounds. */
  x: number;
  /** Decode sweep: the batch B (the per-request term's regressor). */
  requests?: number;
  features: Features;
  grid?: GridPoint;
  make: (k: Kernels) => Promise<Job[]>;
  /** Devices the point's samples rotate over (Ctx.linearDevices for the linear sweep, else the calibration's own). */
  devices: readonly Device[];
  /**
   * Where the point's rotation starts (its index in the sweep): with fewer samples per point
   * than devices, every device still gets samples, spread over the sweep.
   */
  deviceOffset: number;
  /** Per-execution GPU time of `layers` copies of the work, µs, as measured. */
  samples: number[];
  /** The reference probe's rate around each sample (see referenceProbe). */
  referenceRates: number[];
  reps?: number;
  method: Measurement['method'];
  /** Jobs kept between visits, per device. */
  kept: Array<Job[] | undefined>;
}

/** The device (index into `p.devices`) that takes, or took, the point's i-th sample. */
function deviceOfSample(p: Pick<Point, 'deviceOffset' | 'devices'>, i: number): number {
  return (i + p.deviceOffset) % p.devices.length;
}

/** The device of each of the point's samples. */
function sampleDevices(p: Point): number[] {
  return p.samples.map((_, i) => deviceOfSample(p, i));
}

/** A sample this far from its point's median (fraction) is re-measured at once. */
export const OUTLIER_FRACTION = 0.3;

/** What every phase needs: the session's kernels and timer, the preset, progress and cancellation. */
interface Ctx {
  o: CalibrationOptions;
  preset: Preset;
  kernels: Kernels;
  timer: Timer;
  /** The linear sweep's devices: the calibration's own first. */
  linearDevices: Device[];
  /** Why fewer than `preset.linearDevices` devices were used, when the caller could open more. */
  linearDevicesNote?: string;
  /** The key of this adapter and reference probe in the device references. */
  referenceKey: string;
  /** The stored device reference the samples are expressed at (none: the run's own rate). */
  anchor?: DeviceReference;
  widths: ReturnType<typeof linearWidths>;
  topts: { samples: number; minIntervalMs: number; signal?: AbortSignal };
  progress: (p: CalibrationProgress) => void;
  check: () => void;
}

export async function calibrate(o: CalibrationOptions): Promise<Profile> {
  const { session, preset, signal } = o;
  const progress = (p: CalibrationProgress) => o.onProgress?.(p);
  // Wall time of each phase (design.phaseMs): where a preset's time goes.
  const phaseMs: Record<string, number> = {};
  let mark = performance.now();
  const lap = (phase: string) => {
    const now = performance.now();
    phaseMs[phase] = now - mark;
    mark = now;
  };
  const extraDevices = o.openSession ? Math.max(0, preset.linearDevices - 1) : 0;
  progress({ phase: 'compile', done: 0, total: 1 + extraDevices, label: 'compiling kernels' });
  // Only the matmul that suits the adapter (the other costs ~1.3 s of compiling on SwiftShader).
  const linearShader = Kernels.linearShader(session);
  const kernels = await Kernels.create(
    session,
    o.shaders,
    SHADER_NAMES.filter((n) => !n.startsWith('matmul') || n === linearShader),
  );
  const timer = new Timer(session);
  const linearDevices: Device[] = [{ kernels, timer }];
  const extraSessions: GpuSession[] = [];
  // The adapter as the rotation and the device references identify it.
  const ownAdapter = JSON.stringify(adapterIdentity(session.adapter));
  const ctx: Ctx = {
    o,
    preset,
    kernels,
    timer,
    linearDevices,
    referenceKey: deviceReferenceKey(ownAdapter, preset.fmaIters),
    widths: linearWidths(preset.widthDivisor),
    topts: { samples: preset.minSamples, minIntervalMs: preset.minIntervalMs, ...(signal ? { signal } : {}) },
    progress,
    check: () => {
      if (signal?.aborted) throw abortReason(signal, 'calibration cancelled');
    },
  };
  ctx.check();
  const anchor = o.resetDeviceReference ? undefined : o.deviceReferences?.get(ctx.referenceKey);
  if (anchor) ctx.anchor = anchor;
  try {
    for (let i = 0; i < extraDevices && o.openSession; i++) {
      progress({
        phase: 'compile',
        done: 1 + i,
        total: 1 + extraDevices,
        label: `linear kernels on device ${i + 2} of ${1 + extraDevices}`,
      });
      // A device that cannot be opened, or opens on another adapter, ends the rotation
      // there (recorded in design.linearDevices): fewer devices, never a wrong one.
      let extra: GpuSession;
      try {
        extra = await o.openSession();
      } catch (e) {
        ctx.linearDevicesNote = `device ${i + 2} could not be opened: ${(e as Error).message}`;
        break;
      }
      extraSessions.push(extra);
      if (JSON.stringify(adapterIdentity(extra.adapter)) !== ownAdapter) {
        ctx.linearDevicesNote = `device ${i + 2} opened on another adapter (${adapterName(adapterIdentity(extra.adapter))})`;
        break;
      }
      linearDevices.push({
        kernels: await Kernels.create(extra, o.shaders, [Kernels.linearShader(extra)]),
        timer: new Timer(extra),
      });
      ctx.check();
    }
    lap('compile');
    return await measureAndFit(ctx, lap, phaseMs);
  } finally {
    extraSessions.forEach((e) => e.destroy());
  }
}

async function measureAndFit(
  ctx: Ctx,
  lap: (phase: string) => void,
  phaseMs: Record<string, number>,
): Promise<Profile> {
  const { preset, progress } = ctx;
  const probes = await measureProbes(ctx);
  lap('probes');
  // Reference and typical round (CPU work) before the timed loop.
  const ref = referenceFit();
  const typical = typicalLmsysRound();
  const points = sweepPoints(ctx);
  const reference = await referenceProbe(ctx);
  lap('setup');
  try {
    const sweeps = await sampleSweeps(ctx, points, reference, probes.roundTripSamples, ref.coefficients, typical);
    lap('sweeps');
    const efficiencies = await kernelEfficiencies(ctx);
    lap('kernels');
    const replay = await replayCheck(ctx, sweeps.analysis.coefficients, reference, sweeps.drift);
    lap('replay');
    progress({ phase: 'fit', done: 0, total: 1, label: 'verdict' });
    // The drift's reference rate is the run's own: its shift from the stored one is the verdict's.
    const d = sweeps.drift;
    const shift = d && ctx.anchor ? d.referenceRate / ctx.anchor.rate : undefined;
    // … and its typical round against the device's earlier calibrations at that reference.
    const typicalMicros = sweeps.analysis.typical.micros;
    const earlier = ctx.anchor ? repeatabilityOf(ctx.anchor.history, typicalMicros) : undefined;
    const assessed = assess(preset, points, sweeps, probes.roundTripMicros, replay, typical.features, shift, earlier);
    const createdAt = (ctx.o.now?.() ?? new Date()).toISOString();
    const deviceReference = await settleDeviceReference({
      store: ctx.o.deviceReferences,
      key: ctx.referenceKey,
      anchor: ctx.anchor,
      runRate: d?.referenceRate,
      verdict: assessed.verdict.verdict,
      createdAt,
      device: adapterName(adapterIdentity(ctx.o.session.adapter)),
      typicalMicros,
      typicalHalfWidth: assessed.typicalHalfWidth,
      earlier,
    });
    progress({ phase: 'fit', done: 1, total: 1, label: 'done' });
    lap('fit');
    return buildProfile(ctx, {
      probes,
      points,
      sweeps,
      efficiencies,
      replay,
      assessed,
      ref,
      typical,
      phaseMs,
      createdAt,
      deviceReference,
    });
  } finally {
    reference.destroy();
  }
}

type Probes = Awaited<ReturnType<typeof measureProbes>>;

/** Phase 1: the roofs (streaming-read bandwidth, FMA rate) and the round trip. */
async function measureProbes({ kernels, timer, preset, topts, progress }: Ctx) {
  progress({ phase: 'probes', done: 0, total: 3, label: 'streaming-read probe' });
  const stream = await withJob(kernels.streamProbe(preset.streamBytes), (j) =>
    timer.measure(j, topts).then((m) => ({ m, bytes: j.bytes })),
  );
  progress({ phase: 'probes', done: 1, total: 3, label: 'FMA probe' });
  const fma = await withJob(kernels.fmaProbe(preset.fmaIters), (j) =>
    timer.measure(j, topts).then((m) => ({ m, flops: j.flops })),
  );
  progress({ phase: 'probes', done: 2, total: 3, label: 'round trip' });
  const rt = await withJob(kernels.fmaProbe(1, 1), (j) => timer.roundTrip(j));
  const roundTripSamples = rt.samplesMs.map((ms) => ms * 1000);
  progress({ phase: 'probes', done: 3, total: 3, label: 'probes done' });
  return {
    stream,
    fma,
    roundTripSamples,
    roundTripMicros: median(roundTripSamples),
    streamBps: stream.bytes / (stream.m.medianMs / 1000),
    fmaFlops: fma.flops / (fma.m.medianMs / 1000),
  };
}

/**
 * The drift reference: a short FMA probe (the sentinel) timed right before and after
 * every sample; the sample's reference rate is the geometric mean of the two, so a change
 * of the device's speed during the sample is seen from both sides.
 */
interface ReferenceProbe {
  /** FLOP/s of one timed execution of the sentinel now. */
  rate(): Promise<number>;
  destroy(): void;
}

async function referenceProbe({ kernels, timer, preset, topts }: Ctx): Promise<ReferenceProbe> {
  const sentinel = await kernels.fmaProbe(preset.fmaIters);
  let reps: number | undefined;
  return {
    async rate() {
      const m = await timer.measure(sentinel, {
        ...topts,
        minIntervalMs: preset.referenceMs,
        samples: 1,
        warmup: reps === undefined ? 1 : 0,
        ...(reps !== undefined ? { innerReps: reps } : {}),
      });
      reps = m.innerReps;
      return sentinel.flops / (m.medianMs / 1000);
    },
    destroy: () => sentinel.destroy(),
  };
}

const NO_FEATURES = { tokens: 0, kvTokens: 0, prefillSquares: 0, decodeRequests: 0, prefillRequests: 0 } as const;

/** Phase 2a: the sweeps' points, the minimal round and the held-out composite rounds. */
function sweepPoints({ timer, preset, widths, linearDevices }: Ctx): Point[] {
  const seqs = (b: number, l: number) => new Array<number>(b).fill(l);
  // The calibration's own device is the first of the linear sweep's.
  const own = linearDevices.slice(0, 1);
  const point = (
    p: Omit<Point, 'samples' | 'referenceRates' | 'method' | 'devices' | 'kept' | 'deviceOffset'>,
    deviceOffset = 0,
  ): Point => ({
    ...p,
    deviceOffset,
    devices: p.kind === 'linear' ? linearDevices : own,
    kept: [],
    samples: [],
    referenceRates: [],
    method: timer.defaultMethod,
  });
  return [
    ...preset.linearTokens.map((t, i) =>
      point(
        {
          kind: 'linear',
          label: `linear T=${t}`,
          x: t,
          features: { ...NO_FEATURES, tokens: t },
          make: async (k) => [await k.linear(t, widths)],
        },
        i,
      ),
    ),
    ...preset.decodePoints.map((d) =>
      point({
        kind: 'decode',
        label: `decode B=${d.decodeBatch} L=${d.kvLen}`,
        x: d.decodeBatch * d.kvLen,
        requests: d.decodeBatch,
        features: { ...NO_FEATURES, kvTokens: d.decodeBatch * d.kvLen, decodeRequests: d.decodeBatch },
        make: async (k) => [await k.decode({ seqLens: seqs(d.decodeBatch, d.kvLen) })],
      }),
    ),
    ...preset.prefillChunks.map((c) =>
      point({
        kind: 'prefill',
        label: `prefill C=${c}`,
        x: c * c,
        features: { ...NO_FEATURES, prefillSquares: c * c, prefillRequests: 1 },
        make: async (k) => [await k.prefill({ len: c })],
      }),
    ),
    point({
      kind: 'minimal',
      label: 'minimal round',
      x: 0,
      features: featuresOf(batchOf({ decodeBatch: 1, kvLen: 1, prefillChunk: 0 })),
      grid: { decodeBatch: 1, kvLen: 1, prefillChunk: 0 },
      make: (k) => roundJobs(k, { decodeBatch: 1, kvLen: 1, prefillChunk: 0 }, widths),
    }),
    ...preset.validation.map((g) =>
      point({
        kind: 'validation',
        label: `round B=${g.decodeBatch} L=${g.kvLen} C=${g.prefillChunk}`,
        x: 0,
        features: featuresOf(batchOf(g)),
        grid: g,
        make: (k) => roundJobs(k, g, widths),
      }),
    ),
  ];
}

/** A point's samples as the fit uses them (drift-normalised). */
function normalized(p: Point, drift: Drift | null): number[] {
  return normalizeSamples(p.samples, p.referenceRates, drift);
}

/**
 * The drift normalisation of a run, from every point's samples (sweeps and rounds alike),
 * at the run's own reference rate; with a stored device reference (./device-reference.ts),
 * scaled on to it (Drift.deviceScale).
 */
function driftOfPoints(points: readonly Point[], anchor?: DeviceReference): Drift | null {
  const d = driftOf(points.map((p) => ({ samples: p.samples, rates: p.referenceRates })));
  return d && anchor ? { ...d, deviceScale: deviceScaleOf(d.referenceRate, anchor.rate) } : d;
}

/** The fitted points' raw timings and the run's drift normalisation (the analysis applies it). */
function rawTimings(
  preset: Preset,
  points: readonly Point[],
  roundTripMicros: number[],
  anchor: DeviceReference | undefined,
): RawTimings {
  const sweep = (k: Point['kind']): SweepData[] =>
    points
      .filter((p) => p.kind === k)
      .map((p) => ({
        x: p.x,
        ...(p.requests !== undefined ? { requests: p.requests } : {}),
        samplesMicros: p.samples,
        referenceRates: p.referenceRates,
      }));
  return {
    layers: preset.layers,
    widthDivisor: preset.widthDivisor,
    roundTripMicros,
    drift: driftOfPoints(points, anchor),
    linear: sweep('linear'),
    decode: sweep('decode'),
    prefill: sweep('prefill'),
  };
}

interface Sweeps {
  analysis: Analysis;
  /** The drift normalisation every sample is expressed with. */
  drift: Drift | null;
  visits: number;
  remeasured: number;
  elapsedMs: number;
  budgetMs: number;
  stoppedBecause: 'target' | 'budget' | 'max-samples';
  /** The reference probe's rate at the start of each visit. */
  probeRates: number[];
}

/**
 * Samples per visit for the sweep that dominates the typical round's variance: a Neyman-style
 * allocation. On SwiftShader the per-token term is ~95 % of the typical round and the
 * linear sweep ~15 % of a visit's time, so two or three linear samples per visit narrow the
 * typical round's interval much more per second than another pass over every point (with
 * one sample per point per visit, two quiet benchmark runs gave typical rounds 1.27× and
 * 1.21× apart over five quick calibrations; docs/calibration.md). null: no sweep carries
 * half the variance.
 */
export function focusRepeats(
  share: Readonly<Record<VarianceSource, number>>,
): { sweep: 'linear' | 'decode' | 'prefill'; times: number } | null {
  const sweeps = ['linear', 'decode', 'prefill'] as const;
  const top = sweeps.reduce((a, b) => (share[b] > share[a] ? b : a));
  const s = share[top];
  if (!(s >= 0.5)) return null;
  return { sweep: top, times: s >= 0.8 ? 3 : 2 };
}

/**
 * Phase 2b: visits over every due point in a seeded shuffled order, one sample each (2–3
 * for the sweep `focusRepeats` names, once fitted), each sample bracketed by the reference
 * probe; a sample far from its point's (normalised) median is re-measured at once. After `minSamples` visits the fit is redone after every
 * visit until the typical round's interval is within ±targetHalfWidth, or the budget or
 * `maxSamples` ends sampling.
 */
async function sampleSweeps(
  ctx: Ctx,
  points: Point[],
  reference: ReferenceProbe,
  roundTripSamples: number[],
  refCoefficients: Coefficients,
  typical: ReturnType<typeof typicalLmsysRound>,
): Promise<Sweeps> {
  const { o, preset, topts, progress, check } = ctx;
  const budgetMs = o.budgetMs ?? preset.budgetMs;
  const probeRates: number[] = [];
  let keptBytes = 0;
  let remeasured = 0;
  let visits = 0;
  let stoppedBecause: Sweeps['stoppedBecause'];
  let analysis: Analysis | undefined;
  const order = rng(o.seed ?? 1);
  const sample = async (p: Point): Promise<number> => {
    // Samples rotate over the point's devices (one device for all but the linear sweep).
    const d = deviceOfSample(p, p.samples.length);
    const dev = p.devices[d] as Device;
    let jobs = p.kept[d];
    const fresh = jobs === undefined;
    if (!jobs) jobs = await p.make(dev.kernels);
    try {
      const js = jobs;
      const m = await dev.timer.measure(
        (pass) => {
          for (let l = 0; l < preset.layers; l++) for (const j of js) j.encode(pass);
        },
        { ...topts, samples: 1, warmup: fresh ? 1 : 0, ...(p.reps !== undefined ? { innerReps: p.reps } : {}) },
      );
      p.reps = m.innerReps;
      p.method = m.method;
      if (fresh) {
        const bytes = js.reduce((s, j) => s + j.bytes, 0);
        if (keptBytes + bytes <= GRID_KEEP_BYTES) {
          p.kept[d] = js;
          keptBytes += bytes;
        }
      }
      return (m.samplesMs[0] as number) * 1000;
    } finally {
      if (p.kept[d] !== jobs) jobs.forEach((j) => j.destroy());
    }
  };
  // The probe right before the next sample: the previous sample's "after".
  let before = NaN;
  const bracketed = async (p: Point): Promise<void> => {
    const v = await sample(p);
    const after = await reference.rate();
    p.samples.push(v);
    p.referenceRates.push(Math.sqrt(before * after));
    before = after;
  };
  const t0 = performance.now();
  try {
    for (;;) {
      check();
      const fitting = visits >= preset.minSamples;
      // Held-out rounds are sampled like the sweeps (their medians are as precise as the
      // points they check: with 3 samples one noisy round moved held-out R² by tenths);
      // the minimal round is a cross-check and needs only minSamples.
      const due = points.filter(
        (p) => p.samples.length < (p.kind === 'minimal' ? preset.minSamples : preset.maxSamples),
      );
      // Once fitted, the sweep that carries most of the typical round's variance gets its
      // points sampled more than once per visit (see focusRepeats); held-out rounds get
      // `preset.heldOutRepeats` samples per visit.
      const repeats = analysis ? focusRepeats(analysis.typical.varianceShare) : null;
      const visit = due.flatMap((p) => {
        const n =
          repeats && p.kind === repeats.sweep ? repeats.times : p.kind === 'validation' ? preset.heldOutRepeats : 1;
        return Array.from({ length: Math.max(1, Math.min(n, preset.maxSamples - p.samples.length)) }, () => p);
      });
      before = await reference.rate();
      probeRates.push(before);
      for (const [i, p] of shuffle(visit, order).entries()) {
        check();
        progress({
          phase: 'sweeps',
          done: Math.min(i, visit.length),
          total: visit.length,
          label: `visit ${visits + 1}: ${p.label}${fitting ? ` (typical round ±${((analysis ? relativeHalfWidth(analysis.typical.interval, analysis.typical.micros) : 1) * 100).toFixed(1)} %)` : ''}`,
        });
        // Outliers are judged on drift-normalised values (the run's drift so far).
        const drift = driftOfPoints(points, ctx.anchor);
        const med = p.samples.length >= 2 ? median(normalized(p, drift)) : NaN;
        await bracketed(p);
        const v = normalizeSamples(p.samples.slice(-1), p.referenceRates.slice(-1), drift)[0] as number;
        if (Number.isFinite(med) && Math.abs(v - med) > OUTLIER_FRACTION * med) {
          await bracketed(p);
          remeasured++;
        }
      }
      visits++;
      if (visits < preset.minSamples) continue;
      analysis = analyze(rawTimings(preset, points, roundTripSamples, ctx.anchor), refCoefficients, typical.features);
      if (relativeHalfWidth(analysis.typical.interval, analysis.typical.micros) <= preset.targetHalfWidth) {
        stoppedBecause = 'target';
        break;
      }
      if (performance.now() - t0 >= budgetMs) {
        stoppedBecause = 'budget';
        break;
      }
      if (points.every((p) => p.kind === 'minimal' || p.samples.length >= preset.maxSamples)) {
        stoppedBecause = 'max-samples';
        break;
      }
    }
  } finally {
    points.forEach((p) => p.kept.forEach((js) => js?.forEach((j) => j.destroy())));
  }
  const raw = rawTimings(preset, points, roundTripSamples, ctx.anchor);
  progress({ phase: 'sweeps', done: 1, total: 1, label: 'sweeps done' });
  return {
    analysis: analysis ?? analyze(raw, refCoefficients, typical.features),
    drift: driftOfPoints(points, ctx.anchor),
    visits,
    remeasured,
    elapsedMs: performance.now() - t0,
    budgetMs,
    stoppedBecause,
    probeRates,
  };
}

type Efficiencies = Awaited<ReturnType<typeof kernelEfficiencies>>;

/** Phase 3: kernel efficiencies at the sweeps' largest sizes against their roof probes. */
async function kernelEfficiencies({ kernels, timer, preset, topts, widths, progress, check }: Ctx) {
  const maxD = preset.decodePoints.reduce((m, d) => (d.decodeBatch * d.kvLen > m.decodeBatch * m.kvLen ? d : m));
  const maxC = Math.max(...preset.prefillChunks);
  const maxT = Math.max(...preset.linearTokens);
  const rate = async (
    label: string,
    point: GridPoint & { tokens: number },
    make: () => Promise<Job>,
    roof: 'stream' | 'fma',
    k: number,
  ) => {
    check();
    progress({ phase: 'kernels', done: k, total: 3, label });
    // The roof probe is measured again right before and after the kernel (a software
    // adapter's CPU speed drifts on a shared machine); efficiency uses the mean.
    const probe = async () =>
      withJob(
        roof === 'stream' ? kernels.streamProbe(preset.streamBytes) : kernels.fmaProbe(preset.fmaIters),
        async (j) => {
          const m = await timer.measure(j, topts);
          return (roof === 'stream' ? j.bytes : j.flops) / (m.medianMs / 1000);
        },
      );
    const before = await probe();
    const r = await withJob(make(), async (j) => {
      const m = await timer.measure(j, topts);
      const s = m.medianMs / 1000;
      return {
        point,
        measurement: measurementJson(m),
        bytes: j.bytes,
        flops: j.flops,
        bytesPerSecond: j.bytes / s,
        flopPerSecond: j.flops / s,
      };
    });
    const roofRate = (before + (await probe())) / 2;
    return { ...r, efficiency: (roof === 'stream' ? r.bytesPerSecond : r.flopPerSecond) / roofRate };
  };
  const decode = await rate(
    'decode attention',
    { decodeBatch: maxD.decodeBatch, kvLen: maxD.kvLen, prefillChunk: 0, tokens: maxD.decodeBatch },
    () => kernels.decode({ seqLens: new Array<number>(maxD.decodeBatch).fill(maxD.kvLen) }),
    'stream',
    0,
  );
  const prefill = await rate(
    'prefill attention',
    { decodeBatch: 0, kvLen: 0, prefillChunk: maxC, tokens: maxC },
    () => kernels.prefill({ len: maxC }),
    'fma',
    1,
  );
  const linear = await rate(
    'linear layers',
    { decodeBatch: 0, kvLen: 0, prefillChunk: 0, tokens: maxT },
    () => kernels.linear(maxT, widths),
    'fma',
    2,
  );
  progress({ phase: 'kernels', done: 3, total: 3, label: 'kernels done' });
  return { decode, prefill, linear };
}

type Assessed = ReturnType<typeof assess>;

/** Phase 5: held-out check, the sweeps' own fit quality, interference measures and the verdict. */
function assess(
  preset: Preset,
  points: readonly Point[],
  sweeps: Sweeps,
  roundTripMicros: number,
  replay: Replay,
  typical: Features,
  referenceShift?: number,
  history?: Repeatability,
) {
  const a = sweeps.analysis;
  const validation = points.filter((p) => p.kind === 'validation');
  const rounds = validation.map((p) => ({
    features: p.features,
    samplesMicros: normalized(p, sweeps.drift).map((s) => s + roundTripMicros),
  }));
  const heldOut = heldOutQuality(a.coefficients, rounds);
  const sweepPts = (['linear', 'decode', 'prefill'] as const).flatMap((k) =>
    points.filter((p) => p.kind === k).map((p) => ({ p, fit: a.sweeps[k] })),
  );
  const trainMape =
    sweepPts.reduce((s, { p, fit }) => {
      const y = median(normalized(p, sweeps.drift));
      const perRequest = 'perRequest' in fit ? fit.perRequest.value * (p.requests ?? 0) : 0;
      return s + Math.abs(y - (fit.intercept.value + fit.slope.value * p.x + perRequest)) / Math.max(y, 1e-9);
    }, 0) / Math.max(1, sweepPts.length);
  // The spread between repeats after drift normalisation: what the reference did not explain.
  const spreads = points
    .filter((p) => p.samples.length >= 2)
    .map((p) => {
      const s = normalized(p, sweeps.drift);
      return (Math.max(...s) - Math.min(...s)) / Math.max(median(s), 1e-9);
    });
  const pr = sweeps.probeRates;
  const probeDrift = pr.length > 1 ? Math.max(...pr) / Math.max(Math.min(...pr), 1e-300) : 1;
  const repeatSpread = spreads.length > 0 ? median(spreads) : 0;
  const typicalHalfWidth = relativeHalfWidth(a.typical.interval, a.typical.micros);
  // On the Llama-2-70B terms, what the profile reports (verdict.ts, notIdentifiableWhy).
  const notIdentifiable = TERMS.filter((t) => notIdentifiableWhy(a.fullIntervals[t]) !== null);
  const minorTerms = minorTermsOf(
    notIdentifiable,
    (t) => farEndMicros(t, a.fullIntervals[t], typical),
    a.typical.micros,
  );
  const verdict = verdictOf({
    heldOutR2: heldOut.r2,
    typicalHalfWidth,
    targetHalfWidth: preset.targetHalfWidth,
    notIdentifiable,
    termIntervals: a.fullIntervals,
    minorTerms,
    probeDrift,
    repeatSpread,
    replayError: replay?.error ?? null,
    ...(referenceShift !== undefined ? { referenceShift } : {}),
    ...(history ? { history } : {}),
  });
  return {
    heldOut,
    trainMape,
    trainPoints: sweepPts.length,
    probeDrift,
    repeatSpread,
    typicalHalfWidth,
    notIdentifiable,
    minorTerms,
    verdict,
  };
}

/**
 * Each device's level: the median over its samples of (normalised sample / its point's
 * normalised median), 1 = the pooled median. Their spread is the device-to-device variation
 * the rotation averages (docs/calibration.md, "Device levels").
 */
export function deviceLevels(
  points: ReadonlyArray<{ samples: number[]; referenceRates: number[]; sampleDevices: readonly number[] }>,
  count: number,
  drift: Drift | null,
): number[] {
  // One device is the pooled median by definition.
  if (count <= 1) return [1];
  const ratios: number[][] = Array.from({ length: count }, () => []);
  for (const p of points) {
    const s = normalizeSamples(p.samples, p.referenceRates, drift);
    const m = median(s);
    if (!(m > 0)) continue;
    s.forEach((v, i) => ratios[p.sampleDevices[i] ?? 0]?.push(v / m));
  }
  return ratios.map((r) => (r.length > 0 ? median(r) : NaN)).filter((x) => Number.isFinite(x));
}

/** Phase 6: the profile (kvsched.profile/2). */
function buildProfile(
  ctx: Ctx,
  r: {
    probes: Probes;
    points: readonly Point[];
    sweeps: Sweeps;
    efficiencies: Efficiencies;
    replay: Replay;
    assessed: Assessed;
    ref: ReturnType<typeof referenceFit>;
    typical: ReturnType<typeof typicalLmsysRound>;
    phaseMs: Record<string, number>;
    createdAt: string;
    deviceReference: DeviceReferenceUse | null;
  },
): Profile {
  const { o, preset, timer, widths } = ctx;
  const { session } = o;
  const { probes, points, sweeps, assessed: q, ref, typical } = r;
  const a = sweeps.analysis;
  const rr = sweeps.drift;
  const rt = probes.roundTripMicros;
  const sweepJson = (k: 'linear' | 'decode' | 'prefill') => ({
    points: points
      .filter((p) => p.kind === k)
      .map((p) => ({
        x: p.x,
        ...(p.requests !== undefined ? { requests: p.requests } : {}),
        label: p.label,
        samplesMicros: p.samples,
        medianMicros: median(normalized(p, rr)),
        referenceRates: p.referenceRates,
        ...(p.devices.length > 1 ? { devices: sampleDevices(p) } : {}),
      })),
    fit: a.sweeps[k],
  });
  const minimal = points.find((p) => p.kind === 'minimal') as Point;
  const validation = points.filter((p) => p.kind === 'validation');
  const full = a.full;
  const adapter = adapterIdentity(session.adapter);
  // Dawn's GPUSupportedFeatures is iterable but has no forEach.
  const features = [...(session.adapter.features as Iterable<string>)].sort();
  const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    schema: PROFILE_SCHEMA,
    createdAt: r.createdAt,
    tool: { name: 'kvsched', version: o.version ?? '0.1.0' },
    preset: preset.name,
    device: {
      adapter,
      name: adapterName(adapter),
      limits: readLimits(session.adapter.limits),
      features,
      runtime: o.runtime,
      shaderF16: session.adapter.features.has('shader-f16'),
      precision: 'f32',
      timing: { method: timer.defaultMethod, roundTripMicros: rt },
    },
    geometry: {
      model: 'llama2-70b',
      layers: LLAMA2_70B.layers,
      queryHeads: LLAMA2_70B.queryHeads,
      kvHeads: LLAMA2_70B.kvHeads,
      headDim: LLAMA2_70B.headDim,
      hidden: LLAMA2_70B.hidden,
      intermediate: LLAMA2_70B.intermediate,
      emulatedLayers: preset.layers,
      widthDivisor: preset.widthDivisor,
      emulatedHidden: widths.hidden,
      emulatedKvDim: widths.kvDim,
      emulatedIntermediate: widths.intermediate,
    },
    probes: {
      stream: {
        bytes: probes.stream.bytes,
        measurement: measurementJson(probes.stream.m),
        bytesPerSecond: probes.streamBps,
      },
      fma: { flops: probes.fma.flops, measurement: measurementJson(probes.fma.m), flopPerSecond: probes.fmaFlops },
    },
    kernels: r.efficiencies,
    design: {
      linear: sweepJson('linear'),
      decode: sweepJson('decode'),
      prefill: sweepJson('prefill'),
      roundTrip: { samplesMicros: probes.roundTripSamples, estimate: a.roundTrip },
      minimalRound: {
        measuredMicros: median(normalized(minimal, rr)) + rt,
        predictedMicros: predict(a.coefficients, minimal.features),
      },
      visits: sweeps.visits,
      samples: points.reduce((s, p) => s + p.samples.length, 0),
      remeasured: sweeps.remeasured,
      elapsedMs: sweeps.elapsedMs,
      budgetMs: sweeps.budgetMs,
      stoppedBecause: sweeps.stoppedBecause,
      probeRates: sweeps.probeRates,
      linearDevices: {
        count: ctx.linearDevices.length,
        levels: deviceLevels(
          points.filter((p) => p.kind === 'linear').map((p) => ({ ...p, sampleDevices: sampleDevices(p) })),
          ctx.linearDevices.length,
          rr,
        ),
        ...(ctx.linearDevicesNote !== undefined ? { note: ctx.linearDevicesNote } : {}),
      },
      ...(rr
        ? {
            drift: {
              referenceQuantile: REFERENCE_QUANTILE,
              ...rr,
              ...(r.deviceReference ? { deviceReference: r.deviceReference } : {}),
            },
          }
        : {}),
      phaseMs: r.phaseMs,
    },
    measurements: validation.map((p) => {
      const g = p.grid as GridPoint;
      const m = summarize(
        p.method,
        p.reps ?? 1,
        p.samples.map((s) => s / 1000),
      );
      return {
        decodeBatch: g.decodeBatch,
        kvLen: g.kvLen,
        prefillChunk: g.prefillChunk,
        tokens: p.features.tokens,
        kvTokens: p.features.kvTokens,
        prefillSquares: p.features.prefillSquares,
        heldOut: true,
        micros: median(normalized(p, rr)) + rt,
        measurement: measurementJson(m),
        referenceRates: p.referenceRates,
      };
    }),
    fit: {
      coefficients: a.coefficients,
      intervals: a.intervals,
      r2: q.heldOut.r2,
      mape: q.heldOut.mape,
      train: { r2: Math.min(a.sweeps.linear.r2, a.sweeps.decode.r2, a.sweeps.prefill.r2), mape: q.trainMape },
      trainPoints: q.trainPoints,
      heldOutPoints: validation.length,
    },
    fullModel: {
      coefficients: full,
      intervals: a.fullIntervals,
      method:
        `per KV token, per decode request (decode sweep on B·L and B), per prefill square and per prefill ` +
        `request (prefill sweep's slope and intercept) × 80/${preset.layers} layers; per token × ` +
        `80/${preset.layers} × ${preset.widthDivisor}²; fixed = round trip + (linear and decode intercepts) ` +
        `× 80/${preset.layers}`,
    },
    costModel: {
      unit: 'ps',
      fixedPs: toPicoseconds(full.fixedMicros),
      perTokenPs: toPicoseconds(full.perTokenMicros),
      perKvTokenPs: toPicoseconds(full.perKvTokenMicros),
      perPrefillSquarePs: toPicoseconds(full.perPrefillSquareMicros),
      perDecodeRequestPs: toPicoseconds(full.perDecodeRequestMicros),
      perPrefillRequestPs: toPicoseconds(full.perPrefillRequestMicros),
    },
    reference: {
      name: ref.name,
      coefficients: ref.coefficients,
      r2: ref.r2,
      mape: ref.mape,
      ratios: a.ratios,
      ratioIntervals: a.ratioIntervals,
      typicalRound: {
        description: typical.description,
        rounds: typical.rounds,
        mean: typical.mean,
        deviceMicros: a.typical.micros,
        referenceMicros: predict(ref.coefficients, typical.features),
        ratio: a.typical.ratio,
        deviceInterval: a.typical.interval,
        ratioInterval: a.typical.ratioInterval,
      },
    },
    quality: {
      ...q.verdict,
      typicalHalfWidth: finiteOrNull(q.typicalHalfWidth),
      probeDrift: finiteOrNull(q.probeDrift),
      repeatSpread: q.repeatSpread,
      notIdentifiable: q.notIdentifiable,
      minorTerms: q.minorTerms,
    },
    validation: { replay: r.replay },
    power: defaultPower(adapter),
  };
}

/**
 * The replay check: `preset.replay.rounds` rounds of the replay schedule (./replay.ts),
 * run in a seeded random order until `preset.replay.budgetMs` has passed, each as its own
 * submit (after one unmeasured warm-up of fresh buffers); their wall times are summed
 * against the emulated model's prediction of the same rounds. Rounds predicted above
 * REPLAY_OUTSIZED × the sample's median prediction (a rare long prompt: minutes of prefill
 * on a software adapter) are skipped and counted.
 */
export const REPLAY_OUTSIZED = 5;

type Replay = Profile['validation']['replay'];

/**
 * Phase 4: the replay check. Each round is bracketed by the reference probe like a sweep
 * sample, and its wall time normalised to the sweeps' reference rate, so that the
 * comparison is at the speed the model was fitted at (`measuredRaw`: as measured).
 */
async function replayCheck(
  { kernels, timer, preset, widths, o, progress, check }: Ctx,
  c: Coefficients,
  reference: ReferenceProbe,
  drift: Drift | null,
): Promise<Replay> {
  const report = (done: number, total: number, label: string) => progress({ phase: 'replay', done, total, label });
  const { description, rounds } = replayRounds(preset.replay.rounds);
  const cap = REPLAY_OUTSIZED * median(rounds.map((r) => predict(c, r.features)));
  let measured = 0;
  let measuredRaw = 0;
  let predicted = 0;
  let done = 0;
  let skipped = 0;
  const t0 = performance.now();
  let before = await reference.rate();
  for (const [i, r] of shuffle(rounds, rng(o.seed ?? 1)).entries()) {
    check();
    if (performance.now() - t0 > preset.replay.budgetMs) break;
    report(
      i,
      rounds.length,
      `round ${r.index}: ${r.decodeBatch} decodes × ${r.kvLen}, prefill ${r.prefillChunks.join('+') || '0'}`,
    );
    const p = predict(c, r.features);
    if (p > cap || r.tokens === 0) {
      skipped++;
      continue;
    }
    const jobs: Job[] = [];
    try {
      jobs.push(await kernels.linear(r.tokens, widths));
      if (r.decodeBatch > 0)
        jobs.push(await kernels.decode({ seqLens: new Array<number>(r.decodeBatch).fill(r.kvLen) }));
      for (const len of r.prefillChunks) jobs.push(await kernels.prefill({ len }));
      const m = await timer.measure(
        (pass) => {
          for (let l = 0; l < preset.layers; l++) for (const j of jobs) j.encode(pass);
        },
        { method: 'wall', innerReps: 1, samples: 1, warmup: 1 },
      );
      const after = await reference.rate();
      const micros = (m.samplesMs[0] as number) * 1000;
      measuredRaw += micros;
      measured += normalizeSamples([micros], [Math.sqrt(before * after)], drift)[0] as number;
      before = after;
      predicted += p;
      done++;
    } finally {
      jobs.forEach((j) => j.destroy());
    }
  }
  report(rounds.length, rounds.length, 'replay done');
  if (done === 0 || !(measured > 0)) return null;
  return {
    schedule: description,
    rounds: done,
    skipped,
    measured,
    predicted,
    error: (predicted - measured) / measured,
    measuredRaw,
  };
}

async function withJob<J extends Job, T>(make: Promise<J>, fn: (j: J) => Promise<T>): Promise<T> {
  const j = await make;
  try {
    return await fn(j);
  } finally {
    j.destroy();
  }
}

async function roundJobs(k: Kernels, g: GridPoint, widths: ReturnType<typeof linearWidths>): Promise<Job[]> {
  const jobs: Job[] = [];
  try {
    const t = tokensOf(g);
    if (t > 0) jobs.push(await k.linear(t, widths));
    if (g.decodeBatch > 0) jobs.push(await k.decode({ seqLens: new Array<number>(g.decodeBatch).fill(g.kvLen) }));
    if (g.prefillChunk > 0) jobs.push(await k.prefill({ len: g.prefillChunk }));
    return jobs;
  } catch (e) {
    jobs.forEach((j) => j.destroy());
    throw e;
  }
}
