import type { CliIo } from './io.ts';

/**
 * The CLI's one progress line on stderr: redrawn in place (at most every `everyMs`), only
 * on a terminal and without --quiet; `clear()` erases it before results are printed.
 * `note()` prints a permanent line (also when stderr is not a terminal) unless quiet.
 */
export interface ProgressLine {
  show(text: string): void;
  clear(): void;
  note(text: string): void;
}

export function progressLine(io: CliIo, quiet: boolean, everyMs = 150): ProgressLine {
  const live = !quiet && io.interactive;
  let last = -Infinity;
  let drawn = false;
  return {
    show(text) {
      if (!live) return;
      const t = performance.now();
      if (t - last < everyMs) return;
      last = t;
      drawn = true;
      io.err(`\r\x1b[K${text}`);
    },
    clear() {
      if (live && drawn) io.err('\r\x1b[K');
      drawn = false;
    },
    note(text) {
      if (quiet) return;
      if (drawn) this.clear();
      io.err(`${text}\n`);
    },
  };
}
