import { InputError } from '../workload/errors.ts';
import { processIo, UsageError, type CliIo, type Command } from './io.ts';
import { paperCommand } from './paper.ts';
import { simulateCommand } from './simulate.ts';
import { sweepCommand } from './sweep.ts';
import { optimumCommand } from './optimum.ts';
import { calibrateCommand } from './calibrate.ts';
import { deviceCommand } from './device.ts';

/** Every subcommand; a new one is a module exporting a Command, listed here. */
export const COMMANDS: Command[] = [simulateCommand, calibrateCommand, deviceCommand, paperCommand, optimumCommand, sweepCommand];

function mainHelp(): string {
  return `kvsched — LLM inference scheduling under KV-cache constraints (arXiv 2502.07115)

Usage: kvsched <command> [options]     (kvsched <command> --help for its options)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(12)}${c.summary}`).join('\n')}
`;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.out(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`kvsched: unknown command "${name}"\n\n${mainHelp()}`);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`kvsched ${cmd.name}: ${e.message}\n(see: kvsched ${cmd.name} --help)\n`);
      return 2;
    }
    if (e instanceof InputError || e instanceof RangeError) {
      io.err(`kvsched ${cmd.name}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
