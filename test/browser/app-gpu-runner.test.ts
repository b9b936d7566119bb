/**
 * The app's GPU runner (src/worker/gpu-runner.ts) on the page's navigator.gpu (the
 * main-thread path): the same summaries as the CPU runner, no KV series, and a refusal
 * rejects with the GPU engine's message.
 */
import { describe, expect, it } from 'vitest';
import { runGpuExperiment } from '../../src/worker/gpu-runner.ts';
import type { RunConfig } from '../../src/worker/protocol.ts';
import { runExperiment } from '../../src/worker/runner.ts';

const CFG: RunConfig = {
  workload: { kind: 'paper-synthetic', arrivals: 'poisson', requests: 50 },
  mode: 'rounds',
  seed: 11,
  predict: 'noise:0.3',
  costModel: 'a100-llama2-70b-tp2',
  policies: ['mcsf', 'mc-fcfs', 'alpha-clearing:0.1:0.2', 'vllm'],
};

describe('runGpuExperiment (browser, main thread)', () => {
  it('gives the CPU runner’s summaries', async () => {
    const gpu = await runGpuExperiment({ ...CFG, engine: 'gpu' }, navigator.gpu, 'on the main thread');
    const cpu = runExperiment(CFG);
    expect(gpu.engine).toBe('gpu');
    expect(gpu.engineNote).toContain('on the main thread');
    expect(gpu.runs.map((r) => r.policy)).toEqual(CFG.policies);
    expect(gpu.runs.filter((r) => r.ok).length).toBeGreaterThanOrEqual(2);
    for (const [i, g] of gpu.runs.entries()) {
      const c = cpu.runs[i];
      expect(g.ok, g.policy).toBe(c?.ok);
      if (!g.ok || !c?.ok) {
        // The same failure (stuck / livelock) on both engines.
        if (!g.ok && c && !c.ok) expect(g.errorName).toBe(c.errorName);
        continue;
      }
      expect(g.kv.x).toEqual([]);
      // No per-request energy on the GPU: joulesPerRequest is 0 there (the app's table does not show it).
      // No token times on the GPU either: its TBT figures are NaN (null in JSON), never a made-up number.
      const { energyJoules: ge, joulesPerRequest: gj, p50Tbt, p90Tbt, p99Tbt, maxTbt, ...gs } = g.summary;
      const {
        energyJoules: ce,
        joulesPerRequest: _cj,
        p50Tbt: _a,
        p90Tbt: _b,
        p99Tbt: _c,
        maxTbt: _d,
        ...cs
      } = c.summary;
      expect(gj).toBe(0);
      expect([p50Tbt, p90Tbt, p99Tbt, maxTbt].every(Number.isNaN)).toBe(true);
      expect(gs).toEqual(cs);
      expect(ge).toBeCloseTo(ce, 6);
    }
  });

  it('runs replicas behind a state-free router as the CPU runner does, per replica; refuses least-outstanding', async () => {
    const cfg: RunConfig = {
      workload: { kind: 'lmsys', requests: 200, rate: 20 },
      mode: 'seconds',
      seed: 3,
      predict: 'exact',
      costModel: 'a100-llama2-70b-tp2',
      policies: ['mcsf', 'sarathi'],
      replicas: { count: 3, router: 'round-robin' },
    };
    const gpu = await runGpuExperiment({ ...cfg, engine: 'gpu' }, navigator.gpu, 'here');
    const cpu = runExperiment(cfg);
    const strip = (s: Record<string, number>): Record<string, number> => {
      const { energyJoules: _e, joulesPerRequest: _j, p50Tbt: _a, p90Tbt: _b, p99Tbt: _c, maxTbt: _d, ...rest } = s;
      return rest;
    };
    for (const [i, g] of gpu.runs.entries()) {
      const c = cpu.runs[i];
      if (!g.ok || !c?.ok) throw new Error(`${g.policy} failed`);
      expect(g.replicas?.router).toBe('round-robin');
      expect(g.replicas?.summaries.length).toBe(3);
      expect(strip({ ...g.summary })).toEqual(strip({ ...c.summary }));
      g.replicas?.summaries.forEach((s, k) =>
        expect(strip({ ...s })).toEqual(strip({ ...(c.replicas?.summaries[k] ?? {}) })),
      );
    }
    await expect(
      runGpuExperiment(
        { ...cfg, engine: 'gpu', replicas: { count: 3, router: 'least-outstanding' } },
        navigator.gpu,
        'here',
      ),
    ).rejects.toThrow(/least-outstanding routes by the replicas' state/);
  });

  it('rejects with the GPU engine’s refusal', async () => {
    const cfg: RunConfig = { ...CFG, mode: 'seconds', memory: 70_000, engine: 'gpu' };
    await expect(runGpuExperiment(cfg, navigator.gpu, 'here')).rejects.toThrow(/M ≤ 65535/);
  });
});
