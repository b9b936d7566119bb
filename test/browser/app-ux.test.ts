/** Issue 16's app helpers: validation rules declared once, differences, error text, log ticks, colours, CSV. */
import { describe, expect, it } from 'vitest';
import { policyColor } from '../../src/app/colors.ts';
import {
  applyPreset,
  checkNumber,
  configDifferences,
  configFromParams,
  configTitle,
  defaultConfig,
  NUMBER_RULES,
  parseSweepRates,
} from '../../src/app/config.ts';
import { resultsCsv, sweepCsv } from '../../src/app/export.ts';
import { runErrorText } from '../../src/app/format.ts';
import { logTick } from '../../src/app/components/kv-chart.ts';
import { PAPER_POLICIES } from '../../src/policies/registry.ts';
import type { ExperimentResult, SweepResult } from '../../src/worker/protocol.ts';

describe('number fields', () => {
  it('refuses what the issue saw silently replaced: λ = −5, Requests = 0, seed −3', () => {
    expect(checkNumber('rate', '-5')).toEqual({
      error: 'Arrival rate λ must be a number > 0 and ≤ 1,000,000,000 (got -5).',
    });
    expect('error' in checkNumber('requests', '0')).toBe(true);
    expect('error' in checkNumber('requests', '2.5')).toBe(true);
    expect('error' in checkNumber('seed', '-3')).toBe(true);
    expect('error' in checkNumber('noise', '1')).toBe(true);
    expect(checkNumber('noise', '0.95')).toEqual({ value: 0.95 });
    expect(checkNumber('seed', '4294967295')).toEqual({ value: 4294967295 });
  });

  it('the link reader and the form share one rule per field (no drift)', () => {
    const keys: Record<string, string> = {
      rate: 'rate',
      requests: 'n',
      synthRequests: 'sn',
      memory: 'mem',
      seed: 'seed',
    };
    for (const [field, key] of Object.entries(keys)) {
      const r = NUMBER_RULES[field as keyof typeof NUMBER_RULES];
      for (const v of [r.min - 1, r.min, r.min + 0.5, r.max, r.max + 1]) {
        const ok = 'value' in checkNumber(field as keyof typeof NUMBER_RULES, String(v));
        const c = configFromParams(
          new URLSearchParams({ preset: field === 'synthRequests' ? 'synthetic-zero' : 'lmsys', [key]: String(v) }),
        );
        const got = {
          rate: c.rate,
          requests: c.requests,
          synthRequests: c.synthRequests,
          memory: c.memory,
          seed: c.seed,
        }[field];
        expect(got === v, `${field} = ${v}`).toBe(ok);
      }
    }
  });

  it('parses sweep rates strictly', () => {
    expect(parseSweepRates('10, 20 30')).toEqual({ value: [10, 20, 30] });
    expect('error' in parseSweepRates('10, -4')).toBe(true);
    expect('error' in parseSweepRates('10, x')).toBe(true);
    expect('error' in parseSweepRates(' ')).toBe(true);
  });
});

describe('configuration differences and titles', () => {
  it('lists only the fields that differ, as shown', () => {
    const a = { ...applyPreset(defaultConfig(), 'lmsys'), rate: 20 };
    const b = { ...a, rate: 40, seed: 2, costModel: 'profile:p1' };
    const d = configDifferences([a, b], (n) => (n === 'profile:p1' ? 'My GPU' : n));
    expect(d.map((x) => x.field)).toEqual(['rate', 'costModel', 'seed']);
    expect(d.find((x) => x.field === 'costModel')?.values).toEqual(['a100-llama2-70b-tp2', 'My GPU']);
    expect(configDifferences([a, { ...a, sweepRates: [1] }])).toEqual([]);
  });

  it('a sweep title names its rates, not the form’s λ', () => {
    const c = { ...applyPreset(defaultConfig(), 'lmsys'), rate: 20, sweepRates: [10, 30] };
    expect(configTitle(c, true)).toContain('λ ∈ {10, 30}');
    expect(configTitle(c, true)).not.toContain('λ=20');
    expect(configTitle({ ...c, policies: ['mcsf'] })).toContain('1 policy,');
  });
});

describe('texts and numbers', () => {
  it('a failure reads in the run’s unit', () => {
    const m = 'policy x is stuck at time 9922112017 with 3 waiting requests';
    expect(runErrorText(m, 'seconds')).toBe('policy x is stuck at 9,922.112 s with 3 waiting requests');
    expect(runErrorText(m, 'rounds')).toBe('policy x is stuck at round 9,922,112,017 with 3 waiting requests');
  });

  it('log-axis ticks are short and only at 1, 2, 5 per decade', () => {
    expect(logTick(10_000_000)).toBe('10M');
    expect(logTick(3_000_000)).toBe('');
    expect(logTick(0.001)).toBe('0.001');
    expect(logTick(2)).toBe('2');
    expect(logTick(5e-7)).toBe('5e-7');
  });

  it('colours follow the policy spelling, not the list position', () => {
    const c = PAPER_POLICIES.map(policyColor);
    expect(new Set(c).size).toBe(PAPER_POLICIES.length);
    expect(policyColor('alpha-greedy:0.3')).toBe(policyColor('alpha-greedy:0.3'));
  });
});

describe('CSV', () => {
  it('writes the results table and a sweep with units and full precision', () => {
    const r: ExperimentResult = {
      description: 'd',
      memory: 100,
      mode: 'seconds',
      requests: 2,
      costModel: 'a100-llama2-70b-tp2',
      wallMs: 1,
      runs: [
        {
          policy: 'mcsf',
          ok: true,
          cdf: { x: [], y: [] },
          kv: { x: [], y: [] },
          wallMs: 1,
          summary: {
            meanLatency: 1.23456789,
            p50Latency: 1,
            p90Latency: 2,
            p99Latency: 3,
            meanTtft: 0.5,
            p99Ttft: 0.9,
            throughput: 10,
            evictions: 0,
            peakKv: 50,
            energyJoules: 1000,
          } as never,
        },
        { policy: 'alpha-greedy:0.99', ok: false, error: 'stuck, "really"', errorName: 'StuckError' },
      ],
    };
    const lines = resultsCsv(r).trim().split('\n');
    expect(lines[0]).toBe(
      'policy,ok,mean_latency_s,p50_latency_s,p90_latency_s,p99_latency_s,mean_ttft_s,p99_ttft_s,throughput_tokens_per_s,evictions,peak_kv_tokens,energy_j,error,' +
        'p50_tbt_s,p90_tbt_s,p99_tbt_s,max_stall_s,mean_tpot_s,p99_tpot_s,mean_latency_per_token_s',
    );
    // A summary stored before token metrics: those cells are empty.
    expect(lines[1]).toBe('mcsf,true,1.23456789,1,2,3,0.5,0.9,10,0,50,1000,,,,,,,,');
    expect(lines[2]).toBe('alpha-greedy:0.99,false,,,,,,,,,,,"stuck, ""really""",,,,,,,');
    const s: SweepResult = {
      rates: [1, 2],
      mode: 'seconds',
      wallMs: 1,
      series: [
        {
          policy: 'mcsf',
          meanLatency: [1, null],
          p99Latency: [2, null],
          meanTtft: [3, null],
          p99Ttft: [4, null],
          throughput: [5, null],
          evictions: [0, null],
        },
      ],
    };
    expect(sweepCsv(s).trim().split('\n')).toEqual([
      'policy,rate,meanLatency,p99Latency,meanTtft,p99Ttft,throughput,evictions',
      'mcsf,1,1,2,3,4,5,0',
      'mcsf,2,,,,,,',
    ]);
  });
});
