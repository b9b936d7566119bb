import { fcfsLess } from '../engine/live.ts';
import { LookAheadPolicy } from './lookahead.ts';

/** MC-Benchmark (model.md §3.2): MC-SF's feasibility check, candidates in arrival order. */
export class McFcfsPolicy extends LookAheadPolicy {
  readonly spec: string;
  constructor(spec = 'mc-fcfs') {
    super(fcfsLess);
    this.spec = spec;
  }
}
