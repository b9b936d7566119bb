/**
 * Deterministic pseudo-random numbers for workload generation.
 *
 * Generator: xoshiro128** (Blackman & Vigna), 128 bits of state in four 32-bit words,
 * seeded from one unsigned 32-bit seed through SplitMix32. Every step of the integer
 * stream uses only 32-bit operations (`Math.imul`, shifts, xor, `>>> 0`), so a WGSL
 * (u32-only) port reproduces `nextU32()` bit for bit.
 *
 * Derived values (documented so that a port can match them):
 * - `float()`   = ((a >>> 5) · 2^26 + (b >>> 6)) / 2^53 from two draws a, b: 53 random
 *                 bits, uniform on [0, 1), exactly representable in a double.
 * - `int(lo,hi)`= lo + x mod r with r = hi − lo + 1, redrawing x while
 *                 x < 2^32 mod r (= `(0u − r) % r` in u32): no modulo bias.
 * - `normal()`  = √(−2 ln(1 − u1)) · cos(2π u2) with u1 = float(), u2 = float()
 *                 (Box–Muller; the sine twin is deliberately discarded so that every
 *                 normal consumes exactly four 32-bit draws and the stream stays simple).
 * - `exponential(rate)` = −ln(1 − float()) / rate.
 * The float transforms use `Math.log`/`Math.cos`/`Math.sqrt`; V8 and SpiderMonkey both
 * use fdlibm-derived code, so Node and browsers agree in practice, but only the
 * integer stream is guaranteed portable.
 *
 * Independent streams: `deriveSeed(seed, 'sizes')`, `deriveSeed(seed, 'arrivals')`,
 * `deriveSeed(seed, 'predictions')`, … give unrelated 32-bit seeds from one user seed,
 * so e.g. changing the prediction-noise level never changes sizes or arrivals.
 */

const TWO_POW_32 = 4294967296;
const TWO_POW_26 = 67108864;
const TWO_POW_53 = 9007199254740992;

function checkSeed(seed: number, what: string): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`${what} must be an integer in [0, 4294967295], got ${seed}`);
  }
  return seed >>> 0;
}

/**
 * One SplitMix32 step (the 32-bit SplitMix variant: increment 0x9e3779b9, then the
 * mixer x ^= x>>>16; x *= 0x21f0aaad; x ^= x>>>15; x *= 0x735a2d97; x ^= x>>>15).
 * Returns the new counter and the output.
 */
export function splitMix32(counter: number): { counter: number; value: number } {
  const c = (counter + 0x9e3779b9) >>> 0;
  let z = c;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  z = (z ^ (z >>> 15)) >>> 0;
  return { counter: c, value: z };
}

/** MurmurHash3's 32-bit finaliser (a bijection on u32). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const utf8 = new TextEncoder();

/**
 * Seed of the named sub-stream of `seed`: FNV-1a (32-bit) over the four little-endian
 * bytes of `seed` followed by the UTF-8 bytes of `streamName`, then MurmurHash3's
 * finaliser. Pure and portable; different names give unrelated seeds.
 */
export function deriveSeed(seed: number, streamName: string): number {
  const s = checkSeed(seed, 'seed');
  let h = 0x811c9dc5;
  const eat = (byte: number): void => {
    h = Math.imul(h ^ byte, 0x01000193);
  };
  eat(s & 0xff);
  eat((s >>> 8) & 0xff);
  eat((s >>> 16) & 0xff);
  eat(s >>> 24);
  for (const b of utf8.encode(streamName)) eat(b);
  return fmix32(h >>> 0);
}

/** xoshiro128** seeded by SplitMix32. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** @param seed unsigned 32-bit integer (0 … 4294967295). */
  constructor(seed: number) {
    let counter = checkSeed(seed, 'seed');
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = splitMix32(counter);
      counter = r.counter;
      words.push(r.value);
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    // SplitMix32 outputs are a bijection of distinct counters, so four zeros cannot
    // happen; keep the guard anyway (the all-zero state is a fixed point).
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator with the given raw xoshiro128** state (for tests against reference vectors and GPU hand-off). */
  static fromState(state: readonly [number, number, number, number]): Rng {
    const r = new Rng(0);
    for (const w of state) checkSeed(w, 'state word');
    if ((state[0] | state[1] | state[2] | state[3]) === 0)
      throw new RangeError('xoshiro128** state must not be all zero');
    [r.s0, r.s1, r.s2, r.s3] = [state[0] >>> 0, state[1] >>> 0, state[2] >>> 0, state[3] >>> 0];
    return r;
  }

  /** The current raw state (unsigned words), e.g. to upload to a GPU port. */
  getState(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Next unsigned 32-bit integer. */
  nextU32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform on [0, 1) with 53 random bits (two draws). */
  float(): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    return (a * TWO_POW_26 + b) / TWO_POW_53;
  }

  /** Uniform integer in [lo, hi], both inclusive; hi − lo + 1 ≤ 2^32. Unbiased (rejection). */
  int(lo: number, hi: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo > hi) {
      throw new RangeError(`int(lo, hi) needs integers lo ≤ hi, got ${lo}, ${hi}`);
    }
    const range = hi - lo + 1;
    if (range > TWO_POW_32) throw new RangeError(`int(lo, hi): range ${range} exceeds 2^32`);
    if (range === TWO_POW_32) return lo + this.nextU32();
    const threshold = TWO_POW_32 % range; // = (0u - range) % range in u32 arithmetic
    for (;;) {
      const x = this.nextU32();
      if (x >= threshold) return lo + (x % range);
    }
  }

  /** Uniform real in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Standard normal N(0, 1): Box–Muller cosine branch, two floats per value, no caching. */
  normal(): number {
    const u1 = this.float();
    const u2 = this.float();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Exponential with the given rate (mean 1/rate): −ln(1 − U)/rate. */
  exponential(rate: number): number {
    if (!(rate > 0) || !Number.isFinite(rate))
      throw new RangeError(`exponential rate must be a positive finite number, got ${rate}`);
    return -Math.log(1 - this.float()) / rate;
  }
}
