/**
 * Arrival-time convention for every workload source (generators and traces).
 *
 * Generators produce continuous arrival times T_i ≥ 0 in *time units*: rounds in
 * `rounds` mode, seconds in `seconds` mode (a Poisson rate is "per time unit"). A
 * request's integer arrival a_i (RequestSpec.arrival) is then:
 * - rounds mode:  a_i = ceil(T_i): the request is eligible at the first round that
 *                 starts at or after its arrival (a request at T = 2.3 first competes
 *                 in round 3; one at T = 2 in round 2).
 * - seconds mode: a_i = Math.round(T_i × 1e6) integer microseconds (types.ts).
 * Both maps are monotone, so non-decreasing T_i give non-decreasing a_i. Requests are
 * emitted in arrival order and ids are generation order 0..n−1.
 *
 * Trace files already carry times: `arrived_at` is in seconds (seconds mode, rounded
 * to µs the same way) or must be a whole round number (rounds mode, no rounding: a
 * fractional value is an input error, see trace.ts).
 */
import { secondsToMicros, type TimeMode } from '../model/types.ts';

export const TIME_MODES: readonly TimeMode[] = ['rounds', 'seconds'];

/** Integer arrival (round, or µs) of a continuous arrival time `t` in time units. */
export function arrivalFromTime(t: number, mode: TimeMode): number {
  return mode === 'rounds' ? Math.ceil(t) : secondsToMicros(t);
}

/** Throws a RangeError unless `mode` is a TimeMode (guards untyped callers, e.g. a CLI). */
export function checkTimeMode(mode: unknown): TimeMode {
  if (mode !== 'rounds' && mode !== 'seconds') {
    throw new RangeError(`time mode must be "rounds" or "seconds", got ${JSON.stringify(mode)}`);
  }
  return mode;
}
