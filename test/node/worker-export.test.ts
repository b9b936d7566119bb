/** The worker's per-request CSV and sweep metrics agree with the run's summaries. */
import { describe, expect, it } from 'vitest';
import { requestsCsv, runExperiment, runSweep } from '../../src/worker/runner.ts';
import { REQUEST_CSV_COLUMNS } from '../../src/metrics/requests-csv.ts';
import type { RunConfig } from '../../src/worker/protocol.ts';

const CFG: RunConfig = {
  workload: { kind: 'lmsys', requests: 150, rate: 20 },
  mode: 'seconds',
  seed: 4,
  predict: 'exact',
  costModel: 'a100-llama2-70b-tp2',
  policies: ['mcsf', 'vllm', 'alpha-greedy:0.99'],
};

describe('per-request CSV', () => {
  it('has one row per request of each policy that ran; its mean latency is the summary’s', () => {
    const lines = requestsCsv(CFG).trim().split('\n');
    expect(lines[0]).toBe(REQUEST_CSV_COLUMNS.join(','));
    const res = runExperiment(CFG);
    const okRuns = res.runs.filter((r) => r.ok);
    expect(okRuns.length).toBe(2); // alpha-greedy:0.99 gets stuck: no rows
    expect(lines.length).toBe(1 + 150 * okRuns.length);
    const col = REQUEST_CSV_COLUMNS.indexOf('latency');
    for (const r of okRuns) {
      const lat = lines
        .slice(1)
        .filter((l) => l.startsWith(`${r.policy},`))
        .map((l) => Number(l.split(',')[col]));
      expect(lat.reduce((a, b) => a + b, 0) / lat.length).toBeCloseTo(r.summary.meanLatency, 9);
    }
  });
});

describe('sweep metrics', () => {
  it('keeps p99, TTFT, throughput and evictions per policy and rate, as the single runs give them', () => {
    const s = runSweep({ base: { ...CFG, policies: ['mcsf', 'vllm'] }, rates: [10, 20] });
    const one = runExperiment({
      ...CFG,
      policies: ['mcsf', 'vllm'],
      workload: { kind: 'lmsys', requests: 150, rate: 20 },
    });
    s.series.forEach((row, i) => {
      const r = one.runs[i];
      if (!r?.ok) throw new Error('run failed');
      expect(row.p99Latency?.[1]).toBe(r.summary.p99Latency);
      expect(row.meanTtft?.[1]).toBe(r.summary.meanTtft);
      expect(row.throughput?.[1]).toBe(r.summary.throughput);
      expect(row.evictions?.[1]).toBe(r.summary.evictions);
    });
  });
});

describe('stored with the run', () => {
  it('a bundle keeps a run’s hindsight optimum and a sweep’s metrics (export → import)', async () => {
    const { makeBundle, parseBundle } = await import('../../src/storage/bundle.ts');
    const { defaultConfig } = await import('../../src/app/config.ts');
    const config = defaultConfig(); // imports validate stored run configs whole
    const result = runExperiment({ ...CFG, policies: ['mcsf'] });
    const optimum = {
      status: 'optimal',
      objective: 10,
      lowerBound: 10,
      seconds: 0.1,
      nodes: 5,
      localSearch: 10,
      requests: 3,
      memory: 40,
      policies: [{ policy: 'mcsf', total: 12 }],
    };
    const sweep = runSweep({ base: { ...CFG, policies: ['mcsf'] }, rates: [10] });
    const records = [
      { id: 'run-a', kind: 'run', createdAt: 1, title: 'a', data: { type: 'experiment', config, result, optimum } },
      { id: 'run-b', kind: 'run', createdAt: 2, title: 'b', data: { type: 'sweep', config, result: sweep } },
    ];
    const parsed = parseBundle(JSON.stringify(makeBundle(JSON.parse(JSON.stringify(records)))));
    expect(parsed.ok ? 'ok' : parsed.error).toBe('ok');
    if (!parsed.ok) return;
    expect((parsed.bundle.records[0]?.data as { optimum?: unknown }).optimum).toEqual(optimum);
    expect(
      (parsed.bundle.records[1]?.data as { result: { series: { p99Latency?: unknown }[] } }).result.series[0]
        ?.p99Latency,
    ).toEqual(sweep.series[0]?.p99Latency);
  });
});
