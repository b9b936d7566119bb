/**
 * Does `optimum --time-limit` hold? The cases of issue 17 (item 6), each run R times;
 * prints the wall time against the limit (median, max) and writes
 * bench/results/optimum-time-limit.json.
 *
 *   npx tsx bench/optimum-time-limit.ts [--repeats 3]
 *
 * Overrun = wall − limit. A refused case reports its message and its time to refuse.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { RequestSpec } from '../src/model/types.ts';
import { solveOptimum } from '../src/theory/optimum.ts';
import { paperSynthetic } from '../src/workload/index.ts';

const { values } = parseArgs({ options: { repeats: { type: 'string', default: '3' } } });
const R = Number(values.repeats);

interface Case {
  name: string;
  limit: number;
  inst: () => { memory: number; requests: RequestSpec[] };
}
const cases: Case[] = [
  {
    name: '2 requests 1e9 rounds apart, 10 s',
    limit: 10,
    inst: () => ({
      memory: 10,
      requests: [
        { id: 0, arrival: 0, prompt: 1, output: 2, predicted: 2 },
        { id: 1, arrival: 1e9, prompt: 1, output: 2, predicted: 2 },
      ],
    }),
  },
  {
    name: '10,000 requests (paper-synthetic, Poisson), 5 s',
    limit: 5,
    inst: () => paperSynthetic({ seed: 1, arrivals: 'poisson', mode: 'rounds', requests: 10_000 }),
  },
  {
    name: 'paper-synthetic --memory 2147483647, 5 s',
    limit: 5,
    inst: () => paperSynthetic({ seed: 1, arrivals: 'zero', mode: 'rounds', memory: 2147483647 }),
  },
  {
    name: 'paper-synthetic n = 50 (zero), 5 s',
    limit: 5,
    inst: () => paperSynthetic({ seed: 1, arrivals: 'zero', mode: 'rounds', requests: 50 }),
  },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const out = [];
for (const c of cases) {
  const walls: number[] = [];
  let outcome = '';
  for (let r = 0; r < R; r++) {
    const inst = c.inst(); // not timed: the CLI builds it before the limit starts too
    const t0 = performance.now();
    try {
      const res = await solveOptimum(inst, { timeLimitSec: c.limit });
      outcome = `${res.status}, stoppedBy ${res.stats.stoppedBy}, objective ${res.objective}, bound ${Math.ceil(res.lowerBound - 1e-9)}`;
    } catch (e) {
      outcome = `refused: ${(e as Error).message}`;
    }
    walls.push((performance.now() - t0) / 1000);
  }
  const row = {
    case: c.name,
    limitSec: c.limit,
    medianWallSec: median(walls),
    maxWallSec: Math.max(...walls),
    walls,
    outcome,
  };
  console.log(
    `${c.name}: median ${row.medianWallSec.toFixed(2)} s, max ${row.maxWallSec.toFixed(2)} s (limit ${c.limit} s) — ${outcome.slice(0, 160)}`,
  );
  out.push(row);
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/optimum-time-limit.json',
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, loadavg: os.loadavg() },
      repeats: R,
      cases: out,
    },
    null,
    1,
  ) + '\n',
);
