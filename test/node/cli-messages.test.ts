/**
 * What the CLI prints (issue 16, issue 17 item 7): times in the run's unit in stuck
 * messages, `optimum`'s "ratio to OPT" only when proved and a failed policy's reason,
 * file contents echoed escaped and capped.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getCostModel } from '../../src/cost/registry.ts';
import { simulate, StuckError } from '../../src/engine/engine.ts';
import { fakeIo } from './helpers/cli-io.ts';
import { main } from '../../src/cli/main.ts';
import { REQUEST_CSV_COLUMNS } from '../../src/metrics/requests-csv.ts';
import { requestsCsv } from '../../src/worker/runner.ts';
import { createPolicy } from '../../src/policies/registry.ts';

async function run(argv: string[]) {
  const io = fakeIo();
  const code = await main(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'kvsched-msg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("times in the run's unit", () => {
  it('a stuck policy in seconds mode says when in seconds, not µs', () => {
    // α = 0.9, M = 20: admission limit 2 tokens; request 0 needs 3 → stuck once request 1 (at 5 s) is in.
    const requests = [
      { id: 0, arrival: 0, prompt: 2, output: 1, predicted: 1 },
      { id: 1, arrival: 5_000_000, prompt: 1, output: 1, predicted: 1 },
    ];
    let e: unknown;
    try {
      simulate(requests, createPolicy('alpha-greedy:0.9'), {
        memory: 20,
        mode: 'seconds',
        costModel: getCostModel('a100-llama2-70b-tp2'),
      });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(StuckError);
    expect((e as Error).message).toMatch(/is stuck at time 5 s with 2 waiting requests/);
  });
});

describe('kvsched optimum output', () => {
  const trace = join(dir, 'stuck.csv');
  // M = 12: α-greedy:0.2 admits only up to 9.6 tokens, and request 0 needs 11 → stuck.
  writeFileSync(trace, 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,1\n0,1,3\n1,2,2\n');

  it('says "ratio to OPT" when optimal and prints a stuck policy\'s reason', async () => {
    const r = await run(['optimum', '--trace', trace, '--memory', '12', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/status\s+optimal/);
    expect(r.stdout).toMatch(/ratio to OPT/);
    expect(r.stdout).not.toMatch(/ratio to best found/);
    expect(r.stdout).toMatch(/alpha-greedy:0\.2\s+failed: stuck \(below\)/);
    expect(r.stdout).toMatch(
      /^alpha-greedy:0\.2: StuckError: policy alpha-greedy:0\.2 is stuck at time \d+ .*request 0 needs 11 tokens/m,
    );
  });

  it('says "ratio to best found" when the time limit stops the proof', async () => {
    const r = await run([
      'optimum',
      '--workload',
      'paper-synthetic',
      '--seed',
      '7',
      '--time-limit',
      '0.5',
      '--lp-share',
      '0',
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/status\s+time-limit/);
    expect(r.stdout).toMatch(/ratio to best found/);
    expect(r.stdout).not.toMatch(/ratio to OPT/);
  }, 60_000);
});

describe('file contents echoed in errors', () => {
  it('escapes control characters and caps a huge cell', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(
      bad,
      `arrived_at,num_prefill_tokens,num_decode_tokens\n0,\u001b[2J\u001b[31m${'9'.repeat(2_000_000)}x,3\n`,
    );
    const r = await run(['simulate', '--trace', bad, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toContain('\u001b');
    expect(r.stderr).toMatch(/\\(x1b|u001b)\[2J/); // escaped, whoever escapes it
    expect(r.stderr.length).toBeLessThan(1000);
  });
});

describe('kvsched sweep', () => {
  it('reports p99 latency, TTFT, throughput and evictions per cell, in the table and in --out', async () => {
    const out = join(dir, 'sweep.json');
    const r = await run([
      'sweep',
      '--rates',
      '50',
      '--memory',
      '8000,16492',
      '--policy',
      'mcsf,vllm',
      '--seeds',
      '1-2',
      '--requests',
      '300',
      '--quiet',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const header = r.stdout.split('\n')[0] as string;
    for (const h of [
      'mean lat (s)',
      'p99 lat (s)',
      'mean TTFT (s)',
      'tok/s',
      'evictions',
      'mean lat range (s)',
      'seeds ok',
    ])
      expect(header).toContain(h);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(2 + 4);
    expect(r.stdout).toMatch(/ – /); // the range is one column
    const j = JSON.parse((await import('node:fs')).readFileSync(out, 'utf8')) as { cells: Record<string, unknown>[] };
    expect(j.cells).toHaveLength(8);
    for (const c of j.cells)
      for (const k of ['meanLatency', 'p99Latency', 'meanTtft', 'throughput', 'evictions'])
        expect(typeof c[k]).toBe('number');
  }, 60_000);
});

describe('kvsched simulate --csv / --csv-requests', () => {
  it('writes the results table and the per-request data, consistent with each other', async () => {
    const csv = join(dir, 'summary.csv');
    const reqs = join(dir, 'requests.csv');
    const r = await run([
      'simulate',
      '--requests',
      '300',
      '--policy',
      'mcsf,vllm',
      '--quiet',
      '--csv',
      csv,
      '--csv-requests',
      reqs,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const fs = await import('node:fs');
    const sum = fs
      .readFileSync(csv, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => l.split(','));
    expect(sum).toHaveLength(3);
    const head = sum[0] as string[];
    expect(head.slice(0, 2)).toEqual(['policy', 'meanLatency']);
    const rows = fs
      .readFileSync(reqs, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => l.split(','));
    expect(rows[0]).toEqual([...REQUEST_CSV_COLUMNS]);
    expect(rows).toHaveLength(1 + 2 * 300);
    for (const line of sum.slice(1)) {
      const policy = line[0] as string;
      const lat = rows
        .slice(1)
        .filter((x) => x[0] === policy)
        .map((x) => Number(x[9]));
      expect(lat).toHaveLength(300);
      expect(lat.reduce((a, b) => a + b, 0) / lat.length).toBeCloseTo(Number(line[1]), 6);
    }
    // The app's download of the same configuration is the same file, byte for byte.
    const app = requestsCsv({
      workload: { kind: 'lmsys', requests: 300, rate: 50 },
      mode: 'seconds',
      seed: 1,
      predict: 'exact',
      costModel: 'a100-llama2-70b-tp2',
      policies: ['mcsf', 'vllm'],
    });
    expect(app).toBe(fs.readFileSync(reqs, 'utf8'));
  });

  it('refuses two outputs to the same file', async () => {
    const f = join(dir, 'same.json');
    const r = await run(['simulate', '--quiet', '--out', f, '--csv', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out and --csv name the same file/);
  });

  it('checks the CSV destinations before the work', async () => {
    const r = await run(['simulate', '--quiet', '--csv', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--csv: .* is a directory/);
    expect(r.stdout).toBe('');
  });
});
