/**
 * Seconds mode (model.md §7, types.ts, engine.ts): timestamps are integer µs, a round lasts
 * costModel.roundMicros(batch) µs, requests become eligible at the first round starting at or
 * after their arrival, and with nothing to run the clock jumps to the next arrival. The
 * look-ahead of MC-SF still plans in rounds (executed rounds, idle gaps not counted).
 * `tinyCost`: 100 µs + 10 µs per new prompt token + 1 µs per KV token attended by a decode.
 */
import { describe, expect, it } from 'vitest';
import { a100Llama2_70bTp2 } from '../../src/cost/a100.ts';
import { getCostModel } from '../../src/cost/registry.ts';
import type { PowerModel } from '../../src/cost/energy.ts';
import { simulate } from '../../src/engine/engine.ts';
import { emptyBatchStats, type BatchStats, type CostModel } from '../../src/model/types.ts';
import { createPolicy } from '../../src/policies/registry.ts';
import { lmsys } from '../../src/workload/generators.ts';
import { checkInvariants } from './helpers/invariants.ts';
import { col, reqs, run, schedule, tinyCost, type Instance } from './helpers/instances.ts';
import { referencePaper, referenceVllm } from './helpers/reference.ts';

const power: PowerModel = { name: 'test', gpus: 2, activeWattsPerGpu: 400, idleWattsPerGpu: 60 }; // 800 W / 120 W

describe('seconds mode with a hand-computable cost model', () => {
  // M = 20, MC-SF. A (0: a0 µs, s2, o3), B (1: a50 µs, s3, o2), C (2: a10 000 µs, s1, o1).
  // Round 0 [0, 120): only A has arrived. Prefill 2 → 100 + 20 = 120 µs.
  // Round 1 [120, 254): B arrived mid-round 0 (50 ≤ 120) → eligible now. Look-ahead in round
  //   indices: A (p 0, ends 2) holds 4, 5 at rounds 1, 2; B (p 1, ends 2) 4, 5 → ≤ 20 → starts.
  //   A decodes (context 4), B prefills 3 → 100 + 30 + 4 = 134 µs.
  // Round 2 [254, 364): both decode (5 + 5) → 110 µs. Both complete at 364.
  // Idle until C arrives at 10 000. Round 3 [10 000, 10 110): C prefill 1 → 110 µs.
  const inst: Instance = {
    memory: 20,
    requests: reqs([
      [0, 2, 3],
      [50, 3, 2],
      [10_000, 1, 1],
    ]),
  };

  it('round durations come from the cost model; mid-round arrivals wait for the next round; idle jumps', () => {
    const res = run('mcsf', inst, 'seconds', { costModel: tinyCost, power });
    expect(res.mode).toBe('seconds');
    expect(res.costModel).toBe('tiny');
    expect(schedule(res)).toEqual([
      { id: 0, start: 0, firstToken: 120, completion: 364, restarts: 0 },
      { id: 1, start: 120, firstToken: 254, completion: 364, restarts: 0 },
      { id: 2, start: 10_000, firstToken: 10_110, completion: 10_110, restarts: 0 },
    ]);
    expect(col(res, 'round')).toEqual([0, 1, 2, 3]);
    expect(col(res, 'start')).toEqual([0, 120, 254, 10_000]);
    expect(col(res, 'duration')).toEqual([120, 134, 110, 110]);
    expect(col(res, 'kv')).toEqual([3, 8, 10, 2]);
    expect(col(res, 'prefillTokens')).toEqual([2, 3, 0, 1]);
    expect(col(res, 'decodeRequests')).toEqual([0, 1, 2, 0]);
    expect(res.totals).toMatchObject({
      rounds: 4,
      busy: 474,
      end: 10_110,
      peakKv: 10,
      kvTime: 3 * 120 + 8 * 134 + 10 * 110 + 2 * 110,
    });
    checkInvariants(res, inst, 'mcsf', true);
  });

  it('energy: active power over rounds, idle power over the gap, round energy split by tokens processed', () => {
    const res = run('mcsf', inst, 'seconds', { costModel: tinyCost, power });
    expect(res.totals.activeJoules).toBeCloseTo((800 * 474) / 1e6, 12);
    expect(res.totals.idleJoules).toBeCloseTo((120 * (10_000 - 364)) / 1e6, 12);
    // Round 1 (0.1072 J): A decodes 1 token, B prefills 3 → 1/4 and 3/4. Round 2 (0.088 J): half each.
    const j = [...res.requests].map((r) => r.joules);
    expect(j[0]).toBeCloseTo(0.096 + 0.1072 / 4 + 0.044, 12);
    expect(j[1]).toBeCloseTo((0.1072 * 3) / 4 + 0.044, 12);
    expect(j[2]).toBeCloseTo(0.088, 12);
    expect((j[0] as number) + (j[1] as number) + (j[2] as number)).toBeCloseTo(res.totals.activeJoules, 12);
  });

  it('an arrival exactly at a round start is eligible in that round; one µs later waits a round', () => {
    // A (a0, s2, o3) as above: rounds start at 0, 120, ...
    const at = run(
      'mcsf',
      {
        memory: 20,
        requests: reqs([
          [0, 2, 3],
          [120, 3, 2],
        ]),
      },
      'seconds',
    );
    expect(schedule(at)[1]?.start).toBe(120);
    const after = run(
      'mcsf',
      {
        memory: 20,
        requests: reqs([
          [0, 2, 3],
          [121, 3, 2],
        ]),
      },
      'seconds',
    );
    // Round 1 [120, 100 + 5 = 225): A decodes (context 4) → 104 µs, ends 224; B starts at 224.
    expect(col(after, 'start').slice(0, 3)).toEqual([0, 120, 224]);
    expect(schedule(after)[1]?.start).toBe(224);
  });

  it('the first round waits for the first arrival; idle time before it draws idle power', () => {
    const res = run('mcsf', { memory: 20, requests: reqs([[5000, 1, 2]]) }, 'seconds', { costModel: tinyCost, power });
    // Round [5000, 5110): prefill 1; round [5110, 5213): decode context 3.
    expect(schedule(res)).toEqual([{ id: 0, start: 5000, firstToken: 5110, completion: 5213, restarts: 0 }]);
    expect(res.totals.busy).toBe(213);
    expect(res.totals.idleJoules).toBeCloseTo((120 * 5000) / 1e6, 12);
  });

  it('MC-SF’s look-ahead counts executed rounds, not microseconds or idle gaps', () => {
    // M = 10. L (0: a0, s2, o8) holds 3..10 in rounds 0..7; S (1: a1 µs, s1, o6) is eligible in
    // round 1 but only fits when it starts in round 7 (see the rounds-mode test in policies.test.ts).
    // Here rounds last ~100 µs; the schedule in round indices must be the same as in rounds mode.
    const inst2: Instance = {
      memory: 12,
      requests: reqs([
        [0, 2, 8],
        [1, 1, 6],
      ]),
    };
    const res = run('mcsf', inst2, 'seconds');
    const starts = col(res, 'start');
    expect(schedule(res)[1]?.start).toBe(starts[7]);
    expect(schedule(res)[1]?.completion).toBe(res.totals.end);
    expect(res.totals.rounds).toBe(13);
    checkInvariants(res, inst2, 'mcsf', true);
  });

  it('vLLM recompute: a preempted request re-prefills prompt + generated tokens (cost model sees them)', () => {
    // M = 32, A (s17, o15): every round is a prefill of 17 + g tokens (see policies.test.ts):
    // duration 100 + 10·(17 + g) = 270 + 10g µs for g = 0..14.
    const res = run('vllm', { memory: 32, requests: reqs([[0, 17, 15]]) }, 'seconds');
    const d = Array.from({ length: 15 }, (_, g) => 270 + 10 * g);
    expect(col(res, 'duration')).toEqual(d);
    const total = d.reduce((a, b) => a + b, 0);
    expect(schedule(res)).toEqual([
      { id: 0, start: total - (270 + 140), firstToken: 270, completion: total, restarts: 14 },
    ]);
  });

  it('agrees with the naive references on a mixed instance, for every policy', () => {
    const mixed: Instance = {
      memory: 48,
      requests: reqs([
        [0, 5, 20],
        [10, 3, 30],
        [10, 16, 12],
        [400, 2, 5],
        [900, 4, 40],
        [901, 1, 1],
        [50_000, 3, 9],
      ]),
    };
    for (const p of ['mcsf', 'mc-fcfs', 'alpha-greedy:0.1', 'alpha-clearing:0.1:0.3', 'vllm']) {
      const res = run(p, mixed, 'seconds');
      const ref =
        p === 'vllm' ? referenceVllm(mixed, 'seconds', tinyCost) : referencePaper(mixed, p, 'seconds', tinyCost);
      expect(ref.outcome).toBe('done');
      expect(schedule(res), p).toEqual(ref.requests);
      expect(col(res, 'duration'), p).toEqual(ref.rounds.map((r) => r.duration));
    }
  });
});

describe('seconds mode with the real a100-llama2-70b-tp2 cost model', () => {
  const a100: CostModel = getCostModel('a100-llama2-70b-tp2');

  it('is the registered default model', () => {
    expect(a100).toBe(a100Llama2_70bTp2);
  });

  it('round durations are the model’s µs for each batch', () => {
    // MC-SF, M = 16 492. A (0: a0, s100, o3), B (1: a1 µs, s50, o2).
    // Round 0: A prefills 100. Round 1: B (arrived during round 0) prefills 50, A decodes with
    // 100 + 1 + 1 = 102 tokens of KV. Round 2: both decode: A 103 + B 52 = 155.
    const d0 = a100.roundMicros({
      ...emptyBatchStats(),
      requests: 1,
      prefillRequests: 1,
      prefillTokens: 100,
      prefillSquares: 100 * 100,
    });
    const b1: BatchStats = {
      requests: 2,
      prefillRequests: 1,
      prefillTokens: 50,
      prefillSquares: 2500,
      decodeRequests: 1,
      decodeContext: 102,
    };
    const d1 = a100.roundMicros(b1);
    const d2 = a100.roundMicros({ ...emptyBatchStats(), requests: 2, decodeRequests: 2, decodeContext: 155 });
    const inst: Instance = {
      memory: 16_492,
      requests: reqs([
        [0, 100, 3],
        [1, 50, 2],
      ]),
    };
    const res = simulate(inst.requests, createPolicy('mcsf'), {
      memory: inst.memory,
      mode: 'seconds',
      costModel: a100,
    });
    expect(res.costModel).toBe('a100-llama2-70b-tp2');
    expect(col(res, 'duration')).toEqual([d0, d1, d2]);
    expect(schedule(res)).toEqual([
      { id: 0, start: 0, firstToken: d0, completion: d0 + d1 + d2, restarts: 0 },
      { id: 1, start: d0, firstToken: d0 + d1, completion: d0 + d1 + d2, restarts: 0 },
    ]);
    // model.md §7: a small-batch decode step of Llama-2-70B at TP 2 on A100 is about 50–60 ms.
    expect(d2).toBeGreaterThan(45_000);
    expect(d2).toBeLessThan(65_000);
    checkInvariants(res, inst, 'mcsf', true);
  });

  it('an LMSYS-like stream at 10 req/s: every paper policy satisfies the invariants', () => {
    const w = lmsys({ seed: 3, requests: 150, rate: 10, mode: 'seconds' });
    for (const p of ['mcsf', 'mc-fcfs', 'alpha-greedy:0.1', 'vllm']) {
      const res = simulate(w.requests, createPolicy(p), { memory: w.memory, mode: 'seconds', costModel: a100 });
      checkInvariants(res, w, p, true);
      const ref = p === 'vllm' ? referenceVllm(w, 'seconds', a100) : null;
      if (ref) expect(schedule(res)).toEqual(ref.requests);
    }
  });
});
