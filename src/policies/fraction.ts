/**
 * Policy parameters such as α = 0.1 are decimals; (1−α)·M in floating point can land a
 * hair below an integer (and a WGSL engine would compute it differently), so limits
 * are computed exactly: α = A / 10⁹ parsed from its decimal text, and
 * limit = floor(M · (10⁹ − A) / 10⁹) in BigInt. Engines receive the integer limit.
 */
const SCALE = 1_000_000_000n;

export interface Fraction {
  /** The text as given, e.g. "0.1". */
  readonly text: string;
  /** Numerator over 10⁹. */
  readonly nanos: bigint;
  readonly value: number;
}

export function parseFraction(text: string, what: string, policy: string): Fraction {
  const m = /^(0|1)?(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!m || text.trim() === '' || text.trim() === '.') {
    throw new Error(`${policy}: ${what} "${text}" is not a decimal number in [0, 1) (e.g. 0.1)`);
  }
  const whole = m[1] === '1' ? 1n : 0n;
  const frac = (m[2] ?? '').padEnd(9, '0');
  const nanos = whole * SCALE + BigInt(frac === '' ? '0' : frac);
  if (nanos >= SCALE) throw new Error(`${policy}: ${what} must be < 1, got ${text}`);
  return { text, nanos, value: Number(nanos) / 1e9 };
}

/** floor(M · (1 − f)), exactly. */
export function capacityBelow(memory: number, f: Fraction): number {
  return Number((BigInt(memory) * (SCALE - f.nanos)) / SCALE);
}
