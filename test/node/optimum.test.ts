import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RequestSpec } from '../../src/model/types.ts';
import { simulate, LivelockError, StuckError } from '../../src/engine/engine.ts';
import { createPolicy, PAPER_POLICIES } from '../../src/policies/registry.ts';
import { solveOptimum, lpLowerBound } from '../../src/theory/optimum.ts';
import { solveTimeIndexed } from '../../src/theory/lp.ts';
import { branchAndBound } from '../../src/theory/bnb.ts';
import { policySchedules } from '../../src/theory/incumbent.ts';
import { prepare, tokensPerRound } from '../../src/theory/problem.ts';
import { boundWork, sawtoothCost, waitingLowerBound } from '../../src/theory/bounds.ts';
import { DEFAULT_BOUND_OPTIONS, DEFAULT_SAWTOOTH } from '../../src/theory/defaults.ts';
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
          fc.record({
            arrival: fc.constant(r.arrival),
            prompt: fc.constant(r.prompt),
            output: fc.integer({ min: 1, max: Math.max(1, Math.min(7, M - r.prompt)) }),
          }),
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
          {
            t: 0,
            usage: new Int32Array(0),
            waiting: all,
            nWaiting: p.n,
            running: [],
            runningStart: [],
            nRunning: 0,
            started: [],
            startedAt: [],
            nStarted: 0,
          },
          boundWork(p.n),
          { area: true, betas, pair: true, waste: true, coupled: true, sawtooth: [0.1, 0.3, 0.6, 1, 2] },
          which,
        );
        const opt = exhaustive(M, reqs);
        expect(lb).toBeLessThanOrEqual(opt);
        for (const b of which) expect(b).toBeLessThanOrEqual(opt + 1e-9);
      }),
      { numRuns: Number(process.env.OPT_RUNS ?? 300), seed: Number(process.env.OPT_SEED ?? 7) },
    );
  }, 120_000);

  it('every bound at a node is at most the best completion of that node (exhaustive)', () => {
    // A node: the starts of a random feasible schedule before round t are fixed; the others
    // may start at any round ≥ max(t, a). The best completion is found by exhaustive search.
    // With `drop`, one unstarted request is left out of the bound (as the LP's start windows
    // do): it must still be scheduled, but only the others' latency is bounded.
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 16 }),
        fc.array(
          fc.record({
            gap: fc.constantFrom(0, 0, 0, 1, 2),
            prompt: fc.integer({ min: 1, max: 3 }),
            frac: fc.integer({ min: 0, max: 999 }),
          }),
          { minLength: 2, maxLength: 7 },
        ),
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 7, maxLength: 7 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        (M, raw, prio, tFrac, drop) => {
          let a = 0;
          const reqs = raw.map((r) => {
            a += r.gap;
            return { arrival: a, prompt: r.prompt, output: 1 + Math.floor((r.frac / 1000) * (M - r.prompt)) };
          });
          const p = prepare({ memory: M, requests: specs(reqs) });
          const n = p.n;
          // a random list schedule: each request (in a random priority order) at its earliest fitting start
          const fits = (use: Int32Array, i: number, st: number): boolean => {
            for (let q = 0; q < p.o[i]!; q++) if (use[st + q]! + p.s[i]! + q + 1 > M) return false;
            return true;
          };
          const put = (use: Int32Array, i: number, st: number, sign: number): void => {
            for (let q = 0; q < p.o[i]!; q++) use[st + q]! += sign * (p.s[i]! + q + 1);
          };
          const order = reqs.map((_, i) => i).sort((x, y) => prio[x]! - prio[y]! || x - y);
          const use = new Int32Array(1024);
          const starts = new Int32Array(n);
          let paid0 = 0;
          for (const i of order) {
            let st = p.a[i]!;
            while (!fits(use, i, st)) st++;
            put(use, i, st, 1);
            starts[i] = st;
          }
          let end = 0;
          for (let i = 0; i < n; i++) end = Math.max(end, starts[i]! + p.o[i]!);
          const t = Math.floor(tFrac * end);
          const all = Array.from({ length: n }, (_, i) => i);
          const before = all.filter((i) => starts[i]! < t);
          const unstarted = all.filter((i) => starts[i]! >= t);
          const out = drop && unstarted.length >= 2 ? unstarted[unstarted.length - 1]! : -1;
          const waiting = unstarted.filter((i) => i !== out);
          const usage = new Int32Array(1024);
          for (const i of before) put(usage, i, starts[i]!, 1);
          for (const i of waiting) paid0 += starts[i]! + p.o[i]! - p.a[i]!;
          let horizon = t;
          for (const i of unstarted) horizon = Math.max(horizon, p.a[i]!) + p.o[i]!;
          // exhaustive best completion (each start within the window any schedule ≤ paid0 allows)
          let best = paid0;
          const scratch = Int32Array.from(usage);
          const go = (k: number, cost: number): void => {
            if (cost >= best) return;
            if (k === unstarted.length) {
              best = cost;
              return;
            }
            const i = unstarted[k]!;
            const counted = i !== out;
            // the left-out request costs nothing here; past `horizon` it overlaps no one
            for (let st = Math.max(t, p.a[i]!); counted ? st + p.o[i]! - p.a[i]! + cost < best : st <= horizon; st++) {
              if (!fits(scratch, i, st)) continue;
              put(scratch, i, st, 1);
              go(k + 1, counted ? cost + st + p.o[i]! - p.a[i]! : cost);
              put(scratch, i, st, -1);
            }
          };
          go(0, 0);
          const running = before.filter((i) => starts[i]! + p.o[i]! > t);
          const which: number[] = [];
          const lb = waitingLowerBound(
            p,
            {
              t,
              usage,
              waiting,
              nWaiting: waiting.length,
              running,
              runningStart: running.map((i) => starts[i]!),
              nRunning: running.length,
              started: before,
              startedAt: before.map((i) => starts[i]!),
              nStarted: before.length,
              outside: out >= 0 ? 1 : 0,
            },
            boundWork(n),
            {
              area: true,
              betas: [Math.ceil(M / 2), Math.ceil(M / 3)],
              pair: true,
              waste: true,
              coupled: true,
              sawtooth: [0.05, 0.2, 0.5, 1, 2, 4],
            },
            which,
          );
          expect(lb).toBeLessThanOrEqual(best + 1e-9);
          for (const b of which) expect(b).toBeLessThanOrEqual(best + 1e-9);
        },
      ),
      { numRuns: Number(process.env.OPT_RUNS ?? 400), seed: Number(process.env.OPT_SEED ?? 11) },
    );
  }, 120_000);

  it('the sawtooth bound: exact per-request costs, a tight case, and no rounding past the optimum', () => {
    // s = 1, o = 3 (positions hold 2, 3, 4 tokens): E = {3}: S = 0 + 1 + 2 = 3, Q = 4; E = {1,3}: S = 1, Q = 6;
    // E = {2,3}: S = 1, Q = 7; E = {1,2,3}: S = 0, Q = 9.
    expect(sawtoothCost(1, 3, 0)).toBe(0);
    expect(sawtoothCost(1, 3, 0.1)).toBeCloseTo(Math.min(3.4, 1.6, 1.7, 0.9), 12);
    expect(sawtoothCost(1, 3, 1)).toBeCloseTo(Math.min(7, 7, 8, 9), 12);
    // M = 4: three requests of 4 tokens for one round and one of 2, 3, 4 tokens: OPT = 1 + 2 + 3 + 6 = 12.
    // λ = 0.05 prices each short request at 4.2, and 3 × 4.2 rounds above 12.6 in floating point:
    // without a tolerance c_(3) would come out as 4 and the bound as 13 > OPT.
    const p = prepare({
      memory: 4,
      requests: specs(
        [
          [3, 1],
          [1, 3],
          [3, 1],
          [3, 1],
        ].map(([s, o]) => ({ arrival: 0, prompt: s!, output: o! })),
      ),
    });
    const all = [0, 1, 2, 3];
    const view = {
      t: 0,
      usage: new Int32Array(0),
      waiting: all,
      nWaiting: 4,
      running: [],
      runningStart: [],
      nRunning: 0,
      started: [],
      startedAt: [],
      nStarted: 0,
    };
    for (const lambda of [0.05, 0.2, 1, 4])
      expect(
        waitingLowerBound(p, view, boundWork(4), { area: false, betas: [], pair: false, sawtooth: [lambda] }),
      ).toBe(12);
    // all-at-0 paper instance: the sawtooth bound beats the area bound by a wide margin
    const w = paperSynthetic({ seed: 1, arrivals: 'zero', mode: 'rounds' });
    const q = prepare({ memory: w.memory, requests: w.requests });
    const every = Array.from({ length: q.n }, (_, i) => i);
    const root = { ...view, waiting: every, nWaiting: q.n };
    const area = waitingLowerBound(q, root, boundWork(q.n), { area: true, betas: [], pair: false });
    const saw = waitingLowerBound(q, root, boundWork(q.n), {
      area: false,
      betas: [],
      pair: false,
      sawtooth: DEFAULT_SAWTOOTH,
    });
    expect(saw).toBeGreaterThan(area * 1.1);
  });

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
        policyMakespan = Math.min(
          policyMakespan,
          simulate(requests, createPolicy(spec), { memory: M, mode: 'rounds', keepRounds: false }).totals.end,
        );
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

  it('a bound proved elsewhere ends the search as soon as the best schedule reaches it', async () => {
    const wl = paperSynthetic({ seed: 5, arrivals: 'zero', mode: 'rounds', requests: 10 });
    const p = prepare(wl);
    const opt = await solveOptimum(wl, { localSearch: false });
    expect(opt.status).toBe('optimal');
    const mc = policySchedules(wl, p, ['mcsf'])[0]!;
    expect(mc.total!).toBeGreaterThan(opt.objective);
    const plain = branchAndBound(p, {
      incumbent: { starts: mc.starts!, value: mc.total! },
      bound: DEFAULT_BOUND_OPTIONS,
    });
    const known = branchAndBound(p, {
      incumbent: { starts: mc.starts!, value: mc.total! },
      bound: DEFAULT_BOUND_OPTIONS,
      knownLowerBound: opt.objective,
    });
    expect(plain.status).toBe('optimal');
    expect(known.status).toBe('optimal');
    expect(known.value).toBe(opt.objective);
    expect(known.nodes).toBeLessThan(plain.nodes); // it stops at the optimum instead of proving it
    // An incumbent already at the bound: nothing to search.
    const none = branchAndBound(p, {
      incumbent: { starts: mc.starts!, value: mc.total! },
      bound: DEFAULT_BOUND_OPTIONS,
      knownLowerBound: mc.total!,
    });
    expect(none.status).toBe('optimal');
    expect(none.nodes).toBe(0);
  });

  it('with the LP on, the search resumes after it with the time left, and proves the optimum', async () => {
    // About 120k nodes without the LP: more than the first search's first clock check.
    const wl = paperSynthetic({ seed: 1, arrivals: 'poisson', mode: 'rounds', requests: 10 });
    const exact = await solveOptimum(wl, { localSearch: false });
    // No first search (it stops at its first clock check): the LP runs, then the search.
    const res = await solveOptimum(wl, { timeLimitSec: 60, lpShare: 0.5, probeShare: 0, localSearch: false });
    expect(res.stats.lpBound).not.toBeNull();
    expect(res.stats.lpBound!).toBeLessThanOrEqual(exact.objective);
    expect(res.status).toBe('optimal');
    expect(res.objective).toBe(exact.objective);
    expect(res.stats.nodes).toBeGreaterThan(1024); // more than the first search's 1024 nodes
  }, 90_000);
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
