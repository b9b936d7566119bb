/**
 * Calibration end to end in Node through Dawn (SwiftShader without a GPU): the quick
 * preset, cancellation, and the session's failure handling (lost device, validation
 * errors, timeouts). The quick preset takes 30–60 s on an idle 2-core machine; the
 * timeouts leave room for a machine shared with other work. Skipped, with the reason, only when Dawn cannot create an adapter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrate, CALIBRATION_PHASES, type CalibrationProgress } from '../../src/calibrate/calibrate.ts';
import { SMOKE_PRESET } from '../../bench/device-lib.ts';
import { normalizeSamples } from '../../src/calibrate/analysis.ts';
import {
  BETWEEN_RUN_SENSITIVITY,
  deviceReferenceKey,
  documentStore,
  emptyDeviceReferences,
} from '../../src/calibrate/device-reference.ts';
import { PRESETS } from '../../src/calibrate/grid.ts';
import { median } from '../../src/calibrate/stats.ts';
import { adapterIdentity } from '../../src/gpu/detect.ts';
import { parseProfile, profileCostModel, serializeProfile } from '../../src/calibrate/profile.ts';
import { pickNodeAdapter, type FoundAdapter } from '../../src/gpu/node-gpu.ts';
import { GpuError, openSession, type GpuSession } from '../../src/gpu/session.ts';
import { loadNodeShaders } from '../../src/gpu/shaders-node.ts';

let found: FoundAdapter | undefined;
let skipReason = '';
const sessions: GpuSession[] = [];

beforeAll(async () => {
  try {
    found = await pickNodeAdapter();
  } catch (e) {
    skipReason = `Dawn could not create an adapter: ${(e as Error).message}`;
    console.warn(`SKIPPING calibration tests: ${skipReason}`);
  }
}, 60_000);

afterAll(() => sessions.forEach((s) => s.destroy()));

/** The smoke preset (bench:device --smoke) with shorter probes and replay: the pipeline in seconds. */
const TINY = { ...SMOKE_PRESET, referenceMs: 4, replay: { rounds: 2, budgetMs: 200 } };

async function session(): Promise<GpuSession> {
  // An adapter gives one device: pick a fresh one per session.
  const s = await openSession((await pickNodeAdapter()).adapter);
  sessions.push(s);
  return s;
}

describe('calibration (Node, Dawn)', () => {
  it('quick preset: probes, sweeps, fit with intervals, replay, verdict; a valid profile usable as a cost model', async (ctx) => {
    if (!found) return ctx.skip(skipReason);
    const events: CalibrationProgress[] = [];
    const t0 = performance.now();
    // The extra devices the linear sweep rotates over; the calibration must destroy them.
    const opened: GpuSession[] = [];
    let destroyed = 0;
    const openMore = async () => {
      const s = await openSession((await pickNodeAdapter()).adapter);
      const destroy = s.destroy.bind(s);
      s.destroy = () => {
        destroyed++;
        destroy();
      };
      opened.push(s);
      return s;
    };
    // A short sampling budget: this test checks the pipeline, not the precision (bench/calibration.ts does).
    const p = await calibrate({
      session: await session(),
      openSession: openMore,
      shaders: await loadNodeShaders(),
      preset: PRESETS.quick,
      runtime: 'vitest',
      budgetMs: 1,
      onProgress: (e) => events.push(e),
    });
    console.log(
      `quick calibration in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${p.quality.verdict} (${p.quality.reasons.join('; ')}); held-out R² ${p.fit.r2.toFixed(3)};` +
        ` replay error ${p.validation.replay ? (100 * p.validation.replay.error).toFixed(1) : '—'} %`,
    );
    expect(p.schema).toBe('kvsched.profile/2');
    expect(p.measurements.length).toBe(PRESETS.quick.validation.length);
    expect(p.fit.heldOutPoints).toBe(PRESETS.quick.validation.length);
    const d = p.design;
    if (!d) throw new Error('no design');
    expect(d.linear.points.length).toBe(PRESETS.quick.linearTokens.length);
    // The linear sweep's samples rotate over the preset's devices; the others stay on one.
    expect(opened.length).toBe(PRESETS.quick.linearDevices - 1);
    expect(destroyed).toBe(opened.length);
    expect(d.linearDevices?.count).toBe(PRESETS.quick.linearDevices);
    expect(d.linearDevices?.levels.length).toBe(PRESETS.quick.linearDevices);
    expect(d.linearDevices?.note).toBeUndefined();
    // Each point starts its rotation at its index in the sweep, so every device gets samples.
    d.linear.points.forEach((pt, j) =>
      expect(pt.devices).toEqual(pt.samplesMicros.map((_, i) => (i + j) % PRESETS.quick.linearDevices)),
    );
    expect(new Set(d.linear.points.flatMap((pt) => pt.devices ?? []))).toEqual(
      new Set(Array.from({ length: PRESETS.quick.linearDevices }, (_, i) => i)),
    );
    for (const pt of [...d.decode.points, ...d.prefill.points]) expect(pt.devices).toBeUndefined();
    for (const pt of [...d.linear.points, ...d.decode.points, ...d.prefill.points])
      expect(pt.samplesMicros.length).toBeGreaterThanOrEqual(PRESETS.quick.minSamples);
    expect(d.stoppedBecause === 'budget' || d.stoppedBecause === 'target').toBe(true);
    for (const i of Object.values(p.fullModel.intervals ?? {})) expect(i?.[0]).toBeLessThanOrEqual(i?.[1] ?? -1);
    const t = p.reference.typicalRound;
    expect(t.deviceInterval?.[0]).toBeLessThanOrEqual(t.deviceMicros);
    expect(t.deviceInterval?.[1]).toBeGreaterThanOrEqual(t.deviceMicros);
    expect(['good', 'noisy', 'unusable']).toContain(p.quality.verdict);
    if (p.quality.verdict !== 'good') expect(p.quality.reasons.length).toBeGreaterThan(0);
    expect(p.validation.replay?.rounds).toBeGreaterThan(0);
    expect(p.power.source).toBe('default');
    expect(Number.isFinite(p.fit.r2)).toBe(true);
    expect(p.probes.stream.bytesPerSecond).toBeGreaterThan(0);
    expect(p.probes.fma.flopPerSecond).toBeGreaterThan(0);
    expect(p.device.shaderF16).toBe(found?.adapter.features.has('shader-f16'));
    expect(new Set(events.map((e) => e.phase))).toEqual(new Set(CALIBRATION_PHASES));
    expect(parseProfile(serializeProfile(p))).toEqual(p);
    const m = profileCostModel(p);
    const r = m.roundMicros({
      requests: 10,
      prefillRequests: 0,
      prefillTokens: 0,
      prefillSquares: 0,
      decodeRequests: 10,
      decodeContext: 1000,
    });
    expect(Number.isInteger(r) && r >= 1).toBe(true);
  }, 600_000);

  it('calibrates on its own device when another cannot be opened, and says why', async (ctx) => {
    if (!found) return ctx.skip(skipReason);
    const p = await calibrate({
      session: await session(),
      openSession: () => Promise.reject(new Error('no second adapter here')),
      shaders: await loadNodeShaders(),
      preset: TINY,
      runtime: 'vitest',
    });
    expect(p.design?.linearDevices).toEqual({
      count: 1,
      levels: [1],
      note: 'device 2 could not be opened: no second adapter here',
    });
    for (const pt of p.design?.linear.points ?? []) expect(pt.devices).toBeUndefined();
  }, 300_000);

  it('expresses its samples at the stored device reference, and says how far the run was from it', async (ctx) => {
    if (!found) return ctx.skip(skipReason);
    const s = await session();
    const key = deviceReferenceKey(JSON.stringify(adapterIdentity(s.adapter)), TINY.fmaIters);
    // Below SwiftShader's probe rate (~1.5e10 FLOP/s here): the run is scaled up by (its rate / 5e9)^0.75, and
    // the verdict flags the shift.
    // Three earlier calibrations whose typical round (1 s) is far below any this run can give.
    const history = [1, 2, 3].map((i) => ({
      at: `2026-01-0${i}T00:00:00.000Z`,
      typicalMicros: 1e6,
      verdict: 'noisy' as const,
    }));
    const anchor = { rate: 5e9, setAt: '2026-01-02T03:04:05.000Z', history };
    const writes: unknown[] = [];
    const store = documentStore('memory', { ...emptyDeviceReferences(), references: { [key]: anchor } }, async (d) => {
      writes.push(d);
    });
    const p = await calibrate({
      session: s,
      shaders: await loadNodeShaders(),
      preset: TINY,
      runtime: 'vitest',
      deviceReferences: store,
    });
    const drift = p.design?.drift;
    if (!drift) throw new Error('no drift normalisation');
    const use = drift.deviceReference;
    expect(use?.status).toBe('applied');
    expect(use?.rate).toBe(anchor.rate);
    expect(use?.setAt).toBe(anchor.setAt);
    // Normalised to the run's own rate, then scaled on to the stored one.
    expect(use?.runRate).toBe(drift.referenceRate);
    expect(drift.referenceRate).toBeGreaterThan(anchor.rate);
    expect(use?.sensitivity).toBe(BETWEEN_RUN_SENSITIVITY);
    expect(drift.deviceScale).toBeCloseTo((drift.referenceRate / anchor.rate) ** BETWEEN_RUN_SENSITIVITY, 9);
    // The fitted medians are the samples expressed at the stored rate, not the run's own.
    for (const pt of p.design?.linear.points ?? [])
      expect(pt.medianMicros).toBeCloseTo(median(normalizeSamples(pt.samplesMicros, pt.referenceRates, drift)), 6);
    expect(p.quality.verdict).not.toBe('good');
    expect(p.quality.reasons.some((r) => /its stored reference speed/.test(r))).toBe(true);
    // The run against the earlier calibrations: recorded, and a reason at this distance.
    const typical = p.reference.typicalRound.deviceMicros;
    expect(use?.earlier).toEqual({ runs: 3, medianMicros: 1e6, minMicros: 1e6, maxMicros: 1e6, ratio: typical / 1e6 });
    expect(p.quality.reasons.some((r) => /the median of this device's 3 earlier calibrations here/.test(r))).toBe(true);
    // An applied reference's rate is never rewritten; the run joins its history unless unusable.
    const { verdict } = p.quality;
    expect(store.get(key)).toEqual(
      verdict === 'unusable'
        ? anchor
        : { ...anchor, history: [...history, { at: p.createdAt, typicalMicros: typical, verdict }] },
    );
    expect(writes).toHaveLength(verdict === 'unusable' ? 0 : 1);
    // Without a store the profile says nothing of references.
    const q = await calibrate({
      session: await session(),
      shaders: await loadNodeShaders(),
      preset: TINY,
      runtime: 'vitest',
    });
    expect(q.design?.drift?.deviceReference).toBeUndefined();
    expect(q.design?.drift?.deviceScale).toBeUndefined();
  }, 300_000);

  it('stops promptly when cancelled', async (ctx) => {
    if (!found) return ctx.skip(skipReason);
    const ac = new AbortController();
    const run = calibrate({
      session: await session(),
      shaders: await loadNodeShaders(),
      preset: PRESETS.quick,
      runtime: 'vitest',
      signal: ac.signal,
      onProgress: (e) => {
        if (e.phase === 'probes') ac.abort(new Error('cancelled by test'));
      },
    });
    await expect(run).rejects.toThrow(/cancelled by test/);
  }, 300_000);

  it('turns a validation error, a timeout and a lost device into GpuErrors', async (ctx) => {
    if (!found) return ctx.skip(skipReason);
    const s = await session();
    await expect(
      s.scoped('bad buffer', () =>
        s.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE }),
      ),
    ).rejects.toThrow(/bad buffer: WebGPU validation error/);
    await expect(s.guard(new Promise(() => {}), 'never', 50)).rejects.toThrow(/never did not finish within 50 ms/);
    s.device.destroy();
    await expect(s.guard(new Promise(() => {}), 'after destroy', 5000)).rejects.toBeInstanceOf(GpuError);
    expect(s.lostReason).toMatch(/destroyed/);
  }, 60_000);

  it('keeps the error scopes open across an async scoped function; an infinite guard waits', async (ctx) => {
    if (!found) return ctx.skip(skipReason);
    const s = await session();
    const later = (ms: number) => new Promise<string>((resolve) => setTimeout(() => resolve('done'), ms));
    // Infinity must not become setTimeout's 1 ms.
    await expect(s.guard(later(30), 'slow', Infinity)).resolves.toBe('done');
    const bad = s.scoped('async bad buffer', async () => {
      await later(5);
      return s.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    });
    await expect(bad).rejects.toThrow(/async bad buffer: WebGPU validation error/);
    s.device.destroy();
  }, 60_000);
});
