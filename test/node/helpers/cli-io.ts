import type { CliIo } from '../../../src/cli/io.ts';

/** A CliIo that keeps what a command prints, for tests that run commands in-process. */
export function fakeIo(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    interactive: false,
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
  };
  return io;
}
