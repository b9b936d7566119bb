/**
 * The one error for a cancelled run (engine, GPU engine, workers, calibration, CLI on
 * SIGINT). Its name is `AbortError`, as for DOMException and fetch aborts, so
 * `isAbortError` also recognises those.
 */
export class AbortError extends Error {
  override name = 'AbortError';
  constructor(message = 'the run was cancelled') {
    super(message);
  }
}

/** An AbortError of ours, or any error (DOMException included) named `AbortError`. */
export function isAbortError(e: unknown): boolean {
  if (e instanceof AbortError) return true;
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

/** The reason of an aborted AbortSignal as an Error (its own reason when that is one). */
export function abortReason(signal: AbortSignal, message: string): Error {
  return signal.reason instanceof Error ? signal.reason : new AbortError(message);
}
