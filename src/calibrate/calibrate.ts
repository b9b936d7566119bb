/**
 * Device calibration: time each cost term with the work that carries it and fit the
 * engine's four-term cost model with 95 % intervals (docs/calibration.md).
 *
 * 1. Probes: streaming-read bandwidth and FMA rate (the device's roofs); the round trip
 *    (submit + wait of a trivial dispatch, 21 samples).
 * 2. Sweeps (./grid.ts): the linear layers over tokens, decode attention over KV tokens,
 *    prefill attention over chunk², each `layers` times per pass; a minimal round; and
 *    composite rounds held out for the check. Visits go over every point in a shuffled
 *    (seeded) order, one sample each, so a drift of the device's speed spreads over all
 *    points; a sample far from its point's median is re-measured at once; a sentinel
 *    FMA probe at each visit's start tracks interference. After `minSamples` visits the
 *    fit (./analysis.ts) is redone after every visit until the typical round's interval
 *    is within ±targetHalfWidth, or the budget or `maxSamples` ends sampling.
 * 3. Kernel efficiencies at the sweeps' largest sizes against their roof probes.
 * 4. Replay (./replay.ts): rounds of a real schedule, run and timed, against the
 *    profile's prediction.
 * 5. Verdict (./verdict.ts), power model by adapter class, the profile.
 *
 * Progress events and cancellation (AbortSignal, checked between timed intervals).
 */
import { abortReason } from '../model/abort.ts';
import { adapterIdentity, adapterName, readLimits } from '../gpu/detect.ts';
import { Kernels, LLAMA2_70B, linearWidths, type Job } from '../gpu/kernels.ts';
import type { GpuSession } from '../gpu/session.ts';
import type { ShaderSet } from '../gpu/shaders.ts';
import { summarize, Timer, type Measurement } from '../gpu/timing.ts';
import {
  analyze,
  heldOutQuality,
  relativeHalfWidth,
  type Analysis,
  type RawTimings,
  type SweepData,
} from './analysis.ts';
import { featuresOf, predict, TERMS, type Coefficients, type Features } from './fit.ts';
import { batchOf, tokensOf, type GridPoint, type Preset } from './grid.ts';
import { defaultPower, PROFILE_SCHEMA, toPicoseconds, type Profile } from './profile.ts';
import { referenceFit, typicalLmsysRound } from './reference.ts';
import { replayRounds } from './replay.ts';
import { median, rng, shuffle } from './stats.ts';
import { verdictOf } from './verdict.ts';

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
}

/** Keep a grid point's buffers between visits while the kept total stays under this. */
export const GRID_KEEP_BYTES = 1 << 30;

export class CalibrationError extends Error {
  override name = 'CalibrationError';
}

/**
 * Fitted emulated-geometry coefficients → full Llama-2-70B on this device:
 * - per KV token and per prefill square × (80 / emulated layers) (attention has the
 *   full head geometry already);
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
  features: Features;
  grid?: GridPoint;
  make: () => Promise<Job[]>;
  /** Per-execution GPU time of `layers` copies of the work, µs. */
  samples: number[];
  reps?: number;
  method: Measurement['method'];
  kept?: Job[];
}

/** A sample this far from its point's median (fraction) is re-measured at once. */
export const OUTLIER_FRACTION = 0.3;

export async function calibrate(o: CalibrationOptions): Promise<Profile> {
  const { session, preset } = o;
  const signal = o.signal;
  const progress = (p: CalibrationProgress) => o.onProgress?.(p);
  const check = () => {
    if (signal?.aborted) throw abortReason(signal, 'calibration cancelled');
  };
  const widths = linearWidths(preset.widthDivisor);
  const topts = { samples: preset.minSamples, minIntervalMs: preset.minIntervalMs, ...(signal ? { signal } : {}) };
  const budgetMs = o.budgetMs ?? preset.budgetMs;

  progress({ phase: 'compile', done: 0, total: 1, label: 'compiling kernels' });
  const kernels = await Kernels.create(session, o.shaders);
  const timer = new Timer(session);
  check();

  // 1. Probes and round trip.
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
  const roundTripMicros = median(roundTripSamples);
  const streamBps = stream.bytes / (stream.m.medianMs / 1000);
  const fmaFlops = fma.flops / (fma.m.medianMs / 1000);
  progress({ phase: 'probes', done: 3, total: 3, label: 'probes done' });

  // Reference and typical round (CPU work) before the timed loop.
  const ref = referenceFit();
  const typical = typicalLmsysRound();

  // 2. Sweeps.
  const L = preset.layers;
  const seqs = (b: number, l: number) => new Array<number>(b).fill(l);
  const points: Point[] = [
    ...preset.linearTokens.map((t): Point => ({
      kind: 'linear',
      label: `linear T=${t}`,
      x: t,
      features: { tokens: t, kvTokens: 0, prefillSquares: 0 },
      make: async () => [await kernels.linear(t, widths)],
      samples: [],
      method: timer.defaultMethod,
    })),
    ...preset.decodePoints.map((d): Point => ({
      kind: 'decode',
      label: `decode B=${d.decodeBatch} L=${d.kvLen}`,
      x: d.decodeBatch * d.kvLen,
      features: { tokens: 0, kvTokens: d.decodeBatch * d.kvLen, prefillSquares: 0 },
      make: async () => [await kernels.decode({ seqLens: seqs(d.decodeBatch, d.kvLen) })],
      samples: [],
      method: timer.defaultMethod,
    })),
    ...preset.prefillChunks.map((c): Point => ({
      kind: 'prefill',
      label: `prefill C=${c}`,
      x: c * c,
      features: { tokens: 0, kvTokens: 0, prefillSquares: c * c },
      make: async () => [await kernels.prefill({ len: c })],
      samples: [],
      method: timer.defaultMethod,
    })),
    {
      kind: 'minimal',
      label: 'minimal round',
      x: 0,
      features: { tokens: 1, kvTokens: 1, prefillSquares: 0 },
      grid: { decodeBatch: 1, kvLen: 1, prefillChunk: 0 },
      make: () => roundJobs(kernels, { decodeBatch: 1, kvLen: 1, prefillChunk: 0 }, widths),
      samples: [],
      method: timer.defaultMethod,
    },
    ...preset.validation.map((g): Point => ({
      kind: 'validation',
      label: `round B=${g.decodeBatch} L=${g.kvLen} C=${g.prefillChunk}`,
      x: 0,
      features: featuresOf(batchOf(g)),
      grid: g,
      make: () => roundJobs(kernels, g, widths),
      samples: [],
      method: timer.defaultMethod,
    })),
  ];
  const sentinel = await kernels.fmaProbe(preset.fmaIters);
  const probeRates: number[] = [];
  let keptBytes = 0;
  let remeasured = 0;
  let visits = 0;
  let stoppedBecause: 'target' | 'budget' | 'max-samples';
  let analysis: Analysis | undefined;
  const order = rng(o.seed ?? 1);
  const rawOf = (): RawTimings => {
    const sweep = (k: Point['kind']): SweepData[] =>
      points.filter((p) => p.kind === k).map((p) => ({ x: p.x, samplesMicros: p.samples }));
    return {
      layers: L,
      widthDivisor: preset.widthDivisor,
      roundTripMicros: roundTripSamples,
      linear: sweep('linear'),
      decode: sweep('decode'),
      prefill: sweep('prefill'),
    };
  };
  const sample = async (p: Point): Promise<number> => {
    let jobs = p.kept;
    const fresh = jobs === undefined;
    if (!jobs) jobs = await p.make();
    try {
      const js = jobs;
      const m = await timer.measure(
        (pass) => {
          for (let l = 0; l < L; l++) for (const j of js) j.encode(pass);
        },
        { ...topts, samples: 1, warmup: fresh ? 1 : 0, ...(p.reps !== undefined ? { innerReps: p.reps } : {}) },
      );
      p.reps = m.innerReps;
      p.method = m.method;
      if (fresh) {
        const bytes = js.reduce((s, j) => s + j.bytes, 0);
        if (keptBytes + bytes <= GRID_KEEP_BYTES) {
          p.kept = js;
          keptBytes += bytes;
        }
      }
      return (m.samplesMs[0] as number) * 1000;
    } finally {
      if (p.kept !== jobs) jobs.forEach((j) => j.destroy());
    }
  };
  const t0 = performance.now();
  try {
    for (;;) {
      check();
      const fitting = visits >= preset.minSamples;
      // Validation rounds do not enter the fit: they need only minSamples samples.
      const due = points.filter(
        (p) =>
          p.samples.length < (p.kind === 'validation' || p.kind === 'minimal' ? preset.minSamples : preset.maxSamples),
      );
      const sm = await timer.measure(sentinel, { ...topts, samples: 1, warmup: visits === 0 ? 1 : 0 });
      probeRates.push(sentinel.flops / (sm.medianMs / 1000));
      for (const [i, p] of shuffle(due, order).entries()) {
        check();
        progress({
          phase: 'sweeps',
          done: Math.min(i, due.length),
          total: due.length,
          label: `visit ${visits + 1}: ${p.label}${fitting ? ` (typical round ±${((analysis ? relativeHalfWidth(analysis.typical.interval, analysis.typical.micros) : 1) * 100).toFixed(1)} %)` : ''}`,
        });
        const v = await sample(p);
        const med = p.samples.length >= 2 ? median(p.samples) : NaN;
        p.samples.push(v);
        if (Number.isFinite(med) && Math.abs(v - med) > OUTLIER_FRACTION * med) {
          p.samples.push(await sample(p));
          remeasured++;
        }
      }
      visits++;
      if (visits < preset.minSamples) continue;
      analysis = analyze(rawOf(), ref.coefficients, typical.features);
      if (relativeHalfWidth(analysis.typical.interval, analysis.typical.micros) <= preset.targetHalfWidth) {
        stoppedBecause = 'target';
        break;
      }
      if (performance.now() - t0 >= budgetMs) {
        stoppedBecause = 'budget';
        break;
      }
      if (
        points.every((p) => p.kind === 'validation' || p.kind === 'minimal' || p.samples.length >= preset.maxSamples)
      ) {
        stoppedBecause = 'max-samples';
        break;
      }
    }
  } finally {
    points.forEach((p) => p.kept?.forEach((j) => j.destroy()));
    sentinel.destroy();
  }
  const elapsedMs = performance.now() - t0;
  const a = analysis ?? analyze(rawOf(), ref.coefficients, typical.features);
  progress({ phase: 'sweeps', done: 1, total: 1, label: 'sweeps done' });

  // 3. Kernel efficiencies at the largest sizes.
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
    () => kernels.decode({ seqLens: seqs(maxD.decodeBatch, maxD.kvLen) }),
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

  // 4. Replay: rounds of a real schedule, each its own submit, wall time against the prediction.
  const replay = await replayCheck(
    kernels,
    timer,
    preset,
    widths,
    a.coefficients,
    o.seed ?? 1,
    (done, total, label) => progress({ phase: 'replay', done, total, label }),
    check,
  );

  // 5. Quality, verdict, profile.
  progress({ phase: 'fit', done: 0, total: 1, label: 'verdict' });
  const validation = points.filter((p) => p.kind === 'validation');
  const rounds = validation.map((p) => ({
    features: p.features,
    samplesMicros: p.samples.map((s) => s + roundTripMicros),
  }));
  const heldQ = heldOutQuality(a.coefficients, rounds);
  const sweepPts = (['linear', 'decode', 'prefill'] as const).flatMap((k) =>
    points.filter((p) => p.kind === k).map((p) => ({ p, fit: a.sweeps[k] })),
  );
  const trainMape =
    sweepPts.reduce((s, { p, fit }) => {
      const y = median(p.samples);
      return s + Math.abs(y - (fit.intercept.value + fit.slope.value * p.x)) / Math.max(y, 1e-9);
    }, 0) / Math.max(1, sweepPts.length);
  const minimal = points.find((p) => p.kind === 'minimal') as Point;
  const spreads = points
    .filter((p) => p.samples.length >= 2)
    .map((p) => (Math.max(...p.samples) - Math.min(...p.samples)) / Math.max(median(p.samples), 1e-9));
  const probeDrift = probeRates.length > 1 ? Math.max(...probeRates) / Math.max(Math.min(...probeRates), 1e-300) : 1;
  const repeatSpread = spreads.length > 0 ? median(spreads) : 0;
  const typicalHalfWidth = relativeHalfWidth(a.typical.interval, a.typical.micros);
  const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);
  const notIdentifiable = TERMS.filter((t) => !a.identifiable[t]);
  const v = verdictOf({
    heldOutR2: heldQ.r2,
    typicalHalfWidth,
    targetHalfWidth: preset.targetHalfWidth,
    notIdentifiable,
    probeDrift,
    repeatSpread,
    replayError: replay?.error ?? null,
  });
  const sweepJson = (k: 'linear' | 'decode' | 'prefill') => ({
    points: points
      .filter((p) => p.kind === k)
      .map((p) => ({ x: p.x, label: p.label, samplesMicros: p.samples, medianMicros: median(p.samples) })),
    fit: a.sweeps[k],
  });
  const full = a.full;
  const adapter = adapterIdentity(session.adapter);
  // Dawn's GPUSupportedFeatures is iterable but has no forEach.
  const features = [...(session.adapter.features as Iterable<string>)].sort();
  progress({ phase: 'fit', done: 1, total: 1, label: 'done' });
  return {
    schema: PROFILE_SCHEMA,
    createdAt: (o.now?.() ?? new Date()).toISOString(),
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
      timing: { method: timer.defaultMethod, roundTripMicros },
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
      stream: { bytes: stream.bytes, measurement: measurementJson(stream.m), bytesPerSecond: streamBps },
      fma: { flops: fma.flops, measurement: measurementJson(fma.m), flopPerSecond: fmaFlops },
    },
    kernels: { decode, prefill, linear },
    design: {
      linear: sweepJson('linear'),
      decode: sweepJson('decode'),
      prefill: sweepJson('prefill'),
      roundTrip: { samplesMicros: roundTripSamples, estimate: a.roundTrip },
      minimalRound: {
        measuredMicros: median(minimal.samples) + roundTripMicros,
        predictedMicros: predict(a.coefficients, minimal.features),
      },
      visits,
      samples: points.reduce((s, p) => s + p.samples.length, 0),
      remeasured,
      elapsedMs,
      budgetMs,
      stoppedBecause,
      probeRates,
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
        micros: m.medianMs * 1000 + roundTripMicros,
        measurement: measurementJson(m),
      };
    }),
    fit: {
      coefficients: a.coefficients,
      intervals: a.intervals,
      r2: heldQ.r2,
      mape: heldQ.mape,
      train: { r2: Math.min(a.sweeps.linear.r2, a.sweeps.decode.r2, a.sweeps.prefill.r2), mape: trainMape },
      trainPoints: sweepPts.length,
      heldOutPoints: validation.length,
    },
    fullModel: {
      coefficients: full,
      intervals: a.fullIntervals,
      method: `per KV token and per prefill square × 80/${preset.layers} layers; per token × 80/${preset.layers} × ${preset.widthDivisor}²; fixed = round trip + (linear and decode intercepts) × 80/${preset.layers}`,
    },
    costModel: {
      unit: 'ps',
      fixedPs: toPicoseconds(full.fixedMicros),
      perTokenPs: toPicoseconds(full.perTokenMicros),
      perKvTokenPs: toPicoseconds(full.perKvTokenMicros),
      perPrefillSquarePs: toPicoseconds(full.perPrefillSquareMicros),
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
      ...v,
      typicalHalfWidth: finiteOrNull(typicalHalfWidth),
      probeDrift: finiteOrNull(probeDrift),
      repeatSpread,
      notIdentifiable,
    },
    validation: { replay },
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

async function replayCheck(
  kernels: Kernels,
  timer: Timer,
  preset: Preset,
  widths: ReturnType<typeof linearWidths>,
  c: Coefficients,
  seed: number,
  report: (done: number, total: number, label: string) => void,
  check: () => void,
): Promise<Profile['validation']['replay']> {
  const { description, rounds } = replayRounds(preset.replay.rounds);
  const cap = REPLAY_OUTSIZED * median(rounds.map((r) => predict(c, r.features)));
  let measured = 0;
  let predicted = 0;
  let done = 0;
  let skipped = 0;
  const t0 = performance.now();
  for (const [i, r] of shuffle(rounds, rng(seed)).entries()) {
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
      measured += (m.samplesMs[0] as number) * 1000;
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
