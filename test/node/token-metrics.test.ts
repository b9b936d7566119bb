/**
 * Token-level metrics (docs/model.md, token-level metrics): TBT gaps, max stall, TPOT and
 * normalised latency on hand-made schedules, including an eviction that loses progress
 * (regenerated tokens are not delivered twice) and vLLM's prefill round pausing decodes.
 */
import { describe, expect, it } from 'vitest';
import { simulate, type SimulationResult } from '../../src/engine/engine.ts';
import type { LiveRequest } from '../../src/engine/live.ts';
import { modelKv, type Policy, type RoundContext } from '../../src/engine/policy.ts';
import { percentile, summarize } from '../../src/metrics/summary.ts';
import { TokenGaps } from '../../src/engine/results.ts';
import fc from 'fast-check';
import type { RequestSpec } from '../../src/model/types.ts';
import { createPolicy } from '../../src/policies/registry.ts';
import { getCostModel } from '../../src/cost/registry.ts';
import { lmsys } from '../../src/workload/generators.ts';

/** One round of a script: who is admitted, who is evicted (losing progress), who runs. */
interface Step {
  admit?: number[];
  evict?: number[];
  run: number[];
}

/** A policy that follows a script round by round (ids), for hand-derived schedules. */
function scripted(steps: Step[]): Policy {
  const known = new Map<number, LiveRequest>();
  let waiting = 0;
  let running = 0;
  let i = 0;
  return {
    spec: 'scripted',
    lookAhead: false,
    enqueue(r) {
      known.set(r.id, r);
      waiting++;
    },
    schedule(ctx: RoundContext) {
      const s = steps[i++];
      if (!s) throw new Error('script ran out');
      const get = (id: number): LiveRequest => known.get(id) as LiveRequest;
      for (const id of s.evict ?? []) {
        ctx.evict(get(id), false);
        running--;
        waiting++;
      }
      for (const id of s.admit ?? []) {
        ctx.admit(get(id));
        running++;
        waiting--;
      }
      return s.run.map(get);
    },
    onComplete() {
      running--;
    },
    get waitingCount() {
      return waiting;
    },
    get runningCount() {
      return running;
    },
    kvHeld: modelKv,
  };
}

const req = (id: number, arrival: number, prompt: number, output: number): RequestSpec => ({
  id,
  arrival,
  prompt,
  output,
  predicted: output,
});

describe('token-level metrics on hand-made schedules (rounds mode)', () => {
  // A (o = 3): tokens at 1, 2; evicted at 2 losing progress; regenerates tokens 1, 2 at 4, 5
  // (already delivered) and delivers token 3 at 6: gaps 1, 4. B (o = 2): tokens at 2, 3: gap 1.
  const steps: Step[] = [
    { admit: [0], run: [0] },
    { admit: [1], run: [0, 1] },
    { evict: [0], run: [1] },
    { admit: [0], run: [0] },
    { run: [0] },
    { run: [0] },
  ];
  const result = simulate([req(0, 0, 1, 3), req(1, 0, 1, 2)], scripted(steps), { memory: 100, mode: 'rounds' });

  it('records each delivered token gap once, and the per-request max gap', () => {
    expect(Array.from(result.tokenGaps?.toArray() ?? [])).toEqual([1, 1, 4]);
    expect(result.requests.get(0)).toMatchObject({ firstToken: 1, completion: 6, maxGap: 4, restarts: 1 });
    expect(result.requests.get(1)).toMatchObject({ firstToken: 2, completion: 3, maxGap: 1 });
  });

  it('summarises TBT, TPOT and normalised latency', () => {
    const s = summarize(result);
    expect([s.p50Tbt, s.p90Tbt, s.p99Tbt, s.maxTbt]).toEqual([1, 4, 4, 4]);
    // TPOT: A (6 − 1)/2 = 2.5, B (3 − 2)/1 = 1.
    expect([s.meanTpot, s.p50Tpot, s.p99Tpot]).toEqual([1.75, 1, 2.5]);
    // Normalised latency: A 6/3 = 2, B 3/2 = 1.5.
    expect([s.meanNormLatency, s.p50NormLatency, s.p99NormLatency]).toEqual([1.75, 1.5, 2]);
  });

  it('a request with one output token has no gap and no TPOT', () => {
    const r = simulate([req(0, 0, 1, 1)], scripted([{ admit: [0], run: [0] }]), { memory: 10, mode: 'rounds' });
    const s = summarize(r);
    expect(r.tokenGaps?.length).toBe(0);
    expect(r.requests.get(0).maxGap).toBe(0);
    expect(s.maxTbt).toBe(0);
    expect(Number.isNaN(s.p50Tbt) && Number.isNaN(s.meanTpot)).toBe(true);
  });

  it('tokenGaps: false keeps the max stall but not the TBT percentiles', () => {
    const r = simulate([req(0, 0, 1, 3), req(1, 0, 1, 2)], scripted(steps), {
      memory: 100,
      mode: 'rounds',
      tokenGaps: false,
    });
    const s = summarize(r);
    expect(r.tokenGaps).toBeNull();
    expect(s.maxTbt).toBe(4);
    expect(Number.isNaN(s.p99Tbt)).toBe(true);
  });

  it('a run without token times (the GPU engine) reports TBT as unknown, not 0', () => {
    const r: SimulationResult = { ...result, tokenGaps: null };
    const table = new (result.requests.constructor as new () => typeof result.requests)();
    for (const q of result.requests) table.add({ ...q, maxGap: Number.NaN });
    const s = summarize({ ...r, requests: table });
    expect(Number.isNaN(s.maxTbt) && Number.isNaN(s.p50Tbt)).toBe(true);
    expect(s.meanTpot).toBe(1.75);
  });
});

describe('vLLM: a prefill round pauses running requests', () => {
  it('the paused decode shows as a two-round gap', () => {
    // A (arrives 0, o = 3) decodes in round 1; B arrives at 1, and vLLM runs B's prefill
    // alone in round 1, so A's second token comes at 3, not 2.
    const r = simulate([req(0, 0, 1, 3), req(1, 1, 1, 2)], createPolicy('vllm'), { memory: 1000, mode: 'rounds' });
    expect(r.requests.get(0)).toMatchObject({ firstToken: 1, completion: 4, maxGap: 2 });
    expect(Array.from(r.tokenGaps?.toArray() ?? []).sort()).toEqual([1, 1, 2]);
  });
});

describe('token-level identities on the LMSYS stand-in', () => {
  const w = lmsys({ seed: 4, requests: 400, rate: 80, mode: 'seconds' });
  const cost = getCostModel('a100-llama2-70b-tp2');
  for (const p of ['mcsf', 'vllm', 'alpha-clearing:0.1:0.1']) {
    it(`${p}: the gaps of all requests add up to Σ (completion − first token), o − 1 of them each`, () => {
      // A small M forces evictions (α-clearing loses progress, vLLM recomputes).
      const r = simulate(w.requests, createPolicy(p), { memory: 6000, mode: 'seconds', costModel: cost });
      let span = 0;
      let tokens = 0;
      for (const q of r.requests) {
        span += q.completion - q.firstToken;
        tokens += q.output - 1;
        expect(q.maxGap as number).toBeLessThanOrEqual(q.completion - q.firstToken);
      }
      const gaps = r.tokenGaps?.toArray() ?? new Float64Array(0);
      expect(gaps.length).toBe(tokens);
      expect(gaps.reduce((a, b) => a + b, 0)).toBe(span);
      if (p !== 'mcsf') expect(r.totals.evictions).toBeGreaterThan(0);
    });
  }

  it('rounds mode with room for everyone: every gap is one round', () => {
    const rw = lmsys({ seed: 4, requests: 200, rate: 0.5, mode: 'rounds' });
    const r = simulate(rw.requests, createPolicy('mcsf'), { memory: 1_000_000, mode: 'rounds' });
    const gaps = r.tokenGaps?.toArray() ?? new Float64Array(0);
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps.every((g) => g === 1)).toBe(true);
  });
});

describe('TokenGaps stores runs of equal gaps once', () => {
  it('percentiles equal the nearest rank over every gap; toArray keeps the order produced', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 })), { maxLength: 60 }),
        fc.array(fc.double({ min: 0.5, max: 100, noNaN: true }), { minLength: 1, maxLength: 5 }),
        (runs, ps) => {
          const g = new TokenGaps();
          const all: number[] = [];
          for (const [v, k] of runs)
            for (let i = 0; i < k; i++) {
              g.add(v);
              all.push(v);
            }
          expect(Array.from(g.toArray())).toEqual(all);
          expect(g.length).toBe(all.length);
          expect(g.entries).toBeLessThanOrEqual(runs.length);
          const sorted = Float64Array.from(all).sort();
          const want = ps.map((p) => percentile(sorted, p));
          expect(g.percentiles(ps)).toEqual(all.length === 0 ? ps.map(() => Number.NaN) : want);
          const joined = TokenGaps.join([g, new TokenGaps(), g]);
          const twice = Float64Array.from([...all, ...all]).sort();
          expect(joined.length).toBe(2 * all.length);
          if (all.length > 0) expect(joined.percentiles(ps)).toEqual(ps.map((p) => percentile(twice, p)));
        },
      ),
    );
  });

  it('percentiles are exact on either path: whole values (packed sort) and fractional or ≥ 2^32 ones (Map)', () => {
    const value = fc.oneof(
      fc.integer({ min: 0, max: 40 }).map((v) => v * 1_000_003),
      fc.constantFrom(2 ** 32 - 1, 2 ** 32, 2 ** 40, 0.5, 1e-3),
      fc.double({ min: 0, max: 1e6, noNaN: true }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(value, fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 6 }),
        (runs, wholeOnly, ps) => {
          const g = new TokenGaps();
          const all: number[] = [];
          for (const [v0, k] of runs) {
            const v = wholeOnly ? Math.min(Math.round(v0), 2 ** 32 - 1) : v0;
            for (let i = 0; i < k; i++) {
              g.add(v);
              all.push(v);
            }
          }
          const sorted = Float64Array.from(all).sort();
          expect(g.percentiles(ps)).toEqual(ps.map((p) => percentile(sorted, p)));
        },
      ),
      { numRuns: 500 },
    );
    // A run of 2^21 equal gaps (one entry whose count reaches the packing limit) takes the Map path.
    const big = new TokenGaps();
    for (let i = 0; i < 2 ** 21; i++) big.add(7);
    big.add(9);
    expect(big.percentiles([50, 100])).toEqual([7, 9]);
  });

  it('a 10k LMSYS run keeps far fewer entries than gaps', () => {
    const w10k = lmsys({ seed: 1, requests: 10_000, rate: 50, mode: 'seconds' });
    const r = simulate(w10k.requests, createPolicy('mcsf'), {
      memory: 16_492,
      mode: 'seconds',
      costModel: getCostModel('a100-llama2-70b-tp2'),
    });
    const g = r.tokenGaps;
    expect(g).toBeTruthy();
    if (!g) return;
    expect(g.length).toBeGreaterThan(100_000);
    expect(g.entries * 5).toBeLessThan(g.length);
  });
});
