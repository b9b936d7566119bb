import { LIMITS, limitText } from '../model/limits.ts';
import type { TimeMode } from '../model/types.ts';
import { UsageError } from './io.ts';

/**
 * Generated arrivals span about n/λ time units; the generators refuse any arrival past
 * LIMITS.time.max, and this checks the same bound up front, before anything runs, so that
 * a streamed instance is not refused half-way through.
 */
const SPAN_LIMIT = LIMITS.time.max;

/** Refuses an arrival rate whose n arrivals would run past the engine's time range, naming the option. */
export function checkArrivalSpan(requests: number, rate: number, mode: TimeMode, option: string): void {
  const perUnit = mode === 'seconds' ? 1e6 : 1;
  const span = (requests / rate) * perUnit;
  if (span <= SPAN_LIMIT) return;
  const minRate = (requests * perUnit) / SPAN_LIMIT;
  throw new UsageError(
    `${option} ${rate}: ${requests} requests at this rate arrive over about ${(requests / rate).toPrecision(3)} ` +
      `${mode === 'seconds' ? 's' : 'rounds'}, past the supported time range ` +
      `(${limitText(SPAN_LIMIT)} ${mode === 'seconds' ? 'µs' : 'rounds'}); ` +
      `use ${option} ≥ ${minRate.toPrecision(2)}`,
  );
}
