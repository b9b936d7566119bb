/**
 * Errors for bad user input (trace files, generator options, prediction specs).
 *
 * A CLI or UI can catch `InputError` and print its message as is (no stack): the
 * message already says where the problem is, in the compiler-like form
 * `file:line: field: what is wrong`, e.g.
 * `trace.csv:17: num_decode_tokens: "abc" is not an integer`.
 */

export class InputError extends Error {
  /** The file (as the user named it) or another source description, e.g. `lmsys generator`. */
  readonly file: string;
  /** 1-based line number in the file (the CSV header is line 1); null when not tied to a line. */
  readonly line: number | null;
  /** The offending column / option name; null when the whole row or file is at fault. */
  readonly field: string | null;
  /** The bare description, without the `file:line: field:` prefix. */
  readonly detail: string;

  constructor(file: string, line: number | null, field: string | null, detail: string) {
    super(InputError.format(file, line, field, detail));
    this.name = 'InputError';
    this.file = file;
    this.line = line;
    this.field = field;
    this.detail = detail;
  }

  static format(file: string, line: number | null, field: string | null, detail: string): string {
    let where = file;
    if (line !== null) where += `:${line}`;
    return field === null ? `${where}: ${detail}` : `${where}: ${field}: ${detail}`;
  }
}
