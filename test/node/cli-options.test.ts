/**
 * The CLI's option tables: every command with every option given a bad value exits 2 with
 * one line on stderr naming the option (no stack trace); the help text and docs/cli.md's
 * option lists come from the same tables; values are parsed strictly (no hex, no
 * out-of-range numbers, negative numbers reach the range check).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allSpecs, documentedCommands, renderOptionBlocks } from '../../src/cli/docs.ts';
import { fakeIo } from './helpers/cli-io.ts';
import { COMMANDS, main, PAPER_EXPERIMENT_NAMES, VERSION } from '../../src/cli/main.ts';
import { PAPER_EXPERIMENTS } from '../../src/cli/paper.ts';
import { helpText, optionsText } from '../../src/cli/options.ts';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = fakeIo();
  const code = await main(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

function expectOneLineError(r: { code: number; stderr: string }, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).toMatch(pattern);
}

const specs = await allSpecs();

describe('every command, every option, a bad value', () => {
  it('covers every command', () => {
    expect(specs.map((s) => s.name).sort()).toEqual([
      'calibrate',
      'capacity',
      'device',
      'optimum',
      'paper adversary',
      'paper lmsys',
      'paper predictions',
      'paper regret',
      'paper synthetic',
      'simulate',
      'sweep',
    ]);
  });
  for (const spec of specs) {
    for (const [name, opt] of Object.entries(spec.options)) {
      // A flag given a value, or a value option given an empty one: both are refused while parsing.
      const bad = opt.flag ? [`--${name}=yes`] : [`--${name}`, ''];
      it(`kvsched ${spec.name} ${bad.join(' ')}`, async () => {
        const r = await run([...spec.name.split(' '), ...bad]);
        expectOneLineError(r, new RegExp(`^kvsched ${spec.name}: --${name}`));
      });
      if (!opt.flag) {
        it(`kvsched ${spec.name} --${name} (no value)`, async () => {
          expectOneLineError(await run([...spec.name.split(' '), `--${name}`]), new RegExp(`--${name} needs a value`));
        });
      }
    }
    it(`kvsched ${spec.name} --no-such-option`, async () => {
      expectOneLineError(
        await run([...spec.name.split(' '), '--no-such-option', '1']),
        /unknown option --no-such-option/,
      );
    });
  }
});

describe('strict values', () => {
  const cases: [string[], RegExp][] = [
    [['simulate', '--rate', '-3'], /--rate: -3 must be > 0/],
    [['simulate', '--rate', '0x10'], /--rate: "0x10" is not a decimal number/],
    [['simulate', '--rate', 'Infinity'], /not a decimal number/],
    [
      ['simulate', '--rate', '1e-300'],
      /--rate 1e-300: 10000 requests .* past the supported time range .* use --rate ≥/,
    ],
    [
      ['simulate', '--memory', '99999999999999999999'],
      /--memory: 99999999999999999999 is above the maximum 2147483647/,
    ],
    [['simulate', '--memory', '1.5'], /--memory: "1.5" is not a whole number/],
    [['simulate', '--seed', '4294967296'], /--seed: .* above the maximum 4294967295/],
    [['simulate', '--requests', '0'], /--requests: 0 is below the minimum 1/],
    [['simulate', '--policy', 'bogus'], /--policy: unknown policy "bogus"/],
    [['paper', 'synthetic', '--policy', 'bogus'], /^kvsched paper synthetic: --policy: unknown policy "bogus"/],
    [['paper', 'predictions', '--epsilons', '0,1'], /--epsilons: 1 must be < 1/],
    [
      ['sweep', '--rates', '10,0x1', '--memory', '100', '--policy', 'mcsf', '--seeds', '1'],
      /--rates: "0x1" is not a decimal number/,
    ],
    [
      ['sweep', '--rates', '10', '--memory', '100', '--policy', 'mcsf', '--seeds', '5-1'],
      /--seeds: range "5-1" ends before it starts/,
    ],
    [['optimum', '--workload', 'paper-synthetic', '--lp-share', '1.5'], /--lp-share: 1.5 is above the maximum 1/],
    [['simulate', '--rate', '5', '--rate', '6'], /--rate given twice/],
    [['simulate', 'extra'], /unexpected argument "extra"/],
    [['simulate', '--trace', 'x.csv', '--workload', 'lmsys'], /either --workload or --trace/],
  ];
  for (const [argv, pattern] of cases) {
    it(argv.join(' '), async () => expectOneLineError(await run(argv), pattern));
  }

  it('escapes control characters and caps what it echoes', async () => {
    const r = await run(['simulate', '--rate', `\u001b[31mred\u0007${'x'.repeat(2_000_000)}`]);
    expectOneLineError(r, /--rate: "\\x1b\[31mred\\x07x+… \(\d+ more characters\)" is not a decimal number/);
    // eslint-disable-next-line no-control-regex -- the point: no control character reaches the terminal
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(r.stderr.length).toBeLessThan(800);
  });

  it('--option=value works and --help wins over bad values', async () => {
    expect((await run(['simulate', '--rate=-3'])).stderr).toMatch(/--rate: -3 must be > 0/);
    const h = await run(['simulate', '--rate', '-3', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('--rate R');
  });
});

describe('help, version and docs come from the tables', () => {
  it('the lazy command list matches the commands it loads', async () => {
    for (const c of COMMANDS) {
      const cmd = await c.load();
      expect(cmd.name).toBe(c.name);
      expect(cmd.summary).toBe(c.summary);
    }
    expect(PAPER_EXPERIMENTS.map((e) => e.name)).toEqual(PAPER_EXPERIMENT_NAMES);
  });

  it('--version prints package.json version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
    expect(VERSION).toBe(pkg.version);
  });

  it('each command --help prints the help text built from its table, every option listed', async () => {
    for (const spec of specs) {
      const r = await run([...spec.name.split(' '), '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(helpText(spec));
      for (const name of Object.keys(spec.options)) expect(r.stdout).toContain(`--${name}`);
    }
  });

  it("docs/cli.md lists every command's options exactly as the table gives them", async () => {
    const md = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    expect(documentedCommands(md).sort()).toEqual(specs.map((s) => s.name).sort());
    expect(md, 'run: npx tsx scripts/gen-cli-docs.ts').toBe(await renderOptionBlocks(md));
    for (const spec of specs) expect(md).toContain(optionsText(spec));
  });

  it('the same option has the same default in every command that has it (or says why)', () => {
    const arrivals = specs.filter((s) => 'arrivals' in s.options && s.options.arrivals?.arg === 'zero|poisson');
    expect(arrivals.length).toBeGreaterThanOrEqual(2);
    for (const s of arrivals) expect(s.options.arrivals?.defaultValue).toBe('poisson');
    const seeds = specs.filter((s) => 'seed' in s.options);
    for (const s of seeds) expect(s.options.seed?.defaultValue).toBe(1);
  });
});

describe('kvsched calibrate: device references', () => {
  it('refuses a references file that is not one, in one line naming it, before any GPU work, and leaves it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvsched-cli-ref-'));
    const file = join(dir, 'refs.json');
    writeFileSync(file, '{"schema":"something else"}');
    const r = await run(['calibrate', '--device-reference', file]);
    expectOneLineError(
      r,
      /^kvsched calibrate: device references .*refs\.json is not a kvsched\.device-references\/1 file \(schema: .*\); fix or delete it, or pass --device-reference off\n$/,
    );
    expect(readFileSync(file, 'utf8')).toBe('{"schema":"something else"}');
  });

  it('refuses --new-device-reference with --device-reference off', async () => {
    expectOneLineError(
      await run(['calibrate', '--device-reference', 'off', '--new-device-reference']),
      /--new-device-reference needs device references: drop --device-reference off/,
    );
  });
});
