import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RequestSpec } from '../../src/model/types.ts';
import { simulate, LivelockError, StuckError } from '../../src/engine/engine.ts';
import { createPolicy, PAPER_POLICIES } from '../../src/policies/registry.ts';
import { solveOptimum, lpLowerBound } from '../../src/theory/optimum.ts';
import { solveTimeIndexed } from '../../src/theory/lp.ts';
import { prepare, tokensPerRound } from '../../src/theory/problem.ts';
import { boundWork, waitingLowerBound } from '../../src/theory/bounds.ts';
import { paperSynthetic } from '../../src/workload/generators.ts';

type Req = { arrival: number; prompt: number; output: number };

function specs(rs: readonly Req[]): RequestSpec[] {
  return rs.map((r, id) => ({ id, arrival: r.arrival, prompt: r.prompt, output: r.output, predicted: r.output }));
}

/**
 * Exhaustive search written independently of the solver: every request tries every
 * start in [a_i, a_i + U − Σo] (U: a sequential schedule's total latency, so every
 * schedule at least as good as U has its starts there), with the memory checked
 * round by round; only "cost so far ≥ best" cuts (exact, since latencies are ≥ 0).
 */
function exhaustive(M: number, rs: readonly Req[]): number {
  const n = rs.length;
  const order = rs.map((_, i) => i).sort((x, y) => rs[x]!.arrival - rs[y]!.arrival || x - y);
  let t = 0;
  let U = 0;
  for (const i of order) {
    t = Math.max(t, rs[i]!.arrival) + rs[i]!.output;
    U += t - rs[i]!.arrival;
  }
  const sumO = rs.reduce((z, r) => z + r.output, 0);
  const H = Math.max(...rs.map((r) => r.arrival)) + U + 2;
  const use = new Array<number>(H + 64).fill(0);
  let best = U;
  const go = (k: number, cost: number): void => {
    if (cost >= best) return;
    if (k === n) {
      best = cost;
      return;
    }
    const r = rs[k]!;
    for (let p = r.arrival; p <= r.arrival + U - sumO; p++) {
      let ok = true;
      for (let q = 0; q < r.output && ok; q++) if (use[p + q]! + r.prompt + q + 1 > M) ok = false;
      if (!ok) continue;
      for (let q = 0; q < r.output; q++) use[p + q]! += r.prompt + q + 1;
      go(k + 1, cost + p + r.output - r.arrival);
      for (let q = 0; q < r.output; q++) use[p + q]! -= r.prompt + q + 1;
    }
  };
  go(0, 0);
  return best;
}

function policyTotals(M: number, reqs: RequestSpec[]): { policy: string; total: number }[] {
  const out: { policy: string; total: number }[] = [];
  for (const spec of PAPER_POLICIES) {
    try {
      const res = simulate(reqs, createPolicy(spec), { memory: M, mode: 'rounds', keepRounds: false });
      let z = 0;
      for (const q of res.requests) z += q.completion - q.arrival;
      out.push({ policy: spec, total: z });
    } catch (e) {
      if (e instanceof LivelockError || e instanceof StuckError) continue;
      throw e;
    }
  }
  return out;
}

const tinyInstance = fc
  .integer({ min: 4, max: 12 })
  .chain((M) =>
    fc.record({
      M: fc.constant(M),
      reqs: fc.array(
        fc.record({ arrival: fc.integer({ min: 0, max: 6 }), prompt: fc.integer({ min: 1, max: 3 }) }).chain((r) =>
          fc.record({ arrival: fc.constant(r.arrival), prompt: fc.constant(r.prompt), output: fc.integer({ min: 1, max: Math.max(1, Math.min(7, M - r.prompt)) }) }),
        ),
        { minLength: 1, maxLength: 6 },
      ),
    }),
  )
  .map(({ M, reqs }) => ({ M, reqs: [...reqs].sort((x, y) => x.arrival - y.arrival) }));

describe('solveOptimum', () => {
  it('equals an exhaustive search on tiny random instances, and its schedule fits in memory', async () => {
    await fc.assert(
      fc.asyncProperty(tinyInstance, async ({ M, reqs }) => {
        const requests = specs(reqs);
        const res = await solveOptimum({ memory: M, requests });
        expect(res.status).toBe('optimal');
        expect(res.objective).toBe(exhaustive(M, reqs));
        expect(res.lowerBound).toBe(res.objective);
        // recompute every round's tokens from the returned schedule
        const use = new Map<number, number>();
        let total = 0;
        for (const r of requests) {
          const st = res.starts[r.id]!;
          expect(st).toBeGreaterThanOrEqual(r.arrival);
          expect(res.completions[r.id]).toBe(st + r.output);
          total += st + r.output - r.arrival;
          for (let k = 1; k <= r.output; k++) use.set(st + k - 1, (use.get(st + k - 1) ?? 0) + r.prompt + k);
        }
        for (const v of use.values()) expect(v).toBeLessThanOrEqual(M);
        expect(total).toBe(res.objective);
      }),
      { numRuns: 150, seed: 20250207 },
    );
  }, 120_000);

  it('the root lower bound never exceeds the exhaustive optimum', () => {
    fc.assert(
      fc.property(tinyInstance, ({ M, reqs }) => {
        const p = prepare({ memory: M, requests: specs(reqs) });
        const all = Array.from({ length: p.n }, (_, i) => i);
        const betas = Array.from({ length: M }, (_, i) => i + 1);
        const which: number[] = [];
        const lb = waitingLowerBound(
          p,
          { t: 0, usage: new Int32Array(0), waiting: all, nWaiting: p.n, running: [], runningStart: [], nRunning: 0, started: [], startedAt: [], nStarted: 0 },
          boundWork(p.n),
          { area: true, betas, pair: true, waste: true, coupled: true },
          which,
        );
        const opt = exhaustive(M, reqs);
        expect(lb).toBeLessThanOrEqual(opt);
        for (const b of which) expect(b).toBeLessThanOrEqual(opt + 1e-9);
      }),
      { numRuns: Number(process.env.OPT_RUNS ?? 300), seed: Number(process.env.OPT_SEED ?? 7) },
    );
  }, 120_000);

  it('LP bound ≤ optimum ≤ every paper policy, and the IP agrees (n = 7)', async () => {
    const rs: Req[] = [
      { arrival: 0, prompt: 2, output: 5 },
      { arrival: 0, prompt: 1, output: 3 },
      { arrival: 1, prompt: 3, output: 4 },
      { arrival: 2, prompt: 1, output: 6 },
      { arrival: 2, prompt: 2, output: 2 },
      { arrival: 4, prompt: 1, output: 1 },
      { arrival: 5, prompt: 2, output: 3 },
    ];
    const M = 10;
    const requests = specs(rs);
    const res = await solveOptimum({ memory: M, requests });
    expect(res.objective).toBe(exhaustive(M, rs));
    const lp = await lpLowerBound({ memory: M, requests });
    expect(lp).not.toBeNull();
    expect(lp!).toBeLessThanOrEqual(res.objective + 1e-6);
    const ip = await solveTimeIndexed({ memory: M, requests }, { integer: true });
    expect(ip.status).toBe('optimal');
    expect(Math.round(ip.value!)).toBe(res.objective);
    const totals = policyTotals(M, requests);
    expect(totals.length).toBeGreaterThanOrEqual(2);
    for (const t of totals) expect(res.objective).toBeLessThanOrEqual(t.total);
  });

  it('LP bound ≤ optimum ≤ policies on random small instances', async () => {
    await fc.assert(
      fc.asyncProperty(tinyInstance, async ({ M, reqs }) => {
        const requests = specs(reqs);
        const res = await solveOptimum({ memory: M, requests });
        const lp = await lpLowerBound({ memory: M, requests });
        expect(lp).not.toBeNull();
        expect(lp!).toBeLessThanOrEqual(res.objective + 1e-6);
        for (const t of policyTotals(M, requests)) expect(res.objective).toBeLessThanOrEqual(t.total);
      }),
      { numRuns: 40, seed: 3 },
    );
  }, 120_000);

  it('the optimum can finish later than a policy’s makespan (6 requests, M = 10)', async () => {
    // Found by the search below (findLateOptimum) and fixed here: the best policy ends at
    // round 21, every optimal schedule ends later. So a policy's makespan is no valid
    // horizon for the time-indexed IP; the windows come from the upper bound instead.
    const M = 10;
    const reqs: Req[] = [
      { arrival: 0, prompt: 3, output: 1 },
      { arrival: 1, prompt: 2, output: 7 },
      { arrival: 1, prompt: 2, output: 3 },
      { arrival: 2, prompt: 1, output: 4 },
      { arrival: 2, prompt: 1, output: 8 },
      { arrival: 3, prompt: 3, output: 5 },
    ];
    const requests = specs(reqs);
    let policyMakespan = Infinity;
    for (const spec of PAPER_POLICIES) {
      try {
        policyMakespan = Math.min(policyMakespan, simulate(requests, createPolicy(spec), { memory: M, mode: 'rounds', keepRounds: false }).totals.end);
      } catch (e) {
        if (!(e instanceof LivelockError || e instanceof StuckError)) throw e;
      }
    }
    expect(policyMakespan).toBe(21);
    const res = await solveOptimum({ memory: M, requests });
    expect(res.status).toBe('optimal');
    expect(res.objective).toBe(exhaustive(M, reqs));
    expect(Math.max(...res.completions)).toBeGreaterThan(policyMakespan);
    // not an accident of the solver: every optimal schedule ends after round 21
    expect(optimalMakespans(M, reqs).minMakespanOfOptima).toBeGreaterThan(policyMakespan);
    // and the time-indexed IP over the valid windows agrees
    const ip = await solveTimeIndexed({ memory: M, requests }, { integer: true });
    expect(Math.round(ip.value!)).toBe(res.objective);
  });

  it('a random search finds such instances too', () => {
    expect(findLateOptimum()).not.toBeNull();
  });

  it('solves a small paper-synthetic instance and reports a consistent result', async () => {
    const wl = paperSynthetic({ seed: 3, arrivals: 'poisson', mode: 'rounds', requests: 12 });
    const res = await solveOptimum(wl, { timeLimitSec: 30 });
    const p = prepare(wl);
    const starts = wl.requests.map((r) => res.starts[r.id]!);
    const use = tokensPerRound(p, starts);
    for (const u of use) expect(u).toBeLessThanOrEqual(wl.memory);
    expect(res.lowerBound).toBeLessThanOrEqual(res.objective);
    for (const t of res.stats.policies) if (t.total !== null) expect(res.objective).toBeLessThanOrEqual(t.total);
  }, 60_000);
});

/** Deterministic search for a 6-request instance whose optimum ends after some policy's makespan. */
function findLateOptimum(): { M: number; reqs: Req[]; policyMakespan: number } | null {
  let x = 12345;
  const rnd = (k: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % k;
  };
  for (let trial = 0; trial < 3000; trial++) {
    const M = 6 + rnd(8);
    const reqs: Req[] = [];
    for (let i = 0; i < 6; i++) {
      const prompt = 1 + rnd(3);
      reqs.push({ arrival: rnd(4), prompt, output: 1 + rnd(Math.min(8, M - prompt)) });
    }
    reqs.sort((a, b) => a.arrival - b.arrival);
    const requests = specs(reqs);
    let minMakespan = Infinity;
    for (const spec of PAPER_POLICIES) {
      try {
        const res = simulate(requests, createPolicy(spec), { memory: M, mode: 'rounds', keepRounds: false });
        minMakespan = Math.min(minMakespan, res.totals.end);
      } catch {
        /* livelock: skip */
      }
    }
    const opt = optimalMakespans(M, reqs);
    if (opt.minMakespanOfOptima > minMakespan) return { M, reqs, policyMakespan: minMakespan };
  }
  return null;
}

/** Smallest makespan among all optimal schedules (exhaustive). */
function optimalMakespans(M: number, rs: readonly Req[]): { opt: number; minMakespanOfOptima: number } {
  const opt = exhaustive(M, rs);
  const sumO = rs.reduce((z, r) => z + r.output, 0);
  const use = new Array<number>(512).fill(0);
  let minMk = Infinity;
  const go = (k: number, cost: number, mk: number): void => {
    if (cost > opt) return;
    if (k === rs.length) {
      if (cost === opt) minMk = Math.min(minMk, mk);
      return;
    }
    const r = rs[k]!;
    for (let p = r.arrival; p <= r.arrival + opt - sumO; p++) {
      let ok = true;
      for (let q = 0; q < r.output && ok; q++) if (use[p + q]! + r.prompt + q + 1 > M) ok = false;
      if (!ok) continue;
      for (let q = 0; q < r.output; q++) use[p + q]! += r.prompt + q + 1;
      go(k + 1, cost + p + r.output - r.arrival, Math.max(mk, p + r.output));
      for (let q = 0; q < r.output; q++) use[p + q]! -= r.prompt + q + 1;
    }
  };
  go(0, 0, 0);
  return { opt, minMakespanOfOptima: minMk };
}
