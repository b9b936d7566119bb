import { shortestFirstLess } from '../engine/live.ts';
import { LookAheadPolicy } from './lookahead.ts';

/**
 * MC-SF, Memory-Constrained Shortest First (the paper's algorithm, model.md §3.1):
 * waiting requests by predicted output ascending (ties: arrival, then id), added while
 * the set stays feasible at every future round; running requests are never preempted
 * (only the overflow rule, which exact predictions never trigger, can evict).
 */
export class McsfPolicy extends LookAheadPolicy {
  readonly spec: string;
  constructor(spec = 'mcsf') {
    super(shortestFirstLess);
    this.spec = spec;
  }
}
