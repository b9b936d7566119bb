import type { TimeMode } from '../model/types.ts';
import { UsageError } from './io.ts';

/**
 * Times are whole µs (seconds mode) or rounds in doubles, exact up to 2^53. Generated
 * arrivals span about n/λ time units; a quarter of 2^53 leaves room for the Poisson spread
 * and for the schedule after the last arrival.
 */
const SPAN_LIMIT = 2 ** 51;

/** Refuses an arrival rate whose n arrivals would run past the engine's time range, naming the option. */
export function checkArrivalSpan(requests: number, rate: number, mode: TimeMode, option: string): void {
  const perUnit = mode === 'seconds' ? 1e6 : 1;
  const span = (requests / rate) * perUnit;
  if (span <= SPAN_LIMIT) return;
  const minRate = (requests * perUnit) / SPAN_LIMIT;
  throw new UsageError(
    `${option} ${rate}: ${requests} requests at this rate arrive over about ${(requests / rate).toPrecision(3)} ` +
      `${mode === 'seconds' ? 's' : 'rounds'}, past the supported time range ` +
      `(2^51 ${mode === 'seconds' ? 'µs' : 'rounds'}); ` +
      `use ${option} ≥ ${minRate.toPrecision(2)}`,
  );
}
