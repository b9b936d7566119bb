/** The app's record kinds and the shape of a `run` record's data. */
import { runData } from '../storage/bundle.ts';
import type { ExperimentResult, SweepResult } from '../worker/protocol.ts';
import type { ExperimentConfig } from './config.ts';

export type RunRecordData =
  | { type: 'experiment'; config: ExperimentConfig; result: ExperimentResult }
  | { type: 'sweep'; config: ExperimentConfig; result: SweepResult };

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
