/**
 * One command for a real GPU (`npm run bench:device`): on the adapter Dawn finds —
 * device detection, a quick calibration with the replay check, the kernel efficiencies
 * against the roof probes, and GPU-engine vs CPU-engine throughput at R = 1, 64, 1024
 * replicas — written to bench/results/device-<adapter>.json. With --browser, the kernel
 * efficiencies in headless Chromium too (bench/kernels-browser.ts; the calibration itself
 * runs in Node only). `smoke` shrinks every part so a test can run it on SwiftShader.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { calibrate } from '../src/calibrate/calibrate.ts';
import { PRESETS, type Preset } from '../src/calibrate/grid.ts';
import { serializeProfile, type Profile } from '../src/calibrate/profile.ts';
import { GpuEngine } from '../src/gpu-engine/engine.ts';
import { benchSummary, runKernelBench, type KernelBenchResult } from '../src/gpu/kernel-bench.ts';
import { Kernels } from '../src/gpu/kernels.ts';
import { openNodeSession, pickNodeAdapter } from '../src/gpu/node-gpu.ts';
import { openSession } from '../src/gpu/session.ts';
import { loadEngineShader, loadNodeShaders } from '../src/gpu/shaders-node.ts';
import { Timer } from '../src/gpu/timing.ts';
import { measureThroughput, type ThroughputRow } from './engine-throughput.ts';

/** A tiny preset for --smoke: the pipeline end to end in seconds, numbers meaningless. */
export const SMOKE_PRESET: Preset = {
  ...PRESETS.quick,
  linearTokens: [16, 48, 80],
  // The decode sweep is fitted on B·L and B: ≥ 4 points, B and L both varied.
  decodePoints: [
    { decodeBatch: 1, kvLen: 128 },
    { decodeBatch: 2, kvLen: 128 },
    { decodeBatch: 4, kvLen: 128 },
    { decodeBatch: 1, kvLen: 384 },
  ],
  prefillChunks: [8, 24, 40],
  validation: [
    { decodeBatch: 2, kvLen: 100, prefillChunk: 8 },
    { decodeBatch: 4, kvLen: 60, prefillChunk: 0 },
  ],
  budgetMs: 1,
  minIntervalMs: 1,
  streamBytes: 4 << 20,
  fmaIters: 4,
  replay: { rounds: 6, budgetMs: 1_000 },
};

export interface DeviceBenchResult {
  date: string;
  smoke: boolean;
  machine: { cpus: number; cpuModel: string; node: string; loadavg: number[] };
  adapter: {
    name: string;
    slug: string;
    isFallbackAdapter: boolean;
    vendor: string;
    architecture: string;
    device: string;
    description: string;
  };
  calibration: {
    seconds: number;
    verdict: string;
    reasons: string[];
    heldOutR2: number;
    typicalRound: Profile['reference']['typicalRound'];
    fullModel: Profile['fullModel'];
    replay: Profile['validation']['replay'];
    profile: unknown;
  };
  kernels: KernelBenchResult;
  chromium?: unknown;
  throughput: { sizes: number[]; budgetSeconds: number; requests: number; policy: string; rows: ThroughputRow[] };
  file: string;
}

/** `vendor-architecture` (or the description) made file-safe: `google-swiftshader`, `nvidia-hopper`. */
export function adapterSlug(a: { vendor: string; architecture: string; description: string }): string {
  const s = [a.vendor, a.architecture || a.description]
    .filter((x) => x !== '')
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s || 'adapter';
}

export async function runDeviceBench(o: {
  smoke?: boolean;
  browser?: boolean;
  outDir: string;
  log?: (line: string) => void;
}): Promise<DeviceBenchResult> {
  const log = o.log ?? (() => {});
  const smoke = Boolean(o.smoke);
  // 1. Detection.
  const found = await pickNodeAdapter();
  const info = found.info;
  const adapter = {
    name: found.name,
    slug: adapterSlug(info),
    isFallbackAdapter: info.isFallbackAdapter,
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
  };
  log(`adapter: ${adapter.name}${adapter.isFallbackAdapter ? " (fallback: a CPU, numbers are the CPU's)" : ''}`);

  // 2. Quick calibration with the replay check.
  const session = await openSession(found.adapter);
  let calibration: DeviceBenchResult['calibration'];
  let kernels: KernelBenchResult;
  try {
    const t0 = performance.now();
    const p = await calibrate({
      session,
      openSession: () => openNodeSession(found.name),
      shaders: await loadNodeShaders(),
      preset: smoke ? SMOKE_PRESET : PRESETS.quick,
      runtime: `Node ${process.version}, Dawn (bench:device)`,
    });
    const seconds = (performance.now() - t0) / 1000;
    const rp = p.validation.replay;
    log(
      `calibration (${smoke ? 'smoke' : 'quick'}): ${seconds.toFixed(1)} s, ${p.quality.verdict}${p.quality.reasons.length ? ` (${p.quality.reasons.join('; ')})` : ''}; held-out R² ${p.fit.r2.toFixed(3)}; ` +
        `typical round ${(p.reference.typicalRound.deviceMicros / 1000).toFixed(1)} ms = ${p.reference.typicalRound.ratio.toPrecision(3)}× the A100; replay ${rp ? `${(100 * rp.error).toFixed(1)} % over ${rp.rounds} rounds` : 'not run'}`,
    );
    calibration = {
      seconds,
      verdict: p.quality.verdict,
      reasons: p.quality.reasons,
      heldOutR2: p.fit.r2,
      typicalRound: p.reference.typicalRound,
      fullModel: p.fullModel,
      replay: rp,
      profile: JSON.parse(serializeProfile(p)) as unknown,
    };
    // 3. Kernel efficiencies against the probes (src/gpu/kernel-bench.ts).
    const k = await Kernels.create(session, await loadNodeShaders());
    kernels = await runKernelBench(k, new Timer(session), { quick: true, smoke, log });
    log(benchSummary(adapter.name, kernels));
  } finally {
    session.destroy();
  }
  let chromium: unknown;
  if (o.browser) {
    try {
      const { runBrowserBench } = await import('./kernels-browser.ts');
      chromium = await runBrowserBench({ quick: true });
    } catch (e) {
      chromium = { ok: false, error: (e as Error).message };
      log(`Chromium part skipped: ${(e as Error).message}`);
    }
  }

  // 4. GPU engine vs CPU engine.
  const sizes = smoke ? [1, 4] : [1, 64, 1024];
  const budgetSeconds = smoke ? 0.5 : 15;
  const requests = smoke ? 200 : 2000;
  const engineSession = await openNodeSession(found.name);
  const engine = await GpuEngine.create(
    engineSession,
    await loadEngineShader(),
    GpuEngine.defaultThreads(engineSession.isFallbackAdapter),
  );
  const rows = await measureThroughput(engine, { sizes, budget: budgetSeconds, policy: 'mcsf', requests, log });

  const file = path.join(o.outDir, `device-${adapter.slug}${smoke ? '-smoke' : ''}.json`);
  const result: DeviceBenchResult = {
    date: new Date().toISOString(),
    smoke,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '',
      node: process.version,
      loadavg: os.loadavg(),
    },
    adapter,
    calibration,
    kernels,
    ...(chromium !== undefined ? { chromium } : {}),
    throughput: { sizes, budgetSeconds, requests, policy: 'mcsf', rows },
    file,
  };
  fs.mkdirSync(o.outDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(result, null, 1) + '\n');
  log(`wrote ${file}`);
  return result;
}
