/**
 * Node-only file helpers (the rest of src/workload is browser-safe). Do not import
 * this module from browser code.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { InputError } from './errors.ts';
import { parseTrace, type ParseTraceOptions, type TraceResult } from './trace.ts';

export type ReadTraceOptions = Omit<ParseTraceOptions, 'fileName'>;

function readError(path: string, e: unknown): InputError {
  const code = typeof e === 'object' && e !== null && 'code' in e ? (e as { code: unknown }).code : undefined;
  if (code === 'ENOENT') return new InputError(path, null, null, 'no such file');
  if (code === 'EISDIR') return new InputError(path, null, null, 'is a directory, not a trace file');
  if (code === 'EACCES') return new InputError(path, null, null, 'permission denied');
  return new InputError(path, null, null, `cannot read file: ${e instanceof Error ? e.message : String(e)}`);
}

/** Reads a UTF-8 text file; a failure is an InputError naming `path` as given. */
export function readTextFileSync(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw readError(path, e);
  }
}

/** Reads a trace CSV (UTF-8) and parses it; error messages name `path` as given. */
export async function readTraceFile(path: string, opts: ReadTraceOptions): Promise<TraceResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw readError(path, e);
  }
  return parseTrace(text, { ...opts, fileName: path });
}

/** Synchronous variant of readTraceFile. */
export function readTraceFileSync(path: string, opts: ReadTraceOptions): TraceResult {
  return parseTrace(readTextFileSync(path), { ...opts, fileName: path });
}
