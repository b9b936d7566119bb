import type { CommandSpec } from './options.ts';

/** What a command writes to; tests pass buffers, the binary passes the process streams. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (progress lines are drawn only there). */
  readonly interactive: boolean;
}

export const processIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  interactive: Boolean(process.stderr.isTTY),
};

/** Exit statuses, as documented in docs/cli.md and `kvsched --help`. */
export const EXIT = { ok: 0, stuck: 1, badInput: 2, noDevice: 3, internal: 70 } as const;

/** An error the CLI reports as one line with its exit status (2: bad input). */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.badInput,
  ) {
    super(message);
  }
}

/** A CLI usage error: printed with the command's help hint, exit code 2. */
export class UsageError extends CliError {
  override name = 'UsageError';
}

export interface Command {
  readonly name: string;
  /** The option table (absent for `paper`, whose experiments each have one). */
  readonly spec?: CommandSpec;
  readonly summary: string;
  readonly help: string;
  run(argv: string[], io: CliIo): Promise<number>;
}
