/**
 * Hand-worked small instances, one or more per policy. Every expected schedule below is
 * derived by hand from docs/model.md §1/§3 (and, for vLLM, from the Vidur code that
 * src/policies/vllm.ts cites); the derivation is in the comments.
 * Notation: request (id: a, s, o[, õ]); "holds" = KV tokens held in a round (s + k in its
 * k-th round).
 */
import { describe, expect, it } from 'vitest';
import { LivelockError, StuckError } from '../../src/engine/engine.ts';
import { createPolicy, PAPER_POLICIES, parsePolicyList } from '../../src/policies/registry.ts';
import { checkInvariants } from './helpers/invariants.ts';
import { col, reqs, run, schedule, type Instance } from './helpers/instances.ts';
import { referencePaper, referenceVllm, vllmConfig } from './helpers/reference.ts';

type Row = [id: number, start: number, firstToken: number, completion: number, restarts: number];
const rows = (rs: Row[]) =>
  rs.map(([id, start, firstToken, completion, restarts]) => ({ id, start, firstToken, completion, restarts }));

/** Run, check the invariants and that the naive references agree, return the result. */
function runChecked(policy: string, inst: Instance, exact = true) {
  const res = run(policy, inst);
  checkInvariants(res, inst, policy, exact);
  const ref = policy.startsWith('vllm')
    ? referenceVllm(inst, 'rounds', undefined, vllmConfig(policy))
    : referencePaper(inst, policy, 'rounds');
  expect(ref.outcome).toBe('done');
  expect(schedule(res)).toEqual(ref.requests);
  return res;
}

describe('MC-SF vs MC-FCFS (M = 10)', () => {
  // A (0: a0, s4, o6) holds 5..10 in its 6 rounds; B (1: a0, s5, o1) holds 6; C (2: a0, s1, o1) holds 2.
  const inst: Instance = {
    memory: 10,
    requests: reqs([
      [0, 4, 6],
      [0, 5, 1],
      [0, 1, 1],
    ]),
  };

  it('MC-SF runs the two short requests first, then A', () => {
    // t0: order by õ: B(1), C(1), A(6). B: 6 ≤ 10; B+C: 8; B+C+A at τ0: 13 > 10 → stop.
    // t1: A alone: 5..10 at τ = 1..6 → fits. A runs 1..6, completes 7.
    const res = runChecked('mcsf', inst);
    expect(schedule(res)).toEqual(
      rows([
        [0, 1, 2, 7, 0],
        [1, 0, 1, 1, 0],
        [2, 0, 1, 1, 0],
      ]),
    );
    expect(col(res, 'kv')).toEqual([8, 5, 6, 7, 8, 9, 10]);
    expect(col(res, 'batch')).toEqual([2, 1, 1, 1, 1, 1, 1]);
    expect(res.totals.evictions).toBe(0);
  });

  it('MC-FCFS admits A, then stops at B and does not skip to C', () => {
    // t0: A: fits (peak 10 at τ5). A+B at τ0: 5 + 6 = 11 > 10 → stop; C (A+C = 7 would fit)
    // is not tried. t1..t5: A holds 6..10, A+B never fits. t6: A done; B+C = 8 → both.
    const res = runChecked('mc-fcfs', inst);
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 1, 6, 0],
        [1, 6, 7, 7, 0],
        [2, 6, 7, 7, 0],
      ]),
    );
    expect(col(res, 'kv')).toEqual([5, 6, 7, 8, 9, 10, 8]);
    const latency = (r: ReturnType<typeof run>) => [...r.requests].reduce((a, q) => a + q.completion - q.arrival, 0);
    expect(latency(run('mcsf', inst))).toBe(9);
    expect(latency(res)).toBe(20);
  });
});

describe('MC-SF', () => {
  it('stops at the first infeasible candidate (does not skip a later one that would fit)', () => {
    // M = 10. R (0: a0, s3, o4) holds 4,5,6,7 in rounds 0..3. P (1: a1, s5, o1), Q (2: a1, s1, o2).
    // t1: order P(õ1), Q(õ2). R+P at τ1: 5 + 6 = 11 → stop. (R+Q would fit: 7 at τ1, 9 at τ2.)
    // t2: 6 + 6 = 12; t3: 7 + 6 = 13 → stop. t4: R done; P+Q: 6 + 2 = 8 at τ4, 3 at τ5.
    const inst: Instance = {
      memory: 10,
      requests: reqs([
        [0, 3, 4],
        [1, 5, 1],
        [1, 1, 2],
      ]),
    };
    const res = runChecked('mcsf', inst);
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 1, 4, 0],
        [1, 4, 5, 5, 0],
        [2, 4, 5, 6, 0],
      ]),
    );
    expect(col(res, 'kv')).toEqual([4, 5, 6, 7, 8, 3]);
    expect(col(res, 'waiting')).toEqual([0, 2, 2, 2, 0, 0]);
  });

  it('checks future rounds: a candidate that fits now but not at a running request’s end waits', () => {
    // M = 12. L (0: a0, s2, o8) holds 3..10 in rounds 0..7. S (1: a2, s1, o6): at t2 it
    // holds 2 → 5+2 = 7 now, but at τ7 (L's end) L holds 10 and S holds 7 → 17 > 12.
    // The earliest start p with (S at τ7: 1 + 7 − p + 1 ≤ 2) is p = 7; but at τ = p … p+5
    // also L (ends τ7): p = 7: τ7 10 + 2 = 12 ≤ 12 → fits. S runs 7..12, completes 13.
    const inst: Instance = {
      memory: 12,
      requests: reqs([
        [0, 2, 8],
        [2, 1, 6],
      ]),
    };
    const res = runChecked('mcsf', inst);
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 1, 8, 0],
        [1, 7, 8, 13, 0],
      ]),
    );
    expect(res.totals.peakKv).toBe(12);
  });

  it('outlive rule: an under-predicted running request keeps being counted (view := generated + 1)', () => {
    // M = 10. A (0: a0, s1, o5, õ2); B (1: a1, s3, o2, õ2); C (2: a2, s1, o1, õ1).
    // t0: A (planned 2). t1: A ends τ1 (holds 3) + B (4 at τ1, 5 at τ2) → fits; B starts.
    // t2: A has generated 2 ≥ view 2 → view 3, end τ2, holds 4; B holds 5; C: 4+5+2 = 11 > 10 → waits.
    //     (Without the rule A would be invisible at τ2 and C would start, holding 11 > M.)
    // t3: B done at 3. A holds 5 (view 4); A + C = 7 → C starts, completes 4. A completes 5.
    const inst: Instance = {
      memory: 10,
      requests: reqs([
        [0, 1, 5, 2],
        [1, 3, 2, 2],
        [2, 1, 1, 1],
      ]),
    };
    const res = runChecked('mcsf', inst, false);
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 1, 5, 0],
        [1, 1, 2, 3, 0],
        [2, 3, 4, 4, 0],
      ]),
    );
    expect(col(res, 'kv')).toEqual([2, 7, 9, 7, 6]);
    expect(res.totals.evictions).toBe(0);
  });

  it('plans with õ capped at M − s (an over-prediction above M does not block forever)', () => {
    // M = 10. A (0: a0, s2, o3, õ100) plans 8 rounds (peak 10 at τ7) → B (1: a0, s2, o3, õ100)
    // does not fit beside it; A runs 0..2, B starts at 3 in an empty system.
    const inst: Instance = {
      memory: 10,
      requests: reqs([
        [0, 2, 3, 100],
        [0, 2, 3, 100],
      ]),
    };
    const res = runChecked('mcsf', inst, false);
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 1, 3, 0],
        [1, 3, 4, 6, 0],
      ]),
    );
  });

  it('under-prediction can overflow: the overflow rule evicts the newest start', () => {
    // M = 10. A (0: a0, s1, o6, õ1), B (1: a0, s1, o6, õ1). t0: both fit (2 + 2).
    // Both outlive õ = 1 (view := generated + 1: "ends now") and keep growing:
    // t1 3+3, t2 4+4, t3 5+5 = 10, t4 6+6 = 12 > 10 → evict B (same start, larger id) → 6.
    // Look-ahead at t4: A ends τ4 (6) + B (planned 1) 2 = 8 ≤ 10 → B restarts at 4.
    // t5: A 7 + B 3 = 10; A completes 6. B holds 4, 5, 6, 7 in t6..t9, completes 10.
    const inst: Instance = {
      memory: 10,
      requests: reqs([
        [0, 1, 6, 1],
        [0, 1, 6, 1],
      ]),
    };
    const res = runChecked('mcsf', inst, false);
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 1, 6, 0],
        [1, 4, 1, 10, 1],
      ]),
    );
    expect(res.totals.evictions).toBe(1);
    expect(col(res, 'kv')).toEqual([4, 6, 8, 10, 8, 10, 4, 5, 6, 7]);
  });
});

describe('α-greedy', () => {
  // M = 10. A (0: a0, s1, o5), B (1: a0, s1, o5): each holds 2..6 in its 5 rounds.
  const inst: Instance = {
    memory: 10,
    requests: reqs([
      [0, 1, 5],
      [0, 1, 5],
    ]),
  };

  it('overflows and evicts the newest start (tie: larger id), which is readmitted in the same round', () => {
    // α = 0: limit 10. t0: A (2), B (4) admitted. t1 6, t2 8, t3 10, t4 12 > 10 → evict B
    // (both started at 0, larger id first) → 6. Admission: B 6 + 2 = 8 ≤ 10 → B restarts at 4.
    // A completes 5; B runs 4..8, completes 9; its first token was at 1 (first attempt).
    const res = runChecked('alpha-greedy:0', inst);
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 1, 5, 0],
        [1, 4, 1, 9, 1],
      ]),
    );
    expect(col(res, 'kv')).toEqual([4, 6, 8, 10, 8, 3, 4, 5, 6]);
    expect(col(res, 'evicted')).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(col(res, 'admitted')).toEqual([2, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(res.totals.tokensGenerated).toBe(14); // 10 output + 4 lost
    expect(res.totals.evictions).toBe(1);
  });

  it('α limits admission but not the overflow rule: α = 0.2 → same; α = 0.3 → B waits for A', () => {
    // α = 0.2: limit 8. t0: 2, 4 ≤ 8. t4: evict B (12 > M), readmit: 6 + 2 = 8 ≤ 8 → same as α = 0.
    expect(schedule(runChecked('alpha-greedy:0.2', inst))).toEqual(
      rows([
        [0, 0, 1, 5, 0],
        [1, 4, 1, 9, 1],
      ]),
    );
    // α = 0.3: limit 7. t4: 6 + 2 = 8 > 7 → B stays out; A completes 5; B starts 5, completes 10.
    const res = runChecked('alpha-greedy:0.3', inst);
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 1, 5, 0],
        [1, 5, 1, 10, 1],
      ]),
    );
    expect(col(res, 'kv')).toEqual([4, 6, 8, 10, 6, 2, 3, 4, 5, 6]);
  });

  it('admission stops at the first request that does not fit (no skipping)', () => {
    // M = 10, α = 0.4: limit 6. A (0: a0, s3, o1) → 4; B (1: a0, s3, o1) → 8 > 6 stop;
    // C (2: a0, s1, o1) would fit (6) but is not tried. t1: B (4), C (6) both fit.
    const res = runChecked('alpha-greedy:0.4', {
      memory: 10,
      requests: reqs([
        [0, 3, 1],
        [0, 3, 1],
        [0, 1, 1],
      ]),
    });
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 1, 1, 0],
        [1, 1, 2, 2, 0],
        [2, 1, 2, 2, 0],
      ]),
    );
  });

  it('evicts by newest START first, even when that request has the smaller id', () => {
    // Ids need not follow arrival across different arrivals. M = 10, α = 0.
    // P (id 0: a2, s3, o3) and Q (id 1: a0, s1, o6) — listed in arrival order: Q then P.
    // t0: Q (2). t1: 3. t2: Q 4 + P 4 = 8 → P starts at 2. t3: 5 + 5 = 10.
    // t4: 6 + 6 = 12 → evict P (newest start 2, although id 0 < 1) → 6; P readmitted: 6 + 4 = 10.
    // t5: Q 7 + P 5 = 12 → evict P (start 4) → 7; 7 + 4 = 11 > 10 → P waits. Q completes 6.
    // t6: P starts, runs 6..8, completes 9 (2 restarts).
    const inst: Instance = {
      memory: 10,
      requests: [
        { id: 1, arrival: 0, prompt: 1, output: 6, predicted: 6 },
        { id: 0, arrival: 2, prompt: 3, output: 3, predicted: 3 },
      ],
    };
    const res = runChecked('alpha-greedy:0', inst);
    expect(schedule(res)).toEqual(
      rows([
        [0, 6, 3, 9, 2],
        [1, 0, 1, 6, 0],
      ]),
    );
    expect(col(res, 'kv')).toEqual([2, 3, 8, 10, 10, 7, 4, 5, 6]);
    expect(col(res, 'evicted')).toEqual([0, 0, 0, 0, 1, 1, 0, 0, 0]);
  });
});

describe('α-clearing', () => {
  it('clears down to (1−β)·M on overflow, evicting newest first', () => {
    // M = 10, α = 0.5 (limit 5), β = 0.5 (target 5). A (0: a0, s1, o6), B (1: a1, s1, o4).
    // t0: A (2). t1: A 3 + B 2 = 5 ≤ 5 → B. t2: 4+3 = 7. t3: 5+4 = 9.
    // t4: 6+5 = 11 > 10 → evict B (newest) → 6 > 5 → evict A → 0. Admission FCFS: A (2), B (4) ≤ 5.
    // Both restart at 4: B completes 8, A completes 10.
    const inst: Instance = {
      memory: 10,
      requests: reqs([
        [0, 1, 6],
        [1, 1, 4],
      ]),
    };
    const res = runChecked('alpha-clearing:0.5:0.5', inst);
    expect(schedule(res)).toEqual(
      rows([
        [0, 4, 1, 10, 1],
        [1, 4, 2, 8, 1],
      ]),
    );
    expect(col(res, 'kv')).toEqual([2, 5, 7, 9, 4, 6, 8, 10, 6, 7]);
    expect(col(res, 'evicted')).toEqual([0, 0, 0, 0, 2, 0, 0, 0, 0, 0]);
    expect(res.totals.tokensGenerated).toBe(17);
    // α-greedy with the same α evicts only down to M: just B.
    const greedy = runChecked('alpha-greedy:0.5', inst);
    expect(greedy.totals.evictions).toBe(1);
  });

  it('can livelock: the engine raises LivelockError', () => {
    // M = 10, α = 0, β = 0.5. A, B (a0, s1, o5): at t4 they hold 12 → both evicted (6 > 5),
    // both readmitted at once (2 + 2 ≤ 10), and the same happens every 4 rounds forever.
    const inst: Instance = {
      memory: 10,
      requests: reqs([
        [0, 1, 5],
        [0, 1, 5],
      ]),
    };
    expect(() => run('alpha-clearing:0:0.5', inst)).toThrow(LivelockError);
    expect(() => run('alpha-clearing:0:0.5', inst)).toThrow(/livelock/);
    expect(referencePaper(inst, 'alpha-clearing:0:0.5', 'rounds').outcome).toBe('livelock');
  });
});

describe('vLLM (16-token blocks)', () => {
  it('preempts the latest arrival when no block is free; the victim recomputes at the front of the queue', () => {
    // M = 64: 4 blocks, watermark int(0.01·4) = 0. A (0: a0, s16, o6), B (1: a0, s16, o6),
    // C (2: a2, s40, o1). Blocks needed for s + g processed tokens: ceil((s+g)/16).
    // t0: prefill round [A, B]: 1 block each (16 tokens) → 2 allocated; each gets token 1.
    // t1: decode [A, B]: 17 > 16 → each takes a 2nd block → 4 allocated (kv 64).
    // t2: C (3 blocks) cannot be admitted. Decode: before A, Vidur needs ≥ 1 free block even
    //     though A needs none → preempt the latest arrival not yet scheduled: B (keeps g = 2,
    //     front of the queue: [B, C]). A decodes (18 ≤ 32). kv 32.
    // t3: B re-prefills 16 + 2 = 18 tokens: 2 blocks, 4 − 2 − 2 = 0 ≥ watermark → admitted;
    //     C needs 3 → stop. Prefill round [B] (A waits). kv 64.
    // t4, t6, t8: A decodes, B preempted again; t5, t7: B re-prefills (19, 20 tokens).
    //     A generates its 6th token at t8 → completes 9.
    // t9: B (21 tokens, 2 blocks) admitted, C (3 blocks) does not fit → B alone, completes 10.
    // t10: C prefill (40 tokens, 3 blocks) → completes 11.
    const inst: Instance = {
      memory: 64,
      requests: reqs([
        [0, 16, 6],
        [0, 16, 6],
        [2, 40, 1],
      ]),
    };
    const res = runChecked('vllm', inst);
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 1, 9, 0],
        [1, 9, 1, 10, 4],
        [2, 10, 11, 11, 0],
      ]),
    );
    expect(col(res, 'batch')).toEqual([2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(col(res, 'kv')).toEqual([32, 64, 32, 64, 32, 64, 32, 64, 32, 32, 48]);
    expect(col(res, 'prefillTokens')).toEqual([32, 0, 0, 18, 0, 19, 0, 20, 0, 21, 40]);
    expect(col(res, 'evicted')).toEqual([0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0]);
    expect(res.totals.tokensGenerated).toBe(13); // recompute keeps tokens: Σ o
  });

  it('a request that fills every block preempts itself each decode round and is re-prefilled at once', () => {
    // M = 32: 2 blocks. A (0: a0, s17, o15): prefill 17 tokens → 2 blocks, none free. Every later
    // round: no free block and nobody else to preempt → A preempts itself; the engine asks again at
    // the same time and A is re-admitted (ceil((17+g)/16) = 2 blocks), re-prefilling 17 + g tokens.
    // So every round is a prefill round; A completes at 15 with 14 restarts.
    const inst: Instance = { memory: 32, requests: reqs([[0, 17, 15]]) };
    const res = run('vllm', inst);
    expect(schedule(res)).toEqual(rows([[0, 14, 1, 15, 14]]));
    expect(col(res, 'prefillTokens')).toEqual(Array.from({ length: 15 }, (_, g) => 17 + g));
    expect(col(res, 'kv')).toEqual(new Array(15).fill(32));
    expect(res.totals.evictions).toBe(14);
    expect(res.totals.tokensGenerated).toBe(15);
  });

  it('records the self-preemptions of a retried round in the round table (Σ evicted = evictions)', () => {
    // Same instance: each round from 1 on follows one preemption at the same time.
    const res = run('vllm', { memory: 32, requests: reqs([[0, 17, 15]]) });
    expect(col(res, 'evicted').reduce((a, b) => a + b, 0)).toBe(res.totals.evictions);
  });

  it('admits at most maxBatch requests (vllm:maxTokens:maxBatch) and pads prefill to count × max', () => {
    // maxBatch 2: three 1-token requests (s4, o1), M = 64 → rounds [0, 1], [2].
    const three: Instance = {
      memory: 64,
      requests: reqs([
        [0, 4, 1],
        [0, 4, 1],
        [0, 4, 1],
      ]),
    };
    expect(schedule(runChecked('vllm:4096:2', three)).map((r) => r.start)).toEqual([0, 0, 1]);
    // maxTokens 10: padded prefill 2 × max(4, 7) = 14 > 10 → one at a time; 2 × 4 = 8 fits.
    const pad: Instance = {
      memory: 64,
      requests: reqs([
        [0, 4, 1],
        [0, 7, 1],
        [0, 4, 1],
        [0, 4, 1],
      ]),
    };
    expect(schedule(runChecked('vllm:10', pad)).map((r) => r.start)).toEqual([0, 1, 2, 2]);
  });
});

describe('registry', () => {
  it('builds every paper policy and rejects bad specs', () => {
    for (const p of PAPER_POLICIES) expect(createPolicy(p).spec).toBe(p);
    expect(parsePolicyList('mcsf, vllm')).toEqual(['mcsf', 'vllm']);
    expect(() => createPolicy('nope')).toThrow(/unknown policy/);
    expect(() => createPolicy('mcsf:1')).toThrow(/no parameters/);
    expect(() => createPolicy('alpha-greedy')).toThrow(/α/);
    expect(() => createPolicy('alpha-greedy:1')).toThrow(/< 1/);
    expect(() => createPolicy('alpha-clearing:0.1')).toThrow(/α and β/);
    expect(() => createPolicy('vllm:0')).toThrow(/positive integer/);
    expect(createPolicy('mcsf').lookAhead).toBe(true);
    expect(createPolicy('mc-fcfs').lookAhead).toBe(true);
    expect(createPolicy('alpha-greedy:0.1').lookAhead).toBe(false);
    expect(createPolicy('vllm').lookAhead).toBe(false);
  });

  it('α limits are exact: floor(M·(1−α)) with no floating-point slip', () => {
    // (1 − 0.3)·90 = 63 in decimal but 62.99999999999999 in binary floating point.
    // α = 0.3, M = 90 → limit 63: a request with s = 62 (needs 63 in its first round) starts at once.
    const res = run('alpha-greedy:0.3', { memory: 90, requests: reqs([[0, 62, 1]]) });
    expect(schedule(res)[0]?.start).toBe(0);
    expect(() => run('alpha-greedy:0.3', { memory: 90, requests: reqs([[0, 63, 1]]) })).toThrow(StuckError);
  });
});
