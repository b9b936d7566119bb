import pkg from '../../package.json' with { type: 'json' };
import { InputError } from '../workload/errors.ts';
import { CliError, EXIT, processIo, UsageError, type CliIo, type Command } from './io.ts';

export { EXIT };
import { sanitize } from './text.ts';

/**
 * Every subcommand: its name and summary (for `kvsched --help`) and a loader, so that
 * `--help` and each command load only what they use (the bundle is split per command;
 * zod, papaparse and HiGHS stay unloaded until needed). test/node/cli-options.test.ts
 * checks that each summary here is the loaded command's.
 */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'simulate',
    summary: 'run policies on a workload and print their metrics',
    load: async () => (await import('./simulate.ts')).simulateCommand,
  },
  {
    name: 'capacity',
    summary: 'largest arrival rate at which each policy meets an SLO (bisection)',
    load: async () => (await import('./capacity.ts')).capacityCommand,
  },
  {
    name: 'calibrate',
    summary: 'time WGSL attention kernels on this device and fit a cost-model profile',
    load: async () => (await import('./calibrate.ts')).calibrateCommand,
  },
  {
    name: 'device',
    summary: 'list the WebGPU adapters found (Node, Dawn)',
    load: async () => (await import('./device.ts')).deviceCommand,
  },
  {
    name: 'paper',
    summary: "reproduce the paper's experiments (tables, with --out JSON)",
    load: async () => (await import('./paper.ts')).paperCommand,
  },
  {
    name: 'optimum',
    summary: 'exact hindsight optimum of an instance (rounds), with the policies for comparison',
    load: async () => (await import('./optimum.ts')).optimumCommand,
  },
  {
    name: 'sweep',
    summary:
      'latency, TTFT, throughput and evictions over a grid of rates × memories × policies × seeds (CPU or one GPU job)',
    load: async () => (await import('./sweep.ts')).sweepCommand,
  },
];

export const VERSION: string = pkg.version;

/** `kvsched paper` experiments (checked against PAPER_EXPERIMENTS by the tests). */
export const PAPER_EXPERIMENT_NAMES: readonly string[] = ['lmsys', 'predictions', 'synthetic', 'adversary', 'regret'];

function mainHelp(): string {
  return `kvsched ${VERSION} — LLM inference scheduling under KV-cache constraints (arXiv 2502.07115)

Usage: kvsched <command> [options]     (kvsched <command> --help for its options)
       kvsched --version

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(12)}${c.summary}`).join('\n')}

Exit status: 0 done, 1 some policy got stuck or livelocked (its reason printed), 2 bad input
(one line on stderr), 3 no usable WebGPU adapter for a GPU command, 70 internal error (a bug;
KVSCHED_DEBUG=1 prints the stack).
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
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    const known = COMMANDS.map((c) => c.name).join(', ');
    io.err(line(`kvsched: unknown command "${name}" (commands: ${known}; see kvsched --help)`));
    return EXIT.badInput;
  }
  try {
    const cmd = await entry.load();
    // A `profile:FILE` cost model's module (zod, the profile schema) is loaded only when an
    // argument may name one (`--cost-model=profile:a.json`, a comma list, a bare value).
    if (rest.some((a) => a.includes(':'))) {
      const { prepareCostModel } = await import('../cost/registry.ts');
      for (const a of rest) for (const part of a.split(/[=,]/)) await prepareCostModel(part);
    }
    return await cmd.run(rest, io);
  } catch (e) {
    return reportError(e, entry.name, rest, io);
  }
}

/** Turns an error into one stderr line and an exit status; never prints a stack unless asked. */
export function reportError(e: unknown, command: string, rest: readonly string[], io: CliIo): number {
  // `paper` has subcommands: name the one that failed.
  const sub = command === 'paper' && PAPER_EXPERIMENT_NAMES.includes(rest[0] ?? '') ? ` ${rest[0]}` : '';
  const who = `kvsched ${command}${sub}`;
  if (e instanceof UsageError) {
    io.err(line(`${who}: ${e.message} (see: ${who} --help)`));
    return e.exitCode;
  }
  if (e instanceof CliError) {
    io.err(line(`${who}: ${e.message}`));
    return e.exitCode;
  }
  // ProfileError by name: importing it would load zod for every command.
  if (e instanceof InputError || e instanceof RangeError || (e instanceof Error && e.name === 'ProfileError')) {
    io.err(line(`${who}: ${e.message}`));
    return EXIT.badInput;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const hint = process.env.KVSCHED_DEBUG ? '' : ' (KVSCHED_DEBUG=1 shows the stack)';
  io.err(line(`${who}: internal error: ${err.name}: ${err.message}${hint}`));
  if (process.env.KVSCHED_DEBUG && err.stack) io.err(`${err.stack}\n`);
  return EXIT.internal;
}
