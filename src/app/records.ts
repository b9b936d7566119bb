/** The app's record kinds and the shape of a `run` record's data. */
import { runData } from '../storage/bundle.ts';
import type { CapacityResult, ExperimentResult, OptimumSummary, SweepResult } from '../worker/protocol.ts';
import type { ExperimentConfig } from './config.ts';

export type RunRecordData =
  | { type: 'experiment'; config: ExperimentConfig; result: ExperimentResult; optimum?: OptimumSummary }
  | { type: 'sweep'; config: ExperimentConfig; result: SweepResult }
  /** A capacity search (the Experiment view's capacity panel): `requests` per probe of the LMSYS stand-in. */
  | { type: 'capacity'; config: ExperimentConfig; requests: number; result: CapacityResult };

/** Whether a stored record's data is a whole, well-typed run (config included), as imports check it. */
export function isRunData(x: unknown): x is RunRecordData {
  return runData.safeParse(x).success;
}

/** Why `x` is not run data (the first problems, with their paths), or null when it is. */
export function runDataProblem(x: unknown): string | null {
  const r = runData.safeParse(x);
  if (r.success) return null;
  return r.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(data)'}: ${i.message}`)
    .join('; ');
}

/** Whether a stored value is an OptimumSummary (stored with its run since the optimum is saved). */
export function isOptimumSummary(x: unknown): x is OptimumSummary {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Partial<Record<keyof OptimumSummary, unknown>>;
  return (
    (o.status === 'optimal' || o.status === 'time-limit') &&
    typeof o.objective === 'number' &&
    typeof o.lowerBound === 'number' &&
    Array.isArray(o.policies)
  );
}
