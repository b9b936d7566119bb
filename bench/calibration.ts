/**
 * Calibration reproducibility benchmark: `npm run bench:calibration [-- --runs=5] [--full] [--out=FILE] [--save=DIR] [--references=FILE|off]`.
 *
 * Every calibration uses one device-references file (docs/calibration.md, "Device
 * reference"), by default a new empty one, as a new user's machine has: the first usable quiet
 * calibration stores its speed and the later ones (the loaded series and the full preset's
 * own first included) are expressed at it. --references=FILE uses that file; off, none.
 *
 * 1. `runs` consecutive quick calibrations (Node, Dawn; SwiftShader without a GPU).
 * 2. The same with a competing load the benchmark starts itself: a worker thread spinning
 *    on one core for the whole series.
 * 3. With --full: one full-preset calibration (its run time).
 * Targets (issue 13): quiet held-out R² ≥ 0.95 each; typical round max/min ≤ 1.15; each
 * Llama-2-70B term max/min ≤ 1.5, or the runs that report it identified agree within 1.5 (the
 * others report it not identifiable, with its interval: verdict.ts, notIdentifiableWhy); loaded max/min ≤ 1.3 or
 * the profiles labelled noisy/unusable, and no `good` loaded profile whose typical round
 * is > 30 % off the quiet median; quiet replay median |error| ≤ 10 %; quick ≤ 60 s; full ≤ 8 min.
 * Prints every number and writes bench/results/calibration.json (with the machine's load).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { calibrate } from '../src/calibrate/calibrate.ts';
import { deviceReferenceText, type DeviceReferenceUse } from '../src/calibrate/device-reference.ts';
import { openDeviceReferenceFile } from '../src/calibrate/device-reference-node.ts';
import { coefficientsOf, TERMS, type Term } from '../src/calibrate/fit.ts';
import { PRESETS, type Preset } from '../src/calibrate/grid.ts';
import { serializeProfile, type Profile } from '../src/calibrate/profile.ts';
import { typicalLmsysRound } from '../src/calibrate/reference.ts';
import { median } from '../src/calibrate/stats.ts';
import { farEndMicros, VERDICT_RULES } from '../src/calibrate/verdict.ts';
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
/** --save=DIR: write each calibration's profile there (quick-1.json, …, full-11.json). */
const SAVE = args.save !== undefined ? path.resolve(String(args.save)) : null;
let saved = 0;
const REFERENCES =
  args.references === 'off'
    ? null
    : path.resolve(
        String(
          args.references ??
            path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kvsched-bench-ref-')), 'device-references.json'),
        ),
      );
const out = path.resolve(String(args.out ?? path.join(here, 'results', 'calibration.json')));
const TARGETS = {
  heldOutR2: 0.95,
  typicalMaxMin: 1.15,
  termMaxMin: 1.5,
  loadedMaxMin: 1.3,
  loadedGoodOff: 0.3,
  replayMedianError: 0.1,
  quickSeconds: 60,
  fullSeconds: 480,
} as const;

interface Run {
  seconds: number;
  loadavg: number[];
  verdict: string;
  reasons: string[];
  heldOutR2: number;
  heldOutMape: number;
  typicalMicros: number;
  typicalInterval: [number, number] | null;
  ratio: number;
  terms: Record<Term, { value: number; interval: [number, number] | null; identifiable: boolean }>;
  replay: Profile['validation']['replay'];
  visits: number;
  samples: number;
  stoppedBecause: string;
  probeDrift: number | null;
  /** Not-identifiable terms the verdict called minor (quality.minorTerms). */
  minorTerms: Term[];
  /** What the calibration did with the device reference (null: none used). */
  deviceReference: DeviceReferenceUse | null;
}

async function one(preset: Preset): Promise<Run> {
  const found = await pickNodeAdapter();
  const session = await openSession(found.adapter);
  const t0 = performance.now();
  try {
    const p = await calibrate({
      session,
      openSession: () => openNodeSession(),
      shaders: await loadNodeShaders(),
      preset,
      runtime: `Node ${process.version}, Dawn (bench)`,
      // Read again for every calibration: the previous one may have stored the reference.
      ...(REFERENCES ? { deviceReferences: openDeviceReferenceFile(REFERENCES) } : {}),
    });
    const seconds = (performance.now() - t0) / 1000;
    if (SAVE) {
      // Every profile, for re-analysis (npm run bench:calibration-drift -- --profiles=…).
      fs.mkdirSync(SAVE, { recursive: true });
      fs.writeFileSync(path.join(SAVE, `${preset.name}-${++saved}.json`), serializeProfile(p));
    }
    const iv = p.fullModel.intervals;
    return {
      seconds,
      loadavg: os.loadavg(),
      verdict: p.quality.verdict,
      reasons: p.quality.reasons,
      heldOutR2: p.fit.r2,
      heldOutMape: p.fit.mape,
      typicalMicros: p.reference.typicalRound.deviceMicros,
      typicalInterval: p.reference.typicalRound.deviceInterval ?? null,
      ratio: p.reference.typicalRound.ratio,
      terms: Object.fromEntries(
        TERMS.map((t) => [
          t,
          {
            value: coefficientsOf(p.fullModel.coefficients)[t],
            interval: iv?.[t] ?? null,
            identifiable: !p.quality.notIdentifiable.includes(t),
          },
        ]),
      ) as Run['terms'],
      replay: p.validation.replay,
      visits: p.design?.visits ?? 0,
      samples: p.design?.samples ?? 0,
      stoppedBecause: p.design?.stoppedBecause ?? '',
      probeDrift: p.quality.probeDrift,
      minorTerms: p.quality.minorTerms ?? [],
      deviceReference: p.design?.drift?.deviceReference ?? null,
    };
  } finally {
    session.destroy();
  }
}

const maxMin = (xs: number[]) => (xs.length > 0 && Math.min(...xs) > 0 ? Math.max(...xs) / Math.min(...xs) : Infinity);
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

function log(r: Run, i: number, tag: string): void {
  const rp = r.replay;
  console.log(
    `${tag} ${i + 1}: ${fmt(r.seconds, 1)} s, ${r.verdict}${r.reasons.length ? ` (${r.reasons.join('; ')})` : ''}; held-out R² ${fmt(r.heldOutR2, 3)}; ` +
      `typical ${fmt(r.typicalMicros / 1e6, 1)} s [${r.typicalInterval ? r.typicalInterval.map((x) => fmt(x / 1e6, 1)).join(' – ') : '—'}], ` +
      `replay ${rp ? `${fmt(100 * rp.error, 1)} % over ${rp.rounds} rounds` : '—'}; device reference: ${r.deviceReference ? deviceReferenceText(r.deviceReference) : 'none used'}; ${r.visits} visits, ${r.samples} samples, stopped: ${r.stoppedBecause}; load ${r.loadavg.map((x) => x.toFixed(1)).join(' ')}`,
  );
}

async function series(tag: string): Promise<Run[]> {
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await one(PRESETS.quick);
    log(r, i, tag);
    runs.push(r);
  }
  return runs;
}

console.log(
  `machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(
      ' ',
    )}; ${RUNS} quick calibrations quiet, then ${RUNS} with a busy loop; device references: ${REFERENCES ?? 'off'}`,
);
/** Written after each part, so a long full-preset run cannot lose the quick series. */
function save(result: object): void {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: {
          cpus: os.cpus().length,
          cpuModel: os.cpus()[0]?.model ?? '',
          node: process.version,
          loadavgAtEnd: os.loadavg(),
        },
        deviceReferences: REFERENCES ? (args.references !== undefined ? REFERENCES : 'a new file for this run') : 'off',
        ...result,
      },
      null,
      1,
    ) + '\n',
  );
}
const quiet = await series('quiet');
save({ partial: 'quiet series only', quiet });
const spinner = new Worker('for (;;) {}', { eval: true });
let loaded: Run[];
try {
  loaded = await series('loaded');
} finally {
  await spinner.terminate();
}
save({ partial: 'quiet and loaded series only', quiet, loaded });
let full: Run | null = null;
if (args.full === 'true') {
  full = await one(PRESETS.full);
  log(full, 0, 'full');
}

/** A term's far end (farEndMicros, as the verdict's minor rule) as a share of the run's typical round. */
function minorShare(r: Run, t: Term): number {
  const v = r.terms[t].value;
  return farEndMicros(t, r.terms[t].interval ?? [v, v], typicalLmsysRound().features) / r.typicalMicros;
}
const typicalQuiet = quiet.map((r) => r.typicalMicros);
const quietMedian = median(typicalQuiet);
const termChecks = Object.fromEntries(
  TERMS.map((t) => {
    const vals = quiet.map((r) => r.terms[t].value);
    const mm = maxMin(vals);
    // The values a profile presented as identified must agree within the target; a run that
    // reported the term not identifiable (with its interval) does not count against it.
    const identified = quiet.filter((r) => r.terms[t].identifiable).map((r) => r.terms[t].value);
    const identifiedMaxMin = identified.length > 1 ? maxMin(identified) : 1;
    // Below 1 % of the typical round at its interval's far end in every run: reported (its
    // spread cannot move a device comparison), but the target is the issue's, without exemption.
    const minorInAll = quiet.every((r) => r.minorTerms.includes(t) || minorShare(r, t) < VERDICT_RULES.minorTermShare);
    return [
      t,
      {
        maxMin: mm,
        notIdentifiableIn: quiet.filter((r) => !r.terms[t].identifiable).length,
        identifiedMaxMin,
        maxShareOfTypical: Math.max(...quiet.map((r) => minorShare(r, t))),
        minor: minorInAll,
        ok: mm <= TARGETS.termMaxMin || identifiedMaxMin <= TARGETS.termMaxMin,
      },
    ];
  }),
);
const loadedMaxMin = maxMin(loaded.map((r) => r.typicalMicros));
const loadedLabelled = loaded.every((r) => r.verdict !== 'good');
// The spread of the profiles still labelled good: what a user would take as sound.
const loadedGood = loaded.filter((r) => r.verdict === 'good').map((r) => r.typicalMicros);
const loadedGoodMaxMin = loadedGood.length > 1 ? maxMin(loadedGood) : 1;
const badGood = loaded.filter(
  (r) => r.verdict === 'good' && Math.abs(r.typicalMicros / quietMedian - 1) > TARGETS.loadedGoodOff,
).length;
const replayErrors = quiet.map((r) => (r.replay ? Math.abs(r.replay.error) : Infinity));
const checks = {
  quietHeldOutR2: { values: quiet.map((r) => r.heldOutR2), ok: quiet.every((r) => r.heldOutR2 >= TARGETS.heldOutR2) },
  quietTypicalMaxMin: { value: maxMin(typicalQuiet), ok: maxMin(typicalQuiet) <= TARGETS.typicalMaxMin },
  quietTerms: termChecks,
  // "max/min ≤ 1.3, or the profiles are labelled noisy/unusable — a profile labelled good
  // whose typical round is off by more than 30 % from the quiet median counts as a failure".
  // ok: the spread beyond 1.3 is carried by labelled profiles (those still labelled good are
  // within 1.3 of each other) and no good one is > 30 % off. strictOk: the stricter reading,
  // all five labelled whenever the five spread more than 1.3. Both are reported.
  loadedTypicalMaxMin: {
    value: loadedMaxMin,
    labelledNoisyOrUnusable: loadedLabelled,
    good: loadedGood.length,
    goodMaxMin: loadedGoodMaxMin,
    goodButOffBy30: badGood,
    ok: (loadedMaxMin <= TARGETS.loadedMaxMin || loadedGoodMaxMin <= TARGETS.loadedMaxMin) && badGood === 0,
    strictOk: (loadedMaxMin <= TARGETS.loadedMaxMin || loadedLabelled) && badGood === 0,
  },
  quietReplayMedianError: { value: median(replayErrors), ok: median(replayErrors) <= TARGETS.replayMedianError },
  quickSeconds: {
    median: median(quiet.map((r) => r.seconds)),
    max: Math.max(...quiet.map((r) => r.seconds)),
    ok: Math.max(...quiet.map((r) => r.seconds)) <= TARGETS.quickSeconds,
  },
  fullSeconds: full ? { value: full.seconds, ok: full.seconds <= TARGETS.fullSeconds } : { value: null, ok: null },
};
console.log('\nchecks:');
for (const [k, v] of Object.entries(checks)) console.log(`  ${k}: ${JSON.stringify(v)}`);
save({
  note: "Node + Dawn on SwiftShader; the 2-core machine was shared with other agents during the run (see each run's loadavg)",
  targets: TARGETS,
  checks,
  quiet,
  loaded,
  full,
});
console.log(`wrote ${out}`);
process.exit(0);
