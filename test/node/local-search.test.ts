import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RequestSpec } from '../../src/model/types.ts';
import { decodeBufferLength, decodeOrder, improveSchedule, orderOfStarts } from '../../src/theory/local-search.ts';
import { policySchedules } from '../../src/theory/incumbent.ts';
import { solveOptimum } from '../../src/theory/optimum.ts';
import { checkSchedule, prepare, totalLatency, type Prepared } from '../../src/theory/problem.ts';
import { paperSynthetic } from '../../src/workload/generators.ts';

/** Serial decoding written plainly: try every start from the arrival on, check every round. */
function naiveDecode(p: Prepared, order: readonly number[]): number[] {
  const use = new Array<number>(decodeBufferLength(p) + 1).fill(0);
  const starts = new Array<number>(p.n).fill(-1);
  for (const j of order) {
    let t = p.a[j]!;
    const fits = (st: number): boolean => {
      for (let k = 0; k < p.o[j]!; k++) if (use[st + k]! + p.s[j]! + k + 1 > p.memory) return false;
      return true;
    };
    while (!fits(t)) t++;
    for (let k = 0; k < p.o[j]!; k++) use[t + k]! += p.s[j]! + k + 1;
    starts[j] = t;
  }
  return starts;
}

const instanceArb = fc.integer({ min: 4, max: 24 }).chain((M) =>
  fc.record({
    M: fc.constant(M),
    reqs: fc.array(
      fc
        .record({ arrival: fc.integer({ min: 0, max: 10 }), prompt: fc.integer({ min: 1, max: Math.min(5, M - 1) }) })
        .chain((r) =>
          fc.record({
            arrival: fc.constant(r.arrival),
            prompt: fc.constant(r.prompt),
            output: fc.integer({ min: 1, max: M - r.prompt }),
          }),
        ),
      { minLength: 1, maxLength: 12 },
    ),
  }),
);

function specs(rs: readonly { arrival: number; prompt: number; output: number }[]): RequestSpec[] {
  return rs.map((r, id) => ({ id, arrival: r.arrival, prompt: r.prompt, output: r.output, predicted: r.output }));
}

describe('local search over start orders', () => {
  it('decodes an order exactly like the plain earliest-start scan (its skip rule never skips a feasible start)', () => {
    fc.assert(
      fc.property(instanceArb, fc.array(fc.nat(), { minLength: 12, maxLength: 12 }), ({ M, reqs }, keys) => {
        const p = prepare({ memory: M, requests: specs(reqs) });
        const order = Array.from({ length: p.n }, (_, i) => i).sort((x, y) => keys[x]! - keys[y]! || x - y);
        const use = new Int32Array(decodeBufferLength(p));
        const starts = new Int32Array(p.n);
        // Decode twice into the same buffer: stale tokens of the first decode must not leak.
        decodeOrder(p, [...order].reverse(), use, starts);
        const total = decodeOrder(p, order, use, starts);
        expect([...starts]).toEqual(naiveDecode(p, order));
        expect(checkSchedule(p, starts)).toBeNull();
        expect(total).toBe(totalLatency(p, starts));
      }),
      { numRuns: 300 },
    );
  });

  it('returns a feasible schedule no worse than where it started and no better than the optimum', async () => {
    await fc.assert(
      fc.asyncProperty(instanceArb, async ({ M, reqs }) => {
        const inst = { memory: M, requests: specs(reqs.slice(0, 7)) };
        const p = prepare(inst);
        const from = policySchedules(inst, p, ['mc-fcfs'])[0]!;
        const ls = improveSchedule(p, from.starts!, from.total!, { iterations: 300 });
        expect(checkSchedule(p, ls.starts)).toBeNull();
        expect(ls.value).toBe(totalLatency(p, ls.starts));
        expect(ls.value).toBeLessThanOrEqual(from.total!);
        const opt = await solveOptimum(inst, { localSearch: false });
        expect(opt.status).toBe('optimal');
        expect(ls.value).toBeGreaterThanOrEqual(opt.objective);
      }),
      { numRuns: 60 },
    );
  });

  it('is deterministic for a seed and improves MC-SF on a paper instance by more than 3 %', () => {
    const w = paperSynthetic({ seed: 1, arrivals: 'zero', mode: 'rounds' });
    const inst = { memory: w.memory, requests: w.requests };
    const p = prepare(inst);
    const mc = policySchedules(inst, p, ['mcsf'])[0]!;
    const a = improveSchedule(p, mc.starts!, mc.total!, { iterations: 40_000, runs: 1, seed: 7 });
    const b = improveSchedule(p, mc.starts!, mc.total!, { iterations: 40_000, runs: 1, seed: 7 });
    expect([...a.starts]).toEqual([...b.starts]);
    expect(a.iterations).toBe(40_000);
    expect(a.runs).toBe(1);
    expect(a.stoppedBy).toBe('iterations');
    expect(a.value).toBeLessThan(0.97 * mc.total!);
    expect(checkSchedule(p, a.starts)).toBeNull();
  });

  it('keeps the best of independent runs: run k is the single run with seed + k', () => {
    const w = paperSynthetic({ seed: 2, arrivals: 'poisson', mode: 'rounds', requests: 30 });
    const inst = { memory: w.memory, requests: w.requests };
    const p = prepare(inst);
    const mc = policySchedules(inst, p, ['mcsf'])[0]!;
    const single = [5, 6, 7].map(
      (seed) => improveSchedule(p, mc.starts!, mc.total!, { iterations: 3000, runs: 1, seed }).value,
    );
    const multi = improveSchedule(p, mc.starts!, mc.total!, { iterations: 3000, runs: 3, seed: 5 });
    expect(multi.value).toBe(Math.min(...single));
    expect(multi.iterations).toBe(9000);
    expect(multi.runs).toBe(3);
    expect(checkSchedule(p, multi.starts)).toBeNull();
    expect(multi.value).toBe(totalLatency(p, multi.starts));
    // The default is 4 runs of 1000 · n orders.
    const dflt = improveSchedule(p, mc.starts!, mc.total!);
    expect([dflt.runs, dflt.iterations]).toEqual([4, 4 * 1000 * p.n]);
  });

  it('orders requests by start, then shorter output, then index', () => {
    const p = prepare({
      memory: 20,
      requests: specs([
        { arrival: 0, prompt: 1, output: 5 },
        { arrival: 0, prompt: 1, output: 3 },
        { arrival: 0, prompt: 1, output: 3 },
      ]),
    });
    expect([...orderOfStarts(p, [2, 2, 0])]).toEqual([2, 1, 0]);
  });

  it('stops at once on a cancel and rejects impossible budgets', () => {
    const p = prepare({
      memory: 10,
      requests: specs([
        { arrival: 0, prompt: 2, output: 6 },
        { arrival: 0, prompt: 2, output: 6 },
      ]),
    });
    const r = improveSchedule(p, [0, 8], 2 * 6 + 8, { signal: { aborted: true } });
    expect(r.stoppedBy).toBe('signal');
    expect(r.iterations).toBe(0);
    expect(checkSchedule(p, r.starts)).toBeNull();
    expect(() => improveSchedule(p, [0, 8], 20, { iterations: -1 })).toThrow(/iterations/);
    expect(() => improveSchedule(p, [0, 8], 20, { history: 0 })).toThrow(/history/);
    expect(() => improveSchedule(p, [0, 8], 20, { runs: 0 })).toThrow(/runs/);
  });

  it('feeds the exact solver: the incumbent it reports comes from the policies, the local search only improves it', async () => {
    const w = paperSynthetic({ seed: 3, arrivals: 'poisson', mode: 'rounds', requests: 9 });
    const inst = { memory: w.memory, requests: w.requests };
    const on = await solveOptimum(inst, { timeLimitSec: 20 });
    const off = await solveOptimum(inst, { timeLimitSec: 20, localSearch: false });
    expect(on.stats.localSearch).not.toBeNull();
    expect(on.stats.localSearch!.value).toBeLessThanOrEqual(on.stats.incumbent);
    expect(off.stats.localSearch).toBeNull();
    expect(on.objective).toBe(off.objective);
    expect(on.status).toBe('optimal');
  });
});
