/**
 * Trace CSV reader (pure: works on text, in Node and in the browser).
 *
 * Format (Vidur's, and data/traces/azure-conv-2023.csv):
 *   arrived_at,num_prefill_tokens,num_decode_tokens[,predicted_decode_tokens]
 * - The header is line 1 and must contain the three mandatory columns, in any order;
 *   `predicted_decode_tokens` is optional; any other column is ignored (Vidur files
 *   carry extras such as num_total_tokens). Names are case-sensitive, trimmed.
 * - arrived_at: seconds (seconds mode → integer µs by Math.round(x·1e6)) or a whole
 *   round number (rounds mode; a fractional value is an error). ≥ 0, non-decreasing.
 * - num_prefill_tokens = s ≥ 1, num_decode_tokens = o ≥ 1, predicted_decode_tokens
 *   = õ ≥ 1: integers (a decimal like `12.0` with an integer value is accepted).
 *   Without the predicted column, õ = o. A given õ is kept unless a noise prediction
 *   model is applied explicitly (predictions.ts).
 * - Request ids are data-row indices 0..n−1. Blank lines (e.g. a trailing newline)
 *   are skipped; CRLF, CR and a UTF-8 byte-order mark are accepted.
 * - With `memory` M given, every request must satisfy s + o ≤ M.
 * All-or-nothing: the first problem throws an InputError `file:line: field: …`.
 */
import { shownText } from '../model/text.ts';
import { groupedInt } from '../model/number-format.ts';
import Papa from 'papaparse';
import type { RequestSpec, TimeMode } from '../model/types.ts';
import { secondsToMicros } from '../model/types.ts';
import { InputError } from './errors.ts';
import { checkTimeMode } from './time.ts';
import { LIMITS, limitText } from '../model/limits.ts';
import { MAX_TOKENS, checkIntOption, checkPeak } from './validate.ts';

export { validateInstance } from './validate.ts';

export const TRACE_COLUMNS = ['arrived_at', 'num_prefill_tokens', 'num_decode_tokens'] as const;
export const TRACE_PREDICTED_COLUMN = 'predicted_decode_tokens';

export interface ParseTraceOptions {
  /** Name used in error messages, e.g. the path as the user gave it. */
  readonly fileName: string;
  readonly mode: TimeMode;
  /** KV capacity M: when given, every request must have s + o ≤ M. */
  readonly memory?: number;
}

export interface TraceResult {
  readonly requests: RequestSpec[];
  /** Whether the file had a predicted_decode_tokens column. */
  readonly hasPredictions: boolean;
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parses trace CSV text; throws an InputError on the first problem. */
export function parseTrace(text: string, opts: ParseTraceOptions): TraceResult {
  const file = opts.fileName;
  const mode = checkTimeMode(opts.mode);
  const memory = opts.memory === undefined ? undefined : checkIntOption(opts.memory, file, 'memory');

  // Normalise line ends so that Papa's cursor maps to lines simply.
  let src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  src = src.replace(/\r\n?/g, '\n');

  let header: string[] | undefined;
  let col = { arrival: 0, prompt: 0, output: 0, predicted: -1 };
  let width = 0;
  const requests: RequestSpec[] = [];
  let prevRaw = 0;
  let prevText = '';

  // Line bookkeeping: rowStart is the offset where the current row begins.
  let rowStart = 0;
  let scanned = 0;
  let line = 1;
  const lineAt = (offset: number): number => {
    for (; scanned < offset; scanned++) if (src.charCodeAt(scanned) === 10) line++;
    return line;
  };

  const intField = (raw: string, ln: number, field: string): number => {
    const v = raw.trim();
    if (v === '') throw new InputError(file, ln, field, 'empty value');
    const x = Number(v);
    if (!DECIMAL.test(v) || !Number.isInteger(x))
      throw new InputError(file, ln, field, `${shownText(JSON.stringify(v))} is not an integer`);
    if (x < 1) throw new InputError(file, ln, field, `must be ≥ 1, got ${v}`);
    if (x > MAX_TOKENS) throw new InputError(file, ln, field, `${v} exceeds the maximum ${MAX_TOKENS}`);
    return x;
  };

  const onRow = (fields: string[], errors: readonly Papa.ParseError[], end: number): void => {
    const ln = lineAt(rowStart);
    rowStart = end;
    if (header === undefined) {
      header = fields.map((h) => h.trim());
      const cols = header;
      const seen = new Set<string>();
      for (const h of cols) {
        if (h !== '' && seen.has(h)) throw new InputError(file, ln, shownText(h), 'duplicate column in header');
        seen.add(h);
      }
      for (const need of TRACE_COLUMNS) {
        if (!seen.has(need)) {
          throw new InputError(
            file,
            ln,
            need,
            `missing column in header (need ${TRACE_COLUMNS.join(',')}[,${TRACE_PREDICTED_COLUMN}]; found ${shownText(cols.join(',')) || 'an empty line'})`,
          );
        }
      }
      col = {
        arrival: cols.indexOf('arrived_at'),
        prompt: cols.indexOf('num_prefill_tokens'),
        output: cols.indexOf('num_decode_tokens'),
        predicted: cols.indexOf(TRACE_PREDICTED_COLUMN),
      };
      width = cols.length;
      return;
    }
    if (fields.length === 1 && (fields[0] ?? '').trim() === '') return; // blank line
    const err = errors[0];
    if (err !== undefined) throw new InputError(file, ln, null, `malformed row: ${err.message}`);
    if (fields.length !== width) {
      throw new InputError(file, ln, null, `malformed row: ${fields.length} fields, the header has ${width}`);
    }

    // arrived_at
    const aText = (fields[col.arrival] ?? '').trim();
    if (aText === '') throw new InputError(file, ln, 'arrived_at', 'empty value');
    const aRaw = Number(aText);
    if (!DECIMAL.test(aText) || !Number.isFinite(aRaw))
      throw new InputError(file, ln, 'arrived_at', `${shownText(JSON.stringify(aText))} is not a number`);
    if (aRaw < 0) throw new InputError(file, ln, 'arrived_at', `negative arrival ${aText}`);
    let arrival: number;
    if (mode === 'rounds') {
      if (!Number.isSafeInteger(aRaw))
        throw new InputError(
          file,
          ln,
          'arrived_at',
          `${shownText(JSON.stringify(aText))} is not a whole number of rounds (rounds mode)`,
        );
      arrival = aRaw;
    } else {
      arrival = secondsToMicros(aRaw);
    }
    if (arrival > LIMITS.time.max) {
      const unit = mode === 'rounds' ? 'rounds' : 'µs';
      throw new InputError(
        file,
        ln,
        'arrived_at',
        `${aText}${mode === 'rounds' ? '' : ` s = ${arrival} µs`} exceeds the supported maximum ${limitText(LIMITS.time.max)} ${unit}`,
      );
    }
    if (requests.length >= LIMITS.requests.max) {
      throw new InputError(
        file,
        ln,
        null,
        `more than ${groupedInt(LIMITS.requests.max)} requests, the supported maximum of one instance`,
      );
    }
    if (requests.length > 0 && aRaw < prevRaw) {
      throw new InputError(
        file,
        ln,
        'arrived_at',
        `arrival ${aText} is earlier than the previous row's ${prevText} (arrivals must be non-decreasing)`,
      );
    }
    prevRaw = aRaw;
    prevText = aText;

    const prompt = intField(fields[col.prompt] ?? '', ln, 'num_prefill_tokens');
    const output = intField(fields[col.output] ?? '', ln, 'num_decode_tokens');
    const predicted = col.predicted >= 0 ? intField(fields[col.predicted] ?? '', ln, TRACE_PREDICTED_COLUMN) : output;
    const r: RequestSpec = { id: requests.length, arrival, prompt, output, predicted };
    if (memory !== undefined) checkPeak(r, memory, file, ln);
    requests.push(r);
  };

  Papa.parse<string[]>(src, {
    header: false,
    skipEmptyLines: false,
    delimiter: ',',
    newline: '\n',
    dynamicTyping: false,
    step: (row) => onRow(row.data, row.errors, row.meta.cursor),
  });

  if (header === undefined) {
    throw new InputError(file, 1, null, `empty file (expected the header ${TRACE_COLUMNS.join(',')})`);
  }
  if (requests.length === 0) throw new InputError(file, 1, null, 'no requests (the trace has only a header)');
  return { requests, hasPredictions: col.predicted >= 0 };
}
