/**
 * Input text as echoed in an error message: control characters escaped (a file's
 * terminal escapes never reach the terminal) and at most `max` characters.
 */
export function shownText(text: string, max = 80): string {
  const safe = text.replace(
    // eslint-disable-next-line no-control-regex -- control characters are what this escapes
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}
