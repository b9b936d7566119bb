/**
 * Sarathi-Serve (chunked prefill) and Orca, as Vidur reproduces them (src/policies/sarathi.ts,
 * src/policies/orca.ts): hand-derived schedules from Vidur's code (the derivations are in the
 * comments), the engine's mixed rounds, and fast-check properties.
 * Notation: request (id: a, s, o). Blocks are 16 tokens; "held" lists Vidur's
 * `_preempted_requests`; `X(c)` is a prefill chunk of c tokens.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simulate, StuckError, type SimulationResult } from '../../src/engine/engine.ts';
import type { BatchStats, CostModel, TimeMode } from '../../src/model/types.ts';
import { fakeIo } from './helpers/cli-io.ts';
import { main } from '../../src/cli/main.ts';
import { gpuPolicyRefusal } from '../../src/gpu-engine/engine.ts';
import { createPolicy, formatPolicySpec, parsePolicySpec, POLICIES } from '../../src/policies/registry.ts';
import { checkInvariants } from './helpers/invariants.ts';
import { col, instanceArb, mixedCost, reqs, run, schedule, tables, type Instance } from './helpers/instances.ts';
import { referenceOrca, referenceSarathi, sarathiConfigOf } from './helpers/reference.ts';

type Row = [id: number, start: number, firstToken: number, completion: number, restarts: number];
const rows = (rs: Row[]) =>
  rs.map(([id, start, firstToken, completion, restarts]) => ({ id, start, firstToken, completion, restarts }));

function runChecked(policy: string, inst: Instance): SimulationResult {
  const res = run(policy, inst);
  checkInvariants(res, inst, policy, true);
  return res;
}

/** A cost model that records the BatchStats of every round (duration 1 µs + tokens). */
function recorder(): { cost: CostModel; seen: BatchStats[] } {
  const seen: BatchStats[] = [];
  return {
    seen,
    cost: { name: 'rec', roundMicros: (b) => (seen.push({ ...b }), 1 + b.prefillTokens + b.decodeRequests) },
  };
}

describe('Sarathi (chunked prefill)', () => {
  // M = 64: 4 blocks, watermark int(0.01·4) = 0. sarathi:8 (budget 8 tokens per round).
  // A (0: a0, s20, o3), B (1: a0, s5, o2).
  // t0: new A: 2 blocks fit; chunk min(20, 8) = 8. B: 1 block fits but min(5, 8 − 8) = 0 → stop. [A(8)]
  // t1: held [A] (prefilling) → A(8) (16 of 20 done); B: 0 tokens left → stop.
  // t2: A(4) completes A's prefill (token 1 at 3); B admitted with min(5, 8 − 4) = 4. [A(4), B(4)]: kv 3 blocks.
  // t3: held [A, B]: A decodes (1 free block ≥ 1; 21 ≤ 32 tokens: no new block), B(1) finishes its
  //     prefill (token 1 at 4): a mixed round, 1 prefill token + 1 decode.
  // t4: A and B decode: A's 3rd token, B's 2nd → both complete at 5.
  const inst: Instance = {
    memory: 64,
    requests: reqs([
      [0, 20, 3],
      [0, 5, 2],
    ]),
  };

  it('splits prompts at the budget, runs the rest of a chunk with a new request, mixes prefill and decode', () => {
    const res = runChecked('sarathi:8', inst);
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 3, 5, 0],
        [1, 2, 4, 5, 0],
      ]),
    );
    expect(col(res, 'prefillTokens')).toEqual([8, 8, 8, 1, 0]);
    expect(col(res, 'decodeRequests')).toEqual([0, 0, 0, 1, 2]);
    expect(col(res, 'batch')).toEqual([1, 1, 2, 2, 2]);
    expect(col(res, 'kv')).toEqual([32, 32, 48, 48, 48]);
    expect(res.totals.tokensGenerated).toBe(5);
  });

  it("prices a chunk as (done + c)² − done² and a decode's context as s + g + 1", () => {
    const { cost, seen } = recorder();
    simulate(inst.requests, createPolicy('sarathi:8'), { memory: 64, mode: 'seconds', costModel: cost });
    // Squares: 8² | 16² − 8² | (20² − 16²) + 4² | 5² − 4² | 0. Decode context: A 20+1+1 | A 23 + B 7.
    expect(seen.map((b) => b.prefillSquares)).toEqual([64, 192, 160, 9, 0]);
    expect(seen.map((b) => b.prefillRequests)).toEqual([1, 1, 2, 1, 0]);
    expect(seen.map((b) => b.decodeContext)).toEqual([0, 0, 0, 22, 30]);
  });

  it('with the budget ≥ every prompt, each prefill is one round (first token after one round)', () => {
    const res = runChecked('sarathi:512', inst);
    // t0: A(20), B(5) both admitted (3 blocks). t1: A, B decode. t2: A decodes → done 3; B done 2.
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 1, 3, 0],
        [1, 0, 1, 2, 0],
      ]),
    );
  });

  it('preempts the last held request, partly prefilled, and restarts it with its whole prompt', () => {
    // M = 64 (4 blocks, watermark 0), sarathi:4. A (0: a0, s16, o4), B (1: a0, s32, o1).
    // t0..t3: A(4) × 4 (1 block); B needs 2 blocks (fit) but the budget is spent → waits. A's token 1 at 4.
    // t4: A decodes: 17 > 16 → 2nd block. B admitted (4 − 2 − 2 = 0 ≥ 0) with chunk min(32, 4 − 1) = 3.
    // t5: held [A, B]: no free block before A → preempt the last of the list: B (3 of 32 prefilled;
    //     restart 1, front of the queue). A decodes; B is admitted again at once: B(3), from scratch.
    // t6: the same (restart 2). A's 4th token → A completes at 7.
    // t7..t13: B(4) × 7 → 31 of 32; t14: B(1) → B's only token at 15.
    const res = runChecked('sarathi:4', {
      memory: 64,
      requests: reqs([
        [0, 16, 4],
        [0, 32, 1],
      ]),
    });
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 4, 7, 0],
        [1, 6, 15, 15, 2],
      ]),
    );
    expect(col(res, 'prefillTokens')).toEqual([4, 4, 4, 4, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 1]);
    expect(col(res, 'evicted')).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(col(res, 'kv')).toEqual([16, 16, 16, 16, 64, 64, 64, 32, 32, 32, 32, 32, 32, 32, 32]);
    expect(res.totals.evictions).toBe(2);
    expect(res.totals.tokensGenerated).toBe(5);
  });

  it("keeps Vidur's watermark: a new prompt must leave int(0.01 · blocks) blocks free", () => {
    // M = 1600: 100 blocks, watermark 1. A (0: a0, s800, o2) takes 50 blocks.
    // B with s785 needs 50: 100 − 50 − 50 = 0 < 1 → waits until A completes (t2), done at 3.
    // B with s784 needs 49: 100 − 50 − 49 = 1 ≥ 1 → prefilled with A in round 0, done at 1.
    const late = runChecked('sarathi:2048', {
      memory: 1600,
      requests: reqs([
        [0, 800, 2],
        [0, 785, 1],
      ]),
    });
    expect(schedule(late)).toEqual(
      rows([
        [0, 0, 1, 2, 0],
        [1, 2, 3, 3, 0],
      ]),
    );
    const early = runChecked('sarathi:2048', {
      memory: 1600,
      requests: reqs([
        [0, 800, 2],
        [0, 784, 1],
      ]),
    });
    expect(schedule(early)).toEqual(
      rows([
        [0, 0, 1, 2, 0],
        [1, 0, 1, 1, 0],
      ]),
    );
    // A prompt of 100 blocks can never leave the watermark: stuck, with the reason.
    expect(() => run('sarathi', { memory: 1600, requests: reqs([[0, 1585, 1]]) })).toThrow(StuckError);
    expect(() => run('sarathi', { memory: 1600, requests: reqs([[0, 1585, 1]]) })).toThrow(/1-block watermark/);
  });

  it('caps the requests holding blocks at maxBatch (sarathi:chunk:maxBatch)', () => {
    // Three (s4, o1) at 0, M = 64, maxBatch 2: rounds [0, 1] then [2].
    const res = runChecked('sarathi:512:2', {
      memory: 64,
      requests: reqs([
        [0, 4, 1],
        [0, 4, 1],
        [0, 4, 1],
      ]),
    });
    expect(schedule(res).map((r) => r.start)).toEqual([0, 0, 1]);
  });

  it('parses and formats sarathi[:chunk[:maxBatch]]', () => {
    expect(parsePolicySpec('sarathi')).toEqual({ kind: 'sarathi', chunk: 512, maxBatch: 128 });
    expect(parsePolicySpec('sarathi:256:64')).toEqual({ kind: 'sarathi', chunk: 256, maxBatch: 64 });
    expect(formatPolicySpec({ kind: 'sarathi', chunk: 512, maxBatch: 128 })).toBe('sarathi');
    expect(() => parsePolicySpec('sarathi:0')).toThrow(/positive integer/);
  });
});

describe('Orca', () => {
  it('reserves a full context per request and runs prefills in the same round as decodes', () => {
    // orca:2:32: 2 blocks per request, batch ≤ 2. M = 96: 6 blocks (3 slots) → cap min(2, 3) = 2.
    // A (0: a0, s4, o3), B (1: a0, s4, o1), C (2: a0, s8, o2), D (3: a1, s4, o1).
    // t0: [A, B] (4 blocks). B completes at 1. t1: held [A]; C admitted (2 more blocks):
    //     [A decode, C prefill 8] (mixed). t2: [A, C] full, D waits; both complete at 3. t3: [D].
    const res = runChecked('orca:2:32', {
      memory: 96,
      requests: reqs([
        [0, 4, 3],
        [0, 4, 1],
        [0, 8, 2],
        [1, 4, 1],
      ]),
    });
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 1, 3, 0],
        [1, 0, 1, 1, 0],
        [2, 1, 2, 3, 0],
        [3, 3, 4, 4, 0],
      ]),
    );
    expect(col(res, 'prefillTokens')).toEqual([8, 8, 0, 4]);
    expect(col(res, 'decodeRequests')).toEqual([0, 1, 2, 0]);
    expect(col(res, 'kv')).toEqual([64, 64, 64, 32]);
  });

  it('admits only while a full reservation fits (M = 64, 4096-token default → cannot start)', () => {
    // orca:128:32 on M = 64: two slots of 2 blocks; three (s4, o2) → [A, B] twice, then [C].
    const res = runChecked('orca:128:32', {
      memory: 64,
      requests: reqs([
        [0, 4, 2],
        [0, 4, 2],
        [0, 4, 1],
      ]),
    });
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 1, 2, 0],
        [1, 0, 1, 2, 0],
        [2, 2, 3, 3, 0],
      ]),
    );
    expect(() => run('orca', { memory: 64, requests: reqs([[0, 4, 2]]) })).toThrow(/reserves 256 blocks/);
  });

  it('refuses a request longer than the reservation', () => {
    expect(() => run('orca:128:16', { memory: 64, requests: reqs([[0, 10, 7]]) })).toThrow(
      /s \+ o = 17 exceeds the 16 tokens/,
    );
  });

  it('parses orca[:maxBatch[:maxTokens]]', () => {
    expect(parsePolicySpec('orca')).toEqual({ kind: 'orca', maxBatch: 128, maxTokens: 4096 });
    expect(formatPolicySpec({ kind: 'orca', maxBatch: 8, maxTokens: 4096 })).toBe('orca:8');
  });
});

const RUNS = Number(process.env.KVSCHED_PROPERTY_RUNS ?? 150);

function outcome(inst: Instance, spec: string, mode: TimeMode): SimulationResult | Error {
  try {
    return simulate(inst.requests, createPolicy(spec), {
      memory: inst.memory,
      mode,
      ...(mode === 'seconds' && { costModel: mixedCost }),
    });
  } catch (e) {
    return e as Error;
  }
}

describe.each(['rounds', 'seconds'] as const)('properties, %s mode', (mode) => {
  const arb = instanceArb({ mode, memoryStep: 16, minMemory: 32, maxMemory: 96, maxPrompt: 40 });

  it.each(['sarathi', 'sarathi:8', 'sarathi:3:2', 'sarathi:16:4'])(
    '%s: equals the transcription of Vidur; blocks ≤ M, every token once, restarts = evictions; stuck only when a request outgrows M',
    (spec) => {
      fc.assert(
        fc.property(arb, (inst) => {
          const res = outcome(inst, spec, mode);
          const blocks = Math.floor(inst.memory / 16);
          if (res instanceof Error) {
            expect(res).toBeInstanceOf(StuckError);
            expect(
              referenceSarathi(inst, mode, mode === 'seconds' ? mixedCost : undefined, sarathiConfigOf(spec)).outcome,
            ).toBe('stuck');
            // A restarted request re-prefills s + g tokens, up to s + o − 1: only one that can
            // need every block of M (no block left for its next token) gets stuck.
            expect(inst.requests.some((r) => Math.ceil((r.prompt + r.output - 1) / 16) >= blocks)).toBe(true);
            return;
          }
          checkInvariants(res, inst, spec, inst.exact);
          for (const k of res.rounds?.column('kv') ?? []) expect(k % 16 === 0 && k / 16 <= blocks).toBe(true);
          // The same schedule, round for round, as the literal transcription of Vidur's Python.
          const ref = referenceSarathi(inst, mode, mode === 'seconds' ? mixedCost : undefined, sarathiConfigOf(spec));
          expect(ref.outcome).toBe('done');
          expect(schedule(res)).toEqual(ref.requests);
          const rt = res.rounds;
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
          for (const c of cols)
            expect(Array.from(rt?.column(c) ?? []), `round column ${c}`).toEqual(ref.rounds.map((r) => r[c]));
          expect(tables(outcome(inst, spec, mode) as SimulationResult)).toEqual(tables(res));
        }),
        { numRuns: RUNS },
      );
    },
    60_000,
  );

  it('orca: equals the transcription of Vidur; never preempts, reservations ≤ M, stuck exactly when one reservation exceeds M', () => {
    fc.assert(
      fc.property(arb, fc.integer({ min: 1, max: 4 }), (inst, maxBatch) => {
        const longest = Math.max(...inst.requests.map((r) => r.prompt + r.output));
        const spec = `orca:${maxBatch}:${16 * Math.ceil(longest / 16)}`;
        const res = outcome(inst, spec, mode);
        if (res instanceof Error) {
          expect(res).toBeInstanceOf(StuckError);
          expect(Math.ceil(longest / 16)).toBeGreaterThan(Math.floor(inst.memory / 16));
          return;
        }
        checkInvariants(res, inst, spec, inst.exact);
        expect(res.totals.evictions).toBe(0);
        const ref = referenceOrca(
          inst,
          mode,
          mode === 'seconds' ? mixedCost : undefined,
          maxBatch,
          16 * Math.ceil(longest / 16),
        );
        expect(schedule(res)).toEqual(ref.requests);
        const cols = [
          'start',
          'duration',
          'batch',
          'prefillTokens',
          'decodeRequests',
          'kv',
          'admitted',
          'waiting',
        ] as const;
        for (const c of cols)
          expect(Array.from(res.rounds?.column(c) ?? []), `round column ${c}`).toEqual(ref.rounds.map((r) => r[c]));
        for (const b of res.rounds?.column('batch') ?? []) expect(b).toBeLessThanOrEqual(maxBatch);
      }),
      { numRuns: RUNS },
    );
  }, 60_000);
});

describe('MC-SF with a token budget (mcsf-budget)', () => {
  it('admits shortest first while feasible and chunks prompts under the budget', () => {
    // M = 40, mcsf-budget:4. A (0: a0, s6, o2), B (1: a0, s3, o1).
    // t0: by õ: B, A. B feasible (4 at τ0) → B(3); A: running-set totals 8 at τ1, 11 at τ0 → A(1).
    //     B's only token at 1. KV counts s + 1 for a prefilling request: 4 + 7 = 11.
    // t1: A(4) (5 of 6); t2: A(1) → token 1 at 3; t3: A decodes → done at 4 (holds 6 + 1 + 1).
    const res = runChecked('mcsf-budget:4', {
      memory: 40,
      requests: reqs([
        [0, 6, 2],
        [0, 3, 1],
      ]),
    });
    expect(schedule(res)).toEqual(
      rows([
        [0, 0, 3, 4, 0],
        [1, 0, 1, 1, 0],
      ]),
    );
    expect(col(res, 'prefillTokens')).toEqual([4, 4, 1, 0]);
    expect(col(res, 'batch')).toEqual([2, 1, 1, 1]);
    expect(col(res, 'kv')).toEqual([11, 7, 7, 8]);
  });

  it('admits shortest first, only while budget is left, and stops at the first infeasible request', () => {
    // The MC-SF instance of policies.test.ts (M = 10), mcsf-budget:2. A (0: s4, o6), B (1: s5, o1), C (2: s1, o1).
    // t0: order B, C, A. B feasible → B(2): budget spent, C not tried. t1: B(2).
    // t2: B(1) completes its prefill (token at 3); 1 token left: C against B's profile
    //     (B as if decoding from now: 5 + 1 at τ2) → 6 + 2 = 8 ≤ 10 → C(1), done at 3.
    //     A not tried (budget spent). t3: A alone: 4 + 6 = 10 at τ8 → A(2); t4: A(2) → token 1
    //     at 5; t5..t9 decode → done at 10.
    const inst: Instance = {
      memory: 10,
      requests: reqs([
        [0, 4, 6],
        [0, 5, 1],
        [0, 1, 1],
      ]),
    };
    expect(schedule(runChecked('mcsf-budget:2', inst))).toEqual(
      rows([
        [0, 3, 5, 10, 0],
        [1, 0, 3, 3, 0],
        [2, 2, 3, 3, 0],
      ]),
    );
    const wide = runChecked('mcsf-budget:6', inst);
    // t0: B(5), then C: 6 + 2 = 8 ≤ 10 → C(1); A: totals 10 + ... > 10 → stop. Both done at 1; A as MC-SF.
    expect(schedule(wide)).toEqual(
      rows([
        [0, 1, 2, 7, 0],
        [1, 0, 1, 1, 0],
        [2, 0, 1, 1, 0],
      ]),
    );
  });

  it.each(['rounds', 'seconds'] as const)(
    'with a budget no round exhausts, equals MC-SF exactly (%s)',
    (mode) => {
      fc.assert(
        fc.property(instanceArb({ mode }), (inst) => {
          const a = outcome(inst, 'mcsf-budget:1000000', mode);
          const b = outcome(inst, 'mcsf', mode);
          if (a instanceof Error || b instanceof Error) throw a instanceof Error ? a : b;
          expect(tables(a)).toEqual(tables(b));
        }),
        { numRuns: RUNS },
      );
    },
    60_000,
  );

  it.each(['rounds', 'seconds'] as const)(
    'small budgets: KV ≤ M every round, every request completes once (%s)',
    (mode) => {
      fc.assert(
        fc.property(instanceArb({ mode }), fc.integer({ min: 1, max: 8 }), (inst, chunk) => {
          const spec = `mcsf-budget:${chunk}`;
          const res = outcome(inst, spec, mode);
          if (res instanceof Error) throw res;
          checkInvariants(res, inst, spec, inst.exact);
        }),
        { numRuns: RUNS },
      );
    },
    60_000,
  );
});

/** The CLI's text tables: blocks separated by blank lines, cells by 2+ spaces, rules dropped. */
function textTables(out: string): string[][][] {
  return out
    .split(/\n\s*\n/)
    .map((block) =>
      block
        .split('\n')
        .filter((line) => line.trim() !== '' && !/^[-\s]+$/.test(line))
        .map((line) => line.trim().split(/\s{2,}/)),
    )
    .filter((t) => t.length > 0);
}

describe('the GPU engine runs the serving policies (WGSL ports, test/node/gpu-engine.test.ts)', () => {
  it('no registry policy is refused', () => {
    for (const { name, params } of POLICIES) {
      const spec = [name, ...params.filter((p) => p.default === undefined).map((p) => p.example ?? '1')].join(':');
      expect(gpuPolicyRefusal(spec), spec).toBeUndefined();
    }
    for (const spec of ['sarathi:256', 'sarathi:64:8', 'orca:8', 'orca:8:2048', 'mcsf-budget:64'])
      expect(gpuPolicyRefusal(spec)).toBeUndefined();
  });

  it('kvsched simulate --engine gpu --policy sarathi,orca,mcsf-budget prints what the CPU engine prints', async () => {
    const cli = async (engine: string, policy = 'sarathi,orca,mcsf-budget') => {
      const io = fakeIo();
      const argv = ['simulate', '--policy', policy, '--requests', '150', '--time', 'seconds'];
      const code = await main([...argv, '--engine', engine], io);
      return { code, tables: textTables(io.stdout), error: io.stderr.split('\n').at(-2) };
    };
    const cpu = await cli('cpu');
    const gpu = await cli('gpu');
    expect([cpu.code, gpu.code]).toEqual([0, 0]);
    // The GPU engine does not record token gaps: its TBT and stall columns are '—'.
    const gapless = (t: string[][]) => {
      const keep = (t[0] ?? []).map((h) => !/TBT|stall/.test(h));
      return t.map((row) => row.filter((_, i) => keep[i]));
    };
    expect(gpu.tables.length).toBeGreaterThan(0);
    expect(gpu.tables.map(gapless)).toEqual(cpu.tables.map(gapless));
    expect(gpu.tables.flat().some((row) => row.includes('—'))).toBe(true);
    // A request above Orca's reservation: the same one line and exit 2 on both engines.
    const [cpuBad, gpuBad] = [await cli('cpu', 'orca:8:512'), await cli('gpu', 'orca:8:512')];
    expect(cpuBad.code).toBe(2);
    expect(cpuBad.error).toMatch(/^kvsched simulate: request \d+: s \+ o = \d+ exceeds the 512 tokens orca:8:512/);
    expect([gpuBad.code, gpuBad.error]).toEqual([cpuBad.code, cpuBad.error]);
  }, 120_000);
});
