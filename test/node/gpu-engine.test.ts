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
  CHUNKED_SMALL_POLICIES,
  compareOutcomes,
  cpuRun,
  differential,
  DIFF_POLICIES,
  randomInstance,
  rng,
  servingInstance,
  SERVING_POLICIES,
  type DiffInstance,
} from './helpers/gpu-engine-diff.ts';
import { reqs } from './helpers/instances.ts';

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
/** Of those, the first 60 also under the chunked-prefill policies: 60 × 4 × 2 = 480 cases. */
const SMALL_CHUNKED = Math.min(SMALL, 60);

describe('GPU engine ≡ CPU engine', () => {
  for (const mode of ['rounds', 'seconds'] as const) {
    it(`small random instances, every policy, ${mode} mode`, async () => {
      const insts = Array.from({ length: SMALL }, (_, i) => randomInstance(100 + i, 'small', mode));
      const rep = await differential(engine, insts, DIFF_POLICIES, mode);
      expect(rep.failures).toEqual([]);
      expect(rep.cases).toBe(SMALL * DIFF_POLICIES.length);
      expect(rep.restarts).toBeGreaterThan(0);
    }, 1_200_000);

    it(`small random instances, chunked prefill (sarathi, mcsf-budget), ${mode} mode`, async () => {
      const insts = Array.from({ length: SMALL_CHUNKED }, (_, i) => randomInstance(100 + i, 'small', mode));
      const rep = await differential(engine, insts, CHUNKED_SMALL_POLICIES, mode);
      expect(rep.failures).toEqual([]);
      expect(rep.cases).toBe(SMALL_CHUNKED * CHUNKED_SMALL_POLICIES.length);
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
    const serving = ['sarathi', 'sarathi:256:16', 'mcsf-budget', 'mcsf-budget:128', 'orca', 'orca:8'];
    const rep = await differential(engine, [inst], [...DIFF_POLICIES, ...serving], 'seconds');
    expect(rep.failures).toEqual([]);
  }, 240_000);

  for (const mode of ['rounds', 'seconds'] as const) {
    it(`LMSYS-like random instances, the serving policies (sarathi, mcsf-budget, orca), ${mode} mode`, async () => {
      const insts = Array.from({ length: 10 }, (_, i) => servingInstance(40 + i, mode));
      const rep = await differential(engine, insts, SERVING_POLICIES, mode);
      expect(rep.failures).toEqual([]);
      expect(rep.cases).toBe(10 * SERVING_POLICIES.length);
      expect(rep.restarts).toBeGreaterThan(0);
    }, 240_000);
  }

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

/**
 * The hand-derived instances of serving-policies.test.ts (their schedules are derived there
 * from Vidur's code), each under its policy, as one GPU job per mode.
 */
const HAND: readonly { readonly policy: string; readonly inst: DiffInstance; readonly covers: string }[] = [
  {
    covers: 'chunk boundaries and a mixed round (prefill chunk beside a decode)',
    policy: 'sarathi:8',
    inst: {
      memory: 64,
      requests: reqs([
        [0, 20, 3],
        [0, 5, 2],
      ]),
      label: 'sarathi chunks',
    },
  },
  {
    covers: 'preemption of a partly prefilled request (twice), restarted with its whole prompt',
    policy: 'sarathi:4',
    inst: {
      memory: 64,
      requests: reqs([
        [0, 16, 4],
        [0, 32, 1],
      ]),
      label: 'sarathi preempt',
    },
  },
  {
    covers: 'the watermark keeps a 50-block prompt waiting',
    policy: 'sarathi:2048',
    inst: {
      memory: 1600,
      requests: reqs([
        [0, 800, 2],
        [0, 785, 1],
      ]),
      label: 'sarathi watermark late',
    },
  },
  {
    covers: 'the watermark lets a 49-block prompt in',
    policy: 'sarathi:2048',
    inst: {
      memory: 1600,
      requests: reqs([
        [0, 800, 2],
        [0, 784, 1],
      ]),
      label: 'sarathi watermark early',
    },
  },
  {
    covers: 'a prompt that can never leave the watermark: stuck',
    policy: 'sarathi',
    inst: { memory: 1600, requests: reqs([[0, 1585, 1]]), label: 'sarathi stuck' },
  },
  {
    covers: "Sarathi's maxBatch",
    policy: 'sarathi:512:2',
    inst: {
      memory: 64,
      requests: reqs([
        [0, 4, 1],
        [0, 4, 1],
        [0, 4, 1],
      ]),
      label: 'sarathi cap',
    },
  },
  {
    covers: "Orca's batch cap, reservation and mixed rounds",
    policy: 'orca:2:32',
    inst: {
      memory: 96,
      requests: reqs([
        [0, 4, 3],
        [0, 4, 1],
        [0, 8, 2],
        [1, 4, 1],
      ]),
      label: 'orca cap',
    },
  },
  {
    covers: "Orca's slots: admits only while a full reservation fits",
    policy: 'orca:128:32',
    inst: {
      memory: 64,
      requests: reqs([
        [0, 4, 2],
        [0, 4, 2],
        [0, 4, 1],
      ]),
      label: 'orca slots',
    },
  },
  {
    covers: 'a reservation above M: stuck',
    policy: 'orca',
    inst: { memory: 64, requests: reqs([[0, 4, 2]]), label: 'orca stuck' },
  },
  {
    covers: 'mcsf-budget: shortest first, chunks, KV of a prefilling request',
    policy: 'mcsf-budget:4',
    inst: {
      memory: 40,
      requests: reqs([
        [0, 6, 2],
        [0, 3, 1],
      ]),
      label: 'budget chunks',
    },
  },
  {
    covers: 'mcsf-budget: admission only while budget is left, stops at the first infeasible',
    policy: 'mcsf-budget:2',
    inst: {
      memory: 10,
      requests: reqs([
        [0, 4, 6],
        [0, 5, 1],
        [0, 1, 1],
      ]),
      label: 'budget stop',
    },
  },
];

describe('serving policies on the GPU engine: hand-made instances', () => {
  for (const mode of ['rounds', 'seconds'] as const) {
    it(`each hand-derived instance equals the CPU engine, ${mode} mode`, async () => {
      const out = await engine.run(
        HAND.map(({ policy, inst }) => ({ requests: inst.requests, memory: inst.memory, policy })),
        { mode, costModel: a100Llama2_70bTp2 },
      );
      const failures = HAND.flatMap(({ policy, inst, covers }, i) =>
        compareOutcomes(cpuRun(inst, policy, mode), out[i]!).map((d) => `${policy} (${covers}): ${d}`),
      );
      expect(failures).toEqual([]);
      // The cases the instances were made for happen on the GPU too.
      const at = (i: number) => {
        const o = out[i]!;
        if (!o.ok) throw o.error;
        return [...o.result.requests].map((q) => [q.id, q.start, q.firstToken, q.completion, q.restarts]);
      };
      if (mode === 'rounds') {
        expect(at(0)).toEqual([
          [0, 0, 3, 5, 0],
          [1, 2, 4, 5, 0],
        ]);
        expect(at(1)).toEqual([
          [0, 0, 4, 7, 0],
          [1, 6, 15, 15, 2],
        ]);
        expect(at(2).map((r) => r[1])).toEqual([0, 2]);
        expect(at(3).map((r) => r[1])).toEqual([0, 0]);
      }
      expect(out[4]).toMatchObject({ ok: false, kind: 'stuck' });
      expect(out[8]).toMatchObject({ ok: false, kind: 'stuck' });
    });
  }

  it('a Sarathi run longer than the livelock watchdog without a completion ends stuck, as on the CPU', async () => {
    // M = 58 (3 blocks): request 0 (s3, o52) outgrows the memory; with 2 tokens a round
    // the re-prefills after each preemption take > 4·M + 64 rounds without a completion
    // before the queue's head can never be admitted again. The kernel's watchdog used to
    // call this a livelock; Sarathi cannot livelock (its preemptions keep the tokens).
    const inst = randomInstance(103, 'small', 'rounds');
    expect(cpuRun(inst, 'sarathi:2:3', 'rounds')).toEqual({ ok: false, kind: 'stuck' });
    const [o] = await engine.run([{ requests: inst.requests, memory: inst.memory, policy: 'sarathi:2:3' }], {
      mode: 'rounds',
    });
    expect(o).toMatchObject({ ok: false, kind: 'stuck' });
  });

  it('refuses what its u32 arithmetic or Orca cannot take, with the CPU policy message', async () => {
    const requests = reqs([[0, 10, 7]]);
    await expect(engine.run([{ requests, memory: 64, policy: 'orca:128:16' }], { mode: 'rounds' })).rejects.toThrow(
      /^request 0: s \+ o = 17 exceeds the 16 tokens orca:128:16 reserves per request/,
    );
    await expect(
      engine.run([{ requests, memory: 65535, policy: 'sarathi:40000' }], {
        mode: 'seconds',
        costModel: a100Llama2_70bTp2,
      }),
    ).rejects.toThrow(/sarathi:40000's chunk × 2M = 5242800000 ≥ 2\^32/);
    // Rounds mode without a cost model sums no squares: the same budget runs.
    const [o] = await engine.run([{ requests, memory: 65535, policy: 'sarathi:40000' }], { mode: 'rounds' });
    expect(o?.ok).toBe(true);
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
