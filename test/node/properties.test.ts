/**
 * Property tests over random instances (fast-check): for every policy, in rounds and seconds
 * modes, with exact and noisy predictions, every run satisfies `checkInvariants`, equals the
 * naive reference scheduler of test/node/helpers/reference.ts (MC-SF / MC-FCFS with an explicit
 * check of every future round; α-greedy / α-clearing with the overflow rule; vLLM transcribed
 * from Vidur), and is deterministic.
 * α-clearing may livelock: the engine's LivelockError is accepted for it only, and only when the
 * reference finds a true cycle (a repeated state with no arrivals left).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { LivelockError, simulate, StuckError, type SimulationResult } from '../../src/engine/engine.ts';
import type { CostModel, TimeMode } from '../../src/model/types.ts';
import { createPolicy } from '../../src/policies/registry.ts';
import { paperSynthetic } from '../../src/workload/generators.ts';
import { checkInvariants } from './helpers/invariants.ts';
import { instanceArb, mixedCost, schedule, tables, type Instance, type RandomInstance } from './helpers/instances.ts';
import { referencePaper, referenceVllm, vllmConfig, type RefResult } from './helpers/reference.ts';

/** Runs per property; raise it for a longer hunt: KVSCHED_PROPERTY_RUNS=3000 (and a longer --testTimeout). */
const RUNS = Number(process.env.KVSCHED_PROPERTY_RUNS ?? 200);
/** Generous per-test limit: a property takes ~0.5 s alone but shares the CPU with other files. */
const TIMEOUT = 60_000;

function simulateOrError(
  inst: Instance,
  spec: string,
  mode: TimeMode,
  cost: CostModel | undefined,
): SimulationResult | Error {
  try {
    return simulate(inst.requests, createPolicy(spec), { memory: inst.memory, mode, ...(cost && { costModel: cost }) });
  } catch (e) {
    return e as Error;
  }
}

/** The engine's run equals the reference's, column by column. */
function expectSameAsReference(res: SimulationResult, ref: RefResult): void {
  expect(schedule(res)).toEqual(ref.requests);
  const rt = res.rounds;
  if (!rt) throw new Error('no round table');
  const cols = [
    'start',
    'duration',
    'batch',
    'prefillTokens',
    'decodeRequests',
    'kv',
    'admitted',
    'evicted',
    'waiting',
  ] as const;
  for (const c of cols) expect(Array.from(rt.column(c)), `round column ${c}`).toEqual(ref.rounds.map((r) => r[c]));
  expect(res.totals.evictions).toBe(ref.evictions);
}

const livelocks = new Map<string, { runs: number; livelocks: number }>();
afterAll(() => {
  const lines = [...livelocks].map(([k, v]) => `${k}: ${v.livelocks}/${v.runs} livelocked`);
  if (lines.length > 0) console.info(`α-clearing livelocks on random instances:\n  ${lines.join('\n  ')}`);
});

const PAPER_SPECS = [
  'mcsf',
  'mc-fcfs',
  'alpha-greedy:0',
  'alpha-greedy:0.1',
  'alpha-greedy:0.25',
  'alpha-clearing:0.1:0.1',
  'alpha-clearing:0.2:0.2',
  'alpha-clearing:0:0.5',
];

describe.each(['rounds', 'seconds'] as const)('paper policies, %s mode', (mode) => {
  const cost = mode === 'seconds' ? mixedCost : undefined;

  it.each(PAPER_SPECS)(
    '%s: invariants, equal to the naive reference, deterministic',
    (spec) => {
      const key = `${spec} (${mode})`;
      fc.assert(
        fc.property(instanceArb({ mode }), (inst: RandomInstance) => {
          const res = simulateOrError(inst, spec, mode, cost);
          const ref = referencePaper(inst, spec, mode, cost);
          if (spec.startsWith('alpha-clearing')) {
            const c = livelocks.get(key) ?? { runs: 0, livelocks: 0 };
            c.runs++;
            if (res instanceof LivelockError) c.livelocks++;
            livelocks.set(key, c);
          }
          if (res instanceof Error) {
            expect(res).toBeInstanceOf(LivelockError);
            expect(spec.startsWith('alpha-clearing'), `${spec} livelocked`).toBe(true);
            expect(ref.outcome, 'the reference finds a true cycle').toBe('livelock');
            return;
          }
          expect(ref.outcome).toBe('done');
          checkInvariants(res, inst, spec, inst.exact);
          expectSameAsReference(res, ref);
          const again = simulateOrError(inst, spec, mode, cost) as SimulationResult;
          expect(tables(again)).toEqual(tables(res));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe('MC-SF / MC-FCFS on the paper’s synthetic instances (exact and noisy predictions)', () => {
  it.each(['mcsf', 'mc-fcfs'])(
    '%s equals the naive reference',
    (spec) => {
      for (let seed = 0; seed < 8; seed++) {
        for (const arrivals of ['zero', 'poisson'] as const) {
          const w = paperSynthetic({ seed, arrivals, mode: 'rounds' });
          // Noisy copy: õ = o scaled by a seed-dependent factor in [0.5, 1.5].
          const noisy = w.requests.map((r, i) => ({
            ...r,
            predicted: Math.max(1, Math.round(r.output * (0.5 + ((i * 37 + seed) % 11) / 10))),
          }));
          for (const inst of [
            { memory: w.memory, requests: w.requests, exact: true },
            { memory: w.memory, requests: noisy, exact: false },
          ]) {
            const res = simulateOrError(inst, spec, 'rounds', undefined) as SimulationResult;
            checkInvariants(res, inst, spec, inst.exact);
            const ref = referencePaper(inst, spec, 'rounds');
            expect(ref.outcome).toBe('done');
            expectSameAsReference(res, ref);
          }
        }
      }
    },
    TIMEOUT,
  );
});

describe.each(['rounds', 'seconds'] as const)('vLLM, %s mode', (mode) => {
  const cost = mode === 'seconds' ? mixedCost : undefined;

  function check(inst: RandomInstance, spec: string): void {
    const res = simulateOrError(inst, spec, mode, cost);
    const ref = referenceVllm(inst, mode, cost, vllmConfig(spec));
    if (res instanceof Error) {
      expect(res).toBeInstanceOf(StuckError);
      expect(res.message).toMatch(/request \d+ must prefill \d+ tokens/);
      expect(ref.outcome).toBe('stuck');
      return;
    }
    expect(ref.outcome).toBe('done');
    checkInvariants(res, inst, spec, inst.exact);
    expectSameAsReference(res, ref);
    expect(tables(simulateOrError(inst, spec, mode, cost) as SimulationResult)).toEqual(tables(res));
  }

  it.each(['vllm', 'vllm:48:3', 'vllm:64:2'])(
    '%s, M a multiple of 16 (2..6 blocks), prompts crossing blocks',
    (spec) => {
      fc.assert(
        fc.property(instanceArb({ mode, memoryStep: 16, minMemory: 32, maxMemory: 96, maxPrompt: 40 }), (inst) =>
          check(inst, spec),
        ),
        { numRuns: spec === 'vllm' ? RUNS : Math.ceil(RUNS / 2) },
      );
    },
    TIMEOUT,
  );

  it(
    'vllm on the generic instances (M 20..60): StuckError exactly when a request needs more blocks than M has',
    () => {
      fc.assert(
        fc.property(instanceArb({ mode }), (inst) => {
          const blocks = Math.floor(inst.memory / 16);
          const needsTooMany = inst.requests.some((r) => Math.ceil((r.prompt + r.output - 1) / 16) > blocks);
          const res = simulateOrError(inst, 'vllm', mode, cost);
          expect(res instanceof StuckError).toBe(needsTooMany);
          check(inst, 'vllm');
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
