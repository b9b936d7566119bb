import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { groupedFixed } from '../../src/model/number-format.ts';

const intl = new Map<number, Intl.NumberFormat>();
function reference(x: number, digits: number): string {
  let f = intl.get(digits);
  if (f === undefined) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    intl.set(digits, f);
  }
  return f.format(x);
}

describe('groupedFixed writes what Intl.NumberFormat en-US writes', () => {
  it('on edge cases: ties, carries, -0, tiny and huge numbers', () => {
    const cases: [number, number][] = [
      [0, 0],
      [-0, 0],
      [-0, 2],
      [-0.0001, 2],
      [1.005, 2],
      [0.5, 0],
      [1.5, 0],
      [2.5, 0],
      [-2.5, 0],
      [1.25, 1],
      [1.35, 1],
      [0.05, 1],
      [0.04999, 1],
      [9.995, 2],
      [999.9999, 3],
      [999999.5, 0],
      [-999.95, 1],
      [1234567.891, 2],
      [1e20, 0],
      [1e21, 2],
      [123456789012345680000, 1],
      [5e-324, 3],
      [1e-7, 6],
      [5e-7, 6],
      [Number.MAX_VALUE, 0],
      [Number.MAX_SAFE_INTEGER, 0],
      [0.1 + 0.2, 17],
      [1 / 3, 20],
      [2 ** 53 + 2, 1],
    ];
    for (const [x, d] of cases) expect(groupedFixed(x, d), `${x} with ${d} digits`).toBe(reference(x, d));
  });

  it('on random doubles and 0..8 digits', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 8 }), (x, d) => {
        expect(groupedFixed(x, d)).toBe(reference(x, d));
      }),
      { numRuns: 20_000 },
    );
  });

  it('on numbers of table size (decimals that tie after rounding)', () => {
    const value = fc.oneof(
      fc.double({ min: -1e7, max: 1e7, noNaN: true }),
      fc.integer({ min: -1e9, max: 1e9 }).map((n) => n / 1000),
      fc.integer({ min: -1e6, max: 1e6 }).map((n) => n / 8),
    );
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 4 }), (x, d) => {
        expect(groupedFixed(x, d)).toBe(reference(x, d));
      }),
      { numRuns: 20_000 },
    );
  });

  it('leaves non-finite numbers as String() does and refuses bad digit counts', () => {
    expect(groupedFixed(Number.NaN, 2)).toBe('NaN');
    expect(groupedFixed(Number.POSITIVE_INFINITY, 0)).toBe('Infinity');
    expect(() => groupedFixed(1, -1)).toThrow(RangeError);
    expect(() => groupedFixed(1, 1.5)).toThrow(RangeError);
  });
});
