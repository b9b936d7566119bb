/** The engine worker's hindsight-optimum message handling (src/worker/optimum-runner.ts). */
import { describe, expect, it } from 'vitest';
import { runOptimum } from '../../src/worker/optimum-runner.ts';
import type { RunConfig } from '../../src/worker/protocol.ts';
import { runExperiment } from '../../src/worker/runner.ts';

const CFG: RunConfig = {
  workload: { kind: 'paper-synthetic', arrivals: 'zero', requests: 12 },
  mode: 'rounds',
  seed: 3,
  predict: 'exact',
  costModel: 'a100-llama2-70b-tp2',
  policies: ['mcsf', 'mc-fcfs'],
};

describe('runOptimum (worker)', () => {
  it('solves a small rounds-mode instance and totals the configured policies', async () => {
    const o = await runOptimum(CFG, 10);
    expect(o.status).toBe('optimal');
    expect(o.lowerBound).toBe(o.objective);
    expect(o.requests).toBe(12);
    expect(o.localSearch).not.toBeNull();
    expect(o.localSearch!).toBeGreaterThanOrEqual(o.objective);
    const exp = runExperiment(CFG);
    expect(o.policies.map((p) => p.policy)).toEqual(CFG.policies);
    for (const [i, p] of o.policies.entries()) {
      const r = exp.runs[i];
      expect(r?.ok).toBe(true);
      if (r?.ok) expect(p.total).toBe(Math.round(r.summary.meanLatency * 12));
      expect(p.total).toBeGreaterThanOrEqual(o.objective);
    }
  });

  it('refuses seconds mode and instances above 60 requests', async () => {
    await expect(runOptimum({ ...CFG, mode: 'seconds' }, 10)).rejects.toThrow(/rounds mode/);
    await expect(
      runOptimum({ ...CFG, workload: { kind: 'paper-synthetic', arrivals: 'zero', requests: 61 } }, 10),
    ).rejects.toThrow(/up to 60 requests/);
  });

  it('stops with an AbortError when cancelled', async () => {
    const signal = { aborted: true };
    await expect(
      runOptimum({ ...CFG, workload: { kind: 'paper-synthetic', arrivals: 'poisson', requests: 60 } }, 10, { signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });
});
