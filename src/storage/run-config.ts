/**
 * The stored form of the app's experiment configuration (`data.config` of a `run`
 * record), validated on import and before History opens a run. The app's
 * `ExperimentConfig` (src/app/config.ts) must equal `z.infer` of this schema; a type
 * test (test/node/storage-import.test.ts) fails when the two drift.
 */
import { z } from '../model/zod.ts';
import { LIMITS } from '../model/limits.ts';
import { ROUTERS } from '../engine/replicas.ts';

export const STORED_PRESETS = [
  'lmsys-high',
  'lmsys-low',
  'lmsys',
  'synthetic-zero',
  'synthetic-poisson',
  'trace',
] as const;

const positive = z.number().refine((x) => Number.isFinite(x) && x > 0, 'must be a positive finite number');
const count = z.number().int().min(1).max(LIMITS.requests.max);
const tokens = z.number().int().min(LIMITS.memory.min).max(LIMITS.memory.max);

export const experimentConfigSchema = z.object({
  preset: z.enum(STORED_PRESETS),
  rate: positive,
  requests: count,
  synthRequests: count.nullable(),
  mode: z.enum(['rounds', 'seconds']),
  memory: tokens.nullable(),
  policies: z.array(z.string().min(1).max(200)).min(1).max(100),
  predict: z.string().max(200),
  costModel: z.string().max(4096),
  engine: z.enum(['cpu', 'gpu']),
  seed: z.number().int().min(0).max(0xffffffff),
  sweepRates: z.array(positive).max(1000),
  traceName: z.string().max(4096).nullable(),
  // Added with issue 15: runs stored before have none of these and open with the defaults.
  slo: z.string().max(1000).default(''),
  replicas: z.number().int().min(1).max(1024).default(1),
  router: z.enum(ROUTERS).default('round-robin'),
});

export type StoredExperimentConfig = z.infer<typeof experimentConfigSchema>;
