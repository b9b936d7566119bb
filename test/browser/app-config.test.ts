/** The app's URL state: a configuration survives a round trip through the link. */
import { describe, expect, it } from 'vitest';
import { applyPreset, configFromParams, configToParams, defaultConfig, toRunConfig } from '../../src/app/config.ts';
import { formatHash, parseHash } from '../../src/app/route.ts';
import { PAPER_POLICIES } from '../../src/policies/registry.ts';

describe('URL state', () => {
  it('round-trips a configuration through the hash', () => {
    const c = {
      ...applyPreset(defaultConfig(), 'lmsys'),
      rate: 33,
      requests: 1234,
      policies: ['mcsf', 'vllm:2048'],
      predict: 'noise:0.3',
      seed: 9,
      memory: 8000,
      sweepRates: [5, 15],
    };
    const hash = formatHash({ view: 'experiment', params: configToParams(c) });
    const back = parseHash(hash);
    expect(back.view).toBe('experiment');
    expect(configFromParams(back.params)).toEqual(c);
  });

  it('defaults to the paper LMSYS experiment (λ = 50, 10,000 requests, paper policies)', () => {
    const c = configFromParams(new URLSearchParams());
    expect(toRunConfig(c, null)).toEqual({
      workload: { kind: 'lmsys', requests: 10_000, rate: 50 },
      mode: 'seconds',
      seed: 1,
      predict: 'exact',
      costModel: 'a100-llama2-70b-tp2',
      policies: PAPER_POLICIES,
    });
  });

  it('ignores invalid values and unknown views', () => {
    const r = parseHash('#/nowhere?preset=bogus&n=-5&seed=x');
    expect(r.view).toBe('experiment');
    expect(configFromParams(r.params)).toEqual(defaultConfig());
  });

  it('asks for a trace file that is not loaded', () => {
    const c = { ...applyPreset(defaultConfig(), 'trace'), traceName: 'x.csv' };
    expect(toRunConfig(c, null)).toMatch(/Upload the trace file x\.csv again/);
  });
});
