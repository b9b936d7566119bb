/**
 * Replicas behind a router (src/engine/replicas.ts): the routers' assignments on hand-made
 * cases, least-outstanding's pending count at arrival time as Vidur defines it (the waiting
 * queue plus requests routed but not yet taken in; rounds ending at the arrival time count
 * as ended), one replica = the plain engine, the up-front split of the stateless routers
 * (what the GPU engine runs) against the lockstep run, and the CLI's refusals.
 */
import { describe, expect, it } from 'vitest';
import { simulate } from '../../src/engine/engine.ts';
import {
  makeRouter,
  mergeReplicas,
  simulateReplicas,
  splitRequests,
  STATELESS_ROUTERS,
  type RouterKind,
} from '../../src/engine/replicas.ts';
import type { RequestSpec } from '../../src/model/types.ts';
import { createPolicy } from '../../src/policies/registry.ts';
import { lmsys } from '../../src/workload/generators.ts';
import { getCostModel } from '../../src/cost/registry.ts';
import { main } from '../../src/cli/main.ts';

const req = (id: number, arrival: number, prompt: number, output: number): RequestSpec => ({
  id,
  arrival,
  prompt,
  output,
  predicted: output,
});

// M = 10 and s = 5: MC-FCFS runs one request at a time per replica (two would need ≥ 12),
// in arrival order (MC-SF would reorder by length and blur what the router saw).
// R0: r0 (o = 4) runs rounds 0–3. R1: r1 (o = 1) runs round 0, then r3 (o = 4) rounds 1–4.
const requests = [
  req(0, 0, 5, 4),
  req(1, 0, 5, 1),
  req(2, 0, 5, 1),
  req(3, 0, 5, 4),
  req(4, 2, 5, 1),
  req(5, 2, 5, 1),
  req(6, 3, 5, 1),
];
const assign = (router: RouterKind, k = 2): number[] =>
  Array.from(
    simulateReplicas(
      requests,
      () => createPolicy('mc-fcfs'),
      { memory: 10, mode: 'rounds' },
      { replicas: k, router, seed: 1 },
    ).assignment,
  );

describe('router assignments on a hand-made case', () => {
  it('round-robin: the i-th arrival goes to replica i mod K', () => {
    expect(assign('round-robin')).toEqual([0, 1, 0, 1, 0, 1, 0]);
    expect(assign('round-robin', 3)).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });

  it('least-outstanding: fewest pending at arrival, ties to the lowest replica', () => {
    // t = 0: r0 → R0 (0, 0); r1 → R1 (1, 0); r2 → R0 (1, 1: tie); r3 → R1 (2, 1).
    // t = 2: R0 waits on r2 (1), R1 has started r3 and waits on nothing (0): r4 → R1;
    //        r5 sees R1's r4 routed but not taken in (1, 1: tie) → R0.
    // t = 3: both replicas' rounds end at 3 and have not scheduled yet. R0: r2 and r5
    //        pending (2); R1: r4 not taken in while r3 ran (1) → r6 → R1.
    expect(assign('least-outstanding')).toEqual([0, 1, 0, 1, 1, 0, 1]);
  });

  it('least-outstanding: the schedule that follows from the assignment', () => {
    const r = simulateReplicas(
      requests,
      () => createPolicy('mc-fcfs'),
      { memory: 10, mode: 'rounds' },
      {
        replicas: 2,
        router: 'least-outstanding',
        seed: 1,
      },
    );
    // Replicas number their requests in routing order: R0 got r0, r2, r5; R1 r1, r3, r4, r6.
    expect(r.ids.map((x) => Array.from(x))).toEqual([
      [0, 2, 5],
      [1, 3, 4, 6],
    ]);
    const all = r.overall.requests;
    // R1: r1 in round 0, r3 rounds 1–4, then r4 at 5, r6 at 6.
    expect(all.get(3)).toMatchObject({ start: 1, completion: 5 });
    expect(all.get(4)).toMatchObject({ start: 5, completion: 6 });
    expect(all.get(6)).toMatchObject({ start: 6, completion: 7 });
    expect(r.replicas[1]?.requests.get(2)).toMatchObject({ start: 5, completion: 6, arrival: 2 }); // r4
    // R0: r0 rounds 0–3, then r2 at 4, r5 at 5.
    expect(all.get(2)).toMatchObject({ start: 4, completion: 5 });
    expect(all.get(5)).toMatchObject({ start: 5, completion: 6 });
    expect(r.overall.requests.count).toBe(7);
    expect(r.overall.totals.end).toBe(7);
  });

  it('least-outstanding counts evicted (restarted) requests as pending, running ones not', () => {
    const pending = [3, 1, 1, 0];
    const route = makeRouter({ replicas: 4, router: 'least-outstanding', seed: 1 });
    expect(route((k) => pending[k] as number)).toBe(3);
    pending[3] = 1;
    expect(route((k) => pending[k] as number)).toBe(1); // tie between 1, 2, 3: lowest
  });

  it('random: uniform over replicas, fixed by the seed', () => {
    const route = makeRouter({ replicas: 3, router: 'random', seed: 7 });
    const again = makeRouter({ replicas: 3, router: 'random', seed: 7 });
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const k = route(() => 0);
      expect(again(() => 0)).toBe(k);
      counts[k] = (counts[k] as number) + 1;
    }
    for (const c of counts) expect(c).toBeGreaterThan(900);
  });
});

describe('replicas on the LMSYS stand-in', () => {
  const w = lmsys({ seed: 2, requests: 2000, rate: 60, mode: 'seconds' });
  const opts = { memory: w.memory, mode: 'seconds' as const, costModel: getCostModel('a100-llama2-70b-tp2') };

  it('one replica is the plain engine', () => {
    const plain = simulate(w.requests, createPolicy('vllm'), opts);
    const one = simulateReplicas(w.requests, () => createPolicy('vllm'), opts, {
      replicas: 1,
      router: 'least-outstanding',
      seed: 1,
    });
    expect([...one.overall.requests]).toEqual([...plain.requests]);
  });

  it('every request completes once, on the replica it was routed to; least-outstanding beats round-robin on p99', () => {
    const p99 = (router: RouterKind): number => {
      const r = simulateReplicas(w.requests, () => createPolicy('mcsf'), opts, { replicas: 4, router, seed: 1 });
      expect(r.overall.requests.count).toBe(2000);
      r.replicas.forEach((x, k) => {
        for (const q of x.requests) expect(r.assignment[r.ids[k]?.[q.id] as number]).toBe(k);
      });
      const lat = [...r.overall.requests].map((q) => q.completion - q.arrival).sort((a, b) => a - b);
      return lat[Math.ceil(0.99 * lat.length) - 1] as number;
    };
    expect(p99('least-outstanding')).toBeLessThanOrEqual(p99('round-robin'));
  });
});

describe("splitting the trace for a stateless router (the GPU engine's replicas)", () => {
  it('round-robin and random are stateless, least-outstanding is not (refused by the split)', () => {
    expect([...STATELESS_ROUTERS]).toEqual(['round-robin', 'random']);
    expect(() => splitRequests(requests, 10, { replicas: 2, router: 'least-outstanding', seed: 1 })).toThrow(
      /least-outstanding depends on the replicas' state/,
    );
  });

  it('round-robin on the hand-made case: the i-th arrival to replica i mod K, renumbered densely', () => {
    const s = splitRequests(requests, 10, { replicas: 3, router: 'round-robin', seed: 1 });
    expect(Array.from(s.assignment)).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(s.ids.map((x) => Array.from(x))).toEqual([
      [0, 3, 6],
      [1, 4],
      [2, 5],
    ]);
    expect(s.requests[0]).toEqual([req(0, 0, 5, 4), req(1, 0, 5, 4), req(2, 3, 5, 1)]);
  });

  // The split is exact when each replica, run alone on its part, gives what it gives in the
  // lockstep run: checked per request, per replica and merged, for every policy kind.
  const w = lmsys({ seed: 5, requests: 1500, rate: 70, mode: 'seconds' });
  const cost = getCostModel('a100-llama2-70b-tp2');
  for (const router of STATELESS_ROUTERS) {
    for (const mode of ['seconds', 'rounds'] as const) {
      it(`${router}, ${mode} mode: independent runs of the parts, merged, equal the lockstep run`, () => {
        const reqs = mode === 'seconds' ? w.requests : w.requests.map((q) => ({ ...q, arrival: q.id >> 4 }));
        const memory = mode === 'seconds' ? w.memory : 8192;
        const opts = { memory, mode, costModel: cost };
        const ro = { replicas: 5, router, seed: 11 };
        const split = splitRequests(reqs, memory, ro);
        for (const policy of ['mcsf', 'mc-fcfs', 'alpha-clearing:0.2:0.5', 'vllm']) {
          const lock = simulateReplicas(reqs, () => createPolicy(policy), opts, ro);
          expect(Array.from(split.assignment)).toEqual(Array.from(lock.assignment));
          expect(split.ids.map((x) => Array.from(x))).toEqual(lock.ids.map((x) => Array.from(x)));
          const alone = split.requests.map((part) => simulate(part, createPolicy(policy), opts));
          alone.forEach((a, k) => {
            expect([...a.requests]).toEqual([...(lock.replicas[k] as typeof a).requests]);
            expect(a.totals).toEqual(lock.replicas[k]?.totals);
          });
          const merged = mergeReplicas(alone, split.ids);
          expect([...merged.requests]).toEqual([...lock.overall.requests]);
          expect(merged.totals).toEqual(lock.overall.totals);
          expect(merged.tokenGaps?.toArray()).toEqual(lock.overall.tokenGaps?.toArray());
        }
      }, 60_000);
    }
  }

  it('more replicas than requests: empty parts', () => {
    const s = splitRequests(requests.slice(0, 2), 10, { replicas: 4, router: 'round-robin', seed: 1 });
    expect(s.requests.map((x) => x.length)).toEqual([1, 1, 0, 0]);
  });
});

describe('input errors name the input ids', () => {
  it('a request too large for M', () => {
    const bad = [req(0, 0, 5, 1), req(1, 0, 5, 1), req(2, 0, 9, 9)];
    expect(() =>
      simulateReplicas(
        bad,
        () => createPolicy('mcsf'),
        { memory: 10, mode: 'rounds' },
        {
          replicas: 2,
          router: 'round-robin',
          seed: 1,
        },
      ),
    ).toThrow(/request 2: peak KV s \+ o = 18 exceeds M = 10/);
  });
});

describe('CLI', () => {
  const run = async (argv: string[]) => {
    let err = '';
    const code = await main(argv, {
      interactive: false,
      out: () => {},
      err: (t) => {
        err += t;
      },
    });
    return { code, err };
  };
  it('--engine gpu with least-outstanding routing is refused in one line (exit 2), before any device', async () => {
    const r = await run(['simulate', '--engine', 'gpu', '--replicas', '2', '--router', 'least-outstanding']);
    expect(r.code).toBe(2);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(
      /--engine gpu --replicas: router least-outstanding routes by the replicas' state .* use --engine cpu/,
    );
  });
  it('--router without --replicas is refused', async () => {
    const r = await run(['simulate', '--router', 'random', '--requests', '10']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--router needs --replicas/);
  });
});
