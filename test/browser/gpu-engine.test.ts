/**
 * GPU engine ≡ CPU engine in headless Chromium (WebGPU on SwiftShader): random
 * instances as replicas of one job, every policy, both time modes; replicas behind the
 * round-robin and random routers as the CPU engine runs them. Sized for SwiftShader.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { GpuEngine } from '../../src/gpu-engine/engine.ts';
import { requestSession } from '../../src/gpu/session.ts';
import { engineShader } from '../../src/gpu/shaders-browser.ts';
import {
  CHUNKED_SMALL_POLICIES,
  differential,
  DIFF_POLICIES,
  randomInstance,
  servingInstance,
  SERVING_POLICIES,
} from '../node/helpers/gpu-engine-diff.ts';
import { asInstance, compareReplicated } from '../node/helpers/gpu-replicas-diff.ts';

let engine: GpuEngine;

beforeAll(async () => {
  engine = await GpuEngine.create(await requestSession(navigator.gpu), engineShader);
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

    it(`small instances, chunked prefill (sarathi, mcsf-budget), ${mode} mode`, async () => {
      const insts = Array.from({ length: 10 }, (_, i) => randomInstance(300 + i, 'small', mode));
      const rep = await differential(engine, insts, CHUNKED_SMALL_POLICIES, mode);
      expect(rep.failures).toEqual([]);
      expect(rep.cases).toBe(10 * CHUNKED_SMALL_POLICIES.length);
    });

    it(`LMSYS-like instances, the serving policies (sarathi, mcsf-budget, orca), ${mode} mode`, async () => {
      const insts = Array.from({ length: 4 }, (_, i) => servingInstance(80 + i, mode));
      const rep = await differential(engine, insts, SERVING_POLICIES, mode);
      expect(rep.failures).toEqual([]);
      expect(rep.cases).toBe(4 * SERVING_POLICIES.length);
    });
  }
});

describe('GPU engine replicas ≡ CPU engine replicas (browser)', () => {
  it('random instances, every policy, round-robin and random, both modes', async () => {
    const failures: string[] = [];
    for (const mode of ['rounds', 'seconds'] as const) {
      for (let i = 0; i < 2; i++) {
        const inst = asInstance(randomInstance(900 + i, i === 0 ? 'small' : 'large', mode), mode);
        for (const router of ['round-robin', 'random'] as const) {
          failures.push(...(await compareReplicated(engine, inst, { replicas: 3, router, seed: 5 + i })));
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
