/**
 * CLI fuzzing (issue 17): seeded random `kvsched simulate` / `optimum` invocations with
 * hostile option values, trace CSVs and profiles, run in-process through `main()`, each
 * classified against the documented contract:
 *
 * - `clean-error`: exit 2 and one message line on stderr (optionally followed by the
 *   "(see: kvsched X --help)" hint), no stack trace, no control characters, at most 500
 *   characters a line;
 * - `success`: exit 0;
 * - `stuck`: exit 1 with the reason printed (a policy got stuck or livelocked);
 * - anything else is a finding: `crash` (an exception escaped main), `bad-exit` (another
 *   code, or 1 without a reason), `unclean-error` (exit 2 with a message that breaks the
 *   rules above).
 *
 * Sizes stay small (≤ 200 requests, optimum ≤ 12 requests with a 0.5 s limit) so that
 * thousands of cases run in minutes; the generator never asks for work that is valid and
 * huge (that is what the limits tests cover).
 */
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { serializeProfile } from '../../src/calibrate/profile.ts';
import { sampleProfile } from '../node/helpers/profile.ts';

export type Outcome = 'clean-error' | 'success' | 'stuck' | 'crash' | 'bad-exit' | 'unclean-error';
export const ALLOWED: readonly Outcome[] = ['clean-error', 'success', 'stuck'];

export interface CliCase {
  argv: string[];
  files: { name: string; text: string }[];
}

export interface CaseResult {
  argv: string[];
  outcome: Outcome;
  code: number | null;
  /** First 300 characters of stderr (or the exception). */
  detail: string;
}

const hostileNumbers = [
  '',
  '-1',
  '0',
  '1',
  '2',
  '3',
  '7',
  '12',
  '40',
  '1.5',
  '1e-300',
  '1e300',
  '0x10',
  'NaN',
  'Infinity',
  '-Infinity',
  'abc',
  '99999999999999999999',
  ' 5',
  '5 ',
  '\u001b[31m5',
  '1_000',
  '٣',
  '2147483648',
  '-0',
  '+3',
  '.5',
  '5.',
  '1e3',
];
const smallCounts = ['1', '2', '5', '20', '60', '200'];
const policies = [
  'mcsf',
  'mc-fcfs',
  'vllm',
  'vllm:99999999999999999999',
  'vllm:0',
  'alpha-greedy:0.1',
  'alpha-greedy:2',
  'alpha-clearing:0.9:0.9',
  'alpha-clearing:0.1:0.1',
  'bogus',
  '',
  'mcsf,',
  ',',
  'mcsf,mcsf',
  'MCSF',
  'mcsf:1',
  'alpha-greedy:NaN',
  '\u001b[2Jmcsf',
];
const hostileText = [
  '',
  ' ',
  'x'.repeat(3000),
  '\u001b[31mred\u001b[0m',
  'a\nb',
  'é',
  '\u0000',
  '../../etc/passwd',
  '--help',
  '-',
];

/** A trace CSV: a header (right, shuffled, missing or odd) and rows of mostly valid, sometimes hostile cells. */
const traceArb: fc.Arbitrary<string> = fc
  .record({
    bom: fc.boolean(),
    crlf: fc.boolean(),
    header: fc.constantFrom(
      'arrived_at,num_prefill_tokens,num_decode_tokens',
      'arrived_at,num_prefill_tokens,num_decode_tokens',
      'arrived_at,num_prefill_tokens,num_decode_tokens',
      'num_decode_tokens,arrived_at,num_prefill_tokens',
      'arrived_at,num_prefill_tokens,num_decode_tokens,predicted_decode_tokens',
      'arrived_at,num_prefill_tokens',
      'arrived_at,num_prefill_tokens,num_decode_tokens,arrived_at',
      '',
      '\u001b[31marrived_at\u001b[0m,x,y',
    ),
    rows: fc.array(
      fc.record({
        a: fc.oneof(
          {
            weight: 20,
            arbitrary: fc.oneof(
              fc.nat(50).map(String),
              fc.double({ min: 0, max: 50, noNaN: true }).map((x) => x.toFixed(3)),
            ),
          },
          { weight: 1, arbitrary: fc.constantFrom(...hostileNumbers) },
        ),
        s: fc.oneof(
          { weight: 20, arbitrary: fc.integer({ min: 1, max: 40 }).map(String) },
          { weight: 1, arbitrary: fc.constantFrom(...hostileNumbers) },
        ),
        o: fc.oneof(
          { weight: 20, arbitrary: fc.integer({ min: 1, max: 40 }).map(String) },
          { weight: 1, arbitrary: fc.constantFrom(...hostileNumbers) },
        ),
        extra: fc.oneof(
          { weight: 30, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.constantFrom(...hostileText, '"q,uoted"', '"unterminated') },
        ),
      }),
      { maxLength: 25 },
    ),
    sorted: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  })
  .map(({ bom, crlf, header, rows, sorted }) => {
    const rs = sorted ? [...rows].sort((x, y) => Number(x.a) - Number(y.a)) : rows;
    const nl = crlf ? '\r\n' : '\n';
    const lines = [header, ...rs.map((r) => [r.a, r.s, r.o, ...(r.extra === null ? [] : [r.extra])].join(','))];
    return (bom ? '\uFEFF' : '') + lines.join(nl) + nl;
  });

/** A profile: the valid sample, with one field replaced, truncated, or BOM-prefixed. */
const profileArb: fc.Arbitrary<string> = fc
  .record({
    kind: fc.constantFrom('valid', 'valid', 'bom', 'mutate', 'mutate', 'truncate', 'schema', 'notjson'),
    path: fc.constantFrom(
      ['costModel', 'perTokenPs'],
      ['costModel', 'fixedPs'],
      ['fit', 'r2'],
      ['device', 'name'],
      ['measurements'],
      ['createdAt'],
      ['schema'],
    ),
    value: fc.constantFrom<unknown>(
      -1,
      2 ** 53 - 1,
      1e300,
      'x',
      null,
      [],
      {},
      0,
      1.5,
      '\u001b[31m',
      'kvsched.profile/2',
      'kvsched.profile/1',
    ),
    cut: fc.nat(4000),
  })
  .map(({ kind, path, value, cut }) => {
    const p = sampleProfile() as unknown as Record<string, unknown>;
    const text = serializeProfile(sampleProfile());
    if (kind === 'valid') return text;
    if (kind === 'bom') return '\uFEFF' + text;
    if (kind === 'truncate') return text.slice(0, cut);
    if (kind === 'notjson') return '\u001b[31m not json';
    if (kind === 'schema') return JSON.stringify({ ...p, schema: value });
    let o = p;
    for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
    o[path[path.length - 1] as string] = value;
    return JSON.stringify(p);
  });

/** Present half the time (fc.option's nil has probability 1/freq). */
const opt = (name: string, values: fc.Arbitrary<string>) =>
  fc.option(
    values.map((v) => [`--${name}`, v]),
    { nil: undefined, freq: 2 },
  );
/** Present about one time in `n`. */
const rarely = <T>(arb: fc.Arbitrary<T>, n: number) =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
/** Mostly valid values, sometimes hostile ones: enough runs get past validation to exercise the engines. */
const mostly = (valid: fc.Arbitrary<string>, hostile: readonly string[] = hostileNumbers) =>
  fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: fc.constantFrom(...hostile) });

const simulateArb: fc.Arbitrary<CliCase> = fc
  .record({
    source: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('lmsys', 'paper-synthetic', 'trace') },
      { weight: 1, arbitrary: fc.constantFrom('bogus-workload', 'both') },
    ),
    trace: traceArb,
    profile: rarely(profileArb, 5),
    requests: fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...smallCounts) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          ...hostileNumbers.filter((x) => !/^(1e3|1e300|Infinity|99+|2147483648|1_000)$/.test(x)),
        ),
      },
    ),
    time: opt('time', mostly(fc.constantFrom('rounds', 'seconds'), ['minutes', ''])),
    memory: opt('memory', mostly(fc.integer({ min: 41, max: 20000 }).map(String))),
    policy: opt(
      'policy',
      fc
        .array(mostly(fc.constantFrom(...policies.slice(0, 10)), policies), { minLength: 1, maxLength: 3 })
        .map((xs) => xs.join(',')),
    ),
    rate: opt(
      'rate',
      mostly(fc.double({ min: 0.01, max: 200, noNaN: true }).map((x) => String(Math.round(x * 100) / 100 || 1))),
    ),
    arrivals: opt('arrivals', mostly(fc.constantFrom('zero', 'poisson'), ['sometimes', ''])),
    seed: opt('seed', mostly(fc.nat(1000).map(String), [...hostileNumbers, '4294967295', '4294967296'])),
    predict: opt(
      'predict',
      mostly(fc.constantFrom('exact', 'noise:0.2', 'noise:0.5'), [
        'noise:1',
        'noise:-1',
        'noise:',
        'noise:NaN',
        'oracle',
        '',
      ]),
    ),
    costModel: opt(
      'cost-model',
      mostly(fc.constant('a100-llama2-70b-tp2'), ['bogus', 'profile:', 'profile:/nonexistent.json', '']),
    ),
    unknown: rarely(
      fc.constantFrom(['--bogus'], ['--memory'], ['positional'], ['--requests=5'], ['-x'], ['--help']),
      15,
    ),
    misplaced: fc.nat(9),
  })
  .map((r): CliCase => {
    const files: CliCase['files'] = [];
    const argv = ['simulate', '--quiet'];
    if (r.source === 'trace' || r.source === 'both') {
      files.push({ name: 'trace.csv', text: r.trace });
      argv.push('--trace', '@trace.csv');
    }
    if (r.source !== 'trace') argv.push('--workload', r.source === 'both' ? 'lmsys' : r.source);
    if (r.source === 'lmsys' || r.source === 'paper-synthetic' || r.source === 'both')
      argv.push('--requests', r.requests);
    // --rate belongs to lmsys and --arrivals to paper-synthetic: misplaced one time in ten.
    const rate = r.source === 'lmsys' || r.misplaced === 0 ? r.rate : undefined;
    const arrivals = r.source === 'paper-synthetic' || r.misplaced === 1 ? r.arrivals : undefined;
    for (const o of [r.time, r.memory, r.policy, rate, arrivals, r.seed, r.predict, r.costModel])
      if (o) argv.push(...o);
    if (r.profile !== undefined) {
      files.push({ name: 'profile.json', text: r.profile });
      argv.push('--cost-model', 'profile:@profile.json');
    }
    if (r.unknown) argv.push(...r.unknown);
    return { argv, files };
  });

const optimumArb: fc.Arbitrary<CliCase> = fc
  .record({
    trace: rarely(traceArb, 3),
    requests: mostly(fc.constantFrom('1', '3', '8', '12'), ['0', '-1', 'abc', '1e-300']),
    memory: opt('memory', mostly(fc.constantFrom('20', '40', '60'), ['6', '1', '0', '2147483647', 'x', ''])),
    arrivals: opt('arrivals', mostly(fc.constantFrom('zero', 'poisson'), ['x'])),
    seed: opt('seed', mostly(fc.nat(100).map(String), ['-1', '0x10'])),
    limit: mostly(fc.constantFrom('0.5', '0.2'), ['0', '-1', 'abc', 'NaN', '1e-300']),
  })
  .map((r): CliCase => {
    const files: CliCase['files'] = [];
    const argv = ['optimum', '--quiet', '--time-limit', r.limit];
    if (r.trace !== undefined) {
      files.push({ name: 'trace.csv', text: r.trace });
      argv.push('--trace', '@trace.csv', '--memory', r.memory?.[1] ?? '60');
    } else {
      argv.push('--workload', 'paper-synthetic', '--requests', r.requests);
      for (const o of [r.memory, r.arrivals, r.seed]) if (o) argv.push(...o);
    }
    return { argv, files };
  });

export const cliCaseArb: fc.Arbitrary<CliCase> = fc.oneof(
  { weight: 4, arbitrary: simulateArb },
  { weight: 1, arbitrary: optimumArb },
);

/** The cases of one seeded run. */
export function cliCases(seed: number, n: number): CliCase[] {
  return fc.sample(cliCaseArb, { seed, numRuns: n });
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/** Classifies one finished run (see the header). */
export function classify(code: number | null, stderr: string, stdout: string, thrown: unknown): Outcome {
  if (thrown !== undefined) return 'crash';
  if (code === 0) return 'success';
  if (code === 1) return /stuck|livelock/i.test(stderr + stdout) ? 'stuck' : 'bad-exit';
  if (code !== 2) return 'bad-exit';
  const lines = stderr.replace(/\n$/, '').split('\n');
  const [first, ...rest] = lines;
  const hintOnly = rest.every((l) => /^\(see: kvsched [a-z-]+ --help\)$/.test(l));
  if (!first || !hintOnly || /\n\s+at /.test(stderr) || lines.some((l) => l.length > 500 || CONTROL.test(l)))
    return 'unclean-error';
  return 'clean-error';
}

let dirCounter = 0;

/** Runs one case in-process (files written to a fresh temp dir; `@name` in argv is that file). */
export async function runCliCase(c: CliCase): Promise<CaseResult> {
  const dir = join(tmpdir(), `kvsched-fuzz-${process.pid}-${dirCounter++}`);
  mkdirSync(dir, { recursive: true });
  for (const f of c.files) writeFileSync(join(dir, f.name), f.text);
  const argv = c.argv.map((a) => a.replace(/@([a-z.]+)/, (_m, name: string) => join(dir, name)));
  let out = '';
  let err = '';
  let code: number | null = null;
  let thrown: unknown;
  try {
    code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), interactive: false });
  } catch (e) {
    thrown = e;
  }
  const outcome = classify(code, err, out, thrown);
  const detail =
    thrown !== undefined ? String(thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : thrown) : err;
  return { argv: c.argv, outcome, code, detail: detail.slice(0, 300) };
}

export interface FuzzSummary {
  cases: number;
  counts: Record<Outcome, number>;
  findings: CaseResult[];
}

export async function fuzzCli(
  seed: number,
  n: number,
  onCase?: (i: number, r: CaseResult) => void,
): Promise<FuzzSummary> {
  const counts: Record<Outcome, number> = {
    'clean-error': 0,
    success: 0,
    stuck: 0,
    crash: 0,
    'bad-exit': 0,
    'unclean-error': 0,
  };
  const findings: CaseResult[] = [];
  const cases = cliCases(seed, n);
  for (const [i, c] of cases.entries()) {
    const r = await runCliCase(c);
    counts[r.outcome]++;
    if (!ALLOWED.includes(r.outcome)) findings.push(r);
    onCase?.(i, r);
  }
  return { cases: cases.length, counts, findings };
}
