/**
 * The lower-bound adversary (src/theory/adversary.ts): its parameters satisfy the
 * inequalities the construction relies on, it reacts to what the policy did, the
 * instance it releases is the one the policy ran, every policy of the line-up is
 * blocked by it, and its closed-form optimum is exact (against brute force here and the
 * exact solver) with a feasible schedule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simulate, type Observation } from '../../src/engine/engine.ts';
import type { Policy } from '../../src/engine/policy.ts';
import type { RequestSpec } from '../../src/model/types.ts';
import { createPolicy, PAPER_POLICIES } from '../../src/policies/registry.ts';
import {
  adversaryInstance,
  adversaryOptimum,
  adversaryParams,
  BlockThenFlood,
  checkParams,
  scheduleCost,
  scheduleRoundUse,
  type AdversaryParams,
} from '../../src/theory/adversary.ts';
import { adversaryPolicySpec, adversaryRow, runRounds } from '../../src/theory/experiments.ts';
import { solveOptimum } from '../../src/theory/optimum.ts';
import { checkSchedule, prepare } from '../../src/theory/problem.ts';

/** Exhaustive optimum of a tiny instance: every start in [a, horizon). */
function bruteForce(memory: number, requests: readonly RequestSpec[], horizon: number): number {
  const n = requests.length;
  const use = new Int32Array(horizon + 64);
  let best = Infinity;
  const rec = (i: number, cost: number): void => {
    if (cost >= best) return;
    if (i === n) {
      best = cost;
      return;
    }
    const q = requests[i] as RequestSpec;
    for (let p = q.arrival; p < horizon; p++) {
      let ok = true;
      for (let k = 0; k < q.output; k++) if ((use[p + k] as number) + q.prompt + k + 1 > memory) ok = false;
      if (!ok) continue;
      for (let k = 0; k < q.output; k++) use[p + k] = (use[p + k] as number) + q.prompt + k + 1;
      rec(i + 1, cost + p + q.output - q.arrival);
      for (let k = 0; k < q.output; k++) use[p + k] = (use[p + k] as number) - q.prompt - k - 1;
    }
  };
  rec(0, 0);
  return best;
}

/** A small hand-sized construction: M = 40, long (28, 8), shorts (10, 1): 28 + 2 + 11 = 41 > 40. */
const small = (shorts: number): AdversaryParams => ({
  memory: 40,
  longPrompt: 28,
  longOutput: 8,
  shortPrompt: 10,
  shorts,
  patience: 200,
});

const obs = (round: number, starts: [number, number][]): Observation => ({
  round,
  now: round,
  starts: new Map(starts),
  completed: 0,
});

describe('adversary parameters', () => {
  it('satisfy the construction for every n', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6000 }), (n) => {
        const p = adversaryParams(n);
        checkParams(p);
        const { memory: M, longPrompt: P, longOutput: L, shortPrompt: s } = p;
        expect(p.shorts).toBe(n - 1);
        expect(M % 16).toBe(0);
        expect(M).toBeGreaterThanOrEqual(2048); // vLLM: ≥ 128 blocks, watermark ≥ 1 block
        expect(P % 16).toBe(0);
        expect(P + 1).toBeLessThanOrEqual(Math.floor(0.75 * M)); // admitted by α-greedy for α ≤ 0.25
        expect(P + 2 + s + 1).toBe(M + 1); // no short fits beside the long request from its 2nd round
        expect(P + L).toBe(M - 32); // vLLM keeps two free blocks: never preempts the long request
        expect(Math.floor(M / (s + 1))).toBeGreaterThanOrEqual(3); // the optimum runs ≥ 3 shorts a round
      }),
    );
  });

  it('rejects parameters where a short fits beside the long request', () => {
    expect(() => checkParams({ ...small(3), shortPrompt: 9 })).toThrow(/fits beside/);
    expect(() => new BlockThenFlood({ ...small(3), longOutput: 13 })).toThrow(/do not fit/);
  });
});

describe('the adaptive source', () => {
  it('releases the long request at round 0, the shorts the round after it started, then nothing', () => {
    const adv = new BlockThenFlood(small(3));
    expect(adv.poll(obs(0, []))?.map((q) => q.id)).toEqual([0]);
    expect(adv.poll(obs(1, []))).toEqual([]); // the policy waits: nothing arrives
    expect(adv.poll(obs(2, []))).toEqual([]);
    const shorts = adv.poll(obs(3, [[0, 2]]));
    expect(shorts?.map((q) => [q.id, q.arrival, q.prompt, q.output])).toEqual([
      [1, 3, 10, 1],
      [2, 3, 10, 1],
      [3, 3, 10, 1],
    ]);
    expect(adv.longStart).toBe(2);
    expect(adv.shortArrival).toBe(3);
    expect(adv.poll(obs(4, [[0, 2]]))).toBeNull();
    expect(adv.released.map((q) => q.id)).toEqual([0, 1, 2, 3]);
  });

  it('gives up after `patience` rounds if the long request never starts', () => {
    const adv = new BlockThenFlood({ ...small(3), patience: 5 });
    adv.poll(obs(0, []));
    for (let r = 1; r < 5; r++) expect(adv.poll(obs(r, []))).toEqual([]);
    expect(adv.poll(obs(5, []))).toBeNull();
    expect(adv.longStart).toBeNull();
    expect(adversaryInstance(adv.params, adv.shortArrival)).toHaveLength(1);
  });
});

describe('every policy of the line-up against the adversary', () => {
  for (const n of [2, 16, 40]) {
    const params = adversaryParams(n);
    for (const spec0 of PAPER_POLICIES) {
      const spec = adversaryPolicySpec(spec0, params.memory);
      it(`${spec}, n = ${n}: runs the released instance, is blocked, ALG/OPT ≥ 1 and grows`, () => {
        const adv = new BlockThenFlood(params);
        const res = simulate([], createPolicy(spec), { memory: params.memory, mode: 'rounds', adaptive: adv });
        // The released instance is what the policy ran, and it reacted to the policy.
        const inst = adversaryInstance(params, adv.shortArrival);
        expect(adv.released).toEqual(inst);
        expect(res.requests.count).toBe(n);
        const long = res.requests.get(0);
        expect(adv.longStart).toBe(long.start);
        expect(long.start).toBe(0); // none of these policies idles
        expect(adv.shortArrival).toBe(n > 1 ? long.start + 1 : null);
        let alg = 0;
        for (const r of res.requests) {
          const q = inst[r.id] as RequestSpec;
          expect([r.arrival, r.prompt, r.output]).toEqual([q.arrival, q.prompt, q.output]);
          alg += r.completion - r.arrival;
          if (r.id > 0) expect(r.start).toBeGreaterThanOrEqual(long.completion); // blocked until the long request ends
          expect(r.restarts).toBe(0);
        }
        expect(res.totals.evictions).toBe(0);
        const opt = adversaryOptimum(params, adv.shortArrival);
        expect(scheduleRoundUse(params.memory, inst, opt.starts).firstOver).toBe(-1);
        expect(checkSchedule(prepare({ memory: params.memory, requests: inst }), opt.starts)).toBeNull();
        expect(scheduleCost(inst, opt.starts)).toBe(opt.objective);
        expect(alg).toBeGreaterThanOrEqual(opt.objective);
        if (n >= 16) expect(alg / opt.objective).toBeGreaterThan(0.8 * n);
      });
    }
  }

  it('reacts to a policy that waits: shorts arrive the round after the long request starts', () => {
    for (const D of [1, 5, 600]) {
      const params = adversaryParams(16);
      const inner = createPolicy('mcsf');
      // MC-SF that idles (admits nothing) before round D.
      const lazy: Policy = {
        spec: `lazy-mcsf:${D}`,
        lookAhead: true,
        enqueue: (r) => inner.enqueue(r),
        schedule: (ctx) => (ctx.round < D ? [] : inner.schedule(ctx)),
        onComplete: (r) => inner.onComplete(r),
        get waitingCount() {
          return inner.waitingCount;
        },
        get runningCount() {
          return inner.runningCount;
        },
        kvHeld: (b) => inner.kvHeld(b),
      };
      const adv = new BlockThenFlood(params);
      const res = simulate([], lazy, { memory: params.memory, mode: 'rounds', adaptive: adv });
      expect(adv.longStart).toBe(D);
      expect(adv.shortArrival).toBe(D + 1);
      let alg = 0;
      for (const r of res.requests) alg += r.completion - r.arrival;
      const opt = adversaryOptimum(params, D + 1);
      expect(scheduleRoundUse(params.memory, adversaryInstance(params, D + 1), opt.starts).firstOver).toBe(-1);
      if (D >= params.longOutput) expect(opt.longStart).toBe(0); // OPT ran the long request before the shorts came
      expect(alg / opt.objective).toBeGreaterThan(10); // waiting does not escape
    }
  });

  it('a policy that can never start the long request is reported stuck, not hidden', () => {
    const params = adversaryParams(64); // P = 11904 > vLLM's default 4096-token prefill budget
    const adv = new BlockThenFlood({ ...params, patience: 50 });
    const out = runRounds('vllm', params.memory, [], adv);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.kind).toBe('stuck');
    expect(adv.released).toHaveLength(1);
  });

  it('adversaryRow: the ratio grows with n', async () => {
    const rows = await Promise.all([4, 16, 64].map((n) => adversaryRow(n, 'mcsf', { solveUpTo: 0, timeLimitSec: 1 })));
    const ratios = rows.map((r) => r.ratio as number);
    expect(ratios[0]).toBeGreaterThanOrEqual(1);
    expect(ratios[1]).toBeGreaterThan(ratios[0] as number);
    expect(ratios[2]).toBeGreaterThan(ratios[1] as number);
  });
});

describe('the closed-form optimum', () => {
  it('equals brute force on small constructions (any short arrival, 0..4 shorts)', () => {
    for (let k = 0; k <= 4; k++) {
      for (const a of [1, 2, 5, 9]) {
        const p = small(k);
        const inst = adversaryInstance(p, a);
        const opt = adversaryOptimum(p, a);
        expect(scheduleRoundUse(p.memory, inst, opt.starts).firstOver).toBe(-1);
        expect(scheduleCost(inst, opt.starts)).toBe(opt.objective);
        expect(opt.objective).toBe(bruteForce(p.memory, inst, 24));
      }
    }
  });

  it('equals brute force on random small parameters', () => {
    const arb = fc
      .record({
        M: fc.integer({ min: 12, max: 40 }),
        P: fc.integer({ min: 1, max: 30 }),
        L: fc.integer({ min: 1, max: 8 }),
        k: fc.integer({ min: 0, max: 4 }),
        a: fc.integer({ min: 1, max: 6 }),
      })
      .filter(({ M, P, L }) => P + L <= M && M - P - 2 >= 1);
    fc.assert(
      fc.property(arb, ({ M, P, L, k, a }) => {
        const p: AdversaryParams = {
          memory: M,
          longPrompt: P,
          longOutput: L,
          shortPrompt: M - P - 2,
          shorts: k,
          patience: 100,
        };
        const inst = adversaryInstance(p, a);
        const opt = adversaryOptimum(p, a);
        expect(scheduleRoundUse(M, inst, opt.starts).firstOver).toBe(-1);
        expect(opt.objective).toBe(bruteForce(M, inst, a + L + 2 * k + 4));
      }),
      { numRuns: 60 },
    );
  });

  it('agrees with the exact solver on small constructions', async () => {
    for (const [k, a] of [
      [3, 1],
      [4, 2],
      [2, 6],
    ] as const) {
      const p = small(k);
      const inst = adversaryInstance(p, a);
      const r = await solveOptimum({ memory: p.memory, requests: inst }, { timeLimitSec: 20 });
      expect(r.status).toBe('optimal');
      expect(r.objective).toBe(adversaryOptimum(p, a).objective);
    }
  }, 60_000);
});
