/**
 * Where the calibration's spread comes from: `npm run bench:calibration-drift [-- --runs=5]
 * [--profiles=a.json,b.json] [--save=DIR] [--out=FILE]` (--save: write each run's profile there).
 *
 * Runs `runs` quick calibrations (or reads profiles written with drift normalisation) and,
 * from the same samples, splits their spread into
 * - common-mode drift: the part of each sample's deviation from its point's median that
 *   the reference probe around it saw (the probe's rate moved with the kernel's speed);
 * - point-specific noise: what is left after normalisation;
 * - model misfit: the held-out composite rounds against the per-term model (signed mean
 *   of log(measured / predicted) = systematic, its spread = noise; rounds with and without
 *   a prefill apart), and the held-out R² of the four-term model (no per-decode-request,
 *   no per-prefill-request term: the decode sweep fitted as a line in B·L) from the same
 *   samples, to show what the two added terms change;
 * and compares the estimates across runs as measured, normalised to each run's median
 * reference rate, and normalised to its REFERENCE_QUANTILE (the calibration's choice).
 * Writes bench/results/calibration-drift.json. Absolute numbers depend on the machine's load.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  analyze,
  driftOf,
  heldOutQuality,
  normalizeSamples,
  pointSamples,
  quantile,
  REFERENCE_QUANTILE,
  type RawTimings,
  withinPointMoments,
} from '../src/calibrate/analysis.ts';
import { calibrate } from '../src/calibrate/calibrate.ts';
import { coefficientsOf, predict, TERMS, type Coefficients } from '../src/calibrate/fit.ts';
import { PRESETS } from '../src/calibrate/grid.ts';
import { measurementFeatures, parseProfile, serializeProfile, type Profile } from '../src/calibrate/profile.ts';
import { typicalLmsysRound } from '../src/calibrate/reference.ts';
import { fitLine, median } from '../src/calibrate/stats.ts';
import { openNodeSession, pickNodeAdapter } from '../src/gpu/node-gpu.ts';
import { openSession } from '../src/gpu/session.ts';
import { loadNodeShaders } from '../src/gpu/shaders-node.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const RUNS = Number(args.runs ?? 5);
const out = path.resolve(String(args.out ?? path.join(here, 'results', 'calibration-drift.json')));

async function runQuick(): Promise<Profile> {
  const found = await pickNodeAdapter();
  const session = await openSession(found.adapter);
  try {
    return await calibrate({
      session,
      openSession: () => openNodeSession(),
      shaders: await loadNodeShaders(),
      preset: PRESETS.quick,
      runtime: `Node ${process.version}, Dawn (bench)`,
    });
  } finally {
    session.destroy();
  }
}

/**
 * raw: as measured; median: sample × r / (the run's median rate); quantile: × r / (its
 * REFERENCE_QUANTILE); fitted: × (r / quantile)^β with β fitted (driftOf, what calibrate uses).
 */
type Variant = 'raw' | 'median' | 'quantile' | 'fitted';
const VARIANTS: readonly Variant[] = ['raw', 'median', 'quantile', 'fitted'];

function allRates(p: Profile): number[] {
  const d = p.design;
  if (!d) return [];
  return [
    ...[d.linear, d.decode, d.prefill].flatMap((s) => s.points.flatMap((pt) => pt.referenceRates ?? [])),
    ...p.measurements.flatMap((m) => m.referenceRates ?? []),
  ];
}

function pointsOf(p: Profile) {
  const d = p.design;
  if (!d) throw new Error('profile without design (legacy)');
  return [
    ...[d.linear, d.decode, d.prefill].flatMap((s) =>
      s.points.map((pt) => ({ samples: pt.samplesMicros, rates: pt.referenceRates ?? [] })),
    ),
    ...p.measurements.map((m) => ({ samples: m.measurement.samplesMs, rates: m.referenceRates ?? [] })),
  ];
}

function driftFor(p: Profile, v: Variant): RawTimings['drift'] {
  const rates = allRates(p);
  if (v === 'raw' || rates.length === 0) return null;
  if (v === 'fitted') return driftOf(pointsOf(p));
  return { referenceRate: v === 'median' ? median(rates) : quantile(rates, REFERENCE_QUANTILE), beta: 1 };
}

function rawOf(p: Profile, drift: RawTimings['drift']): RawTimings {
  const d = p.design;
  if (!d) throw new Error('profile without design (legacy)');
  const sweep = (s: NonNullable<Profile['design']>['linear']) =>
    s.points.map((pt) => ({
      x: pt.x,
      // Profiles before the per-request term have no `requests`: the label says B.
      requests: pt.requests ?? Number(/B=(\d+)/.exec(pt.label)?.[1] ?? NaN),
      samplesMicros: pt.samplesMicros,
      ...(pt.referenceRates ? { referenceRates: pt.referenceRates } : {}),
    }));
  return {
    layers: p.geometry.emulatedLayers,
    widthDivisor: p.geometry.widthDivisor,
    roundTripMicros: d.roundTrip.samplesMicros,
    drift: drift ?? null,
    linear: sweep(d.linear),
    decode: sweep(d.decode),
    prefill: sweep(d.prefill),
  };
}

/** Within-point deviations of log time and of −log reference rate, pooled over every point of a profile. */
function decomposition(p: Profile) {
  const m = withinPointMoments(pointsOf(p));
  const { see, sef, sff } = m;
  // Residual after full normalisation (β = 1): Σ (e − f)² = see − 2·sef + sff.
  const sres = see - 2 * sef + sff;
  const n = m.samples - m.groups;
  return {
    points: m.groups,
    /** SD of log time within points, as measured (≈ relative spread). */
    sdRaw: Math.sqrt(see / n),
    /** … after full normalisation (sample × rate / reference). */
    sdNormalised: Math.sqrt(sres / n),
    /** Share of the within-point variance that the reference saw (1 − normalised / raw variance). */
    commonModeShare: 1 - sres / see,
    /** Regression slope of log time on −log rate (1: the kernel's speed moves exactly like the probe's). */
    beta: sef / sff,
    /** Correlation of the two. */
    correlation: sef / Math.sqrt(see * sff),
  };
}

function heldOut(p: Profile, v: Variant) {
  const rr = driftFor(p, v);
  const raw = rawOf(p, rr);
  const a = analyze(raw, coefficientsOf(p.reference.coefficients), typicalLmsysRound().features);
  // The four-term model from the same samples: the decode sweep as a line in B·L, no per-request terms.
  const decLine = fitLine(raw.decode.map((d) => ({ x: d.x, y: median(pointSamples(d, rr)) })));
  const four: Coefficients = {
    ...a.coefficients,
    fixedMicros: a.roundTrip.value + a.sweeps.linear.intercept.value + decLine.intercept.value,
    perKvTokenMicros: Math.max(0, decLine.slope.value),
    perDecodeRequestMicros: 0,
    perPrefillRequestMicros: 0,
  };
  const rt = p.device.timing.roundTripMicros;
  const rounds = p.measurements.map((m) => ({
    features: measurementFeatures(m),
    prefill: m.prefillChunk > 0,
    samplesMicros: normalizeSamples(
      m.measurement.samplesMs.map((s) => s * 1000),
      m.referenceRates,
      rr,
    ).map((s) => s + rt),
  }));
  const q = heldOutQuality(a.coefficients, rounds);
  const q4 = heldOutQuality(four, rounds);
  const logRes = rounds.map((r) => ({
    prefill: r.prefill,
    res: Math.log(median(r.samplesMicros) / predict(a.coefficients, r.features)),
  }));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);
  return {
    r2: q.r2,
    mape: q.mape,
    /** The four-term model's held-out R² and MAPE from the same samples. */
    r2FourTerms: q4.r2,
    mapeFourTerms: q4.mape,
    /** Mean log(measured / predicted): rounds with a prefill, without. */
    biasPrefill: mean(logRes.filter((x) => x.prefill).map((x) => x.res)),
    biasNoPrefill: mean(logRes.filter((x) => !x.prefill).map((x) => x.res)),
    perDecodeRequest: a.coefficients.perDecodeRequestMicros,
    perDecodeRequestInterval: a.intervals.perDecodeRequestMicros,
    perPrefillRequest: a.coefficients.perPrefillRequestMicros,
    perPrefillRequestInterval: a.intervals.perPrefillRequestMicros,
    typical: a.typical.micros,
    typicalHalfWidth: (a.typical.interval[1] - a.typical.interval[0]) / 2 / a.typical.micros,
    terms: a.full,
  };
}

const profiles: Profile[] = [];
if (args.profiles) {
  for (const f of String(args.profiles).split(',')) {
    profiles.push(parseProfile(fs.readFileSync(f, 'utf8'), f));
  }
} else {
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const p = await runQuick();
    profiles.push(p);
    if (args.save) {
      fs.mkdirSync(String(args.save), { recursive: true });
      fs.writeFileSync(path.join(String(args.save), `run-${i + 1}.json`), serializeProfile(p));
    }
    console.log(`run ${i + 1}: ${((performance.now() - t0) / 1000).toFixed(1)} s, load ${os.loadavg()[0]?.toFixed(1)}`);
  }
}

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const maxMin = (xs: number[]) => Math.max(...xs) / Math.min(...xs);
const withIv = (v: number, i: readonly number[]) => `${fmt(v, 0)} µs [${i.map((x) => fmt(x, 0)).join(', ')}]`;
const perRun = profiles.map((p, i) => {
  const dec = decomposition(p);
  const rates = allRates(p);
  const v = Object.fromEntries(VARIANTS.map((k) => [k, heldOut(p, k)])) as Record<Variant, ReturnType<typeof heldOut>>;
  const rp = p.validation.replay;
  const fitted = driftOf(pointsOf(p));
  console.log(
    `run ${i + 1}: fitted β ${fmt(fitted?.beta ?? NaN, 2)} ` +
      `(common-mode share ${fmt(fitted?.commonModeShare ?? NaN, 2)}); ` +
      `within-point sd(log t) ${fmt(dec.sdRaw)} → ${fmt(dec.sdNormalised)} normalised ` +
      `(common-mode share ${fmt(dec.commonModeShare, 2)}, β ${fmt(dec.beta, 2)}, r ${fmt(dec.correlation, 2)}; ` +
      `reference rates max/min ${fmt(maxMin(rates), 2)}, median ${fmt(median(rates) / 1e9, 2)} G, ` +
      `q${REFERENCE_QUANTILE} ${fmt(quantile(rates, REFERENCE_QUANTILE) / 1e9, 2)} G)`,
  );
  for (const k of VARIANTS)
    console.log(
      `  ${k.padEnd(8)} held-out R² ${fmt(v[k].r2)} ` +
        `(four-term model ${fmt(v[k].r2FourTerms)}), MAPE ${fmt(100 * v[k].mape, 1)} % ` +
        `(four-term ${fmt(100 * v[k].mapeFourTerms, 1)} %), ` +
        `per decode request ${withIv(v[k].perDecodeRequest, v[k].perDecodeRequestInterval)}, ` +
        `per prefill request ${withIv(v[k].perPrefillRequest, v[k].perPrefillRequestInterval)}, ` +
        `bias log(meas/pred) prefill ${fmt(v[k].biasPrefill)}, no prefill ${fmt(v[k].biasNoPrefill)}; ` +
        `typical ${fmt(v[k].typical / 1e6, 0)} s ±${fmt(100 * v[k].typicalHalfWidth, 1)} %`,
    );
  if (rp)
    console.log(
      `  replay ${rp.rounds} rounds: error ${fmt(100 * rp.error, 1)} % normalised` +
        (rp.measuredRaw !== undefined
          ? `, ${fmt((100 * (rp.predicted - rp.measuredRaw)) / rp.measuredRaw, 1)} % as measured`
          : ''),
    );
  return {
    drift: fitted,
    decomposition: dec,
    variants: v,
    replay: rp,
    referenceRates: { n: rates.length, maxMin: maxMin(rates) },
  };
});
const across = Object.fromEntries(
  VARIANTS.map((k) => [
    k,
    {
      typicalMaxMin: maxMin(perRun.map((r) => r.variants[k].typical)),
      terms: Object.fromEntries(TERMS.map((t) => [t, maxMin(perRun.map((r) => r.variants[k].terms[t]))])),
      heldOutR2: perRun.map((r) => r.variants[k].r2),
    },
  ]),
);
for (const k of VARIANTS)
  console.log(
    `across ${profiles.length} runs, ${k}: typical max/min ${fmt(across[k]?.typicalMaxMin ?? NaN, 2)}; terms max/min ` +
      TERMS.map((t) => `${t} ${fmt(across[k]?.terms[t] ?? NaN, 2)}`).join(', '),
  );
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(
  out,
  JSON.stringify({ date: new Date().toISOString(), loadavg: os.loadavg(), runs: perRun, across }, null, 1) + '\n',
);
console.log(`wrote ${out}`);
