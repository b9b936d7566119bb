import { fcfsLess } from '../engine/live.ts';
import type { RoundContext } from '../engine/policy.ts';
import { ContinuousPolicy } from './continuous.ts';
import { capacityBelow, type Fraction } from './fraction.ts';

/**
 * α-protection greedy (model.md §3.3): admit waiting requests in FCFS order while the
 * tokens held by the batch in this round (after admitting) stay ≤ floor((1−α)·M); stop
 * at the first that does not fit. No look-ahead: running requests keep growing, and the
 * shared overflow rule evicts when the batch would exceed M.
 */
export class AlphaGreedyPolicy extends ContinuousPolicy {
  readonly lookAhead = false;
  constructor(
    readonly spec: string,
    protected readonly alpha: Fraction,
  ) {
    super(fcfsLess);
  }

  protected admit(ctx: RoundContext, held: number): void {
    const limit = capacityBelow(ctx.memory, this.alpha);
    for (;;) {
      const r = this.queue.peek();
      if (r === undefined) return;
      // A request admitted now holds s + 1 tokens in this round.
      if (held + r.prompt + 1 > limit) return;
      this.queue.pop();
      held += r.prompt + 1;
      this.start(ctx, r);
    }
  }

  blockedReason(): string | undefined {
    const r = this.queue.peek();
    return r === undefined
      ? undefined
      : `request ${r.id} needs ${r.prompt + 1} tokens in its first round, above the admission limit (1−α)·M`;
  }
}
