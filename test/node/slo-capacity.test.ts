/**
 * SLO grammar and attainment on hand-made results; the capacity search on synthetic
 * predicates (bracket, tolerance, monotone in the SLO even when attainment is not monotone
 * in the rate) and on a small LMSYS instance (a looser SLO never gives a lower capacity).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SimulationResult } from '../../src/engine/engine.ts';
import { RequestTable, TokenGaps, type RequestResult } from '../../src/engine/results.ts';
import { CAPACITY_DEFAULTS, RescaledWorkload, searchCapacity } from '../../src/experiment/capacity.ts';
import { buildInstance } from '../../src/experiment/instance.ts';
import { runPolicy } from '../../src/experiment/run.ts';
import { getCostModel } from '../../src/cost/registry.ts';
import { checkSloMode, evaluateSlo, parseSlo, sloMet } from '../../src/metrics/slo.ts';
import { main } from '../../src/cli/main.ts';

const S = 1e6; // µs per second

function gapsOf(xs: number[]): TokenGaps {
  const g = new TokenGaps();
  for (const x of xs) g.add(x);
  return g.finish();
}

/** A seconds-mode result from hand-made rows (times in s). */
function result(
  rows: Omit<RequestResult, 'id' | 'prompt' | 'predicted' | 'start' | 'restarts' | 'joules'>[],
  gaps?: number[],
): SimulationResult {
  const table = new RequestTable();
  rows.forEach((r, id) =>
    table.add({
      id,
      prompt: 1,
      predicted: r.output,
      start: r.arrival * S,
      restarts: 0,
      joules: 0,
      output: r.output,
      arrival: r.arrival * S,
      firstToken: r.firstToken * S,
      completion: r.completion * S,
      ...(r.maxGap !== undefined ? { maxGap: Number.isNaN(r.maxGap) ? Number.NaN : r.maxGap * S } : {}),
    }),
  );
  return {
    policy: 'hand',
    memory: 100,
    mode: 'seconds',
    costModel: 'x',
    requests: table,
    rounds: null,
    totals: {
      rounds: 0,
      end: 0,
      busy: 0,
      tokensGenerated: 0,
      evictions: 0,
      peakKv: 0,
      kvTime: 0,
      activeJoules: 0,
      idleJoules: 0,
      requests: rows.length,
    },
    tokenGaps: gaps ? gapsOf(gaps.map((g) => g * S)) : null,
  };
}

// TTFT 1, 3, 0.5, 2 s; TPOT (c − f)/(o − 1): 0.1, 0.1, —(o = 1), 0.5; max gap 0.2, 0.1, 0, 0.9; latency 2, 4, 1.5, 4.
const hand = result(
  [
    { arrival: 0, firstToken: 1, completion: 2, output: 11, maxGap: 0.2 },
    { arrival: 1, firstToken: 4, completion: 5, output: 11, maxGap: 0.1 },
    { arrival: 2, firstToken: 2.5, completion: 3.5, output: 1, maxGap: 0 },
    { arrival: 3, firstToken: 5, completion: 7, output: 5, maxGap: 0.9 },
  ],
  [0.1, 0.1, 0.2, 0.1, 0.1, 0.9, 0.3, 0.3],
);

describe('SLO grammar', () => {
  it('parses per-request and percentile terms with units', () => {
    const s = parseSlo(' ttft=2s, tpot=200ms ,p99-tbt=0.5,p99.9-latency=1e1s');
    expect(s.terms.map((t) => [t.metric, t.percentile, t.value, t.unit])).toEqual([
      ['ttft', null, 2, 's'],
      ['tpot', null, 200, 'ms'],
      ['tbt', 99, 0.5, null],
      ['latency', 99.9, 10, 's'],
    ]);
    expect(s.text).toBe('ttft=2s,tpot=200ms,p99-tbt=0.5,p99.9-latency=1e1s');
  });
  const bad: [string, RegExp][] = [
    ['', /empty SLO/],
    ['ttfb=2s', /unknown metric "ttfb"/],
    ['ttft=2s,ttft=3s', /ttft given twice/],
    ['p99-ttft=1s,p99.0-ttft=2s', /p99-ttft given twice/],
    ['p0-ttft=1s', /percentile must be in \(0, 100\]/],
    ['p101-ttft=1s', /percentile must be in \(0, 100\]/],
    ['ttft=0s', /must be > 0/],
    ['ttft=2h', /not a term/],
    ['ttft<2s', /not a term/],
    ['ttft=-1s', /not a term/],
  ];
  for (const [text, re] of bad) it(`refuses ${JSON.stringify(text)}`, () => expect(() => parseSlo(text)).toThrow(re));
  it('rounds mode refuses units', () => {
    expect(() => checkSloMode(parseSlo('ttft=2s'), 'rounds')).toThrow(/rounds mode/);
    expect(() => checkSloMode(parseSlo('ttft=2'), 'rounds')).not.toThrow();
  });
});

describe('attainment on hand-made cases', () => {
  const att = (slo: string) => evaluateSlo(hand, parseSlo(slo)).attainment;
  it('per-request bounds', () => {
    expect(att('ttft=2s')).toBe(0.75); // 1, 0.5, 2 ≤ 2; 3 is not
    expect(att('ttft=1999ms')).toBe(0.5);
    expect(att('tpot=0.1s')).toBe(0.75); // o = 1 meets it vacuously; 0.5 does not
    expect(att('tbt=0.2s')).toBe(0.75);
    expect(att('latency=4s')).toBe(1);
    expect(att('latency=3.9s')).toBe(0.5);
    // All at once: request 0 (1, 0.1, 0.2, 2) and request 2 meet everything.
    expect(att('ttft=2s,tpot=0.1s,tbt=0.2s,latency=4s')).toBe(0.5);
  });
  it('percentile bounds on the run', () => {
    const o = evaluateSlo(hand, parseSlo('p50-ttft=1s,p99-tbt=0.9s,p75-tbt=0.2s'));
    expect(o.attainment).toBe(1); // no per-request term
    expect(o.percentiles.map((p) => [p.term, p.value, p.met])).toEqual([
      ['p50-ttft=1s', 1, true],
      ['p99-tbt=0.9s', 0.9, true],
      ['p75-tbt=0.2s', 0.3, false],
    ]);
    expect(o.percentilesMet).toBe(false);
    expect(sloMet(o, 0.5)).toBe(false);
    expect(sloMet(evaluateSlo(hand, parseSlo('ttft=2s,p50-ttft=1s')), 0.75)).toBe(true);
    expect(sloMet(evaluateSlo(hand, parseSlo('ttft=2s,p50-ttft=1s')), 0.76)).toBe(false);
  });
  it('unknown token times give an unknown attainment, never a silent miss', () => {
    const gpu = result([{ arrival: 0, firstToken: 1, completion: 2, output: 3, maxGap: Number.NaN }]);
    expect(Number.isNaN(evaluateSlo(gpu, parseSlo('tbt=1s')).attainment)).toBe(true);
    expect(evaluateSlo(gpu, parseSlo('ttft=1s')).attainment).toBe(1);
    const p = evaluateSlo(gpu, parseSlo('p99-tbt=1s'));
    expect(p.percentilesMet).toBe(false);
    expect(Number.isNaN(p.percentiles[0]?.value as number)).toBe(true);
  });
});

const opts = { ...CAPACITY_DEFAULTS, start: 10, tolerance: 0.02 };
const probeOf = (met: (r: number) => boolean) => (rate: number) => ({
  rate,
  met: met(rate),
  attainment: 1,
  percentilesMet: true,
});

describe('capacity search', () => {
  it('brackets a threshold to the tolerance, upwards and downwards', () => {
    for (const cap of [0.37, 3.7, 37, 370]) {
      const s = searchCapacity(
        probeOf((r) => r <= cap),
        opts,
      );
      expect(s.capacity).toBeLessThanOrEqual(cap);
      expect(s.hi).not.toBeNull();
      expect(s.hi as number).toBeGreaterThan(cap);
      expect((s.hi as number) - s.lo).toBeLessThanOrEqual(opts.tolerance * (s.hi as number));
      expect(s.probes.every((p) => p.met === p.rate <= cap)).toBe(true);
    }
  });
  it('never met: capacity 0; always met: open bracket at the maximum', () => {
    const none = searchCapacity(
      probeOf(() => false),
      opts,
    );
    expect([none.capacity, none.lo]).toEqual([0, 0]);
    expect(none.hi as number).toBeLessThan(2 * opts.minRate);
    const all = searchCapacity(
      probeOf(() => true),
      opts,
    );
    expect(all.hi).toBeNull();
    expect(all.capacity).toBeGreaterThan(opts.maxRate / 2);
  });
  it('a looser predicate never gives a lower capacity, even when not monotone in the rate', () => {
    // Arbitrary yes/no by rate bucket; the looser predicate says yes wherever the tighter does.
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
        fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
        (a, b) => {
          const bucket = (r: number) => Math.min(63, Math.max(0, Math.floor(Math.log2(r) * 3) + 32));
          const tight = (r: number) => a[bucket(r)] === true;
          const loose = (r: number) => tight(r) || b[bucket(r)] === true;
          return searchCapacity(probeOf(loose), opts).capacity >= searchCapacity(probeOf(tight), opts).capacity;
        },
      ),
      { numRuns: 300, seed: 15 },
    );
  });
});

describe('capacity on a small LMSYS instance', () => {
  const base = buildInstance({
    workload: { kind: 'lmsys', requests: 300, rate: 1 },
    mode: 'seconds',
    seed: 3,
    predict: { kind: 'exact' },
  });
  const scaled = new RescaledWorkload([...base.requests()], base.memory, 'lmsys 300');
  const cost = getCostModel('a100-llama2-70b-tp2');
  const capacity = (sloText: string, policy = 'mcsf'): number => {
    const slo = parseSlo(sloText);
    return searchCapacity(
      (rate) => {
        const o = runPolicy(scaled.at(rate), policy, { costModel: cost });
        if (!o.ok) return { rate, met: false, attainment: Number.NaN, percentilesMet: false };
        const e = evaluateSlo(o.result, slo);
        return { rate, met: sloMet(e, 0.9), attainment: e.attainment, percentilesMet: e.percentilesMet };
      },
      { ...CAPACITY_DEFAULTS, tolerance: 0.05 },
    ).capacity;
  };

  it('rescaling gives the asked mean rate and keeps the order', () => {
    const i = scaled.at(20);
    const rs = [...i.requests()];
    const span = ((rs[rs.length - 1]?.arrival as number) - (rs[0]?.arrival as number)) / 1e6;
    expect((rs.length - 1) / span).toBeCloseTo(20, 2);
    for (let k = 1; k < rs.length; k++) expect((rs[k]?.arrival as number) >= (rs[k - 1]?.arrival as number)).toBe(true);
  });

  it('a looser SLO never gives a lower capacity', () => {
    const ttft = ['ttft=0.5s', 'ttft=1s', 'ttft=2s', 'ttft=4s'].map((s) => capacity(s));
    const tpot = ['tpot=60ms,ttft=2s', 'tpot=80ms,ttft=2s', 'tpot=0.2s,ttft=2s'].map((s) => capacity(s));
    for (const xs of [ttft, tpot])
      for (let k = 1; k < xs.length; k++) expect(xs[k]).toBeGreaterThanOrEqual(xs[k - 1] as number);
    expect(ttft[0]).toBeGreaterThan(0);
    expect(ttft[3]).toBeGreaterThan(ttft[0] as number); // not flat: the SLO matters here
  });
});

describe('kvsched capacity', () => {
  it('needs --slo (exit 2, one line)', async () => {
    let err = '';
    const code = await main(['capacity', '--policy', 'mcsf'], {
      interactive: false,
      out: () => {},
      err: (t) => {
        err += t;
      },
    });
    expect(code).toBe(2);
    expect(err).toMatch(/^kvsched capacity: --slo is required/);
  });
  it('prints the capacity, bracket and probes', async () => {
    let out = '';
    const code = await main(['capacity', '--policy', 'mcsf', '--slo', 'ttft=2s', '--requests', '200', '--quiet'], {
      interactive: false,
      out: (t) => {
        out += t;
      },
      err: () => {},
    });
    expect(code).toBe(0);
    expect(out).toMatch(/^mcsf\s+[\d.,]+\s+[\d.,]+\s+[\d.,]+\s+\d+\s+[\d.]+$/m);
  });
  it('an SLO met at every probe up to the limit shows the capacity as a lower bound (≥), the missed side as —', async () => {
    let out = '';
    const code = await main(['capacity', '--policy', 'mcsf', '--slo', 'ttft=100000s', '--requests', '100', '--quiet'], {
      interactive: false,
      out: (t) => {
        out += t;
      },
      err: () => {},
    });
    expect(code).toBe(0);
    expect(out).toMatch(/^mcsf\s+≥ [\d.,]+\s+[\d.,]+\s+—\s+\d+/m);
  });
});
