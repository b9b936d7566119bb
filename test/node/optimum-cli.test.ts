/**
 * `kvsched optimum` end to end through the registered command and a fake CliIo: the JSON
 * the issue specifies, the local-search option, and clear errors for bad input.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeIo } from './helpers/cli-io.ts';
import { optimumCommand } from '../../src/cli/optimum.ts';
import { checkSchedule, prepare } from '../../src/theory/problem.ts';

interface OptimumJson {
  status: string;
  objective: number;
  lowerBound: number;
  seconds: number;
  requests: { id: number; start: number; completion: number }[];
  policies: { policy: string; total: number | null }[];
  localSearch: { value: number; iterations: number; runs: number; seconds: number } | null;
}

const dir = mkdtempSync(join(tmpdir(), 'kvsched-optimum-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Six requests, M = 12: small enough to prove, large enough that starts must wait.
const rows = [
  [0, 2, 6],
  [0, 1, 4],
  [0, 3, 5],
  [1, 1, 7],
  [2, 2, 3],
  [2, 4, 2],
] as const;
const trace = join(dir, 'tiny.csv');
writeFileSync(
  trace,
  'arrived_at,num_prefill_tokens,num_decode_tokens\n' + rows.map((r) => r.join(',')).join('\n') + '\n',
);

describe('kvsched optimum', () => {
  it('writes the optimal schedule as JSON: feasible, objective = Σ (c − a), ≤ every policy', async () => {
    const out = join(dir, 'opt.json');
    const io = fakeIo();
    expect(await optimumCommand.run(['--trace', trace, '--memory', '12', '--time-limit', '20', '--out', out], io)).toBe(
      0,
    );
    const j = JSON.parse(readFileSync(out, 'utf8')) as OptimumJson;
    expect(j.status).toBe('optimal');
    expect(j.lowerBound).toBe(j.objective);
    expect(j.requests.map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5]);
    const p = prepare({
      memory: 12,
      requests: rows.map(([arrival, prompt, output], id) => ({ id, arrival, prompt, output, predicted: output })),
    });
    const starts = j.requests.map((r) => r.start);
    expect(checkSchedule(p, starts)).toBeNull();
    j.requests.forEach((r) => expect(r.completion).toBe(r.start + rows[r.id]![2]));
    expect(j.objective).toBe(j.requests.reduce((z, r) => z + r.completion - rows[r.id]![0], 0));
    for (const q of j.policies) if (q.total !== null) expect(q.total).toBeGreaterThanOrEqual(j.objective);
    expect(j.localSearch).not.toBeNull();
    expect(j.localSearch!.iterations).toBe(4 * 1000 * rows.length);
    expect(j.localSearch!.runs).toBe(4);
    expect(io.stdout).toMatch(/status\s+optimal/);
    expect(io.stdout).toMatch(/local search over start orders →/);
  });

  it('--local-search N sets the budget per run, --local-search-runs R the runs, 0 turns it off', async () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    const c = join(dir, 'c.json');
    expect(
      await optimumCommand.run(
        ['--trace', trace, '--memory', '12', '--local-search', '500', '--out', a, '--quiet'],
        fakeIo(),
      ),
    ).toBe(0);
    expect(
      await optimumCommand.run(
        ['--trace', trace, '--memory', '12', '--local-search', '0', '--out', b, '--quiet'],
        fakeIo(),
      ),
    ).toBe(0);
    expect(
      await optimumCommand.run(
        [
          '--trace',
          trace,
          '--memory',
          '12',
          '--local-search',
          '500',
          '--local-search-runs',
          '2',
          '--out',
          c,
          '--quiet',
        ],
        fakeIo(),
      ),
    ).toBe(0);
    const ja = JSON.parse(readFileSync(a, 'utf8')) as OptimumJson;
    const jb = JSON.parse(readFileSync(b, 'utf8')) as OptimumJson;
    const jc = JSON.parse(readFileSync(c, 'utf8')) as OptimumJson;
    expect([ja.localSearch!.runs, ja.localSearch!.iterations]).toEqual([4, 2000]);
    expect([jc.localSearch!.runs, jc.localSearch!.iterations]).toEqual([2, 1000]);
    expect(jb.localSearch).toBeNull();
    expect(ja.objective).toBe(jb.objective);
  });

  it('rejects bad input with a specific message', async () => {
    await expect(optimumCommand.run(['--trace', trace], fakeIo())).rejects.toThrow(/--memory M is required/);
    await expect(
      optimumCommand.run(['--trace', trace, '--memory', '12', '--local-search', '1.5'], fakeIo()),
    ).rejects.toThrow(/--local-search: "1.5" is not a whole number/);
    await expect(
      optimumCommand.run(['--trace', trace, '--memory', '12', '--local-search-runs', '0'], fakeIo()),
    ).rejects.toThrow(/--local-search-runs/);
    await expect(
      optimumCommand.run(
        ['--trace', trace, '--memory', '12', '--local-search', '0', '--local-search-runs', '2'],
        fakeIo(),
      ),
    ).rejects.toThrow(/needs the local search on/);
    await expect(optimumCommand.run(['--trace', trace, '--memory', '6'], fakeIo())).rejects.toThrow(
      /s \+ o = 2 \+ 6 = 8 tokens exceeds M = 6/,
    );
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,2,x\n');
    await expect(optimumCommand.run(['--trace', bad, '--memory', '12'], fakeIo())).rejects.toThrow(
      /bad.csv:2: num_decode_tokens: "x" is not an integer/,
    );
  });
});
