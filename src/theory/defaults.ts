import type { BoundOptions } from './bounds.ts';

/** The bounds the exact solver uses by default. */
export const DEFAULT_BOUND_OPTIONS: BoundOptions = { area: true, betas: [], pair: true, waste: false };
