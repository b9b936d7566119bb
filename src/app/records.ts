/** The app's record kinds and the shape of a `run` record's data. */
import type { ExperimentResult, OptimumSummary, SweepResult } from '../worker/protocol.ts';
import type { ExperimentConfig } from './config.ts';

export type RunRecordData =
  | { type: 'experiment'; config: ExperimentConfig; result: ExperimentResult; optimum?: OptimumSummary }
  | { type: 'sweep'; config: ExperimentConfig; result: SweepResult };

export function isRunData(x: unknown): x is RunRecordData {
  if (typeof x !== 'object' || x === null) return false;
  const t = (x as { type?: unknown }).type;
  const r = (x as { result?: unknown }).result;
  return (t === 'experiment' || t === 'sweep') && typeof r === 'object' && r !== null && typeof (x as { config?: unknown }).config === 'object';
}

/** Whether a stored value is an OptimumSummary (stored with its run since the optimum is saved). */
export function isOptimumSummary(x: unknown): x is OptimumSummary {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Partial<Record<keyof OptimumSummary, unknown>>;
  return (o.status === 'optimal' || o.status === 'time-limit') && typeof o.objective === 'number' && typeof o.lowerBound === 'number' && Array.isArray(o.policies);
}
