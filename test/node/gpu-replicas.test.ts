/**
 * Replicas behind a router on the GPU engine (src/gpu-engine/run-cells.ts), in Node with
 * Dawn: for round-robin and random routing, every policy the GPU engine runs, both time
 * modes, the GPU engine's replicated run equals the CPU engine's (src/engine/replicas.ts)
 * — the assignment, every request's schedule, each replica's and the overall summary and
 * totals — except what the GPU engine does not compute: per-token times (TBT: NaN, shown as
 * not available) and per-request energy. Also: a stuck replica is named; least-outstanding
 * and tbt SLOs are refused by the CLI; the CLI's table and JSON for a replicated GPU run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { ReplicaOptions } from '../../src/engine/replicas.ts';
import { runPolicy } from '../../src/experiment/run.ts';
import type { GpuEngine } from '../../src/gpu-engine/engine.ts';
import { gpuRouterRefusal, runPoliciesOnEngine } from '../../src/gpu-engine/run-cells.ts';
import { nodeGpuEngine } from '../../src/gpu-engine/run.ts';
import type { RequestSpec } from '../../src/model/types.ts';
import { lmsys } from '../../src/workload/generators.ts';
import { fakeIo } from './helpers/cli-io.ts';
import { randomInstance, type DiffInstance } from './helpers/gpu-engine-diff.ts';
import { asInstance, compareReplicated, cost, TBT } from './helpers/gpu-replicas-diff.ts';

let engine: GpuEngine;

beforeAll(async () => {
  engine = await nodeGpuEngine();
}, 60_000);

afterAll(() => {
  engine?.device.destroy();
});

describe('GPU engine replicas ≡ CPU engine replicas (round-robin, random)', () => {
  for (const mode of ['rounds', 'seconds'] as const) {
    it(`random instances, every GPU policy, ${mode} mode`, async () => {
      const failures: string[] = [];
      for (let i = 0; i < 6; i++) {
        const size = i < 4 ? 'small' : 'large';
        const inst = asInstance(randomInstance(300 + i, size, mode), mode);
        for (const router of ['round-robin', 'random'] as const) {
          failures.push(...(await compareReplicated(engine, inst, { replicas: 2 + (i % 4), router, seed: 40 + i })));
        }
      }
      expect(failures).toEqual([]);
    }, 600_000);
  }

  it('an lmsys instance (400 requests, seconds mode), 4 replicas, both routers', async () => {
    const w = lmsys({ seed: 3, requests: 400, rate: 60, mode: 'seconds' });
    const inst = asInstance({ memory: w.memory, requests: w.requests, label: 'lmsys 400' }, 'seconds');
    for (const router of ['round-robin', 'random'] as const) {
      expect(
        await compareReplicated(engine, inst, { replicas: 4, router, seed: 9 }, ['mcsf', 'vllm', 'alpha-greedy:0.1']),
      ).toEqual([]);
    }
  }, 300_000);

  it('more replicas than requests (empty replicas) as the CPU engine', async () => {
    const inst = asInstance(randomInstance(7, 'small', 'rounds'), 'rounds');
    const k = inst.size + 3;
    expect(
      await compareReplicated(engine, inst, { replicas: k, router: 'round-robin', seed: 1 }, ['mcsf', 'vllm']),
    ).toEqual([]);
  }, 120_000);

  it('a stuck replica fails its policy, named by its replica, as the CPU engine fails it', async () => {
    const q = (id: number, prompt: number, output: number): RequestSpec => ({
      id,
      arrival: id,
      prompt,
      output,
      predicted: output,
    });
    // M = 20 gives vLLM one block: request 1's 19-token prompt, routed to replica 1, never fits.
    const d: DiffInstance = { memory: 20, requests: [q(0, 1, 1), q(1, 19, 1), q(2, 1, 1)], label: 'stuck' };
    const inst = asInstance(d, 'rounds');
    const ro: ReplicaOptions = { replicas: 2, router: 'round-robin', seed: 1 };
    const [g, ok] = await runPoliciesOnEngine(engine, inst, ['vllm', 'mcsf'], { costModel: cost, replicas: ro });
    const c = runPolicy(inst, 'vllm', { costModel: cost, replicas: ro });
    expect(c.ok ? 'ok' : c.kind).toBe('stuck');
    expect(g).toMatchObject({ ok: false, kind: 'stuck' });
    expect(g?.ok === false && g.error).toMatch(/^replica 1: policy vllm is stuck/);
    expect(ok?.ok).toBe(true);
  }, 60_000);

  it('a streamed instance too large even split evenly is refused before a request is built', async () => {
    let built = 0;
    const instance = {
      memory: 16492,
      mode: 'seconds' as const,
      size: 10_000_000,
      description: 'lmsys stand-in, 10000000 requests',
      *requests(): Generator<RequestSpec> {
        built++;
        yield { id: 0, arrival: 0, prompt: 1, output: 1, predicted: 1 };
      },
    };
    await expect(
      runPoliciesOnEngine(engine, instance, ['mcsf'], {
        costModel: cost,
        replicas: { replicas: 8, router: 'round-robin', seed: 1 },
      }),
    ).rejects.toThrow('GPU engine: lmsys stand-in, 10000000 requests: n·(M+1) = 1250000·16493 ≥ 2^30');
    expect(built).toBe(0);
  });

  it('least-outstanding is refused by the engine layer, with why', async () => {
    expect(gpuRouterRefusal('round-robin')).toBeUndefined();
    expect(gpuRouterRefusal('random')).toBeUndefined();
    expect(gpuRouterRefusal('least-outstanding')).toMatch(/routes by the replicas' state/);
    const inst = asInstance(randomInstance(8, 'small', 'rounds'), 'rounds');
    await expect(
      runPoliciesOnEngine(engine, inst, ['mcsf'], {
        costModel: cost,
        replicas: { replicas: 2, router: 'least-outstanding', seed: 1 },
      }),
    ).rejects.toThrow(/GPU engine: router least-outstanding routes by the replicas' state/);
  });
});

describe('kvsched simulate --engine gpu --replicas', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kvsched-gpu-replicas-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const argv = ['simulate', '--requests', '300', '--policy', 'mcsf,vllm', '--replicas', '3', '--router', 'random'];

  it('prints and writes what the CPU engine does; TBT not available (— and null), never a number', async () => {
    const runs: Record<string, { code: number; stdout: string; json: Record<string, unknown> }> = {};
    for (const e of ['cpu', 'gpu']) {
      const io = fakeIo();
      const out = join(dir, `${e}.json`);
      const code = await main([...argv, '--engine', e, '--out', out, '--no-rounds', '--quiet'], io);
      expect(code, io.stderr).toBe(0);
      runs[e] = { code, stdout: io.stdout, json: JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown> };
    }
    const cpu = runs.cpu as (typeof runs)[string];
    const gpu = runs.gpu as (typeof runs)[string];
    // The first table (latency, KV, …) is the same but for energy, the last column.
    const first = (s: string): string[] =>
      (s.split('\n\n')[0] as string).split('\n').map((l) => l.replace(/\s+[\d,.]+$/, ''));
    expect(first(gpu.stdout)).toEqual(first(cpu.stdout));
    // The token table: the rows of both policies and their replicas, TBT columns — on the GPU.
    const tokenRows = (gpu.stdout.split('\n\n')[1] as string).split('\n').slice(2).filter(Boolean);
    expect(tokenRows).toHaveLength(8);
    for (const row of tokenRows)
      expect(
        row
          .trim()
          .split(/\s{2,}/)
          .slice(3, 7),
      ).toEqual(['—', '—', '—', '—']);
    type Run = {
      summary: Record<string, unknown>;
      replicas: { replica: number; summary: Record<string, unknown> }[];
      requests: Record<string, unknown>[];
      router: string;
    };
    const cr = cpu.json.runs as Run[];
    const gr = gpu.json.runs as Run[];
    expect(gr).toHaveLength(2);
    const strip = (s: Record<string, unknown>) => {
      const { p50Tbt: _a, p90Tbt: _b, p99Tbt: _c, maxTbt: _d, energyJoules: _e, joulesPerRequest: _f, ...rest } = s;
      return rest;
    };
    gr.forEach((g, i) => {
      const c = cr[i] as Run;
      expect(g.router).toBe('random');
      for (const s of [g.summary, ...g.replicas.map((r) => r.summary)]) {
        for (const k of TBT) expect(s[k]).toBeNull();
      }
      expect(strip(g.summary)).toEqual(strip(c.summary));
      expect(g.replicas.map((r) => strip(r.summary))).toEqual(c.replicas.map((r) => strip(r.summary)));
      const req = (q: Record<string, unknown>) => ({ ...q, joules: 0, maxGap: null });
      expect(g.requests.map((q) => q.maxGap)).toEqual(g.requests.map(() => null));
      expect(g.requests).toEqual(c.requests.map(req));
    });
  }, 300_000);

  it('least-outstanding: one line, exit 2, suggesting --engine cpu', async () => {
    const io = fakeIo();
    const code = await main([...argv.slice(0, -1), 'least-outstanding', '--engine', 'gpu'], io);
    expect(code).toBe(2);
    expect(io.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(io.stderr).toMatch(/least-outstanding routes by the replicas' state.*use --engine cpu/);
  });

  it('a tbt SLO on the GPU engine: one line, exit 2 (attainment would be unknown)', async () => {
    const io = fakeIo();
    const code = await main([...argv, '--engine', 'gpu', '--slo', 'p99-tbt=0.5s'], io);
    expect(code).toBe(2);
    expect(io.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(io.stderr).toMatch(/--slo: tbt needs the time of every token, which the GPU engine does not record/);
  });
});
