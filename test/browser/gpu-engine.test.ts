/**
 * GPU engine ≡ CPU engine in headless Chromium (WebGPU on SwiftShader): random
 * instances as replicas of one job, every policy, both time modes. Sized for SwiftShader.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice } from '../../src/gpu-engine/device.ts';
import { GpuEngine } from '../../src/gpu-engine/engine.ts';
import { loadEngineShader } from '../../src/gpu-engine/shaders-browser.ts';
import { differential, DIFF_POLICIES, randomInstance } from '../node/helpers/gpu-engine-diff.ts';

let engine: GpuEngine;

beforeAll(async () => {
  const d = await acquireDevice(navigator.gpu);
  engine = await GpuEngine.create(d.device, await loadEngineShader(), GpuEngine.defaultThreads(d.isFallbackAdapter));
});

describe('GPU engine ≡ CPU engine (browser)', () => {
  for (const mode of ['rounds', 'seconds'] as const) {
    it(`small and large random instances, every policy, ${mode} mode`, async () => {
      const insts = [
        ...Array.from({ length: 10 }, (_, i) => randomInstance(300 + i, 'small', mode)),
        ...Array.from({ length: 2 }, (_, i) => randomInstance(700 + i, 'large', mode)),
      ];
      const rep = await differential(engine, insts, DIFF_POLICIES, mode);
      expect(rep.failures).toEqual([]);
      expect(rep.cases).toBe(12 * DIFF_POLICIES.length);
    });
  }
});
