/**
 * Kernel numerics in headless Chromium (SwiftShader on a GPU-less machine): the same
 * cases as test/node/kernels-dawn.test.ts, with the WGSL bundled through `?raw` imports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernels } from '../../src/gpu/kernels.ts';
import { openSession, type GpuSession } from '../../src/gpu/session.ts';
import { browserShaderLoader } from '../../src/gpu/shaders-browser.ts';
import { F32_TOLERANCE, fmaProbeWorks, KERNEL_CASES, streamProbeSumsAll } from '../kernel-cases.ts';

let session: GpuSession | undefined;
let kernels: Kernels | undefined;

beforeAll(async () => {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('requestAdapter() returned null (Chromium needs --enable-unsafe-webgpu)');
  session = await openSession(adapter);
  kernels = await Kernels.create(session, await browserShaderLoader.load());
});

afterAll(() => session?.destroy());

describe('calibration kernels vs CPU references (Chromium)', () => {
  it('reports whether the adapter has shader-f16 (SwiftShader has none: f32 only)', () => {
    const has = session?.adapter.features.has('shader-f16') ?? false;
    console.log(`shader-f16: ${has ? 'available' : 'not available — kernels run in f32 only'}`);
    expect(typeof has).toBe('boolean');
  });
  for (const c of KERNEL_CASES) {
    it(c.name, async () => {
      if (!kernels) return expect.fail('no kernels');
      const err = await c.run(kernels);
      console.log(`${c.name}: relative error ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(F32_TOLERANCE);
    });
  }
  it('FMA probe produces non-zero finite values', async () => {
    if (!kernels) return expect.fail('no kernels');
    expect(await fmaProbeWorks(kernels)).toBe(true);
  });
  it('streaming probe reads every element once (strided and contiguous layouts)', async () => {
    if (!kernels) return expect.fail('no kernels');
    expect(await streamProbeSumsAll(kernels)).toBe(true);
  });
});
