/**
 * Kernel numerics in Node through Dawn (npm `webgpu`), SwiftShader on a GPU-less machine
 * (VK_ICD_FILENAMES is set in-process by src/gpu/node-gpu.ts). Skipped, with the reason,
 * only when Dawn cannot create an adapter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernels } from '../../src/gpu/kernels.ts';
import { pickNodeAdapter } from '../../src/gpu/node-gpu.ts';
import { openSession, type GpuSession } from '../../src/gpu/session.ts';
import { loadNodeShaders } from '../../src/gpu/shaders-node.ts';
import { F32_TOLERANCE, fmaProbeWorks, KERNEL_CASES, streamProbeSumsAll } from '../kernel-cases.ts';

let session: GpuSession | undefined;
let kernels: Kernels | undefined;
let skipReason = '';

beforeAll(async () => {
  try {
    const found = await pickNodeAdapter();
    console.log(`Dawn adapter: ${found.name}`);
    session = await openSession(found.adapter);
  } catch (e) {
    skipReason = `Dawn could not create an adapter: ${(e as Error).message}`;
    console.warn(`SKIPPING kernel numerics in Node: ${skipReason}`);
    return;
  }
  kernels = await Kernels.create(session, await loadNodeShaders());
}, 120_000);

afterAll(() => session?.destroy());

describe('calibration kernels vs CPU references (Node, Dawn)', () => {
  for (const c of KERNEL_CASES) {
    it(
      c.name,
      async (ctx) => {
        if (!kernels) return ctx.skip(skipReason);
        const err = await c.run(kernels);
        console.log(`${c.name}: relative error ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(F32_TOLERANCE);
      },
      120_000,
    );
  }
  it('FMA probe produces non-zero finite values', async (ctx) => {
    if (!kernels) return ctx.skip(skipReason);
    expect(await fmaProbeWorks(kernels)).toBe(true);
  });
  it('streaming probe reads every element once (strided and contiguous layouts)', async (ctx) => {
    if (!kernels) return ctx.skip(skipReason);
    expect(await streamProbeSumsAll(kernels)).toBe(true);
  });
});
