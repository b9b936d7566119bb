import { AlphaGreedyPolicy } from './alpha-greedy.ts';
import { capacityBelow, type Fraction } from './fraction.ts';

/**
 * α-protection with clearing (model.md §3.4): admission as α-greedy; on overflow (the
 * batch would hold more than M) evict newest-start first until it holds ≤ floor((1−β)·M).
 */
export class AlphaClearingPolicy extends AlphaGreedyPolicy {
  constructor(
    spec: string,
    alpha: Fraction,
    private readonly beta: Fraction,
  ) {
    super(spec, alpha);
  }

  protected override overflowTarget(memory: number): number {
    return capacityBelow(memory, this.beta);
  }
}
