/** Number formatting for tables: fixed decimals, thousands separators, tabular digits (CSS). */
const cache = new Map<number, Intl.NumberFormat>();

function fmt(decimals: number): Intl.NumberFormat {
  let f = cache.get(decimals);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    cache.set(decimals, f);
  }
  return f;
}

export function fixed(x: number, decimals: number): string {
  if (!Number.isFinite(x)) return '—';
  return fmt(decimals).format(x);
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
  return `${fmt(0).format(v)} ${units[u]}`;
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
 * A policy's failure as the user reads it: no error class prefix, and the engine's
 * internal time (whole µs in seconds mode) in the run's unit.
 */
export function runErrorText(message: string, mode: 'seconds' | 'rounds'): string {
  return message.replace(/\bat time (\d+)\b(?![.,]\d)/g, (_, t: string) =>
    mode === 'seconds' ? `at ${fixed(Number(t) / 1e6, 3)} s` : `at round ${int(Number(t))}`,
  );
}
