import type { BoundOptions } from './bounds.ts';

/** Multipliers λ of the sawtooth bound (bounds.ts, 7.); each order statistic takes the best. */
export const DEFAULT_SAWTOOTH: readonly number[] = [0.25, 0.4, 0.6, 0.8, 1, 1.25, 1.6, 2.2];

/** The bounds the exact solver uses by default. */
export const DEFAULT_BOUND_OPTIONS: BoundOptions = {
  area: true,
  betas: [],
  pair: true,
  waste: false,
  sawtooth: DEFAULT_SAWTOOTH,
};
