/**
 * `--out FILE`: checked when the options are parsed (before any work), written at the end.
 *
 * - A regular file (or a new name) is written to a temporary file in the target's real
 *   directory (symlinks resolved) and renamed over it, so a failed or interrupted run never
 *   leaves a truncated file or clobbers an older complete one. The temporary file is
 *   removed when the process ends without renaming it: on an error, and on SIGINT/SIGTERM
 *   or a kill, by a tiny watcher process (`sh`) that outlives us by at most 0.2 s —
 *   a synchronous CPU run cannot run a signal handler until it returns.
 * - A FIFO, a character device (/dev/null, /dev/stdout, a terminal) or a socket is written
 *   through, never replaced.
 * - An empty path, a directory, a missing or read-only directory: a UsageError (exit 2).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  openSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from './io.ts';
import type { ProgressLine } from './progress.ts';
import { quote } from './text.ts';

export interface OutTarget {
  /** The path as the user gave it (for messages). */
  readonly given: string;
  /** Where the bytes go: the symlink-resolved path. */
  readonly real: string;
  /** regular: temp file + rename; stream: written through (FIFO, device, socket). */
  readonly kind: 'regular' | 'stream';
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') throw new Error(`${quote(path)}: a part of the path is not a directory`, { cause: e });
    throw new Error(`${quote(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** Validates an --out destination; throws an Error with a one-line reason. */
export function checkOutPath(given: string): OutTarget {
  if (given.trim() === '') throw new Error('empty path');
  let real: string;
  try {
    real = realpathSync(given); // follows symlinks (a dangling one fails: handled below)
  } catch {
    real = resolve(dirname(given), basename(given));
  }
  const st = statOrNull(real);
  if (st?.isDirectory()) throw new Error(`${quote(given)} is a directory; give a file name`);
  if (st !== null && !st.isFile()) {
    try {
      accessSync(real, constants.W_OK);
    } catch {
      throw new Error(`${quote(given)} is not writable`);
    }
    return { given, real, kind: 'stream' };
  }
  const dir = dirname(real);
  const dst = statOrNull(dir);
  if (dst === null) throw new Error(`directory ${quote(dirname(given))} does not exist`);
  if (!dst.isDirectory()) throw new Error(`${quote(dirname(given))} is not a directory`);
  if (st !== null) {
    try {
      accessSync(real, constants.W_OK);
    } catch {
      throw new Error(`${quote(given)} is not writable`);
    }
  }
  // A real probe (permission bits alone miss read-only mounts, /proc, root squashing):
  // create and remove the temporary file the result will be written to.
  const probe = partialPath(real);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    throw new Error(`cannot create files in directory ${quote(dirname(given))} (${errCode(e)})`, { cause: e });
  }
  return { given, real, kind: 'regular' };
}

/** An fs error's code (ENOENT, EACCES, …), else its message. */
function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** The temporary file beside `real` that is renamed over it at the end. */
function partialPath(real: string): string {
  return join(dirname(real), `.${basename(real)}.${process.pid}.partial`);
}

/** Removes `path` once process `pid` is gone, unless it was renamed away before. */
function watchPartial(path: string): ChildProcess | null {
  try {
    const script = 'while kill -0 "$1" 2>/dev/null; do sleep 0.2; done; rm -f -- "$2"';
    const args = ['-c', script, 'kvsched-out', String(process.pid), path];
    const child = spawn('/bin/sh', args, { detached: true, stdio: 'ignore' });
    child.on('error', () => {}); // no sh: the partial file is then left on a kill (still never the target)
    child.unref();
    return child;
  } catch {
    return null;
  }
}

/**
 * Streams text into an --out target through a 1 MiB buffer (a million-request run is
 * written without one giant string).
 */
export class OutFile {
  private readonly fd: number;
  private buf: string[] = [];
  private size = 0;
  private readonly tmp: string | null;
  private readonly watcher: ChildProcess | null;
  private closed = false;

  constructor(readonly target: OutTarget) {
    this.tmp = target.kind === 'stream' ? null : partialPath(target.real);
    try {
      this.fd = openSync(this.tmp ?? target.real, 'w');
    } catch (e) {
      throw new CliError(`--out: cannot write ${quote(target.given)} (${errCode(e)})`);
    }
    this.watcher = this.tmp === null ? null : watchPartial(this.tmp);
  }

  write(s: string): void {
    this.buf.push(s);
    this.size += s.length;
    if (this.size > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    const data = this.buf.join('');
    this.buf = [];
    this.size = 0;
    writeSync(this.fd, data);
  }

  /** Flushes and renames into place; on failure removes the temporary file and rethrows. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
      closeSync(this.fd);
      if (this.tmp !== null) renameSync(this.tmp, this.target.real);
    } catch (e) {
      this.discard();
      throw e;
    } finally {
      this.watcher?.kill();
    }
  }

  /** Drops the output (an error before the end): the target is left as it was. */
  discard(): void {
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    if (this.tmp !== null) {
      try {
        unlinkSync(this.tmp);
      } catch {
        /* already gone */
      }
    }
    this.watcher?.kill();
  }
}

/**
 * Writes a finished result. If the target cannot be written after all (disk full, the
 * directory removed meanwhile), the result is saved under the temp directory instead and
 * the returned message says where: a finished optimum or sweep is never lost.
 */
export function writeResult(target: OutTarget, text: string, command: string): { ok: boolean; message: string } {
  try {
    const f = new OutFile(target);
    f.write(text);
    f.close();
    return { ok: true, message: `wrote ${target.given}` };
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    const rescue = join(tmpdir(), `kvsched-${command.replace(/\W+/g, '-')}-${process.pid}-${Date.now()}.json`);
    try {
      const f = new OutFile({ given: rescue, real: rescue, kind: 'regular' });
      f.write(text);
      f.close();
      const message = `could not write ${quote(target.given)} (${why}); the result was saved to ${rescue}`;
      return { ok: false, message };
    } catch {
      return { ok: false, message: `could not write ${quote(target.given)} (${why}), nor a copy under ${tmpdir()}` };
    }
  }
}

/** A finished result as indented JSON to a pre-checked --out; a failed write saves a copy, says where, exits 2. */
export function writeJsonResult(target: OutTarget, value: unknown, command: string, progress: ProgressLine): void {
  const w = writeResult(target, JSON.stringify(value, null, 1) + '\n', command);
  if (!w.ok) throw new CliError(w.message);
  progress.note(`kvsched: ${w.message}`);
}
