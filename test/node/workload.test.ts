import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { RequestSpec } from '../../src/model/types.ts';
import { InputError } from '../../src/workload/errors.ts';
import { Rng, deriveSeed } from '../../src/workload/rng.ts';
import { arrivalFromTime } from '../../src/workload/time.ts';
import { LMSYS_MEMORY, lmsys, lmsysStream, paperSynthetic } from '../../src/workload/generators.ts';
import {
  applyPredictions,
  formatPredictionSpec,
  makePredictor,
  parsePredictionSpec,
  withPredictions,
} from '../../src/workload/predictions.ts';
import { parseTrace, validateInstance } from '../../src/workload/trace.ts';
import { readTraceFile, readTraceFileSync } from '../../src/workload/node-files.ts';
import { azureTracePath } from '../../src/workload/data-path.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/workload/${name}`, import.meta.url));
// The trace shipped with the project (data/traces/), found the way `kvsched paper lmsys` finds it.
const AZURE = azureTracePath();
const HEADER = 'arrived_at,num_prefill_tokens,num_decode_tokens';

/** Runs `f`, expects an InputError, and returns it. */
function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

// ---------------------------------------------------------------------------------
describe('rng', () => {
  it('xoshiro128** matches the reference implementation from state [1,2,3,4]', () => {
    // Vigna's xoshiro128starstar.c from s = {1, 2, 3, 4} (cross-checked with gcc).
    const r = Rng.fromState([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, () => r.nextU32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('known answers for seed 1 (SplitMix32 seeding)', () => {
    const r = new Rng(1);
    expect(r.getState()).toEqual([1580013426, 350525680, 3524174333, 3011703609]);
    expect(Array.from({ length: 8 }, () => r.nextU32())).toEqual([
      393288148, 2174103013, 3814759091, 2092745082, 1865176206, 2179171167, 3207394750, 2858353069,
    ]);
    const f = new Rng(1);
    expect([f.float(), f.float(), f.float()]).toEqual([0.09156953175513294, 0.8881928137485323, 0.43427017709149285]);
    // float() = ((a >>> 5) · 2^26 + (b >>> 6)) / 2^53
    expect((Math.floor(393288148 / 32) * 2 ** 26 + Math.floor(2174103013 / 64)) / 2 ** 53).toBe(0.09156953175513294);
    const i = new Rng(1);
    expect(Array.from({ length: 8 }, () => i.int(1, 6))).toEqual([5, 2, 6, 1, 1, 4, 5, 2]);
    const n = new Rng(1);
    const normals = [n.normal(), n.normal(), n.normal()];
    [0.33449312836341266, -0.021594851680901972, 0.49054386106019454].forEach((v, k) =>
      expect(normals[k]).toBeCloseTo(v, 13),
    );
    const e = new Rng(1);
    expect(e.exponential(2)).toBeCloseTo(0.04801846437651308, 13);
    expect(e.exponential(2)).toBeCloseTo(1.0954897212928252, 13);
    const z = new Rng(0);
    expect(z.getState()).toEqual([1684164658, 3653269916, 2939563536, 2141751570]);
    expect([z.nextU32(), z.nextU32()]).toEqual([1789933344, 44971166]);
  });

  it('deriveSeed known answers (FNV-1a + murmur3 fmix32, cross-checked in C)', () => {
    expect(deriveSeed(1, 'sizes')).toBe(1771811762);
    expect(deriveSeed(1, 'arrivals')).toBe(2562185784);
    expect(deriveSeed(1, 'predictions')).toBe(3030453169);
    expect(deriveSeed(0, '')).toBe(1234692987);
    expect(deriveSeed(4294967295, 'lmsys/sizes')).toBe(1285929280);
    const seen = new Set<number>();
    for (let s = 0; s < 200; s++) for (const name of ['a', 'b', 'sizes', 'arrivals']) seen.add(deriveSeed(s, name));
    expect(seen.size).toBe(800);
  });

  it('rejects bad seeds and arguments', () => {
    expect(() => new Rng(-1)).toThrow(RangeError);
    expect(() => new Rng(2 ** 32)).toThrow(RangeError);
    expect(() => new Rng(1.5)).toThrow(RangeError);
    expect(() => deriveSeed(NaN, 'x')).toThrow(RangeError);
    const r = new Rng(3);
    expect(() => r.int(2, 1)).toThrow(RangeError);
    expect(() => r.int(0, 2 ** 32)).toThrow(RangeError);
    expect(() => r.int(0.5, 2)).toThrow(RangeError);
    expect(() => r.exponential(0)).toThrow(RangeError);
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(RangeError);
  });

  it('outputs are in range and roughly distributed as claimed', () => {
    const r = new Rng(12345);
    const N = 200_000;
    let sumF = 0;
    let sumN = 0;
    let sumN2 = 0;
    let sumE = 0;
    const counts = [0, 0, 0, 0, 0, 0];
    let inRange = true;
    for (let k = 0; k < N; k++) {
      const u = r.nextU32();
      inRange &&= u >= 0 && u <= 0xffffffff && Number.isInteger(u);
      const f = r.float();
      inRange &&= f >= 0 && f < 1;
      sumF += f;
      const d = r.int(1, 6);
      counts[d - 1] = (counts[d - 1] ?? 0) + 1;
      const z = r.normal();
      sumN += z;
      sumN2 += z * z;
      sumE += r.exponential(4);
    }
    expect(inRange).toBe(true);
    expect(sumF / N).toBeCloseTo(0.5, 2);
    // Chi-square with 5 degrees of freedom: 99.9% quantile ≈ 20.5.
    const chi = counts.reduce((a, c) => a + (c - N / 6) ** 2 / (N / 6), 0);
    expect(chi).toBeLessThan(20.5);
    expect(Math.abs(sumN / N)).toBeLessThan(0.01);
    expect(sumN2 / N).toBeCloseTo(1, 1);
    expect(sumE / N).toBeCloseTo(0.25, 2);
    // Full 32-bit range and degenerate range.
    const big = r.int(-(2 ** 31), 2 ** 31 - 1);
    expect(big >= -(2 ** 31) && big <= 2 ** 31 - 1).toBe(true);
    expect(r.int(7, 7)).toBe(7);
  });

  it('int() is exact over a large non-power-of-two range (rejection keeps all values reachable)', () => {
    const r = new Rng(9);
    const range = 3 * 2 ** 30; // threshold 2^32 mod range = 2^30: a quarter of draws rejected
    for (let k = 0; k < 1000; k++) {
      const v = r.int(0, range - 1);
      expect(v >= 0 && v < range).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------
describe('arrival convention', () => {
  it('rounds → ceil, seconds → round to µs', () => {
    expect(arrivalFromTime(0, 'rounds')).toBe(0);
    expect(arrivalFromTime(2, 'rounds')).toBe(2);
    expect(arrivalFromTime(2.0001, 'rounds')).toBe(3);
    expect(arrivalFromTime(1.2345674, 'seconds')).toBe(1234567);
    expect(arrivalFromTime(1.2345676, 'seconds')).toBe(1234568);
  });
});

// ---------------------------------------------------------------------------------
describe('paperSynthetic', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = paperSynthetic({ seed: 7, arrivals: 'poisson', mode: 'rounds' });
    const b = paperSynthetic({ seed: 7, arrivals: 'poisson', mode: 'rounds' });
    const c = paperSynthetic({ seed: 8, arrivals: 'poisson', mode: 'rounds' });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('ranges and invariants hold for every seed (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.constantFrom<'zero' | 'poisson'>('zero', 'poisson'),
        (seed, arrivals) => {
          const w = paperSynthetic({ seed, arrivals, mode: 'rounds' });
          expect(w.memory >= 30 && w.memory <= 50).toBe(true);
          expect(w.requests.length >= 40 && w.requests.length <= 60).toBe(true);
          let prev = 0;
          w.requests.forEach((r, i) => {
            expect(r.id).toBe(i);
            expect(r.prompt >= 1 && r.prompt <= 5).toBe(true);
            expect(r.output >= 1 && r.output <= w.memory - r.prompt).toBe(true);
            expect(r.predicted).toBe(r.output);
            expect(Number.isInteger(r.arrival) && r.arrival >= prev).toBe(true);
            prev = r.arrival;
          });
          if (arrivals === 'zero') {
            expect(w.rate).toBeUndefined();
            expect(w.requests.every((r) => r.arrival === 0)).toBe(true);
          } else {
            expect(w.rate !== undefined && w.rate >= 0.5 && w.rate < 1.5).toBe(true);
          }
          validateInstance(w.requests, w.memory, 'paper-synthetic');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the arrival model and the time mode do not change the sizes; modes agree', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
        const zero = paperSynthetic({ seed, arrivals: 'zero', mode: 'rounds' });
        const rounds = paperSynthetic({ seed, arrivals: 'poisson', mode: 'rounds' });
        const secs = paperSynthetic({ seed, arrivals: 'poisson', mode: 'seconds' });
        const sizes = (w: typeof zero) => w.requests.map((r) => [r.prompt, r.output]);
        expect(sizes(rounds)).toEqual(sizes(zero));
        expect(sizes(secs)).toEqual(sizes(zero));
        expect(secs.rate).toBe(rounds.rate);
        rounds.requests.forEach((r, i) => {
          const us = secs.requests[i]?.arrival ?? NaN;
          // rounds = ceil(T), seconds = round(T·1e6): T ∈ (rounds − 1, rounds]
          expect(us / 1e6).toBeGreaterThan(r.arrival - 1 - 1e-6);
          expect(us / 1e6).toBeLessThanOrEqual(r.arrival + 1e-6);
        });
      }),
      { numRuns: 100 },
    );
  });

  it('honours a given memory and request count', () => {
    const w = paperSynthetic({ seed: 3, arrivals: 'zero', mode: 'rounds', memory: 100, requests: 500 });
    expect(w.memory).toBe(100);
    expect(w.requests).toHaveLength(500);
    expect(w.requests.every((r) => r.prompt + r.output <= 100)).toBe(true);
    expect(Math.max(...w.requests.map((r) => r.output))).toBeGreaterThan(60);
    // M and n are still drawn, so the prompts stay aligned with the default instance.
    const d = paperSynthetic({ seed: 3, arrivals: 'zero', mode: 'rounds' });
    const m = paperSynthetic({
      seed: 3,
      arrivals: 'zero',
      mode: 'rounds',
      memory: d.memory,
      requests: d.requests.length,
    });
    expect(m).toEqual(d);
    expect(inputError(() => paperSynthetic({ seed: 3, arrivals: 'zero', mode: 'rounds', memory: 5 })).field).toBe(
      'memory',
    );
    expect(inputError(() => paperSynthetic({ seed: 3, arrivals: 'zero', mode: 'rounds', requests: 0 })).field).toBe(
      'requests',
    );
    expect(inputError(() => paperSynthetic({ seed: -1, arrivals: 'zero', mode: 'rounds' })).field).toBe('seed');
  });

  it('Poisson arrivals have the drawn rate', () => {
    const w = paperSynthetic({ seed: 11, arrivals: 'poisson', mode: 'seconds', requests: 20_000 });
    const last = (w.requests.at(-1)?.arrival ?? 0) / 1e6;
    expect(20_000 / last / (w.rate ?? NaN)).toBeCloseTo(1, 1);
  });
});

// ---------------------------------------------------------------------------------
describe('lmsys stand-in', () => {
  const w = lmsys({ seed: 1, rate: 50, mode: 'seconds' });

  it('10,000 requests, s + o ≤ 4096, statistics close to the paper', () => {
    expect(w.memory).toBe(LMSYS_MEMORY);
    expect(w.memory).toBe(16492);
    expect(w.rate).toBe(50);
    expect(w.requests).toHaveLength(10_000);
    w.requests.forEach((r, i) => {
      expect(r.id).toBe(i);
      expect(r.prompt >= 1 && r.output >= 1 && r.prompt + r.output <= 4096).toBe(true);
      expect(r.predicted).toBe(r.output);
    });
    validateInstance(w.requests, w.memory, 'lmsys');
    const prompts = w.requests.map((r) => r.prompt);
    const outputs = w.requests.map((r) => r.output);
    // Paper: prompt mean 40.62 median 11; output mean 85.32 median 45.
    expect(mean(prompts)).toBeGreaterThan(36);
    expect(mean(prompts)).toBeLessThan(46);
    expect(median(prompts)).toBe(11);
    expect(mean(outputs)).toBeGreaterThan(80);
    expect(mean(outputs)).toBeLessThan(91);
    expect(Math.abs(median(outputs) - 45)).toBeLessThanOrEqual(2);
    // 10,000 arrivals at 50/s span about 200 s.
    expect((w.requests.at(-1)?.arrival ?? 0) / 1e6).toBeCloseTo(200, -1);
  });

  it('the array is the stream collected; the stream is lazy', () => {
    expect(Array.from(lmsysStream({ seed: 1, rate: 50, mode: 'seconds' }))).toEqual(w.requests);
    const it = lmsysStream({ seed: 1, rate: 50, mode: 'seconds', requests: 10_000_000 });
    const first: RequestSpec[] = [];
    for (const r of it) {
      first.push(r);
      if (first.length === 5) break;
    }
    expect(first).toEqual(w.requests.slice(0, 5));
  });

  it('is deterministic; the rate and mode do not change the sizes', () => {
    const again = lmsys({ seed: 1, rate: 50, mode: 'seconds' });
    expect(again).toEqual(w);
    expect(lmsys({ seed: 2, rate: 50, mode: 'seconds', requests: 100 }).requests).not.toEqual(w.requests.slice(0, 100));
    const slow = lmsys({ seed: 1, rate: 10, mode: 'rounds', requests: 1000 });
    expect(slow.requests.map((r) => [r.prompt, r.output])).toEqual(
      w.requests.slice(0, 1000).map((r) => [r.prompt, r.output]),
    );
  });

  it('honours maxContext and checks options eagerly', () => {
    const small = lmsys({ seed: 5, rate: 1, mode: 'rounds', requests: 2000, maxContext: 64 });
    expect(small.requests.every((r) => r.prompt + r.output <= 64)).toBe(true);
    expect(inputError(() => lmsysStream({ seed: 1, rate: 0, mode: 'seconds' })).field).toBe('rate');
    expect(inputError(() => lmsysStream({ seed: 1, rate: 1, mode: 'seconds', maxContext: 20000 })).field).toBe(
      'maxContext',
    );
    expect(inputError(() => lmsys({ seed: 1, rate: 1, mode: 'seconds', requests: 1.5 })).field).toBe('requests');
    expect(() => lmsys({ seed: 1, rate: 1, mode: 'minutes' as 'seconds' })).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------
describe('predictions', () => {
  it('parses specs', () => {
    expect(parsePredictionSpec('exact')).toEqual({ kind: 'exact' });
    expect(parsePredictionSpec(' noise:0.2 ')).toEqual({ kind: 'noise', epsilon: 0.2 });
    expect(parsePredictionSpec('noise:0')).toEqual({ kind: 'noise', epsilon: 0 });
    expect(parsePredictionSpec('noise:.8')).toEqual({ kind: 'noise', epsilon: 0.8 });
    expect(formatPredictionSpec(parsePredictionSpec('noise:0.5'))).toBe('noise:0.5');
    for (const bad of ['noise:1', 'noise:1.5', 'noise:-0.1', 'noise:', 'noise:abc', 'noisy:0.2', 'Exact', '']) {
      const e = inputError(() => parsePredictionSpec(bad));
      expect(e.message).toContain('prediction spec');
    }
    expect(inputError(() => parsePredictionSpec('noise:1')).message).toMatch(/0 ≤ E < 1/);
  });

  const base = paperSynthetic({ seed: 21, arrivals: 'poisson', mode: 'rounds', requests: 2000, memory: 1000 });

  it('noise stays within [1−ε, 1+ε] of the true output and is deterministic', () => {
    for (const eps of [0.2, 0.5, 0.8]) {
      const p = applyPredictions(base.requests, { kind: 'noise', epsilon: eps }, 21);
      expect(applyPredictions(base.requests, { kind: 'noise', epsilon: eps }, 21)).toEqual(p);
      p.forEach((r, i) => {
        const o = base.requests[i]?.output ?? NaN;
        expect({ ...r, predicted: o }).toEqual(base.requests[i]); // only õ changes
        expect(r.predicted).toBeGreaterThanOrEqual(Math.max(1, Math.round(o * (1 - eps)) - 0));
        expect(r.predicted).toBeLessThanOrEqual(Math.round(o * (1 + eps)));
      });
      expect(p.some((r) => r.predicted !== r.output)).toBe(true);
    }
    expect(applyPredictions(base.requests, { kind: 'noise', epsilon: 0 }, 21)).toEqual(base.requests);
    expect(applyPredictions(base.requests, { kind: 'noise', epsilon: 0.5 }, 22)).not.toEqual(
      applyPredictions(base.requests, { kind: 'noise', epsilon: 0.5 }, 21),
    );
  });

  it('the noise stream is independent of sizes and arrivals, and common across ε', () => {
    const p2 = applyPredictions(base.requests, { kind: 'noise', epsilon: 0.2 }, 21);
    const p8 = applyPredictions(base.requests, { kind: 'noise', epsilon: 0.8 }, 21);
    // Same uniform u_i for every ε: the sign of the error agrees (up to rounding to o).
    p2.forEach((r, i) => {
      const q = p8[i];
      if (q === undefined) throw new Error('missing');
      if (r.predicted > r.output) expect(q.predicted).toBeGreaterThanOrEqual(q.output);
      if (r.predicted < r.output) expect(q.predicted).toBeLessThanOrEqual(q.output);
    });
    // The i-th request's noise is the i-th float of deriveSeed(seed, 'predictions').
    const rng = new Rng(deriveSeed(21, 'predictions'));
    p8.slice(0, 50).forEach((r) => {
      expect(r.predicted).toBe(Math.max(1, Math.round(r.output * (1 - 0.8 + 1.6 * rng.float()))));
    });
  });

  it('visits requests in id order whatever the array order; stream == array', () => {
    const spec = { kind: 'noise', epsilon: 0.5 } as const;
    const p = applyPredictions(base.requests, spec, 4);
    const reversed = applyPredictions([...base.requests].reverse(), spec, 4);
    expect([...reversed].reverse()).toEqual(p);
    expect(Array.from(withPredictions(base.requests, spec, 4))).toEqual(p);
    const predict = makePredictor(spec, 4);
    expect(base.requests.map((r) => predict(r))).toEqual(p);
    const lm = Array.from(withPredictions(lmsysStream({ seed: 3, rate: 5, mode: 'seconds', requests: 300 }), spec, 3));
    expect(lm).toEqual(applyPredictions(lmsys({ seed: 3, rate: 5, mode: 'seconds', requests: 300 }).requests, spec, 3));
  });

  it('exact keeps predictions a trace carries; noise overrides them', () => {
    const t = readTraceFileSync(fixture('good-predicted.csv'), { mode: 'seconds' });
    expect(applyPredictions(t.requests, { kind: 'exact' }, 1)).toEqual(t.requests);
    expect(applyPredictions(t.requests, { kind: 'exact' }, 1).map((r) => r.predicted)).toEqual([8, 7, 4, 29]);
    expect(applyPredictions(t.requests, { kind: 'noise', epsilon: 0 }, 1).map((r) => r.predicted)).toEqual([
      10, 7, 1, 30,
    ]);
  });
});

// ---------------------------------------------------------------------------------
describe('trace parsing', () => {
  it('reads a good file with an extra column and predictions (seconds mode)', () => {
    const path = fixture('good-predicted.csv');
    const t = readTraceFileSync(path, { mode: 'seconds', memory: 31 });
    expect(t.hasPredictions).toBe(true);
    expect(t.requests).toEqual([
      { id: 0, arrival: 0, prompt: 5, output: 10, predicted: 8 },
      { id: 1, arrival: 500_000, prompt: 3, output: 7, predicted: 7 },
      { id: 2, arrival: 2_250_000, prompt: 12, output: 1, predicted: 4 },
      { id: 3, arrival: 2_250_000, prompt: 1, output: 30, predicted: 29 },
    ]);
  });

  it('reads rounds mode; õ = o without the predicted column', async () => {
    const t = await readTraceFile(fixture('good-rounds.csv'), { mode: 'rounds' });
    expect(t.hasPredictions).toBe(false);
    expect(t.requests).toEqual([
      { id: 0, arrival: 0, prompt: 4, output: 6, predicted: 6 },
      { id: 1, arrival: 1, prompt: 2, output: 3, predicted: 3 },
      { id: 2, arrival: 1, prompt: 7, output: 2, predicted: 2 },
      { id: 3, arrival: 4, prompt: 1, output: 9, predicted: 9 },
    ]);
  });

  it('accepts CRLF, a BOM, reordered columns, spaces and blank lines', () => {
    const text = '\uFEFFnum_decode_tokens, arrived_at ,num_prefill_tokens\r\n3,0,2\r\n\r\n 4 ,1.0,5\r\n';
    const t = parseTrace(text, { fileName: 'x.csv', mode: 'rounds' });
    expect(t.requests).toEqual([
      { id: 0, arrival: 0, prompt: 2, output: 3, predicted: 3 },
      { id: 1, arrival: 1, prompt: 5, output: 4, predicted: 4 },
    ]);
  });

  it('error files name the file, line and field', () => {
    const decode = fixture('bad-decode.csv');
    let e = inputError(() => readTraceFileSync(decode, { mode: 'seconds' }));
    expect([e.file, e.line, e.field]).toEqual([decode, 4, 'num_decode_tokens']);
    expect(e.message).toBe(`${decode}:4: num_decode_tokens: "abc" is not an integer`);

    const order = fixture('bad-order.csv');
    e = inputError(() => readTraceFileSync(order, { mode: 'seconds' }));
    expect([e.file, e.line, e.field]).toEqual([order, 5, 'arrived_at']); // the blank line 4 still counts
    expect(e.message).toMatch(/earlier than the previous row's 5\.0/);

    const header = fixture('bad-header.csv');
    e = inputError(() => readTraceFileSync(header, { mode: 'seconds' }));
    expect([e.file, e.line, e.field]).toEqual([header, 1, 'arrived_at']);
    expect(e.message).toMatch(/missing column/);

    const empty = fixture('header-only.csv');
    e = inputError(() => readTraceFileSync(empty, { mode: 'seconds' }));
    expect([e.file, e.line]).toEqual([empty, 1]);
    expect(e.message).toMatch(/no requests/);
  });

  const cases: [string, string, number, string | null, RegExp][] = [
    ['wrong header name', 'arrived_at,num_prefill_tokens,decode\n0,1,1\n', 1, 'num_decode_tokens', /missing column/],
    ['duplicate column', `${HEADER},arrived_at\n0,1,1,0\n`, 1, 'arrived_at', /duplicate/],
    ['completely empty file', '', 1, null, /empty file/],
    ['too few fields', `${HEADER}\n0,1,1\n1,2\n`, 3, null, /malformed row: 2 fields, the header has 3/],
    ['too many fields', `${HEADER}\n0,1,1,9\n`, 2, null, /malformed row: 4 fields/],
    ['unterminated quote', `${HEADER}\n0,1,1\n1,"2,3\n`, 3, null, /malformed row/],
    ['empty value', `${HEADER}\n0,,1\n`, 2, 'num_prefill_tokens', /empty value/],
    ['empty arrival', `${HEADER}\n,1,1\n`, 2, 'arrived_at', /empty value/],
    ['non-numeric arrival', `${HEADER}\nsoon,1,1\n`, 2, 'arrived_at', /"soon" is not a number/],
    ['non-integer tokens', `${HEADER}\n0,1.5,1\n`, 2, 'num_prefill_tokens', /"1.5" is not an integer/],
    ['hex tokens', `${HEADER}\n0,0x10,1\n`, 2, 'num_prefill_tokens', /not an integer/],
    ['negative tokens', `${HEADER}\n0,-3,1\n`, 2, 'num_prefill_tokens', /must be ≥ 1, got -3/],
    ['zero prompt', `${HEADER}\n0,0,1\n`, 2, 'num_prefill_tokens', /must be ≥ 1/],
    ['zero output', `${HEADER}\n0,1,0\n`, 2, 'num_decode_tokens', /must be ≥ 1/],
    [
      'zero prediction',
      `${HEADER},predicted_decode_tokens\n0,1,1,1\n0,1,1,0\n`,
      3,
      'predicted_decode_tokens',
      /must be ≥ 1/,
    ],
    ['negative arrival', `${HEADER}\n-1,1,1\n`, 2, 'arrived_at', /negative arrival/],
    [
      'arrival out of order',
      `${HEADER}\n0,1,1\n2,1,1\n1.5,1,1\n`,
      4,
      'arrived_at',
      /earlier than the previous row's 2/,
    ],
  ];
  it.each(cases)('%s', (_name, text, line, field, re) => {
    const e = inputError(() => parseTrace(text, { fileName: 'trace.csv', mode: 'seconds' }));
    expect(e.file).toBe('trace.csv');
    expect(e.line).toBe(line);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(re);
    expect(e.message.startsWith(`trace.csv:${line}: ${field === null ? '' : `${field}: `}`)).toBe(true);
  });

  it('rounds mode needs whole rounds; seconds mode rounds to µs', () => {
    const text = `${HEADER}\n0,1,1\n2.5,1,1\n`;
    const e = inputError(() => parseTrace(text, { fileName: 'r.csv', mode: 'rounds' }));
    expect([e.line, e.field]).toEqual([3, 'arrived_at']);
    expect(e.message).toMatch(/whole number of rounds/);
    const t = parseTrace(`${HEADER}\n0.0000004,1,1\n0.0000015,1,1\n`, { fileName: 's.csv', mode: 'seconds' });
    expect(t.requests.map((r) => r.arrival)).toEqual([0, 2]);
  });

  it('checks the capacity when memory is given', () => {
    const text = `${HEADER}\n0,5,5\n1,6,5\n`;
    expect(parseTrace(text, { fileName: 'm.csv', mode: 'rounds', memory: 11 }).requests).toHaveLength(2);
    expect(parseTrace(text, { fileName: 'm.csv', mode: 'rounds' }).requests).toHaveLength(2);
    const e = inputError(() => parseTrace(text, { fileName: 'm.csv', mode: 'rounds', memory: 10 }));
    expect([e.file, e.line]).toEqual(['m.csv', 3]);
    expect(e.message).toBe('m.csv:3: peak KV cache s + o = 6 + 5 = 11 tokens exceeds M = 10');
    expect(inputError(() => parseTrace(text, { fileName: 'm.csv', mode: 'rounds', memory: 0 })).field).toBe('memory');
  });

  it('reports a missing file clearly', async () => {
    const missing = 'test/fixtures/workload/does-not-exist.csv';
    const e = inputError(() => readTraceFileSync(missing, { mode: 'seconds' }));
    expect(e.message).toBe(`${missing}: no such file`);
    await expect(readTraceFile(missing, { mode: 'seconds' })).rejects.toThrow(`${missing}: no such file`);
    await expect(readTraceFile(path.dirname(fixture('x')), { mode: 'seconds' })).rejects.toBeInstanceOf(InputError);
  });

  it('parses the real Azure conversation trace', () => {
    const t = readTraceFileSync(AZURE, { mode: 'seconds', memory: LMSYS_MEMORY });
    expect(t.requests).toHaveLength(19366);
    expect(t.hasPredictions).toBe(false);
    expect(t.requests[0]).toEqual({ id: 0, arrival: 0, prompt: 374, output: 44, predicted: 44 });
    expect(t.requests[1]).toEqual({ id: 1, arrival: 4_314_579, prompt: 396, output: 109, predicted: 109 });
    expect(t.requests.at(-1)).toEqual({ id: 19365, arrival: 3_501_721_937, prompt: 197, output: 183, predicted: 183 });
    // Whole-second arrivals are not required in seconds mode but are in rounds mode.
    expect(inputError(() => readTraceFileSync(AZURE, { mode: 'rounds' })).line).toBe(3);
  });
});

// ---------------------------------------------------------------------------------
describe('validateInstance', () => {
  const ok: RequestSpec[] = [
    { id: 0, arrival: 0, prompt: 2, output: 3, predicted: 3 },
    { id: 1, arrival: 2, prompt: 1, output: 4, predicted: 9 },
  ];
  it('accepts a valid instance and reports violations', () => {
    validateInstance(ok, 5, 'gen');
    let e = inputError(() => validateInstance(ok, 4, 'gen'));
    expect(e.message).toBe('gen: request 0: peak KV cache s + o = 2 + 3 = 5 tokens exceeds M = 4');
    e = inputError(() => validateInstance([ok[1] as RequestSpec, ok[0] as RequestSpec], 5, 'gen'));
    expect(e.field).toBe('arrival');
    e = inputError(() => validateInstance([{ ...ok[0], predicted: 0 } as RequestSpec], 5, 'gen'));
    expect(e.field).toBe('predicted');
    e = inputError(() => validateInstance(ok, 4, 'f.csv', (i) => i + 2));
    expect(e.message).toBe('f.csv:2: peak KV cache s + o = 2 + 3 = 5 tokens exceeds M = 4');
    expect(inputError(() => validateInstance(ok, 2.5, 'gen')).field).toBe('memory');
  });
});
