/**
 * GPU engine (src/gpu-engine, shaders/engine/scheduler.wgsl) against the CPU engine, in
 * Node with Dawn (npm `webgpu`, SwiftShader here). Every policy, both time modes, random
 * instances small and large with exact and noisy predictions: every request's start,
 * first token, completion and restarts, and the run totals, must be identical.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { a100Llama2_70bTp2 } from '../../src/cost/a100.ts';
import { LivelockError, StuckError } from '../../src/engine/engine.ts';
import { GpuEngine, GpuEngineError, type GpuOutcome } from '../../src/gpu-engine/engine.ts';
import { openNodeSession } from '../../src/gpu/node-gpu.ts';
import type { GpuSession } from '../../src/gpu/session.ts';
import { loadEngineShader } from '../../src/gpu/shaders-node.ts';
import { joinWgsl } from '../../src/gpu/shaders.ts';
import { parsePolicySpec } from '../../src/policies/registry.ts';
import { lmsys } from '../../src/workload/generators.ts';
import {
  compareOutcomes,
  cpuRun,
  differential,
  DIFF_POLICIES,
  randomInstance,
  rng,
} from './helpers/gpu-engine-diff.ts';

let engine: GpuEngine;
let device: GPUDevice;
let session: GpuSession;

beforeAll(async () => {
  session = await openNodeSession();
  device = session.device;
  engine = await GpuEngine.create(session, await loadEngineShader());
}, 60_000);

afterAll(() => {
  device?.destroy();
});

/** Small random instances per mode: 130 × 8 policy specs × 2 modes = 2,080 cases (env KVSCHED_GPU_DIFF_SMALL to change). */
const SMALL = Number(process.env.KVSCHED_GPU_DIFF_SMALL ?? 130);

describe('GPU engine ≡ CPU engine', () => {
  for (const mode of ['rounds', 'seconds'] as const) {
    it(`small random instances, every policy, ${mode} mode`, async () => {
      const insts = Array.from({ length: SMALL }, (_, i) => randomInstance(100 + i, 'small', mode));
      const rep = await differential(engine, insts, DIFF_POLICIES, mode);
      expect(rep.failures).toEqual([]);
      expect(rep.cases).toBe(SMALL * DIFF_POLICIES.length);
      expect(rep.restarts).toBeGreaterThan(0);
    }, 1_200_000);

    it(`large random instances, every policy, ${mode} mode`, async () => {
      const insts = Array.from({ length: 6 }, (_, i) => randomInstance(500 + i, 'large', mode));
      const rep = await differential(engine, insts, DIFF_POLICIES, mode);
      expect(rep.failures).toEqual([]);
      expect(rep.restarts).toBeGreaterThan(0);
    }, 120_000);
  }

  it('an lmsys instance (M = 16492, seconds mode, noisy predictions) under every policy', async () => {
    const base = lmsys({ seed: 3, requests: 400, rate: 50, mode: 'seconds' }).requests;
    const r = rng(9);
    const requests = base.map((q) => ({ ...q, predicted: Math.max(1, Math.round(q.output * (0.5 + r()))) }));
    const inst = { memory: 16492, requests, label: 'lmsys 400' };
    const rep = await differential(engine, [inst], DIFF_POLICIES, 'seconds');
    expect(rep.failures).toEqual([]);
  }, 120_000);

  it('the WGSL a100 cost model equals the TypeScript one', async () => {
    const r = rng(4);
    const rows: [number, number, number, number][] = [
      [0, 0, 0, 0],
      [0, 0, 1, 2],
      [262_143 - 5, 4294967295, 5, 4294967295],
    ];
    for (let i = 0; i < 200; i++) {
      const pt = Math.floor(r() * 60_000);
      rows.push([
        pt,
        Math.floor(r() * Math.min(4294967295, pt * pt + 1)),
        Math.floor(r() * 2000),
        Math.floor(r() * 2_000_000),
      ]);
    }
    const got = await engine.costProbe(rows);
    const want = rows.map(([pt, ps, dr, dc]) =>
      a100Llama2_70bTp2.roundMicros({
        requests: dr + 1,
        prefillRequests: 1,
        prefillTokens: pt,
        prefillSquares: ps,
        decodeRequests: dr,
        decodeContext: dc,
      }),
    );
    expect(got).toEqual(want);
  });
});

describe('GPU engine limits and faults', () => {
  it('splits replicas across jobs and keeps the results', async () => {
    const insts = Array.from({ length: 5 }, (_, i) => randomInstance(900 + i, 'small', 'rounds'));
    const replicas = insts.map((x) => ({ requests: x.requests, memory: x.memory, policy: 'mcsf' }));
    const out = await engine.run(replicas, { mode: 'rounds', maxReplicasPerJob: 2 });
    out.forEach((o, i) => expect(compareOutcomes(cpuRun(insts[i]!, 'mcsf', 'rounds'), o)).toEqual([]));
  });

  it('reports stuck replicas as StuckError naming the replica, like the CPU engine', async () => {
    // M = 20 gives vLLM one block: a 20-token prompt can never be admitted.
    const requests = [{ id: 0, arrival: 0, prompt: 19, output: 1, predicted: 1 }];
    const out = await engine.run(
      [
        { requests, memory: 20, policy: 'mcsf' },
        { requests, memory: 20, policy: 'vllm' },
      ],
      { mode: 'rounds' },
    );
    expect(out[0]?.ok).toBe(true);
    const o = out[1]!;
    expect(o.ok).toBe(false);
    if (!o.ok) {
      expect(o.error).toBeInstanceOf(StuckError);
      expect(o.error.message).toMatch(/^replica 1: policy vllm is stuck/);
    }
    expect(cpuRun({ memory: 20, requests, label: '' }, 'vllm', 'rounds')).toEqual({ ok: false, kind: 'stuck' });
  });

  it('reports livelock as LivelockError when the CPU engine does', async () => {
    // α-clearing with β = 0.9 clears to 4 tokens; a request that needs more loops forever.
    const requests = [
      { id: 0, arrival: 0, prompt: 3, output: 30, predicted: 30 },
      { id: 1, arrival: 0, prompt: 3, output: 30, predicted: 30 },
    ];
    const inst = { memory: 40, requests, label: 'livelock' };
    const cpu = cpuRun(inst, 'alpha-clearing:0.1:0.9', 'rounds');
    expect(cpu).toEqual({ ok: false, kind: 'livelock' });
    const [o] = await engine.run([{ requests, memory: 40, policy: 'alpha-clearing:0.1:0.9' }], { mode: 'rounds' });
    expect(o?.ok).toBe(false);
    if (o && !o.ok) {
      expect(o.error).toBeInstanceOf(LivelockError);
      expect(o.error.message).toMatch(/^replica 0: /);
    }
  });

  it('refuses what it cannot simulate exactly, with a clear message', async () => {
    const requests = [{ id: 0, arrival: 0, prompt: 3, output: 3, predicted: 3 }];
    await expect(
      engine.run([{ requests, memory: 100_000, policy: 'mcsf' }], { mode: 'seconds', costModel: a100Llama2_70bTp2 }),
    ).rejects.toThrow(/M ≤ 65535/);
    await expect(
      engine.run([{ requests, memory: 10, policy: 'mcsf' }], {
        mode: 'seconds',
        costModel: { name: 'tiny', roundMicros: () => 5 },
      }),
    ).rejects.toThrow(/WGSL port of the a100-llama2-70b-tp2 cost model only/);
    await expect(engine.run([{ requests, memory: 5, policy: 'mcsf' }], { mode: 'rounds' })).rejects.toThrow(
      /exceeds M = 5/,
    );
    await expect(engine.run([{ requests, memory: 50, policy: 'nope' }], { mode: 'rounds' })).rejects.toThrow(
      /unknown policy/,
    );
  });

  it('takes typed policy configs as well as spellings (results labelled with the formatted config)', async () => {
    const inst = randomInstance(31, 'small', 'rounds');
    const specs = ['alpha-clearing:0.10:0.2', 'vllm:64', 'mcsf'];
    const bySpec = await engine.run(
      specs.map((policy) => ({ requests: inst.requests, memory: inst.memory, policy })),
      { mode: 'rounds' },
    );
    const byConfig = await engine.run(
      specs.map((s) => ({ requests: inst.requests, memory: inst.memory, policy: parsePolicySpec(s) })),
      { mode: 'rounds' },
    );
    const label = (o: GpuOutcome): string | undefined =>
      o.ok ? o.result.policy : /policy (\S+)/.exec(o.error.message)?.[1];
    expect(byConfig.map(label)).toEqual(['alpha-clearing:0.1:0.2', 'vllm:64', 'mcsf']);
    expect(bySpec.map(label)).toEqual(specs);
    byConfig.forEach((o, i) => {
      const want = bySpec[i]!;
      if (o.ok && want.ok) expect({ ...o.result, policy: want.result.policy }).toEqual(want.result);
      else expect([o.ok, o.ok ? '' : o.kind]).toEqual([want.ok, want.ok ? '' : want.kind]);
    });
  });

  it('names the file and line of a WGSL compile error', async () => {
    const { parts, code } = await loadEngineShader();
    const layout = code
      .split('\n')
      .slice(0, (parts[1]?.firstLine ?? 1) - 1)
      .join('\n');
    const broken = joinWgsl([
      ['engine/layout', layout],
      ['engine/scheduler', 'fn ok() {}\nfn broken( {}\n'],
    ]);
    await expect(GpuEngine.create(session, broken)).rejects.toThrow(
      /^scheduler\.wgsl failed to compile: engine\/scheduler\.wgsl:2:/,
    );
  });

  it('surfaces a lost device as a GpuEngineError naming the replicas', async () => {
    const session = await openNodeSession();
    const e2 = await GpuEngine.create(session, await loadEngineShader(), 8);
    session.device.destroy();
    const inst = randomInstance(1, 'small', 'rounds');
    const replicas = [0, 1, 2].map(() => ({ requests: inst.requests, memory: inst.memory, policy: 'mcsf' }));
    await expect(e2.run(replicas, { mode: 'rounds' })).rejects.toThrow(GpuEngineError);
    await expect(e2.run(replicas, { mode: 'rounds' })).rejects.toThrow(
      /^GPU engine failed while simulating replicas 0\.\.2: (.*: )?the GPU device was lost/,
    );
  }, 60_000);
});
