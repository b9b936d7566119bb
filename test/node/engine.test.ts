/**
 * The CPU engine (src/engine/engine.ts): input validation, error cases, time handling in
 * rounds mode, totals, options (keepRounds, progress, abort), streaming and determinism.
 */
import { describe, expect, it } from 'vitest';
import { LivelockError, simulate, StuckError, type Progress } from '../../src/engine/engine.ts';
import type { RequestSpec } from '../../src/model/types.ts';
import type { PowerModel } from '../../src/cost/energy.ts';
import { createPolicy, PAPER_POLICIES } from '../../src/policies/registry.ts';
import { paperSynthetic } from '../../src/workload/generators.ts';
import { checkInvariants } from './helpers/invariants.ts';
import { col, reqs, run, schedule, tables, tinyCost, type Instance } from './helpers/instances.ts';
import { referencePaper } from './helpers/reference.ts';

const ALL_POLICIES = ['mcsf', 'mc-fcfs', 'alpha-greedy:0.1', 'alpha-clearing:0.1:0.1', 'vllm'];

/** Tables of a run, or the error it raised (α-clearing may livelock). */
function outcome(p: string, w: Instance, mode: 'rounds' | 'seconds' = 'rounds'): unknown {
  try {
    return tables(run(p, w, mode));
  } catch (e) {
    return { error: (e as Error).name, message: (e as Error).message };
  }
}

function caught(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, nothing was thrown');
}

describe('input validation', () => {
  it('rejects requests out of arrival order', () => {
    const late: Instance = {
      memory: 20,
      requests: reqs([
        [5, 1, 1],
        [3, 1, 1],
      ]),
    };
    for (const p of ALL_POLICIES)
      expect(() => run(p, late)).toThrow(/arrival order.*request 1 \(arrival 3\) after request 0 \(arrival 5\)/);
  });

  it('rejects equal arrivals out of id order', () => {
    const swapped: RequestSpec[] = [
      { id: 1, arrival: 0, prompt: 1, output: 1, predicted: 1 },
      { id: 0, arrival: 0, prompt: 1, output: 1, predicted: 1 },
    ];
    expect(() => run('mcsf', { memory: 20, requests: swapped })).toThrow(/arrival order/);
  });

  it('rejects s + o > M (peak KV above capacity), naming the request', () => {
    const e = caught(() =>
      run('mcsf', {
        memory: 10,
        requests: reqs([
          [0, 2, 8],
          [0, 3, 8],
        ]),
      }),
    );
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/request 1: peak KV s \+ o = 11 exceeds M = 10/);
    // s + o = M is fine.
    expect(schedule(run('mcsf', { memory: 10, requests: reqs([[0, 2, 8]]) }))[0]?.completion).toBe(8);
  });

  it('rejects non-positive sizes and bad arrivals', () => {
    const bad = (r: Partial<RequestSpec>) => [{ id: 0, arrival: 0, prompt: 1, output: 1, predicted: 1, ...r }];
    expect(() => run('mcsf', { memory: 20, requests: bad({ prompt: 0 }) })).toThrow(/request 0/);
    expect(() => run('mcsf', { memory: 20, requests: bad({ output: 0 }) })).toThrow(/request 0/);
    expect(() => run('mcsf', { memory: 20, requests: bad({ predicted: 0 }) })).toThrow(/request 0/);
    expect(() => run('mcsf', { memory: 20, requests: bad({ arrival: -1 }) })).toThrow(/request 0/);
    expect(() => run('mcsf', { memory: 20, requests: bad({ arrival: 0.5 }) })).toThrow(/request 0/);
  });

  it('rejects a bad memory, seconds mode without a cost model, and a cost model giving non-integer µs', () => {
    const one: Instance = { memory: 20, requests: reqs([[0, 1, 1]]) };
    expect(() => simulate(one.requests, createPolicy('mcsf'), { memory: 1, mode: 'rounds' })).toThrow(RangeError);
    expect(() => simulate(one.requests, createPolicy('mcsf'), { memory: 20.5, mode: 'rounds' })).toThrow(RangeError);
    expect(() => simulate(one.requests, createPolicy('mcsf'), { memory: 20, mode: 'seconds' })).toThrow(/cost model/);
    for (const v of [0, 1.5, -3, NaN]) {
      const cm = { name: 'broken', roundMicros: () => v };
      expect(() => run('mcsf', one, 'seconds', { costModel: cm })).toThrow(/whole microseconds/);
    }
  });

  it('an empty instance runs no round', () => {
    const res = run('mcsf', { memory: 20, requests: [] });
    expect(res.totals).toMatchObject({ rounds: 0, end: 0, busy: 0, tokensGenerated: 0, requests: 0 });
    expect(res.requests.count).toBe(0);
  });
});

describe('StuckError: a request that can never be admitted', () => {
  it('vLLM with a prompt above its 4096 tokens per batch names the request and how to fix it', () => {
    const inst: Instance = { memory: 10_000, requests: reqs([[0, 5000, 10]]) };
    const e = caught(() => run('vllm', inst));
    expect(e).toBeInstanceOf(StuckError);
    expect(e.name).toBe('StuckError');
    expect(e.message).toMatch(/request 0 must prefill 5000 tokens, more than vllm's 4096 tokens per batch/);
    expect(e.message).toMatch(/vllm:<maxTokens>/);
    // The suggested fix works.
    const ok = run('vllm:8192', inst);
    expect(schedule(ok)).toEqual([{ id: 0, start: 0, firstToken: 1, completion: 10, restarts: 0 }]);
  });

  it('vLLM: a prefill that would leave less than the 1 % watermark free is never admitted', () => {
    // M = 1600: 100 blocks, watermark int(0.01·100) = 1. s = 1585 needs 100 blocks.
    const e = caught(() => run('vllm', { memory: 1600, requests: reqs([[0, 1585, 15]]) }));
    expect(e).toBeInstanceOf(StuckError);
    expect(e.message).toMatch(
      /request 0 must prefill 1585 tokens \(100 blocks of 16\) and keep a 1-block watermark free, but M = 1600 tokens gives only 100 blocks/,
    );
  });

  it('vLLM: a request admitted under the watermark can still get stuck when it must recompute past it', () => {
    // s = 1584: 99 blocks, 1 left ≥ watermark → admitted. Round 1: 1585 tokens → takes block 100
    // (the watermark applies to admissions only). Round 2: no free block, nobody else → it
    // preempts itself; its recompute of 1586 tokens needs 100 blocks, which the watermark forbids.
    const e = caught(() => run('vllm', { memory: 1600, requests: reqs([[0, 1584, 16]]) }));
    expect(e).toBeInstanceOf(StuckError);
    expect(e.message).toMatch(/policy vllm is stuck at time 2 with 1 waiting requests/);
    expect(e.message).toMatch(
      /request 0 must prefill 1586 tokens \(100 blocks of 16\) and keep a 1-block watermark free/,
    );
  });

  it('α-greedy: a prompt above the admission limit (1−α)·M, even with later arrivals behind it', () => {
    // M = 20, α = 0.9: limit 2. Request 0 (s = 2) needs 3. Request 1 (s = 1) would fit but is
    // behind it in FCFS order: the engine waits for it to arrive, then gives up.
    const e = caught(() =>
      run('alpha-greedy:0.9', {
        memory: 20,
        requests: reqs([
          [0, 2, 1],
          [5, 1, 1],
        ]),
      }),
    );
    expect(e).toBeInstanceOf(StuckError);
    expect(e.message).toMatch(/policy alpha-greedy:0\.9 is stuck at time 5 with 2 waiting requests/);
    expect(e.message).toMatch(/request 0 needs 3 tokens in its first round/);
  });
});

describe('LivelockError', () => {
  it('fires only after 4M + 64 rounds without a completion while evictions happen', () => {
    const inst: Instance = {
      memory: 10,
      requests: reqs([
        [0, 1, 5],
        [0, 1, 5],
      ]),
    };
    let last: Progress | undefined;
    const e = caught(() =>
      run('alpha-clearing:0:0.5', inst, 'rounds', { progressEvery: 1, onProgress: (p) => (last = p) }),
    );
    expect(e).toBeInstanceOf(LivelockError);
    expect(e.message).toMatch(/policy alpha-clearing:0:0\.5 livelocked/);
    expect(last?.completed).toBe(0);
    expect(last?.round).toBeGreaterThanOrEqual(4 * 10 + 64);
  });

  it('is not raised when a later arrival breaks the eviction cycle (the run completes)', () => {
    // M = 21, α = β = 0.2 (limit = clearing target = 16). Requests 0 (a0, s4, o13) and 1 (a0, s1, o9)
    // evict and restart each other in a cycle with no completion (a true livelock while nothing
    // else arrives), but request 2 (a158, s3, o4) arrives later and breaks it: by model.md the run
    // completes (the naive reference: 0 restarts at 156 and completes 169; 1 runs 169–178;
    // 2 runs 169–173). The watchdog fires at round 148, before request 2 arrives.
    const inst: Instance = {
      memory: 21,
      requests: reqs([
        [0, 4, 13],
        [0, 1, 9],
        [158, 3, 4],
      ]),
    };
    const ref = referencePaper(inst, 'alpha-clearing:0.2:0.2', 'rounds');
    expect(ref.outcome).toBe('done');
    expect(ref.requests.map((r) => [r.id, r.start, r.completion])).toEqual([
      [0, 156, 169],
      [1, 169, 178],
      [2, 169, 173],
    ]);
    const res = run('alpha-clearing:0.2:0.2', inst);
    expect(schedule(res)).toEqual(ref.requests);
    checkInvariants(res, inst, 'alpha-clearing:0.2:0.2', true);
  });

  it('a long run without evictions is not a livelock', () => {
    // One request with o = M − s runs M − s rounds; many in a row keep the watchdog quiet.
    const inst: Instance = { memory: 60, requests: reqs(Array.from({ length: 10 }, () => [0, 1, 59] as const)) };
    const res = run('mcsf', inst);
    expect(res.totals.rounds).toBe(590);
    checkInvariants(res, inst, 'mcsf', true);
  });
});

describe('time in rounds mode', () => {
  it('idles until the next arrival; the round index jumps with it', () => {
    const inst: Instance = {
      memory: 20,
      requests: reqs([
        [5, 1, 2],
        [20, 2, 1],
      ]),
    };
    const res = run('mcsf', inst);
    expect(schedule(res)).toEqual([
      { id: 0, start: 5, firstToken: 6, completion: 7, restarts: 0 },
      { id: 1, start: 20, firstToken: 21, completion: 21, restarts: 0 },
    ]);
    expect(col(res, 'round')).toEqual([5, 6, 20]);
    expect(col(res, 'start')).toEqual([5, 6, 20]);
    expect(res.totals).toMatchObject({ rounds: 3, end: 21, busy: 3, tokensGenerated: 3, peakKv: 3, kvTime: 2 + 3 + 3 });
  });

  it('a request arriving at round t competes in round t (not earlier, not later)', () => {
    // M = 10; A (a0, s1, o3); B (a2, s1, o1) fits beside A at t2 (4 + 2).
    const res = run('mcsf', {
      memory: 10,
      requests: reqs([
        [0, 1, 3],
        [2, 1, 1],
      ]),
    });
    expect(schedule(res)[1]).toMatchObject({ start: 2, completion: 3 });
  });

  it('uses the cost model only for energy: rounds last 1', () => {
    const inst: Instance = {
      memory: 20,
      requests: reqs([
        [0, 2, 2],
        [0, 3, 1],
      ]),
    };
    const power: PowerModel = { name: 'test', gpus: 2, activeWattsPerGpu: 500, idleWattsPerGpu: 50 };
    const res = run('mcsf', inst, 'rounds', { costModel: tinyCost, power });
    // Round 0: prefill 2 + 3 = 5 tokens → 150 µs; round 1: decode A holding 4 → 104 µs.
    expect(res.costModel).toBe('tiny');
    expect(res.totals.busy).toBe(2);
    expect(res.totals.activeJoules).toBeCloseTo((1000 * (150 + 104)) / 1e6, 12);
    expect(res.totals.idleJoules).toBe(0);
    // Round 0 energy split by tokens processed: A 2/5, B 3/5; round 1 all to A.
    const j = [...res.requests].map((r) => r.joules);
    expect(j[0]).toBeCloseTo(0.15 * (2 / 5) + 0.104, 12);
    expect(j[1]).toBeCloseTo(0.15 * (3 / 5), 12);
    // Without a power model no energy is computed.
    expect(run('mcsf', inst).totals.activeJoules).toBe(0);
  });
});

describe('options and outputs', () => {
  // M = 48 (3 vLLM blocks): every request can run under vLLM too.
  const inst = paperSynthetic({ seed: 7, arrivals: 'poisson', mode: 'rounds', memory: 48 });

  it('keepRounds: false drops the round table only', () => {
    const full = run('mcsf', inst);
    const lean = run('mcsf', inst, 'rounds', { keepRounds: false });
    expect(lean.rounds).toBeNull();
    expect(lean.totals).toEqual(full.totals);
    expect([...lean.requests]).toEqual([...full.requests]);
  });

  it('reports progress every progressEvery rounds and at the end', () => {
    const seen: Progress[] = [];
    const res = run('mcsf', inst, 'rounds', { progressEvery: 10, onProgress: (p) => seen.push({ ...p }) });
    expect(seen.length).toBe(Math.floor(res.totals.rounds / 10) + 1);
    const end = seen[seen.length - 1];
    expect(end).toMatchObject({ completed: inst.requests.length, waiting: 0, running: 0, now: res.totals.end });
    for (let i = 1; i < seen.length; i++)
      expect((seen[i] as Progress).completed).toBeGreaterThanOrEqual((seen[i - 1] as Progress).completed);
  });

  it('aborts with an AbortError when the signal is set', () => {
    const signal = { aborted: false };
    const e = caught(() =>
      run('mcsf', inst, 'rounds', {
        signal,
        progressEvery: 5,
        onProgress: (p) => void (p.round >= 5 && (signal.aborted = true)),
      }),
    );
    expect(e.name).toBe('AbortError');
  });

  it('accepts a lazy iterable and gives the same result as an array', () => {
    function* gen(): Generator<RequestSpec> {
      yield* inst.requests;
    }
    for (const p of ALL_POLICIES) {
      let lazy: unknown;
      try {
        lazy = tables(simulate(gen(), createPolicy(p), { memory: inst.memory, mode: 'rounds' }));
      } catch (e) {
        lazy = { error: (e as Error).name, message: (e as Error).message };
      }
      expect(lazy).toEqual(outcome(p, inst));
    }
  });

  it('is deterministic: the same instance twice gives identical tables (or the same error), for every paper policy', () => {
    for (const mode of ['rounds', 'seconds'] as const) {
      const w = paperSynthetic({ seed: 11, arrivals: 'poisson', mode, memory: 48 });
      for (const p of PAPER_POLICIES) {
        const a = outcome(p, w, mode) as { error?: string };
        expect(outcome(p, w, mode)).toEqual(a);
        if (a.error === undefined) checkInvariants(run(p, w, mode), w, p, true);
        else expect([p.split(':')[0], a.error]).toEqual(['alpha-clearing', 'LivelockError']); // see properties.test.ts
      }
    }
  });

  it('the request table is by id and rejects a second completion', () => {
    const res = run('mcsf', { memory: 20, requests: reqs([[0, 1, 2]]) });
    expect(res.requests.has(0)).toBe(true);
    expect(res.requests.has(1)).toBe(false);
    expect(() => res.requests.get(1)).toThrow(/no result/);
    expect(() => res.requests.add(res.requests.get(0))).toThrow(/completed twice/);
  });
});
