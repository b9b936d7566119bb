/**
 * Text echoed to the terminal from user input or files: control characters (ANSI escapes,
 * newlines, NUL, …) escaped and the length capped, so an error message is one readable
 * line however hostile the input.
 */

/** Escapes C0/C1 control characters and DEL as \xNN (\n, \r, \t by name) and caps the
 *  length at `max` characters (then `… (N more characters)`). */
export function sanitize(text: string, max = 400): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  if (escaped.length <= max) return escaped;
  return `${escaped.slice(0, max)}… (${escaped.length - max} more characters)`;
}

/** A user-given value in a message: sanitized, capped, in double quotes (unless `quoted` is false). */
export function quote(text: string, max = 60, quoted = true): string {
  const s = sanitize(text, max);
  return quoted ? `"${s}"` : s;
}
