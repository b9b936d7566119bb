/**
 * Device calibration: time attention-shaped work on this device and fit the engine's
 * four-term cost model (./fit.ts) to it.
 *
 * 1. Probes: streaming-read bandwidth and FMA rate (the device's roofs).
 * 2. Round trip: submit + wait of a trivial dispatch (the fixed cost of a round).
 * 3. Grid (./grid.ts): every point is one emulated round — `layers` × (the four matmuls
 *    of a layer for T tokens, decode attention for B sequences × L KV tokens, causal
 *    prefill attention over a C-token chunk) in one compute pass, timed by ./timing.ts;
 *    round µs = its GPU time (median over `samples` round-robin visits) + the round trip.
 * 4. Kernel efficiencies at the grid's largest sizes: decode attention's KV bytes/s
 *    against the streaming probe, prefill attention and linear FLOP/s against the FMA probe
 *    (each roof re-measured just before and after the kernel; their mean).
 * 5. Fit on the training points, R² and MAPE on the held-out points.
 * 6. Extrapolation to full Llama-2-70B (see `extrapolate`), the A100 reference in the
 *    same form and the per-term and typical-round ratios.
 *
 * Progress events and cancellation (AbortSignal, checked between timed intervals).
 */
import { abortReason } from '../model/abort.ts';
import { adapterIdentity, adapterName, readLimits } from '../gpu/detect.ts';
import { Kernels, LLAMA2_70B, linearWidths, type Job } from '../gpu/kernels.ts';
import type { GpuSession } from '../gpu/session.ts';
import type { ShaderSet } from '../gpu/shaders.ts';
import { summarize, Timer, type Measurement } from '../gpu/timing.ts';
import { featuresOf, fitCoefficients, predict, quality, TERMS, type Coefficients } from './fit.ts';
import { batchOf, gridPoints, isHeldOut, tokensOf, type GridPoint, type Preset } from './grid.ts';
import { PROFILE_SCHEMA, toPicoseconds, type Profile } from './profile.ts';
import { referenceFit, typicalLmsysRound } from './reference.ts';

export interface CalibrationProgress {
  phase: 'compile' | 'probes' | 'kernels' | 'grid' | 'fit';
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
export function extrapolate(c: Coefficients, layers: number, widthDivisor: number, roundTripMicros: number): Coefficients {
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
  return { method: m.method, innerReps: m.innerReps, samplesMs: m.samplesMs, medianMs: m.medianMs, minMs: m.minMs, maxMs: m.maxMs, spread: m.spread };
}

export async function calibrate(o: CalibrationOptions): Promise<Profile> {
  const { session, preset } = o;
  const signal = o.signal;
  const progress = (p: CalibrationProgress) => o.onProgress?.(p);
  const check = () => {
    if (signal?.aborted) throw abortReason(signal, 'calibration cancelled');
  };
  const widths = linearWidths(preset.widthDivisor);
  const topts = { samples: preset.samples, minIntervalMs: preset.minIntervalMs, ...(signal ? { signal } : {}) };

  progress({ phase: 'compile', done: 0, total: 1, label: 'compiling kernels' });
  const kernels = await Kernels.create(session, o.shaders);
  const timer = new Timer(session);
  check();

  // 1–2. Probes and round trip.
  progress({ phase: 'probes', done: 0, total: 3, label: 'streaming-read probe' });
  const stream = await withJob(kernels.streamProbe(preset.streamBytes), (j) => timer.measure(j, topts).then((m) => ({ m, bytes: j.bytes })));
  progress({ phase: 'probes', done: 1, total: 3, label: 'FMA probe' });
  const fma = await withJob(kernels.fmaProbe(preset.fmaIters), (j) => timer.measure(j, topts).then((m) => ({ m, flops: j.flops })));
  progress({ phase: 'probes', done: 2, total: 3, label: 'round trip' });
  const rt = await withJob(kernels.fmaProbe(1, 1), (j) => timer.roundTrip(j));
  const roundTripMicros = rt.medianMs * 1000;
  const streamBps = stream.bytes / (stream.m.medianMs / 1000);
  const fmaFlops = fma.flops / (fma.m.medianMs / 1000);
  progress({ phase: 'probes', done: 3, total: 3, label: 'probes done' });

  // 3. Grid. Visited round-robin, one sample per visit, so that a drift in the device's
  // speed (a software adapter on a shared CPU) spreads over all points instead of biasing
  // a few; each point's median is over its `samples` visits. Jobs stay allocated between
  // visits when the grid's buffers fit in GRID_KEEP_BYTES, else they are rebuilt per visit
  // (and warmed up again).
  const grid = gridPoints(preset);
  const samplesByPoint: number[][] = grid.map(() => []);
  const repsByPoint: Array<number | undefined> = grid.map(() => undefined);
  const methodByPoint: Array<Measurement['method']> = grid.map(() => timer.defaultMethod);
  const kept: Array<Job[] | undefined> = grid.map(() => undefined);
  let keptBytes = 0;
  const total = grid.length * preset.samples;
  try {
    for (let visit = 0; visit < preset.samples; visit++) {
      for (const [i, g] of grid.entries()) {
        check();
        progress({ phase: 'grid', done: visit * grid.length + i, total, label: `round B=${g.decodeBatch} L=${g.kvLen} C=${g.prefillChunk}` });
        let jobs = kept[i];
        const fresh = jobs === undefined;
        if (!jobs) jobs = await roundJobs(kernels, g, widths);
        try {
          const js = jobs;
          const m = await timer.measure(
            (pass) => {
              for (let l = 0; l < preset.layers; l++) for (const j of js) j.encode(pass);
            },
            { ...topts, samples: 1, warmup: fresh ? 1 : 0, ...(repsByPoint[i] !== undefined ? { innerReps: repsByPoint[i] } : {}) },
          );
          repsByPoint[i] = m.innerReps;
          methodByPoint[i] = m.method;
          (samplesByPoint[i] as number[]).push(...m.samplesMs);
          if (fresh) {
            const bytes = js.reduce((s, j) => s + j.bytes, 0);
            if (keptBytes + bytes <= GRID_KEEP_BYTES && visit + 1 < preset.samples) {
              kept[i] = js;
              keptBytes += bytes;
              jobs = undefined;
            }
          }
        } finally {
          if (jobs && kept[i] !== jobs) jobs.forEach((j) => j.destroy());
        }
      }
    }
  } finally {
    kept.forEach((js) => js?.forEach((j) => j.destroy()));
  }
  const measurements: Profile['measurements'] = grid.map((g, i) => {
    const m = summarize(methodByPoint[i] as Measurement['method'], repsByPoint[i] ?? 1, samplesByPoint[i] as number[]);
    const f = featuresOf(batchOf(g));
    return {
      decodeBatch: g.decodeBatch,
      kvLen: g.kvLen,
      prefillChunk: g.prefillChunk,
      tokens: f.tokens,
      kvTokens: f.kvTokens,
      prefillSquares: f.prefillSquares,
      heldOut: isHeldOut(i),
      micros: m.medianMs * 1000 + roundTripMicros,
      measurement: measurementJson(m),
    };
  });
  progress({ phase: 'grid', done: grid.length, total: grid.length, label: 'grid done' });

  // 4. Kernel efficiencies at the largest sizes.
  const maxB = Math.max(...preset.decodeBatches);
  const maxL = Math.max(...preset.kvLens);
  const maxC = Math.max(...preset.prefillChunks);
  const maxT = Math.max(...grid.map(tokensOf));
  const rate = async (label: string, point: GridPoint & { tokens: number }, make: () => Promise<Job>, roof: 'stream' | 'fma', k: number) => {
    check();
    progress({ phase: 'kernels', done: k, total: 3, label });
    // The roof probe is measured again right before and after the kernel (a software
    // adapter's CPU speed drifts on a shared machine); efficiency uses the mean.
    const probe = async () =>
      withJob(roof === 'stream' ? kernels.streamProbe(preset.streamBytes) : kernels.fmaProbe(preset.fmaIters), async (j) => {
        const m = await timer.measure(j, topts);
        return (roof === 'stream' ? j.bytes : j.flops) / (m.medianMs / 1000);
      });
    const before = await probe();
    const r = await withJob(make(), async (j) => {
      const m = await timer.measure(j, topts);
      const s = m.medianMs / 1000;
      return { point, measurement: measurementJson(m), bytes: j.bytes, flops: j.flops, bytesPerSecond: j.bytes / s, flopPerSecond: j.flops / s };
    });
    const roofRate = (before + (await probe())) / 2;
    return { ...r, efficiency: (roof === 'stream' ? r.bytesPerSecond : r.flopPerSecond) / roofRate };
  };
  const decode = await rate('decode attention', { decodeBatch: maxB, kvLen: maxL, prefillChunk: 0, tokens: maxB }, () => kernels.decode({ seqLens: new Array<number>(maxB).fill(maxL) }), 'stream', 0);
  const prefill = await rate('prefill attention', { decodeBatch: 0, kvLen: 0, prefillChunk: maxC, tokens: maxC }, () => kernels.prefill({ len: maxC }), 'fma', 1);
  const linear = await rate('linear layers', { decodeBatch: 0, kvLen: 0, prefillChunk: 0, tokens: maxT }, () => kernels.linear(maxT, widths), 'fma', 2);
  progress({ phase: 'kernels', done: 3, total: 3, label: 'kernels done' });

  // 5. Fit.
  progress({ phase: 'fit', done: 0, total: 1, label: 'least squares' });
  const pts = measurements.map((m) => ({ features: { tokens: m.tokens, kvTokens: m.kvTokens, prefillSquares: m.prefillSquares }, micros: m.micros, heldOut: m.heldOut }));
  const train = pts.filter((p) => !p.heldOut);
  const held = pts.filter((p) => p.heldOut);
  if (train.length < 4 || held.length < 1) throw new CalibrationError(`grid too small: ${train.length} training and ${held.length} held-out points`);
  const coefficients = fitCoefficients(train);
  const heldQ = quality(coefficients, held);
  const trainQ = quality(coefficients, train);

  // 6. Full model, reference, ratios.
  const full = extrapolate(coefficients, preset.layers, preset.widthDivisor, roundTripMicros);
  const ref = referenceFit();
  const ratios = Object.fromEntries(
    TERMS.map((t) => [t, ref.coefficients[t] > 0 ? full[t] / ref.coefficients[t] : 0]),
  ) as Coefficients;
  const typical = typicalLmsysRound();
  const deviceMicros = predict(full, typical.features);
  const referenceMicros = predict(ref.coefficients, typical.features);

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
    measurements,
    fit: { coefficients, r2: heldQ.r2, mape: heldQ.mape, train: trainQ, trainPoints: train.length, heldOutPoints: held.length },
    fullModel: {
      coefficients: full,
      method: `per KV token and per prefill square × 80/${preset.layers} layers; per token × 80/${preset.layers} × ${preset.widthDivisor}²; fixed = round trip + rest of intercept × 80/${preset.layers}`,
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
      ratios,
      typicalRound: { description: typical.description, rounds: typical.rounds, mean: typical.mean, deviceMicros, referenceMicros, ratio: deviceMicros / referenceMicros },
    },
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

