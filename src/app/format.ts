/** Number formatting for tables: fixed decimals, thousands separators, tabular digits (CSS). */
import { groupedFixed } from '../model/number-format.ts';

/** As the CLI's tables (src/cli/format.ts): one formatter, src/model/number-format.ts. */
export function fixed(x: number, decimals: number): string {
  if (!Number.isFinite(x)) return '—';
  return groupedFixed(x, decimals);
}

export function int(x: number): string {
  return fixed(x, 0);
}

/** Bytes as KiB/MiB/GiB. */
export function bytes(x: number): string {
  if (!Number.isFinite(x)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = x;
  let u = 0;
  while (v >= 1024 && u < units.length - 1 && Number.isInteger(v / 1024)) {
    v /= 1024;
    u++;
  }
  return `${groupedFixed(v, 0)} ${units[u]}`;
}

export function dateTime(ms: number): string {
  const d = new Date(ms);
  // Beyond ±8.64e15 ms a Date is invalid: show that, not "NaN-NaN-NaN".
  if (Number.isNaN(d.getTime())) return 'invalid date';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A policy's failure as the user reads it: no error class prefix, and its time once, in
 * the run's unit. The CPU engine already writes a seconds-mode time in seconds
 * (`at time 48.336 s`, src/engine/engine.ts timeText); the GPU engine and records stored
 * before that write the internal time (whole µs in seconds mode, `at time 48336000`),
 * which is converted here. A rounds-mode time is a bare round number either way.
 */
export function runErrorText(message: string, mode: 'seconds' | 'rounds'): string {
  const text = message.replace(/^(?:StuckError|LivelockError): /, '');
  return text.replace(
    /\bat time (?:(\d+(?:\.\d+)?(?:e[+-]?\d+)?) s\b|(\d+)\b(?![.,]\d))/g,
    (_, secs: string | undefined, t: string | undefined) => {
      if (secs !== undefined) return `at ${fixed(Number(secs), 3)} s`;
      return mode === 'seconds' ? `at ${fixed(Number(t) / 1e6, 3)} s` : `at round ${int(Number(t))}`;
    },
  );
}
