/** `--time-limit` is a promise: every phase watches it, and a model too large to build is refused up front. */
import { describe, expect, it } from 'vitest';
import { branchAndBound } from '../../src/theory/bnb.ts';
import { DEFAULT_BOUND_OPTIONS } from '../../src/theory/defaults.ts';
import { bestPolicySchedule, policySchedules } from '../../src/theory/incumbent.ts';
import { OPTIMUM_MAX_HORIZON, solveOptimum } from '../../src/theory/optimum.ts';
import { prepare } from '../../src/theory/problem.ts';
import { paperSynthetic } from '../../src/workload/generators.ts';

describe('optimum limits', () => {
  it('refuses a model whose horizon a_max + Σ o is too long, before building anything', async () => {
    // Took 112 s and 3.9 GB on a 10 s limit before.
    const far = {
      memory: 10,
      requests: [
        { id: 0, arrival: 0, prompt: 1, output: 2, predicted: 2 },
        { id: 1, arrival: 1e9, prompt: 1, output: 2, predicted: 2 },
      ],
    };
    await expect(solveOptimum(far, { timeLimitSec: 10 })).rejects.toThrow(
      `the hindsight optimum's time-indexed model would span a_max + Σ o = 1000000000 + 4 = 1000000004 rounds, more than the ${OPTIMUM_MAX_HORIZON} (2^22) it supports`,
    );
    // A huge M makes outputs (and Σ o) huge: refused the same way (it ran for minutes on a 5 s limit).
    const wide = paperSynthetic({ seed: 1, arrivals: 'zero', mode: 'rounds', requests: 20, memory: 2147483647 });
    await expect(solveOptimum(wide, { timeLimitSec: 5 })).rejects.toThrow(
      /more than the 4194304 \(2\^22\) it supports/,
    );
  });

  it('the policy phase watches the deadline: with no time left one policy still runs, and that is the answer', async () => {
    const wl = paperSynthetic({ seed: 1, arrivals: 'zero', mode: 'rounds' });
    // `--time-limit 1e-300` threw an uncaught Error (the CLI fuzzer found it).
    for (const limit of [0, 1e-300]) {
      const res = await solveOptimum(wl, { timeLimitSec: limit });
      expect(res.status).toBe('time-limit');
      expect(res.stats.stoppedBy).toBe('time');
      expect(res.stats.policies.filter((x) => x.total !== null)).toHaveLength(1);
      expect(res.lowerBound).toBeLessThanOrEqual(res.objective);
    }
    const p = prepare(wl);
    const runs = policySchedules(wl, p, ['mcsf', 'mc-fcfs', 'vllm'], { aborted: true });
    expect(runs.map((r) => r.error)).toEqual([undefined, 'not run: out of time', 'not run: out of time']);
    expect(bestPolicySchedule(runs)?.policy).toBe('mcsf');
  });

  it('the search looks at the clock on every node when nodes are expensive (it looked every 1024)', () => {
    const wl = paperSynthetic({ seed: 2, arrivals: 'poisson', mode: 'rounds', requests: 300 });
    const p = prepare(wl);
    const inc = bestPolicySchedule(policySchedules(wl, p));
    if (!inc) throw new Error('no incumbent');
    let reads = 0;
    const signal = {
      get aborted() {
        return ++reads > 3;
      },
    };
    const r = branchAndBound(p, {
      incumbent: { starts: inc.starts, value: inc.total },
      bound: DEFAULT_BOUND_OPTIONS,
      signal,
    });
    expect(r.status).toBe('time-limit');
    expect(r.stoppedBy).toBe('time');
    expect(r.nodes).toBeLessThanOrEqual(4);
    expect(r.lowerBound).toBeLessThanOrEqual(r.value);
  });

  it('a node budget stops the search the same way on every machine', () => {
    const wl = paperSynthetic({ seed: 1, arrivals: 'zero', mode: 'rounds' });
    const p = prepare(wl);
    const inc = bestPolicySchedule(policySchedules(wl, p));
    if (!inc) throw new Error('no incumbent');
    const run = () =>
      branchAndBound(p, {
        incumbent: { starts: inc.starts, value: inc.total },
        bound: DEFAULT_BOUND_OPTIONS,
        nodeLimit: 500,
      });
    const a = run();
    const b = run();
    expect(a.stoppedBy).toBe('nodes');
    expect(a.nodes).toBe(500);
    expect({ ...a, seconds: 0 }).toEqual({ ...b, seconds: 0 });
  });
});

describe('optimum bound when stopped early', () => {
  it('is at least Σ o even when the search stopped before its root bound', async () => {
    const wl = paperSynthetic({ seed: 1, arrivals: 'zero', mode: 'rounds' });
    const res = await solveOptimum(wl, { timeLimitSec: 600, localSearch: false, searchNodeLimit: 1, lpShare: 0 });
    const sumO = wl.requests.reduce((z, r) => z + r.output, 0);
    expect(res.status).toBe('time-limit');
    expect(res.lowerBound).toBeGreaterThanOrEqual(sumO);
  });
});

describe('LP start windows', () => {
  it('past the deadline the tightening stops and the plain (valid) windows are used', async () => {
    const { startWindows } = await import('../../src/theory/lp.ts');
    const wl = paperSynthetic({ seed: 1, arrivals: 'zero', mode: 'rounds', requests: 12 });
    const p = prepare(wl);
    const inc = bestPolicySchedule(policySchedules(wl, p));
    if (!inc) throw new Error('no incumbent');
    const plain = startWindows(p, inc.total, true);
    expect(startWindows(p, inc.total, false, 0)).toEqual(plain); // deadline long past
    const tight = startWindows(p, inc.total, false);
    for (let i = 0; i < p.n; i++) expect(tight[i]).toBeLessThanOrEqual(plain[i] as number);
  });
});
