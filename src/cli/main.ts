import pkg from '../../package.json' with { type: 'json' };
import { InputError } from '../workload/errors.ts';
import { ProfileError } from '../calibrate/profile.ts';
import { CliError, processIo, UsageError, type CliIo, type Command } from './io.ts';
import { PAPER_EXPERIMENTS, paperCommand } from './paper.ts';
import { simulateCommand } from './simulate.ts';
import { sweepCommand } from './sweep.ts';
import { optimumCommand } from './optimum.ts';
import { calibrateCommand } from './calibrate.ts';
import { deviceCommand } from './device.ts';
import { capacityCommand } from './capacity.ts';
import { sanitize } from './text.ts';

/** Every subcommand; a new one is a module exporting a Command, listed here. */
export const COMMANDS: Command[] = [
  simulateCommand, capacityCommand, calibrateCommand, deviceCommand, paperCommand, optimumCommand, sweepCommand,
];

export const VERSION: string = pkg.version;

/** Exit statuses, as documented in docs/cli.md. */
export const EXIT = { ok: 0, stuck: 1, badInput: 2, internal: 70 } as const;

function mainHelp(): string {
  return `kvsched ${VERSION} — LLM inference scheduling under KV-cache constraints (arXiv 2502.07115)

Usage: kvsched <command> [options]     (kvsched <command> --help for its options)
       kvsched --version

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(12)}${c.summary}`).join('\n')}

Exit status: 0 done, 1 some policy got stuck or livelocked (its reason printed), 2 bad input
(one line on stderr), 70 internal error (a bug; KVSCHED_DEBUG=1 prints the stack).
`;
}

/** One line for stderr: control characters escaped, length capped. */
function line(text: string): string {
  return `${sanitize(text, 600)}\n`;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.out(mainHelp());
    return name === undefined ? EXIT.badInput : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    io.out(`${VERSION}\n`);
    return EXIT.ok;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(line(`kvsched: unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')}; see kvsched --help)`));
    return EXIT.badInput;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    return reportError(e, cmd.name, rest, io);
  }
}

/** Turns an error into one stderr line and an exit status; never prints a stack unless asked. */
export function reportError(e: unknown, command: string, rest: readonly string[], io: CliIo): number {
  // `paper` has subcommands: name the one that failed.
  const sub = command === 'paper' && PAPER_EXPERIMENTS.some((x) => x.name === rest[0]) ? ` ${rest[0]}` : '';
  const who = `kvsched ${command}${sub}`;
  if (e instanceof UsageError) {
    io.err(line(`${who}: ${e.message} (see: ${who} --help)`));
    return e.exitCode;
  }
  if (e instanceof CliError) {
    io.err(line(`${who}: ${e.message}`));
    return e.exitCode;
  }
  if (e instanceof InputError || e instanceof RangeError || e instanceof ProfileError) {
    io.err(line(`${who}: ${e.message}`));
    return EXIT.badInput;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.err(line(`${who}: internal error: ${err.name}: ${err.message}${process.env.KVSCHED_DEBUG ? '' : ' (KVSCHED_DEBUG=1 shows the stack)'}`));
  if (process.env.KVSCHED_DEBUG && err.stack) io.err(`${err.stack}\n`);
  return EXIT.internal;
}
