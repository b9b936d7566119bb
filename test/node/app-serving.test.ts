/**
 * The app's serving features below the UI (issue 15 §5–8): the policy editor's fields come
 * from the registry's typed declarations (a drift test), the SLO/replica fields of the
 * configuration and its URL, stored runs with and without the new fields, and the worker
 * runner's SLO, replicas and capacity against the domain code they call.
 */
import { describe, expect, it } from 'vitest';
import { checkSloText, configFromParams, configToParams, defaultConfig, toRunConfig } from '../../src/app/config.ts';
import { capacityCsv, resultsCsv } from '../../src/app/export.ts';
import { initialSpec, paramFields, specWithParam } from '../../src/app/policy-form.ts';
import { getCostModel } from '../../src/cost/registry.ts';
import { policyCapacity, RescaledWorkload } from '../../src/experiment/capacity.ts';
import { runPolicy } from '../../src/experiment/run.ts';
import { evaluateSlo, parseSlo } from '../../src/metrics/slo.ts';
import { parsePolicySpec, POLICIES, POLICY_DECLS, SERVING_POLICIES } from '../../src/policies/registry.ts';
import { runData } from '../../src/storage/bundle.ts';
import { experimentConfigSchema } from '../../src/storage/run-config.ts';
import type { PolicyRun, RunConfig } from '../../src/worker/protocol.ts';
import { instanceOf, requestsCsv, runCapacity, runExperiment } from '../../src/worker/runner.ts';

type OkRun = Extract<PolicyRun, { ok: true }>;

describe('policy editor fields (one declaration)', () => {
  it('every policy has one input per declared parameter, named, optional and defaulted as declared', () => {
    for (const p of POLICIES) {
      const decl = POLICY_DECLS[p.name].params;
      const fields = paramFields(p.name);
      expect(fields.map((f) => f.name)).toEqual(decl.map((d) => d.name));
      expect(fields.map((f) => f.optional)).toEqual(decl.map((d) => 'default' in d));
      for (const [i, d] of decl.entries()) {
        const f = fields[i];
        if ('default' in d) expect(f?.placeholder).toBe(String(d.default));
        expect(f?.label).toBe('symbol' in d ? d.symbol : d.name);
      }
      // A newly picked policy is a valid spelling.
      expect(() => parsePolicySpec(initialSpec(p.name))).not.toThrow();
    }
  });

  it('editing a parameter keeps the spelling minimal', () => {
    expect(specWithParam('sarathi', 0, '256')).toBe('sarathi:256');
    expect(specWithParam('sarathi:256', 1, '64')).toBe('sarathi:256:64');
    expect(specWithParam('sarathi:256:64', 1, '')).toBe('sarathi:256');
    expect(specWithParam('sarathi:256', 0, ' ')).toBe('sarathi');
    expect(specWithParam('alpha-clearing:0.1:0.2', 1, '0.3')).toBe('alpha-clearing:0.1:0.3');
    expect(initialSpec('alpha-clearing')).toBe('alpha-clearing:0.1:0.2');
    expect(initialSpec('orca')).toBe('orca');
  });

  it('the serving line-up is six valid policies', () => {
    expect(SERVING_POLICIES).toEqual(['mcsf', 'mc-fcfs', 'vllm', 'sarathi', 'orca', 'mcsf-budget']);
    for (const s of SERVING_POLICIES) expect(() => parsePolicySpec(s)).not.toThrow();
  });
});

describe('SLO and replicas in the configuration', () => {
  it('validates the SLO with the CLI parser and its time-mode check', () => {
    expect(checkSloText('', 'seconds')).toBeNull();
    expect(checkSloText('ttft=2s,p99-tpot=200ms', 'seconds')).toBeNull();
    let msg = '';
    try {
      parseSlo('ttft=2x');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(checkSloText('ttft=2x', 'seconds')).toBe(`SLO: ${msg}.`);
    expect(checkSloText('ttft=2s', 'rounds')).toContain('rounds mode counts time in rounds');
    expect(checkSloText('ttft=20', 'rounds')).toBeNull();
  });

  it('round-trips SLO, replicas and router through the link; drops invalid ones', () => {
    const c = { ...defaultConfig(), slo: 'ttft=2s,tpot=0.2s', replicas: 4, router: 'least-outstanding' as const };
    expect(configFromParams(configToParams(c))).toEqual(c);
    const bad = configFromParams(new URLSearchParams('slo=ttft%3D2x&k=0&router=nearest'));
    expect([bad.slo, bad.replicas, bad.router]).toEqual(['', 1, 'round-robin']);
    expect(configFromParams(new URLSearchParams('slo=ttft%3D2s%2C%20tpot%3D1s')).slo).toBe('ttft=2s,tpot=1s');
  });

  it('passes SLO and replicas to the worker only when set', () => {
    const plain = toRunConfig(defaultConfig(), null) as RunConfig;
    expect(plain.slo).toBeUndefined();
    expect(plain.replicas).toBeUndefined();
    const r = toRunConfig({ ...defaultConfig(), slo: 'ttft=1s', replicas: 2, router: 'random' }, null) as RunConfig;
    expect(r.slo).toBe('ttft=1s');
    expect(r.replicas).toEqual({ count: 2, router: 'random' });
  });
});

describe('stored runs', () => {
  const config = {
    preset: 'lmsys',
    rate: 10,
    requests: 50,
    synthRequests: null,
    mode: 'seconds',
    memory: null,
    policies: ['mcsf'],
    predict: 'exact',
    costModel: 'a100-llama2-70b-tp2',
    engine: 'gpu',
    seed: 1,
    sweepRates: [10],
    traceName: null,
  };
  const result = (summary: Record<string, number | null>) => ({
    description: 'x',
    memory: 16492,
    mode: 'seconds',
    requests: 50,
    costModel: 'a100-llama2-70b-tp2',
    runs: [{ policy: 'mcsf', ok: true, summary, cdf: { x: [], y: [] }, kv: { x: [], y: [] }, wallMs: 1 }],
    wallMs: 1,
  });

  it('a GPU-engine run with NaN TBT is valid run data (it was refused: History could not open it)', () => {
    const data = { type: 'experiment', config, result: result({ meanLatency: 1, p99Tbt: Number.NaN }) };
    expect(runData.safeParse(data).success).toBe(true);
    // A JSON export writes NaN as null: still valid.
    expect(runData.safeParse(JSON.parse(JSON.stringify(data))).success).toBe(true);
  });

  it('a stored capacity search is valid run data; a wrong one is refused', () => {
    const cap = runCapacity({
      base: {
        workload: { kind: 'lmsys', requests: 100, rate: 10 },
        mode: 'seconds',
        seed: 1,
        predict: 'exact',
        costModel: 'a100-llama2-70b-tp2',
        policies: ['mcsf'],
      },
      slo: 'ttft=1s',
      attainment: 0.9,
    });
    const data = { type: 'capacity', config: { ...config, engine: 'cpu', slo: 'ttft=1s' }, requests: 100, result: cap };
    expect(runData.safeParse(data).success).toBe(true);
    expect(runData.safeParse(JSON.parse(JSON.stringify(data))).success).toBe(true);
    expect(runData.safeParse({ ...data, result: { ...cap, attainment: 2 } }).success).toBe(false);
    expect(runData.safeParse({ ...data, requests: 1 }).success).toBe(false);
  });

  it('a run stored before SLO and replicas opens with the defaults; bad new fields are refused', () => {
    const parsed = experimentConfigSchema.parse(config);
    expect([parsed.slo, parsed.replicas, parsed.router]).toEqual(['', 1, 'round-robin']);
    expect(experimentConfigSchema.safeParse({ ...config, replicas: 0 }).success).toBe(false);
    expect(experimentConfigSchema.safeParse({ ...config, router: 'nearest' }).success).toBe(false);
  });
});

describe('the worker runner', () => {
  const base: RunConfig = {
    workload: { kind: 'lmsys', requests: 300, rate: 20 },
    mode: 'seconds',
    seed: 3,
    predict: 'exact',
    costModel: 'a100-llama2-70b-tp2',
    policies: ['mcsf', 'sarathi'],
  };
  const costModel = getCostModel('a100-llama2-70b-tp2');

  it('evaluates the SLO as evaluateSlo on the same run, and keeps a TBT CDF', () => {
    const slo = 'ttft=0.5s,p99-tbt=100ms';
    const r = runExperiment({ ...base, slo });
    for (const run of r.runs as OkRun[]) {
      const ref = runPolicy(instanceOf(base), run.policy, { costModel, tokenGaps: true });
      if (!ref.ok) throw new Error('reference failed');
      expect(run.slo).toEqual(evaluateSlo(ref.result, parseSlo(slo)));
      expect(run.tbtCdf?.x.length).toBeGreaterThan(10);
      // The CDF's last point is the largest gap: the max stall.
      expect(run.tbtCdf?.x.at(-1)).toBeCloseTo(run.summary.maxTbt, 9);
    }
    expect(() => runExperiment({ ...base, mode: 'rounds', slo: 'ttft=2s' })).toThrow('rounds mode');
  });

  it('runs replicas behind the router as runPolicy does, with each replica summary', () => {
    const r = runExperiment({ ...base, replicas: { count: 3, router: 'round-robin' } });
    for (const run of r.runs as OkRun[]) {
      const ref = runPolicy(instanceOf(base), run.policy, {
        costModel,
        replicas: { replicas: 3, router: 'round-robin', seed: base.seed },
      });
      if (!ref.ok) throw new Error('reference failed');
      expect(run.summary).toEqual(ref.summary);
      expect(run.replicas?.summaries).toEqual(ref.replicas?.summaries);
      expect(run.replicas?.router).toBe('round-robin');
    }
  });

  it("per-request CSV of a run with replicas: the replicated schedule and each request's replica", () => {
    const cfg: RunConfig = { ...base, policies: ['mcsf'], replicas: { count: 3, router: 'least-outstanding' } };
    const run = runExperiment(cfg).runs[0] as OkRun;
    const lines = requestsCsv(cfg).trim().split('\n');
    expect(lines[0]?.split(',').at(-1)).toBe('replica');
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.length).toBe(300);
    const mean = rows.reduce((x, r) => x + Number(r[9]), 0) / rows.length;
    expect(mean).toBeCloseTo(run.summary.meanLatency, 9);
    const perReplica = [0, 1, 2].map((k) => rows.filter((r) => r.at(-1) === String(k)).length);
    expect(perReplica).toEqual(run.replicas?.summaries.map((x) => x.requests));
  });

  it('finds capacities as policyCapacity on the rescaled workload', () => {
    const slo = 'ttft=1s';
    const cap = runCapacity({ base, slo, attainment: 0.9 });
    const inst = instanceOf(base);
    const scaled = new RescaledWorkload([...inst.requests()], inst.memory, inst.description);
    for (const p of cap.policies) {
      const ref = policyCapacity(scaled, p.policy, { costModel, slo: parseSlo(slo), attainment: 0.9 });
      expect(p.capacity).toBe(ref.capacity);
      expect(p.probes).toEqual(ref.probes);
    }
    // The CSV: one row per probe, in the order probed.
    const csv = capacityCsv(cap).trim().split('\n');
    expect(csv.length).toBe(1 + cap.policies.reduce((n, p) => n + p.probes.length, 0));
    const first = csv[1]?.split(',') ?? [];
    expect(first.slice(0, 4)).toEqual([cap.policies[0]?.policy, slo, '0.9', String(cap.policies[0]?.capacity)]);
    expect(Number(first[7])).toBe(cap.policies[0]?.probes[0]?.rate);
    expect(() => runCapacity({ base: { ...base, mode: 'rounds' }, slo, attainment: 0.9 })).toThrow('seconds mode');
    expect(() => runCapacity({ base, slo: '', attainment: 0.9 })).toThrow('give an SLO');
  });
});

describe('results CSV', () => {
  it('has the token columns, the SLO and a row per replica; NaN is an empty cell, never "NaN"', () => {
    const base: RunConfig = {
      workload: { kind: 'lmsys', requests: 200, rate: 20 },
      mode: 'seconds',
      seed: 1,
      predict: 'exact',
      costModel: 'a100-llama2-70b-tp2',
      policies: ['mcsf'],
      slo: 'ttft=1s',
      replicas: { count: 2, router: 'round-robin' },
    };
    const r = runExperiment(base);
    const lines = resultsCsv(r).trim().split('\n');
    const head = lines[0]?.split(',') ?? [];
    expect(head).toEqual(
      expect.arrayContaining(['p99_tbt_s', 'max_stall_s', 'mean_tpot_s', 'slo_attainment', 'replica']),
    );
    expect(lines.length).toBe(1 + 1 + 2);
    const run = r.runs[0] as OkRun;
    const row = lines[1]?.split(',') ?? [];
    expect(Number(row[head.indexOf('p99_tbt_s')])).toBe(run.summary.p99Tbt);
    expect(Number(row[head.indexOf('slo_attainment')])).toBe(run.slo?.attainment);
    expect(lines.slice(2).map((l) => l.split(',').at(-1))).toEqual(['0', '1']);
    const gpuLike = { ...r, runs: [{ ...run, summary: { ...run.summary, p99Tbt: Number.NaN } }] };
    const text = resultsCsv(gpuLike);
    expect(text).not.toContain('NaN');
    expect(text.split('\n')[1]?.split(',')[head.indexOf('p99_tbt_s')]).toBe('');
  });
});
