/** Browser-safe workload API (node-files.ts is the Node-only part). */
export * from './errors.ts';
export * from './rng.ts';
export * from './time.ts';
export * from './validate.ts';
export * from './generators.ts';
export * from './predictions.ts';
export * from './trace.ts';
