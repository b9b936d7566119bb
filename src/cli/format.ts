import { groupedFixed } from '../model/number-format.ts';

/** Plain-text tables for the terminal: right-aligned numbers, a rule under the header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

/** A number with `digits` significant decimals, thousands not grouped (copy-paste friendly). */
export function num(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1000) return x.toFixed(0);
  if (abs >= 1) return x.toFixed(digits);
  return x.toPrecision(Math.max(1, digits + 1));
}

/**
 * A table cell: exactly `digits` decimals (one precision per column) and thousands
 * separators (`1,157.000`); not a number: `—`.
 */
export function fixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return '—';
  return groupedFixed(x, digits);
}

/** A count with thousands separators. */
export function count(x: number): string {
  return fixed(x, 0);
}

/** Decimals for times in a table: µs are noise in a summary; ms in seconds mode, 0.1 round in rounds mode. */
export function timeDigits(mode: 'rounds' | 'seconds'): number {
  return mode === 'seconds' ? 3 : 1;
}
