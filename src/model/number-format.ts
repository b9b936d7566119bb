/**
 * Numbers with exactly `digits` decimals and thousands separators, as
 * `new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })`
 * writes them (checked against it by test/node/number-format.test.ts), without Intl: the
 * first Intl number format of a Node process loads ICU's locale data, ~30 ms of every
 * `kvsched` command's start (docs/cli.md, start-up). The CLI and the app use this one
 * declaration.
 *
 * Intl rounds the number's shortest round-trip decimal (the digits `String(x)` shows), half
 * away from zero — not its exact binary value as `toFixed` does: 1.005 → "1.01", where
 * (1.005).toFixed(2) is "1.00".
 */
export function groupedFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (!(Number.isInteger(digits) && digits >= 0 && digits <= 100))
    throw new RangeError(`digits ${digits} out of 0..100`);
  const negative = x < 0 || Object.is(x, -0);
  // Shortest round-trip digits d1 d2 … dn and the exponent e: |x| = d1.d2…dn × 10^e.
  const [mantissa = '0', exp = '0'] = Math.abs(x).toExponential().split('e');
  let ds = mantissa.replace('.', '');
  let point = Number(exp) + 1; // digits before the decimal point (≤ 0: leading zeros after it)
  if (ds === '0') point = 1;
  const keep = point + digits; // significant digits that stay
  if (keep < 0) {
    ds = '';
  } else if (keep < ds.length) {
    const up = (ds.charCodeAt(keep) as number) >= 53; // '5'
    ds = ds.slice(0, keep);
    if (up) {
      // Increment the kept digits, carrying.
      let i = ds.length - 1;
      while (i >= 0 && ds[i] === '9') i--;
      if (i < 0) {
        ds = `1${'0'.repeat(ds.length)}`;
        point++;
      } else {
        ds = `${ds.slice(0, i)}${String.fromCharCode((ds.charCodeAt(i) as number) + 1)}${'0'.repeat(ds.length - i - 1)}`;
      }
    }
  }
  // Place the digits: integer part, then exactly `digits` decimals.
  if (point <= 0) {
    ds = `${'0'.repeat(-point + 1)}${ds}`;
    point = 1;
  }
  ds = ds.padEnd(point + digits, '0');
  const intPart = ds.slice(0, point).replace(/^0+(?=\d)/, '');
  const frac = ds.slice(point, point + digits);
  let grouped = '';
  for (let i = intPart.length; i > 0; i -= 3)
    grouped = i > 3 ? `,${intPart.slice(i - 3, i)}${grouped}` : `${intPart.slice(0, i)}${grouped}`;
  return `${negative ? '-' : ''}${grouped}${digits > 0 ? `.${frac}` : ''}`;
}

/** An integer count with thousands separators (`10,000`). */
export function groupedInt(x: number): string {
  return groupedFixed(x, 0);
}
