/**
 * CLI options declared once. Each option is one `Opt`: its value's parser (which is also
 * its validation and range), its default, its help line. A command is a `CommandSpec`
 * (usage, prose, an option table); from it come the argv parser (`parseOptions`), the
 * `--help` text (`helpText`) and docs/cli.md's option lists (scripts/gen-cli-docs.ts,
 * checked by test/node/cli-options.test.ts). Every bad value is a UsageError naming the
 * option and the value: one line, exit 2.
 */
import { declareCostModelScheme, getCostModel, DEFAULT_COST_MODEL, listCostModels } from '../cost/registry.ts';
import type { CostModel } from '../model/types.ts';
import { PAPER_POLICIES, parsePolicyList } from '../policies/registry.ts';
import { parsePredictionSpec, type PredictionSpec } from '../workload/index.ts';
import { parseSlo, type Slo } from '../metrics/slo.ts';
import { ROUTERS } from '../engine/replicas.ts';
import { UsageError } from './io.ts';
import { checkOutPath, type OutTarget } from './out-file.ts';
import { quote } from './text.ts';
import { groupedInt } from '../model/number-format.ts';

// `profile:FILE` is listed by the cost-model option at once; its module (zod and the profile
// schema) is imported by main.ts only when an argument names a profile (`prepareCostModel`).
declareCostModelScheme('profile', 'profile:FILE', () => import('../calibrate/profile-node.ts'));

/** One option: `parse` turns the text into the value or throws an Error whose message
 *  says what is wrong (the parser prefixes `--name`). */
export class Opt<T, D extends T | undefined = T | undefined> {
  constructor(
    readonly arg: string,
    readonly help: string,
    readonly parse: (text: string) => T,
    readonly defaultValue: D,
    /** How the default is shown in help; null: not shown (it depends on other options). */
    readonly defaultText: string | null = null,
    readonly flag = false,
  ) {}

  /** The same option with a default value (shown as `(default TEXT)` in the help). */
  withDefault(value: T, text: string | null = String(value)): Opt<T, T> {
    return new Opt<T, T>(this.arg, this.help, this.parse, value, text, this.flag);
  }

  withHelp(help: string): Opt<T, D> {
    return new Opt<T, D>(this.arg, help, this.parse, this.defaultValue, this.defaultText, this.flag);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- variance: any Opt fits a table
export type AnyOpt = Opt<any, any>;
export type OptionTable = Readonly<Record<string, AnyOpt>>;
export type Values<O extends OptionTable> = {
  -readonly [K in keyof O]: O[K] extends Opt<infer T, infer D> ? T | D : never;
};

export interface CommandSpec<O extends OptionTable = OptionTable> {
  /** As typed after `kvsched`, e.g. `simulate` or `paper lmsys`. */
  readonly name: string;
  readonly summary: string;
  /** Usage lines without the leading `kvsched NAME`. */
  readonly usage: readonly string[];
  /** Prose between the usage and the options. */
  readonly description?: string;
  readonly options: O;
  /** Prose after the options (output, exit status). */
  readonly epilogue?: string;
}

export function defineCommand<O extends OptionTable>(spec: CommandSpec<O>): CommandSpec<O> {
  for (const name of Object.keys(spec.options)) {
    if (!/^[a-z][a-z0-9-]*$/.test(name) || name === 'help') throw new Error(`bad option name ${name} in ${spec.name}`);
  }
  return spec;
}

// ---------------------------------------------------------------------------------
// Value kinds.

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A decimal number (no hex, no Infinity, no empty text) within [min, max]; `gt`: strictly above. */
export function decimal(text: string, r: { min?: number; gt?: number; max: number }): number {
  const t = text.trim();
  if (!DECIMAL.test(t)) throw new Error(`${quote(text)} is not a decimal number`);
  const v = Number(t);
  if (r.gt !== undefined && !(v > r.gt)) throw new Error(`${t} must be > ${r.gt}`);
  if (r.min !== undefined && !(v >= r.min)) throw new Error(`${t} must be ≥ ${r.min}`);
  if (!(v <= r.max)) throw new Error(`${t} is above the maximum ${r.max}`);
  return v;
}

/** A whole number in [min, max] (max ≤ 2^53 − 1), written in decimal digits. */
export function whole(text: string, min: number, max: number): number {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) throw new Error(`${quote(text)} is not a whole number`);
  const v = Number(t);
  if (v < min) throw new Error(`${t} is below the minimum ${min}`);
  if (!(v <= max) || !Number.isSafeInteger(v)) throw new Error(`${t} is above the maximum ${max}`);
  return v;
}

/** A comma-separated list, blanks dropped; empty is an error. */
export function listOf<T>(text: string, item: (t: string) => T): T[] {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) throw new Error('empty list');
  return parts.map(item);
}

/** A value option without a default. */
export function value<T>(arg: string, help: string, parse: (text: string) => T): Opt<T, undefined> {
  return new Opt<T, undefined>(arg, help, parse, undefined);
}

export function int(arg: string, help: string, min: number, max: number): Opt<number, undefined> {
  return new Opt(arg, help, (t) => whole(t, min, max), undefined);
}

export function num(arg: string, help: string, r: { min?: number; gt?: number; max: number }): Opt<number, undefined> {
  return new Opt(arg, help, (t) => decimal(t, r), undefined);
}

export function choice<T extends string>(choices: readonly T[], help: string): Opt<T, undefined> {
  return new Opt(
    choices.join('|'),
    help,
    (t) => {
      if (!(choices as readonly string[]).includes(t))
        throw new Error(`${quote(t)} is not one of ${choices.join(', ')}`);
      return t as T;
    },
    undefined,
  );
}

export function text(arg: string, help: string): Opt<string, undefined> {
  return new Opt(
    arg,
    help,
    (t) => {
      if (t.trim() === '') throw new Error('empty value');
      return t;
    },
    undefined,
  );
}

export function flag(help: string): Opt<boolean, boolean> {
  return new Opt<boolean, boolean>('', help, () => true, false, null, true);
}

/** Runs a domain parser (policy list, cost model, …) and keeps its message. */
function domain<T>(f: (t: string) => T): (t: string) => T {
  return (t) => {
    if (t.trim() === '') throw new Error('empty value');
    return f(t);
  };
}

// ---------------------------------------------------------------------------------
// Options shared by several commands: declared here once, with the same range and
// default everywhere (a command may override only the help line or the default, and
// says why in its help).

export const SEED_MAX = 0xffffffff;

export const OPT = {
  seed: int('S', 'seed of every random draw, 0..4294967295', 0, SEED_MAX).withDefault(1),
  memory: int('M', 'KV capacity in tokens, 2..2147483647', 2, 2 ** 31 - 1),
  memoryList: value('LIST', 'KV capacities M in tokens, e.g. 8000,16492', (t) =>
    listOf(t, (x) => whole(x, 2, 2 ** 31 - 1)),
  ),
  requests: (max: number) => int('N', `number of requests, 1..${groupedInt(max)}`, 1, max),
  policies: value(
    'LIST',
    'comma-separated policies (see kvsched simulate --help)',
    domain(parsePolicyList),
  ).withDefault(PAPER_POLICIES, PAPER_POLICIES.join(',')),
  policy: new Opt(
    'P',
    'one policy',
    domain((t) => {
      const ps = parsePolicyList(t);
      if (ps.length !== 1) throw new Error('give one policy');
      return ps[0] as string;
    }),
    undefined,
  ),
  /** Arrival rate: bounded so that arrivals stay within the engine's time range (see `checkArrivalSpan`). */
  rate: num('R', 'arrival rate per time unit, > 0 and ≤ 1000000', { gt: 0, max: 1e6 }),
  rates: value('LIST', 'arrival rates per time unit, e.g. 10,50', (t) =>
    listOf(t, (x) => decimal(x, { gt: 0, max: 1e6 })),
  ),
  arrivals: choice(
    ['zero', 'poisson'] as const,
    'paper-synthetic arrivals: all at round 0, or Poisson with λ ~ U[0.5, 1.5]',
  ).withDefault('poisson'),
  time: choice(['rounds', 'seconds'] as const, 'time mode: rounds (one round = one time unit) or seconds (cost model)'),
  predict: value<PredictionSpec>(
    'SPEC',
    'output-length predictions: exact, or noise:E (õ = max(1, round(o·U[1−E, 1+E])))',
    domain(parsePredictionSpec),
  ).withDefault({ kind: 'exact' }, 'exact'),
  costModel: value<CostModel>(
    'NAME',
    `round cost model; known: ${listCostModels().join(', ')}`,
    domain(getCostModel),
  ).withDefault(getCostModel(DEFAULT_COST_MODEL), DEFAULT_COST_MODEL),
  engine: choice(
    ['cpu', 'gpu'] as const,
    'cpu: the reference engine; gpu: the WebGPU engine (one GPU job, no fallback)',
  ).withDefault('cpu'),
  trace: text('FILE', 'a trace CSV: arrived_at,num_prefill_tokens,num_decode_tokens[,predicted_decode_tokens]'),
  out: value<OutTarget>('FILE', 'write the results as JSON (checked before the work starts)', checkOutPath),
  timeLimit: num('SEC', 'time limit per optimum in seconds, > 0 and ≤ 1000000', { gt: 0, max: 1e6 }),
  quiet: flag('no progress on stderr'),
  slo: new Opt<Slo, undefined>(
    'SLO',
    'service-level objectives, e.g. ttft=2s,tpot=0.2s or p99-tbt=0.5s: any of ttft, tpot, tbt, ' +
      "latency, each a per-request bound METRIC=X or a bound on the run's percentile pPCT-METRIC=X; X in s or ms " +
      '(rounds mode: bare, in rounds); see docs/cli.md, SLO grammar',
    domain(parseSlo),
    undefined,
  ),
  replicas: int('K', 'replicas of each policy behind a router, 1..1024', 1, 1024).withDefault(1),
  router: choice(
    ROUTERS,
    "how --replicas share the arrivals, as Vidur's global schedulers: round-robin (i-th arrival " +
      'to replica i mod K), random (uniform, from --seed), least-outstanding (fewest waiting or not yet taken in, ' +
      'ties to the lowest replica)',
  ).withDefault('round-robin'),
  attainment: num('A', 'target SLO attainment: the fraction of requests meeting the per-request bounds, in (0, 1]', {
    gt: 0,
    max: 1,
  }).withDefault(0.9),
} as const;

// ---------------------------------------------------------------------------------
// Parser.

export type Parsed<O extends OptionTable> = { help: boolean; values: Values<O>; given: ReadonlySet<keyof O & string> };

/**
 * Parses argv against a table: `--name VALUE`, `--name=VALUE`, `--flag`, `-h`/`--help`.
 * A value option always takes the next word, so `--rate -3` reaches the range check.
 */
export function parseOptions<O extends OptionTable>(spec: CommandSpec<O>, argv: readonly string[]): Parsed<O> {
  const texts = new Map<string, string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '-h' || word === '--help') {
      help = true;
      continue;
    }
    if (!word.startsWith('--') || word === '--') throw new UsageError(`unexpected argument ${quote(word)}`);
    const eq = word.indexOf('=');
    const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
    const opt = Object.hasOwn(spec.options, name) ? spec.options[name] : undefined;
    if (opt === undefined) {
      throw new UsageError(`unknown option --${quote(name, 40, false)}${suggest(name, Object.keys(spec.options))}`);
    }
    if (texts.has(name)) throw new UsageError(`--${name} given twice`);
    if (opt.flag) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      texts.set(name, '');
      continue;
    }
    let value: string;
    if (eq >= 0) value = word.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`--${name} needs a value (${opt.arg})`);
      value = next;
      i++;
    }
    texts.set(name, value);
  }
  const values: Record<string, unknown> = {};
  for (const [name, opt] of Object.entries(spec.options)) {
    const t = texts.get(name);
    if (t === undefined) values[name] = opt.defaultValue;
    else if (help)
      values[name] = opt.defaultValue; // --help wins over bad values
    else {
      try {
        values[name] = opt.parse(t);
      } catch (e) {
        throw new UsageError(`--${name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  return { help, values: values as Values<O>, given: new Set(texts.keys()) as ReadonlySet<keyof O & string> };
}

function suggest(name: string, known: readonly string[]): string {
  const close = known.filter((k) => k.startsWith(name.slice(0, 3)) || name.startsWith(k));
  return close.length > 0 ? ` (did you mean ${close.map((k) => `--${k}`).join(', ')}?)` : '';
}

// ---------------------------------------------------------------------------------
// Help text.

const COLUMN = 26;

/** The options section of a command's help: one entry per option, `-h, --help` last. */
export function optionsText(spec: CommandSpec): string {
  const lines: string[] = [];
  const entries: [string, string][] = Object.entries(spec.options).map(([name, o]) => {
    const head = `--${name}${o.flag ? '' : ` ${o.arg}`}`;
    const def = o.defaultText !== null ? ` (default ${o.defaultText})` : '';
    return [head, o.help + def];
  });
  entries.push(['-h, --help', 'this help']);
  for (const [head, help] of entries) {
    const helpLines = wrap(help, 96 - COLUMN);
    const first = `  ${head}`;
    if (first.length + 2 > COLUMN) {
      lines.push(first);
      for (const h of helpLines) lines.push(' '.repeat(COLUMN) + h);
    } else {
      helpLines.forEach((h, i) => lines.push((i === 0 ? first.padEnd(COLUMN) : ' '.repeat(COLUMN)) + h));
    }
  }
  return lines.join('\n');
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      if (line !== '' && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    out.push(line);
  }
  return out;
}

export function helpText(spec: CommandSpec): string {
  const usage = spec.usage.map((u) => `  kvsched ${spec.name} ${u}`.trimEnd());
  const parts = [`kvsched ${spec.name} — ${spec.summary}`, '', 'Usage:', ...usage];
  if (spec.description) parts.push('', spec.description);
  parts.push('', 'Options:', optionsText(spec));
  if (spec.epilogue) parts.push('', spec.epilogue);
  return parts.join('\n') + '\n';
}
