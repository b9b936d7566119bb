/**
 * Node-only file helpers (the rest of src/workload is browser-safe). Do not import
 * this module from browser code.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { bytesText, MAX_FILE_BYTES } from '../model/limits.ts';
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

/** The file is larger than we read: thrown by readCapped, turned into each caller's error type. */
export class TooLargeError extends Error {
  override name = 'TooLargeError';
}

/**
 * Reads at most `max` bytes of a file as UTF-8; a larger file (or an endless one such
 * as /dev/zero, a FIFO, a device) throws TooLargeError after reading max + 1 bytes,
 * never more. Other failures throw the fs error.
 */
export function readCapped(path: string, max: number): string {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st.isFile() && st.size > max)
      throw new TooLargeError(`is ${bytesText(st.size)}, more than the ${bytesText(max)} read from one file`);
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.allocUnsafe(Math.min(max + 1, 1 << 20));
    for (;;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, max + 1 - total), null);
      if (n === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      total += n;
      if (total > max)
        throw new TooLargeError(`is longer than the ${bytesText(max)} read from one file (stopped reading there)`);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Reads a UTF-8 text file of at most `max` bytes; a failure is an InputError naming `path` as given. */
export function readTextFileSync(path: string, max: number = MAX_FILE_BYTES.trace): string {
  try {
    return readCapped(path, max);
  } catch (e) {
    if (e instanceof TooLargeError) throw new InputError(path, null, null, e.message);
    throw readError(path, e);
  }
}

/** Reads a trace CSV (UTF-8) and parses it; error messages name `path` as given. */
export async function readTraceFile(path: string, opts: ReadTraceOptions): Promise<TraceResult> {
  await Promise.resolve(); // async for callers; the capped read itself is synchronous
  return parseTrace(readTextFileSync(path), { ...opts, fileName: path });
}

/** Synchronous variant of readTraceFile. */
export function readTraceFileSync(path: string, opts: ReadTraceOptions): TraceResult {
  return parseTrace(readTextFileSync(path), { ...opts, fileName: path });
}
