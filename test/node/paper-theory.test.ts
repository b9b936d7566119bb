/**
 * `kvsched paper synthetic | adversary | regret` end to end with tiny sizes, through the
 * registered `paper` command and a fake CliIo: exit code, tables, JSON (--out), ratios ≥ 1.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { paperCommand, PAPER_EXPERIMENTS } from '../../src/cli/paper.ts';
import { chunkBound, optimumOf, regretInstance } from '../../src/theory/experiments.ts';
import { solveOptimum } from '../../src/theory/optimum.ts';
import { paperSynthetic } from '../../src/workload/generators.ts';

function fakeIo(interactive = false): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    interactive,
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
  };
  return io;
}

const dir = mkdtempSync(join(tmpdir(), 'kvsched-theory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface JsonRatioRow {
  policy: string;
  finished: number;
  stuck: number;
  livelock: number;
  ratios: (number | null)[];
  mean: number | null;
  optimal: number;
  beaten: number;
}

describe('kvsched paper (theory experiments)', () => {
  it('registers synthetic, adversary and regret', () => {
    expect(PAPER_EXPERIMENTS.map((e) => e.name)).toEqual(expect.arrayContaining(['synthetic', 'adversary', 'regret']));
  });

  it('synthetic: tiny run, both arrival models, every policy accounted for, ratios ≥ 1', async () => {
    const io = fakeIo(true);
    const out = join(dir, 'synthetic.json');
    const rc = await paperCommand.run(
      ['synthetic', '--trials', '2', '--seed', '7', '--time-limit', '2', '--out', out],
      io,
    );
    expect(rc).toBe(0);
    expect(io.stdout).toMatch(/all arrivals at round 0: 2 trials/);
    expect(io.stdout).toMatch(/Poisson arrivals/);
    // The ratio range is one column, `best – worst` (issue 16).
    expect(io.stdout).toContain('1.005, 1.000 – 1.074, 114/200 optimal');
    expect(io.stdout).toMatch(/range \(best – worst\)/);
    expect(io.stdout).toMatch(/≤\d\.\d{3} – \d\.\d{3}/);
    expect(io.stdout).toContain('1.047, 1.000 – 1.227');
    expect(io.stderr).toContain('\r'); // progress drawn on an interactive stderr
    const j = JSON.parse(readFileSync(out, 'utf8')) as {
      sections: { arrivals: string; rows: JsonRatioRow[]; trials: { seed: number }[] }[];
    };
    expect(j.sections.map((s) => s.arrivals)).toEqual(['zero', 'poisson']);
    for (const s of j.sections) {
      expect(s.trials.map((t) => t.seed)).toEqual([7, 8]);
      expect(s.rows).toHaveLength(7);
      for (const r of s.rows) {
        expect(r.finished + r.stuck + r.livelock).toBe(2); // nothing hidden
        // vLLM's block accounting is not the model's memory rule, so only the model's policies must be ≥ OPT.
        if (!r.policy.startsWith('vllm'))
          for (const x of r.ratios) if (x !== null) expect(x).toBeGreaterThanOrEqual(1 - 1e-12);
        // A policy beaten by a found schedule is proven not optimal on that trial.
        expect(r.optimal + r.beaten).toBeLessThanOrEqual(r.finished);
      }
    }
    // The local search finds schedules better than MC-SF's on these instances (3–8 % on the paper's).
    expect(
      j.sections.reduce((z, s) => z + (s.rows.find((r) => r.policy === 'mcsf')?.beaten ?? 0), 0),
    ).toBeGreaterThanOrEqual(1);
    expect(io.stdout).toMatch(/beaten = trials where a better schedule was found/);
  }, 120_000);

  it('synthetic: no progress on a non-terminal stderr', async () => {
    const io = fakeIo(false);
    const rc = await paperCommand.run(
      ['synthetic', '--trials', '1', '--arrivals', 'zero', '--policy', 'mcsf', '--time-limit', '1'],
      io,
    );
    expect(rc).toBe(0);
    expect(io.stderr).toBe('');
  }, 60_000);

  it('adversary: ALG/OPT ≥ 1 and growing with n, JSON rows', async () => {
    const io = fakeIo();
    const out = join(dir, 'adversary.json');
    const rc = await paperCommand.run(
      ['adversary', '--n', '4,16,64', '--solve-up-to', '4', '--time-limit', '10', '--out', out],
      io,
    );
    expect(rc).toBe(0);
    expect(io.stdout).toContain('vllm:2048');
    const j = JSON.parse(readFileSync(out, 'utf8')) as {
      rows: {
        n: number;
        policy: string;
        ratio: number | null;
        alg: number;
        opt: number;
        solver: { status: string; objective: number } | null;
      }[];
    };
    expect(j.rows).toHaveLength(3 * 7);
    for (const r of j.rows) {
      expect(r.ratio).not.toBeNull();
      expect(r.ratio as number).toBeGreaterThanOrEqual(1);
      if (r.n === 4) {
        expect(r.solver?.status).toBe('optimal');
        expect(r.solver?.objective).toBe(r.opt);
      }
    }
    const mcsf = j.rows.filter((r) => r.policy === 'mcsf').map((r) => r.ratio as number);
    expect(mcsf[1]).toBeGreaterThan(mcsf[0] as number);
    expect(mcsf[2]).toBeGreaterThan(mcsf[1] as number);
  }, 60_000);

  it('regret: tiny run, regret ≥ 0 where OPT is exact', async () => {
    const io = fakeIo();
    const out = join(dir, 'regret.json');
    const rc = await paperCommand.run(['regret', '--n', '8,12', '--seeds', '2', '--time-limit', '2', '--out', out], io);
    expect(rc).toBe(0);
    expect(io.stdout).toMatch(/Regret of mcsf/);
    const j = JSON.parse(readFileSync(out, 'utf8')) as {
      points: { n: number; regret: number | null; opt: { status: string } }[];
      summary: { n: number }[];
    };
    expect(j.summary.map((s) => s.n)).toEqual([8, 12]);
    expect(j.points).toHaveLength(4);
    for (const p of j.points) if (p.regret !== null) expect(p.regret).toBeGreaterThanOrEqual(0);
  }, 120_000);

  it('rejects bad options with a usage error', async () => {
    await expect(paperCommand.run(['adversary', '--n', 'x'], fakeIo())).rejects.toThrow(/--n/);
    await expect(paperCommand.run(['synthetic', '--arrivals', 'later'], fakeIo())).rejects.toThrow(/--arrivals/);
    await expect(paperCommand.run(['regret', '--policy', 'mcsf,vllm'], fakeIo())).rejects.toThrow(/one policy/);
  });
});

describe('regret instances', () => {
  it('default rate: the paper-synthetic instance with n requests', () => {
    const r = regretInstance(30, 5, null);
    const w = paperSynthetic({ seed: 5, arrivals: 'poisson', requests: 30, mode: 'rounds' });
    expect(r.requests).toEqual(w.requests);
    expect(r.memory).toBe(w.memory);
  });

  it('--rate rescales the same arrivals; sizes unchanged', () => {
    const base = regretInstance(400, 3, null);
    const slow = regretInstance(400, 3, 0.1);
    expect(slow.requests.map((q) => [q.prompt, q.output])).toEqual(base.requests.map((q) => [q.prompt, q.output]));
    const last = slow.requests[399]?.arrival as number;
    expect(last / 400).toBeGreaterThan(7); // ≈ 1/0.1 rounds per request
    expect(last / 400).toBeLessThan(13);
    for (let i = 1; i < 400; i++)
      expect(slow.requests[i]?.arrival as number).toBeGreaterThanOrEqual(slow.requests[i - 1]?.arrival as number);
  });
});

describe('lower bounds on OPT', () => {
  it('the chunk bound never exceeds the exact optimum', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const inst = regretInstance(9, seed, 0.3);
      const exact = await solveOptimum(inst, { timeLimitSec: 20 });
      expect(exact.status).toBe('optimal');
      for (const k of [1, 3, 4]) expect(await chunkBound(inst, k, 5)).toBeLessThanOrEqual(exact.objective);
    }
  }, 120_000);

  it('optimumOf: exact when the solver proves it; otherwise lower bound ≤ best schedule', async () => {
    const small = regretInstance(8, 1, null);
    const a = await optimumOf(small, { timeLimitSec: 20 });
    expect(a.status).toBe('optimal');
    expect(a.lowerBound).toBe(a.objective);
    const big = regretInstance(60, 1, null);
    const b = await optimumOf(big, { timeLimitSec: 0.5, lpOnTimeLimit: true, chunk: 20 });
    expect(b.lowerBound).not.toBeNull();
    expect(b.lowerBound as number).toBeGreaterThanOrEqual(big.requests.reduce((z, q) => z + q.output, 0));
    if (b.objective !== null) expect(b.lowerBound as number).toBeLessThanOrEqual(b.objective);
  }, 120_000);
});
