/** The app's record kinds and the shape of a `run` record's data. */
import type { ExperimentResult, SweepResult } from '../worker/protocol.ts';
import type { ExperimentConfig } from './config.ts';

export type RunRecordData =
  | { type: 'experiment'; config: ExperimentConfig; result: ExperimentResult }
  | { type: 'sweep'; config: ExperimentConfig; result: SweepResult };

export function isRunData(x: unknown): x is RunRecordData {
  if (typeof x !== 'object' || x === null) return false;
  const t = (x as { type?: unknown }).type;
  const r = (x as { result?: unknown }).result;
  return (t === 'experiment' || t === 'sweep') && typeof r === 'object' && r !== null && typeof (x as { config?: unknown }).config === 'object';
}
