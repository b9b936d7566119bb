/**
 * The serving metrics in the CLI's JSON: `simulate --out` with --slo and --replicas (token
 * metrics in the summary, the SLO outcome, each request's replica and max gap, per-replica
 * summaries) and `capacity --out` (bracket and probes).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { recordTokenGaps, TOKEN_GAPS_MAX_REQUESTS } from '../../src/engine/engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'kvsched-serving-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    interactive: false,
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

interface RunJson {
  policy: string;
  requests: {
    id: number;
    replica?: number;
    maxGap: number | null;
    firstToken: number;
    completion: number;
    output: number;
  }[];
  summary: Record<string, number | null>;
  slo?: { attainment: number; percentilesMet: boolean; percentiles: { term: string; met: boolean }[] };
  router?: string;
  replicas?: { replica: number; summary: { requests: number } }[];
}

describe('simulate --out', () => {
  it('has the token metrics, the SLO outcome, and per-replica results', async () => {
    const file = join(dir, 'sim.json');
    const r = await run([
      'simulate',
      '--policy',
      'mcsf',
      '--requests',
      '300',
      '--rate',
      '40',
      '--slo',
      'ttft=2s,p99-tbt=1s',
      '--replicas',
      '3',
      '--router',
      'least-outstanding',
      '--out',
      file,
      '--quiet',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/mcsf \(3 × least-outstanding\)/);
    expect(r.out).toMatch(/replica 2/);
    const json = JSON.parse(readFileSync(file, 'utf8')) as { runs: RunJson[] };
    const run0 = json.runs[0] as RunJson;
    for (const k of [
      'p50Tbt',
      'p90Tbt',
      'p99Tbt',
      'maxTbt',
      'meanTpot',
      'p99Tpot',
      'meanNormLatency',
      'p99NormLatency',
    ]) {
      expect(typeof run0.summary[k], k).toBe('number');
    }
    expect(run0.slo?.attainment).toBeGreaterThanOrEqual(0);
    expect(run0.slo?.percentiles.map((p) => p.term)).toEqual(['p99-tbt=1s']);
    expect(run0.router).toBe('least-outstanding');
    expect(run0.replicas?.map((x) => x.summary.requests).reduce((a, b) => a + b, 0)).toBe(300);
    const perReplica = [0, 0, 0];
    for (const q of run0.requests) {
      const k = q.replica as number;
      perReplica[k] = (perReplica[k] as number) + 1;
      expect(q.maxGap as number).toBeLessThanOrEqual(q.completion - q.firstToken + 1e-9);
    }
    expect(perReplica).toEqual(run0.replicas?.map((x) => x.summary.requests));
  });
});

describe('capacity --out', () => {
  it('writes the capacity, the bracket and every probe', async () => {
    const file = join(dir, 'cap.json');
    const r = await run([
      'capacity',
      '--policy',
      'mcsf,mc-fcfs',
      '--slo',
      'ttft=2s',
      '--requests',
      '200',
      '--out',
      file,
      '--quiet',
    ]);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      slo: string;
      attainment: number;
      policies: {
        policy: string;
        capacity: number;
        bracket: [number, number | null];
        probes: number;
        probeLog: { rate: number; met: boolean }[];
      }[];
    };
    expect(json.slo).toBe('ttft=2s');
    expect(json.attainment).toBe(0.9);
    expect(json.policies.map((p) => p.policy)).toEqual(['mcsf', 'mc-fcfs']);
    for (const p of json.policies) {
      expect(p.probeLog).toHaveLength(p.probes);
      expect(p.capacity).toBe(p.bracket[0]);
      expect(p.probeLog.some((x) => x.rate === p.capacity && x.met)).toBe(true);
      if (p.bracket[1] !== null) expect(p.probeLog.some((x) => x.rate === p.bracket[1] && !x.met)).toBe(true);
    }
  });

  it('rescales a trace in time', async () => {
    const trace = join(dir, 'trace.csv');
    const rows = ['arrived_at,num_prefill_tokens,num_decode_tokens'];
    for (let i = 0; i < 120; i++) rows.push(`${(i * 0.5).toFixed(1)},${20 + (i % 7) * 30},${10 + (i % 5) * 40}`);
    writeFileSync(trace, `${rows.join('\n')}\n`);
    const file = join(dir, 'cap-trace.json');
    const r = await run([
      'capacity',
      '--policy',
      'mcsf',
      '--slo',
      'latency=20s',
      '--trace',
      trace,
      '--out',
      file,
      '--quiet',
    ]);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      workload: string;
      policies: { capacity: number; probes: number }[];
    };
    expect(json.workload).toBe(`trace ${trace}`);
    expect(json.policies[0]?.capacity).toBeGreaterThan(0);
    const both = await run(['capacity', '--slo', 'ttft=1s', '--trace', trace, '--requests', '10']);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/--requests does not apply to a trace/);
  });

  it('refuses a unit in rounds mode and a bad SLO (exit 2)', async () => {
    const a = await run(['simulate', '--workload', 'paper-synthetic', '--slo', 'ttft=2s', '--quiet']);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--slo: "ttft=2s": rounds mode counts time in rounds/);
    const b = await run(['capacity', '--slo', 'ttfb=1s']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/--slo: "ttfb=1s": unknown metric/);
  });
});

describe('token gaps by default', () => {
  it('recorded up to the limit, not above', () => {
    expect(recordTokenGaps(TOKEN_GAPS_MAX_REQUESTS)).toBe(true);
    expect(recordTokenGaps(TOKEN_GAPS_MAX_REQUESTS + 1)).toBe(false);
  });
});
