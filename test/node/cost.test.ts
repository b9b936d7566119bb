import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyBatchStats, type BatchStats } from '../../src/model/types.ts';
import { interp, mulDivFloor, validateKnots, type Knots } from '../../src/cost/piecewise.ts';
import {
  A100_U32_DOMAIN,
  ALL_REDUCE_BYTES_PER_TOKEN,
  ALL_REDUCES_PER_LAYER,
  NS_PER_MICRO,
  DECODE_ACHIEVED_BYTES_PER_MICRO,
  KV_BYTES_PER_TOKEN_PER_GPU,
  LAYERS,
  PREFILL_ACHIEVED_FLOP_PER_MICRO,
  PREFILL_FLOP_PER_SQUARE_PER_GPU,
  a100Llama2_70bTp2,
  a100Terms,
  sumTerms,
} from '../../src/cost/a100.ts';
import {
  ALL_REDUCE_NS_BY_BYTES,
  EMBEDDING_NS_BY_TOKENS,
  LAYER_NS_BY_TOKENS,
} from '../../src/cost/tables/a100-llama2-70b-tp2.ts';
import { getCostModel, listCostModels, registerCostModelScheme } from '../../src/cost/registry.ts';
import { a100x2Power, idleJoules, requestEnergyShare, roundJoules } from '../../src/cost/energy.ts';
import {
  ALL_REDUCE_CSV,
  MLP_CSV,
  MLP_OPS,
  buildA100Tables,
  OUTPUT_MODULE,
  dropFlatInterior,
  generateA100Tables,
  isotonicRound,
} from '../../scripts/gen-cost-tables.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const U32 = 2 ** 32;
const model = a100Llama2_70bTp2;

function decode(requests: number, contextEach: number): BatchStats {
  return { ...emptyBatchStats(), requests, decodeRequests: requests, decodeContext: requests * contextEach };
}
function prefill(tokens: number): BatchStats {
  return {
    ...emptyBatchStats(),
    requests: 1,
    prefillRequests: 1,
    prefillTokens: tokens,
    prefillSquares: tokens * tokens,
  };
}

describe('generated tables', () => {
  it('the generator reproduces the committed module byte for byte', () => {
    const mlp = readFileSync(resolve(ROOT, MLP_CSV), 'utf8');
    const ar = readFileSync(resolve(ROOT, ALL_REDUCE_CSV), 'utf8');
    const committed = readFileSync(resolve(ROOT, OUTPUT_MODULE), 'utf8');
    expect(generateA100Tables(mlp, ar)).toBe(committed);
  });

  it('tables are valid for interp: integer, x increasing, y non-decreasing', () => {
    validateKnots(LAYER_NS_BY_TOKENS, 'layer');
    validateKnots(EMBEDDING_NS_BY_TOKENS, 'emb');
    validateKnots(ALL_REDUCE_NS_BY_BYTES, 'all-reduce');
  });

  it('cover the measured grids and end with the synthetic 2× knot', () => {
    expect(LAYER_NS_BY_TOKENS[0]?.[0]).toBe(1);
    expect(LAYER_NS_BY_TOKENS.at(-2)?.[0]).toBe(4096);
    expect(LAYER_NS_BY_TOKENS.at(-1)?.[0]).toBe(8192);
    expect(ALL_REDUCE_NS_BY_BYTES[0]).toEqual([2048, 7000]);
    expect(ALL_REDUCE_NS_BY_BYTES.at(-1)?.[0]).toBe(2 * 536373250);
  });

  it('layer table excludes emb: 1 token = Σ nine op medians (0.566 − 0.003 ms)', () => {
    expect(interp(LAYER_NS_BY_TOKENS, 1)).toBe(563_000);
    expect(interp(EMBEDDING_NS_BY_TOKENS, 1)).toBe(3_000);
  });

  it('dedupes repeated sizes by the smaller total, splits emb, keeps TP 2 only', () => {
    const header = [
      ...MLP_OPS.map((op) => `time_stats.${op}.median`),
      'num_tokens',
      'num_tensor_parallel_workers',
    ].join(',');
    const row = (emb: number, other: number, tokens: number, tp: number): string =>
      [emb, ...MLP_OPS.slice(1).map(() => other), tokens, tp].join(',');
    const mlp = [header, row(0.001, 0.01, 1, 2), row(0.002, 0.02, 2, 2), row(0.002, 0.03, 2, 2), row(9, 9, 1, 1)].join(
      '\n',
    );
    const ar = [
      ',time_stats.all_reduce.median,num_workers,size,collective',
      '0,0.01,2,100,all_reduce',
      '1,0.005,2,100,all_reduce',
      '2,0.02,2,200,all_reduce',
      '3,1,4,100,all_reduce',
    ].join('\n');
    const t = buildA100Tables(mlp, ar);
    // 1 token: 9 ops × 10 µs; 2 tokens: the 20 µs row wins over the 30 µs one
    expect(t.layer.knots.slice(0, 2)).toEqual([
      [1, 90_000],
      [2, 180_000],
    ]);
    expect(t.embedding.knots.slice(0, 2)).toEqual([
      [1, 1_000],
      [2, 2_000],
    ]);
    expect(t.allReduce.knots.slice(0, 2)).toEqual([
      [100, 5_000],
      [200, 20_000],
    ]);
  });

  it('isotonic fit pools violators and stays non-decreasing', () => {
    expect(isotonicRound([1, 3, 2, 4])).toEqual([1, 3, 3, 4]); // 2.5 rounds to 3
    expect(isotonicRound([5, 1, 1, 9])).toEqual([2, 2, 2, 9]); // (5+1+1)/3 = 2.33
    expect(isotonicRound([1, 2, 3])).toEqual([1, 2, 3]);
  });

  it('flat-run compression keeps run ends only', () => {
    expect(
      dropFlatInterior([
        [1, 5],
        [2, 5],
        [3, 5],
        [4, 6],
      ]),
    ).toEqual([
      [1, 5],
      [3, 5],
      [4, 6],
    ]);
  });
});

describe('mulDivFloor', () => {
  it('small exact cases', () => {
    expect(mulDivFloor(7, 3, 2)).toBe(10);
    expect(mulDivFloor(0, 5, 3)).toBe(0);
    expect(mulDivFloor(10, 10, 100)).toBe(1);
    expect(mulDivFloor(10, 10, 101)).toBe(0);
    expect(mulDivFloor(7, 3, 2, 1)).toBe(11);
  });

  it('exact beyond 2^53 (BigInt path)', () => {
    const a = 2 ** 32 - 1;
    const b = 2 ** 32 - 1;
    const d = 2 ** 32 - 5;
    expect(mulDivFloor(a, b, d, 7)).toBe(Number((BigInt(a) * BigInt(b) + 7n) / BigInt(d)));
  });

  it('matches BigInt on random u32 operands', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: U32 - 1 }),
        fc.nat({ max: U32 - 1 }),
        fc.nat({ max: U32 - 1 }),
        fc.integer({ min: 1, max: U32 - 1 }),
        (a, b, c, d) => {
          const want = (BigInt(a) * BigInt(b) + BigInt(c)) / BigInt(d);
          if (want > BigInt(Number.MAX_SAFE_INTEGER)) return;
          expect(mulDivFloor(a, b, d, c)).toBe(Number(want));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('fast path is exact just below 2^53', () => {
    const n = Number.MAX_SAFE_INTEGER; // 2^53 − 1 = 3 · 3 · ... odd
    expect(mulDivFloor(n, 1, 2)).toBe(Number(BigInt(n) / 2n));
    expect(mulDivFloor(n, 1, 3)).toBe(Number(BigInt(n) / 3n));
  });

  it('rejects negatives, fractions and a zero divisor', () => {
    expect(() => mulDivFloor(-1, 1, 1)).toThrow(RangeError);
    expect(() => mulDivFloor(1.5, 1, 1)).toThrow(RangeError);
    expect(() => mulDivFloor(1, 1, 0)).toThrow(RangeError);
  });
});

describe('interp', () => {
  const t: Knots = [
    [10, 100],
    [20, 103],
    [40, 203],
  ];

  it('is exact at knots', () => {
    for (const [x, y] of t) expect(interp(t, x)).toBe(y);
    for (const [x, y] of ALL_REDUCE_NS_BY_BYTES) expect(interp(ALL_REDUCE_NS_BY_BYTES, x)).toBe(y);
    for (const [x, y] of LAYER_NS_BY_TOKENS) expect(interp(LAYER_NS_BY_TOKENS, x)).toBe(y);
  });

  it('floors between knots', () => {
    expect(interp(t, 13)).toBe(100); // 100 + ⌊3·3/10⌋ = 100
    expect(interp(t, 14)).toBe(101); // 100 + ⌊3·4/10⌋ = 101
    expect(interp(t, 19)).toBe(102); // 100 + ⌊27/10⌋
    expect(interp(t, 30)).toBe(153); // 103 + ⌊100·10/20⌋
    expect(interp(t, 39)).toBe(198); // 103 + ⌊1900/20⌋ = 198
  });

  it('clamps below the first knot', () => {
    expect(interp(t, 0)).toBe(100);
    expect(interp(t, 9)).toBe(100);
  });

  it('extrapolates from the last two knots', () => {
    expect(interp(t, 60)).toBe(303);
    expect(interp(t, 41)).toBe(208);
    expect(interp(t, 1_000_000_000)).toBe(203 + Math.floor((100 * (1_000_000_000 - 40)) / 20));
  });

  it('one knot is a constant', () => {
    expect(interp([[5, 9]], 0)).toBe(9);
    expect(interp([[5, 9]], 100)).toBe(9);
  });

  it('is monotone on the real tables', () => {
    fc.assert(
      fc.property(fc.nat({ max: 300_000 }), fc.nat({ max: 10_000 }), (x, dx) => {
        expect(interp(LAYER_NS_BY_TOKENS, x + dx)).toBeGreaterThanOrEqual(interp(LAYER_NS_BY_TOKENS, x));
        expect(interp(EMBEDDING_NS_BY_TOKENS, x + dx)).toBeGreaterThanOrEqual(interp(EMBEDDING_NS_BY_TOKENS, x));
        const b = x * ALL_REDUCE_BYTES_PER_TOKEN;
        const b2 = (x + dx) * ALL_REDUCE_BYTES_PER_TOKEN;
        expect(interp(ALL_REDUCE_NS_BY_BYTES, b2)).toBeGreaterThanOrEqual(interp(ALL_REDUCE_NS_BY_BYTES, b));
      }),
    );
  });

  it('validateKnots rejects bad tables', () => {
    expect(() => validateKnots([])).toThrow();
    expect(() =>
      validateKnots([
        [1, 2],
        [1, 3],
      ]),
    ).toThrow();
    expect(() =>
      validateKnots([
        [1, 2],
        [2, 1],
      ]),
    ).toThrow();
    expect(() => validateKnots([[1, 2.5]])).toThrow();
  });
});

describe('a100-llama2-70b-tp2', () => {
  it('a small decode round (8 × 500 tokens of context) takes 50–60 ms', () => {
    const us = model.roundMicros(decode(8, 500));
    expect(us).toBeGreaterThanOrEqual(50_000);
    expect(us).toBeLessThanOrEqual(60_000);
  });

  it('batch 1 also lands in 50–60 ms and batch 128 costs clearly more than batch 8', () => {
    const one = model.roundMicros(decode(1, 500));
    expect(one).toBeGreaterThanOrEqual(50_000);
    expect(one).toBeLessThanOrEqual(60_000);
    expect(model.roundMicros(decode(128, 500))).toBeGreaterThan(model.roundMicros(decode(8, 500)) + 10_000);
  });

  it('decode cost grows monotonically with batch size', () => {
    let prev = 0;
    for (let b = 1; b <= 512; b++) {
      const us = model.roundMicros(decode(b, 500));
      expect(us).toBeGreaterThanOrEqual(prev);
      prev = us;
    }
  });

  it('a 4096-token prefill costs more than a 1-token decode', () => {
    expect(model.roundMicros(prefill(4096))).toBeGreaterThan(model.roundMicros(decode(1, 1)));
    expect(model.roundMicros(prefill(4096))).toBeGreaterThan(1_000_000); // ≈ 1.38 s
  });

  it('prices a mixed round (a 512-token chunk after 1024 prefilled + 100 decodes) from the A100 tables', () => {
    // Sarathi's rounds: one pass over 512 + 100 = 612 tokens. The non-attention operators and the
    // all-reduce are read from the tables at 612 tokens (not the sum of two passes), the attention
    // terms add up, the overhead is paid once.
    const chunk = 512;
    const done = 1024;
    const mixed: BatchStats = {
      requests: 101,
      prefillRequests: 1,
      prefillTokens: chunk,
      prefillSquares: (done + chunk) ** 2 - done ** 2,
      decodeRequests: 100,
      decodeContext: 100 * 1000,
    };
    const t = a100Terms(mixed);
    const half = (d: number) => Math.floor(d / 2);
    const tokens = chunk + 100;
    const layerNs = interp(LAYER_NS_BY_TOKENS, tokens);
    const embNs = interp(EMBEDDING_NS_BY_TOKENS, tokens);
    expect(t.linearMicros).toBe(Math.floor((layerNs * LAYERS + embNs + 500) / 1000));
    const arNs = interp(ALL_REDUCE_NS_BY_BYTES, tokens * ALL_REDUCE_BYTES_PER_TOKEN);
    expect(t.allReduceMicros).toBe(Math.floor((arNs * LAYERS * 2 + 500) / 1000));
    const kvBytes = 100 * 1000 * KV_BYTES_PER_TOKEN_PER_GPU;
    expect(t.decodeAttentionMicros).toBe(
      Math.floor((kvBytes + half(DECODE_ACHIEVED_BYTES_PER_MICRO)) / DECODE_ACHIEVED_BYTES_PER_MICRO),
    );
    const flop = ((done + chunk) ** 2 - done ** 2) * PREFILL_FLOP_PER_SQUARE_PER_GPU;
    expect(t.prefillAttentionMicros).toBe(
      Math.floor((flop + half(PREFILL_ACHIEVED_FLOP_PER_MICRO)) / PREFILL_ACHIEVED_FLOP_PER_MICRO),
    );
    expect(t.overheadMicros).toBe(2000);
    // Attention terms equal those of the prefill-only and decode-only rounds; the mixed round
    // costs less than the two rounds apart (one overhead, sublinear operator times).
    const alone = a100Terms({ ...mixed, requests: 1, decodeRequests: 0, decodeContext: 0 });
    const decodes = a100Terms(decode(100, 1000));
    expect(t.prefillAttentionMicros).toBe(alone.prefillAttentionMicros);
    expect(t.decodeAttentionMicros).toBe(decodes.decodeAttentionMicros);
    expect(model.roundMicros(mixed)).toBeLessThan(sumTerms(alone) + sumTerms(decodes));
    expect(model.roundMicros(mixed)).toBeGreaterThan(Math.max(sumTerms(alone), sumTerms(decodes)));
  });

  it('terms sum to roundMicros and are integers', () => {
    fc.assert(
      fc.property(batchArb(), (b) => {
        const t = a100Terms(b);
        for (const v of Object.values(t)) expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
        expect(model.roundMicros(b)).toBe(sumTerms(t));
        expect(model.roundMicros(b)).toBe(
          t.linearMicros + t.allReduceMicros + t.decodeAttentionMicros + t.prefillAttentionMicros + t.overheadMicros,
        );
      }),
    );
  });

  it('is monotone non-decreasing in every BatchStats field', () => {
    const fields = [
      'requests',
      'prefillRequests',
      'prefillTokens',
      'prefillSquares',
      'decodeRequests',
      'decodeContext',
    ] as const;
    fc.assert(
      fc.property(batchArb(), fc.constantFrom(...fields), fc.nat({ max: 100_000 }), (b, f, d) => {
        const bigger: BatchStats = { ...b, [f]: b[f] + d };
        expect(model.roundMicros(bigger)).toBeGreaterThanOrEqual(model.roundMicros(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('an empty batch does not crash and costs ≥ 1 µs', () => {
    expect(model.roundMicros(emptyBatchStats())).toBeGreaterThanOrEqual(1);
  });

  it('rejects invalid stats', () => {
    expect(() => model.roundMicros({ ...emptyBatchStats(), decodeContext: -1 })).toThrow(RangeError);
    expect(() => model.roundMicros({ ...emptyBatchStats(), prefillTokens: 1.5 })).toThrow(RangeError);
  });

  it('constants derive as documented', () => {
    expect(KV_BYTES_PER_TOKEN_PER_GPU).toBe(163_840);
    expect(DECODE_ACHIEVED_BYTES_PER_MICRO).toBe(1_500_000);
    expect(PREFILL_FLOP_PER_SQUARE_PER_GPU).toBe(655_360);
    expect(PREFILL_ACHIEVED_FLOP_PER_MICRO).toBe(156_000_000);
    expect(ALL_REDUCE_BYTES_PER_TOKEN).toBe(16_384);
    expect(A100_U32_DOMAIN.maxTokensInBatch).toBe(262_143);
  });

  it('every integer of roundMicros stays within u32 (quotients, sums) and u64 (products) over the domain', () => {
    const T = A100_U32_DOMAIN.maxTokensInBatch;
    const bytes = T * ALL_REDUCE_BYTES_PER_TOKEN;
    expect(bytes).toBeLessThan(U32);
    const layerNs = interp(LAYER_NS_BY_TOKENS, T);
    const embNs = interp(EMBEDDING_NS_BY_TOKENS, T);
    const arNs = interp(ALL_REDUCE_NS_BY_BYTES, bytes);
    for (const v of [layerNs, embNs, arNs, embNs + 500]) expect(v).toBeLessThan(U32);
    // interp's own products dy·dx at the domain edge (last segment, extrapolated)
    for (const [tab, x] of [
      [LAYER_NS_BY_TOKENS, T],
      [EMBEDDING_NS_BY_TOKENS, T],
      [ALL_REDUCE_NS_BY_BYTES, bytes],
    ] as const) {
      const a = tab.at(-2);
      const z = tab.at(-1);
      if (a === undefined || z === undefined) throw new Error('short table');
      expect(z[1] - a[1]).toBeLessThan(U32);
      expect(x - a[0]).toBeLessThan(U32);
    }
    const big: BatchStats = {
      ...emptyBatchStats(),
      prefillTokens: T,
      prefillSquares: A100_U32_DOMAIN.maxPrefillSquares,
      decodeContext: A100_U32_DOMAIN.maxDecodeContext,
    };
    const t = a100Terms(big);
    for (const v of Object.values(t)) expect(v).toBeLessThan(U32);
    expect(model.roundMicros(big)).toBeLessThan(U32);
    // products (a·b + c) handed to mul_add_div_floor, all < 2^64
    const U64 = 2n ** 64n;
    expect(BigInt(layerNs) * BigInt(LAYERS) + BigInt(embNs + 500)).toBeLessThan(U64);
    expect(BigInt(A100_U32_DOMAIN.maxDecodeContext) * BigInt(KV_BYTES_PER_TOKEN_PER_GPU)).toBeLessThan(U64);
    expect(BigInt(A100_U32_DOMAIN.maxPrefillSquares) * BigInt(PREFILL_FLOP_PER_SQUARE_PER_GPU)).toBeLessThan(U64);
  });
});

function batchArb(): fc.Arbitrary<BatchStats> {
  return fc.record({
    requests: fc.nat({ max: 1024 }),
    prefillRequests: fc.nat({ max: 64 }),
    prefillTokens: fc.nat({ max: 20_000 }),
    prefillSquares: fc.nat({ max: 400_000_000 }),
    decodeRequests: fc.nat({ max: 1024 }),
    decodeContext: fc.nat({ max: 2_000_000 }),
  });
}

describe('registry', () => {
  it('knows the default model', () => {
    expect(getCostModel('a100-llama2-70b-tp2')).toBe(a100Llama2_70bTp2);
    expect(listCostModels()).toContain('a100-llama2-70b-tp2');
  });

  it('names the known models when the name is unknown', () => {
    expect(() => getCostModel('h100-nope')).toThrow(/unknown cost model "h100-nope"; known: .*a100-llama2-70b-tp2/);
    expect(() => getCostModel('nosuchscheme:x')).toThrow(/unknown cost model/);
  });

  it('resolves SCHEME:ARG through a registered scheme', () => {
    registerCostModelScheme(
      'test-const',
      (arg) => ({ name: `test-const:${arg}`, roundMicros: () => Number(arg) }),
      'test-const:MICROS',
    );
    expect(getCostModel('test-const:42').roundMicros(emptyBatchStats())).toBe(42);
    expect(listCostModels()).toContain('test-const:MICROS');
  });
});

describe('energy', () => {
  it('a100x2 draws 800 W while a round runs and 120 W idle', () => {
    expect(roundJoules(a100x2Power, 1_000_000)).toBe(800);
    expect(roundJoules(a100x2Power, 50_000)).toBeCloseTo(40, 12);
    expect(idleJoules(a100x2Power, 1_000_000)).toBe(120);
    expect(idleJoules(a100x2Power, 0)).toBe(0);
  });

  it('request shares are proportional to tokens and add up to the round', () => {
    const j = roundJoules(a100x2Power, model.roundMicros(decode(8, 500)));
    // batch: one prefill of 100 tokens + 3 decodes → 103 tokens
    const shares = [requestEnergyShare(j, 100, 103), ...[1, 1, 1].map((k) => requestEnergyShare(j, k, 103))];
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(j, 9);
    expect(shares[0]).toBeCloseTo((j * 100) / 103, 12);
    expect(requestEnergyShare(j, 0, 0)).toBe(0);
    expect(() => requestEnergyShare(j, 5, 4)).toThrow(RangeError);
  });

  it('rejects negative durations', () => {
    expect(() => roundJoules(a100x2Power, -1)).toThrow(RangeError);
  });
});

describe('A100 linear and all-reduce terms cached per token count', () => {
  it('equal the table formula on both sides of the cache bound, first call and repeated', () => {
    const formula = (t: number): [number, number] => {
      const half = NS_PER_MICRO / 2;
      const layer = interp(LAYER_NS_BY_TOKENS, t);
      const emb = interp(EMBEDDING_NS_BY_TOKENS, t);
      const ar = interp(ALL_REDUCE_NS_BY_BYTES, t * ALL_REDUCE_BYTES_PER_TOKEN);
      return [
        mulDivFloor(layer, LAYERS, NS_PER_MICRO, emb + half),
        mulDivFloor(ar, LAYERS * ALL_REDUCES_PER_LAYER, NS_PER_MICRO, half),
      ];
    };
    const counts = [0, 1, 2, 17, 255, 4096, 65_534, 65_535, 65_536, 65_537, 200_000, 262_143];
    for (let pass = 0; pass < 2; pass++)
      for (const t of counts) {
        const terms = a100Terms({
          requests: t,
          prefillRequests: 0,
          prefillTokens: 0,
          prefillSquares: 0,
          decodeRequests: t,
          decodeContext: t,
        });
        expect([terms.linearMicros, terms.allReduceMicros], `T = ${t}, pass ${pass}`).toEqual(formula(t));
      }
  });
});
