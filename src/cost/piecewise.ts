/**
 * Exact integer arithmetic for cost models: `mulDivFloor` and piecewise-linear
 * interpolation over integer knots.
 *
 * Every function here takes and returns non-negative safe integers and is exact
 * (no floating-point rounding can reach a result), so a WGSL engine with 32-bit
 * integers reproduces it bit for bit with ONE helper:
 *
 *   mul_add_div_floor(a: u32, b: u32, c: u32, d: u32) -> u32 = ⌊(a·b + c) / d⌋
 *
 * computed with an emulated u64 intermediate (a·b + c ≤ (2³²−1)² + 2³²−1 < 2⁶⁴:
 * a 32×32→64 multiply from 16-bit limbs, a 64-bit add with carry, and a 64÷32
 * long division, bit by bit or by 16-bit digits). Its precondition is that the
 * quotient is < 2³²; each caller documents why that holds. Everything else is
 * u32 add/sub/compare whose bounds are stated where it happens.
 */

/** Piecewise-linear table: integer knots [x, y], x strictly increasing, y non-decreasing, all ≥ 0. */
export type Knots = readonly (readonly [number, number])[];

function assertNonNegInt(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${v}`);
}

/**
 * ⌊(a·b + c) / d⌋ for non-negative safe integers a, b, c and d ≥ 1, exact for any
 * size of a·b + c (the result must be a safe integer).
 *
 * Fast path: when a·b + c ≤ 2⁵³−1 the float product and sum are exact (a float
 * result above 2⁵³−1 proves the exact one is too, since rounding is monotone and
 * 2⁵³ is representable), `n % d` is exact (fmod is always exact), and
 * (n − n % d) / d divides an exact multiple of d, so it is exact too.
 * Slow path: BigInt.
 *
 * WGSL: `mul_add_div_floor` above, with a, b, c, d < 2³² and quotient < 2³².
 */
export function mulDivFloor(a: number, b: number, d: number, c = 0): number {
  assertNonNegInt(a, 'a');
  assertNonNegInt(b, 'b');
  assertNonNegInt(c, 'c');
  if (!Number.isSafeInteger(d) || d < 1) throw new RangeError(`divisor must be a positive safe integer, got ${d}`);
  const n = a * b + c;
  if (n <= Number.MAX_SAFE_INTEGER) {
    return (n - (n % d)) / d;
  }
  const q = (BigInt(a) * BigInt(b) + BigInt(c)) / BigInt(d);
  if (q > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`mulDivFloor result ${q} exceeds 2^53-1`);
  return Number(q);
}

/**
 * Check that a table is usable by `interp`: at least one knot, integers ≥ 0,
 * x strictly increasing, y non-decreasing (so interpolation is monotone and never
 * needs signed arithmetic). Throws a RangeError naming the first bad knot.
 */
export function validateKnots(table: Knots, name = 'table'): void {
  if (table.length === 0) throw new RangeError(`${name}: no knots`);
  let prev: readonly [number, number] | undefined;
  for (let i = 0; i < table.length; i++) {
    const k = table[i];
    if (k === undefined) throw new RangeError(`${name}: hole at knot ${i}`);
    const [x, y] = k;
    if (!Number.isSafeInteger(x) || x < 0 || !Number.isSafeInteger(y) || y < 0) {
      throw new RangeError(`${name}: knot ${i} [${x}, ${y}] is not a pair of non-negative integers`);
    }
    if (prev !== undefined) {
      if (x <= prev[0]) throw new RangeError(`${name}: knot ${i} x=${x} not above previous x=${prev[0]}`);
      if (y < prev[1]) throw new RangeError(`${name}: knot ${i} y=${y} below previous y=${prev[1]}`);
    }
    prev = k;
  }
}

function knot(table: Knots, i: number): readonly [number, number] {
  const k = table[i];
  if (k === undefined) throw new RangeError(`knot ${i} out of range (${table.length} knots)`);
  return k;
}

/**
 * Index of the segment for x: the largest i with x_i ≤ x, capped at n−2 (so
 * x above the last knot uses the last segment), or −1 when x < x_0.
 * Binary search; the result does not depend on the search method.
 */
function segmentIndex(table: Knots, x: number): number {
  if (x < knot(table, 0)[0]) return -1;
  let lo = 0; // invariant: x_lo ≤ x
  let hi = table.length - 1; // search in [lo, hi]
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1; // lo + hi < 2³¹ for any table that fits in memory
    if (knot(table, mid)[0] <= x) lo = mid;
    else hi = mid - 1;
  }
  return Math.min(lo, table.length - 2);
}

/**
 * Integer piecewise-linear interpolation of a validated table (see `validateKnots`).
 *
 * - x < x_0: clamp, y_0. (For the cost tables: an operator never runs faster than
 *   its smallest measured size; 0 tokens costs what 1 token costs.)
 * - x_i ≤ x ≤ x_{i+1}: y_i + ⌊(y_{i+1} − y_i)·(x − x_i) / (x_{i+1} − x_i)⌋.
 *   Exact at every knot; monotone non-decreasing in x (floor of a non-negative,
 *   non-decreasing numerator over a fixed positive divisor, continuous at knots
 *   since the formula gives y_{i+1} at x = x_{i+1}).
 * - x > x_{n−1}: the same formula on the last segment (linear extrapolation from
 *   the last two knots), still monotone.
 * - One knot: constant y_0.
 *
 * Bounds (WGSL u32): dy = y_{i+1} − y_i < 2³², dx = x − x_i < 2³², the product is
 * the u64 inside mul_add_div_floor; the quotient is ≤ dy inside the table and
 * ≤ dy·(x − x_i)/(x_{i+1} − x_i) above it, which each caller bounds; the final
 * add y_i + q must stay < 2³² (caller's domain).
 */
export function interp(table: Knots, x: number): number {
  assertNonNegInt(x, 'x');
  const i = segmentIndex(table, x);
  const first = knot(table, 0);
  if (i < 0 || table.length === 1) return first[1];
  const [x0, y0] = knot(table, i);
  const [x1, y1] = knot(table, i + 1);
  return y0 + mulDivFloor(y1 - y0, x - x0, x1 - x0);
}
