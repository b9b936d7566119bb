/**
 * Invariants every simulation must satisfy (model.md §1, §3.6; engine.ts conventions).
 * `checkInvariants` is called on every run of the property tests, for every policy,
 * in rounds and seconds modes, with exact and noisy predictions.
 */
import { expect } from 'vitest';
import type { SimulationResult } from '../../../src/engine/engine.ts';
import type { RequestResult } from '../../../src/engine/results.ts';
import type { Instance } from './instances.ts';

const PAPER = ['mcsf', 'mc-fcfs', 'alpha-greedy', 'alpha-clearing'];
const LOOK_AHEAD = ['mcsf', 'mc-fcfs'];
/** Policies whose prefill may span several rounds (a partly prefilled member makes no token). */
const CHUNKED = ['sarathi', 'mcsf-budget'];
/** Policies that keep generated tokens on a preemption (recompute): Σ tokens = Σ o. */
const RECOMPUTE = ['vllm', 'sarathi', 'orca'];

export function policyName(spec: string): string {
  return spec.split(':')[0] ?? spec;
}

export function isPaperPolicy(spec: string): boolean {
  return PAPER.includes(policyName(spec));
}

function sum(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i] as number;
  return s;
}

export function checkInvariants(
  result: SimulationResult,
  instance: Instance,
  policySpec: string,
  predictionsExact: boolean,
): void {
  const name = policyName(policySpec);
  const paper = PAPER.includes(name);
  const lookAhead = LOOK_AHEAD.includes(name);
  const chunked = CHUNKED.includes(name);
  const M = instance.memory;
  const mode = result.mode;
  const n = instance.requests.length;
  const t = result.totals;
  const rt = result.rounds;
  if (rt === null) throw new Error('checkInvariants needs the round table (keepRounds)');
  const fail = (msg: string): never => {
    throw new Error(`${policySpec} (${mode}, ${predictionsExact ? 'exact' : 'noisy'}): ${msg}`);
  };

  expect(result.policy).toBe(policySpec);
  expect(result.memory).toBe(M);

  // Round table columns.
  const start = rt.column('start');
  const duration = rt.column('duration');
  const batch = rt.column('batch');
  const kv = rt.column('kv');
  const admitted = rt.column('admitted');
  const evicted = rt.column('evicted');
  const decodeRequests = rt.column('decodeRequests');
  const prefillTokens = rt.column('prefillTokens');
  const roundIdx = rt.column('round');
  const R = rt.length;

  // --- Every request completes exactly once, with its spec echoed. ---
  expect(result.requests.count).toBe(n);
  expect(t.requests).toBe(n);
  const byId = new Map<number, RequestResult>();
  for (const r of result.requests) {
    if (byId.has(r.id)) fail(`request ${r.id} listed twice`);
    byId.set(r.id, r);
  }
  expect(byId.size).toBe(n);

  // Index of the round starting at a given time (round starts are strictly increasing).
  const roundAt = new Map<number, number>();
  for (let i = 0; i < R; i++) roundAt.set(start[i] as number, i);

  let sumOutput = 0;
  let sumRestarts = 0;
  let maxCompletion = 0;
  for (const spec of instance.requests) {
    const r = byId.get(spec.id) ?? fail(`request ${spec.id} has no result`);
    expect([r.arrival, r.prompt, r.output, r.predicted]).toEqual([
      spec.arrival,
      spec.prompt,
      spec.output,
      spec.predicted,
    ]);
    sumOutput += spec.output;
    sumRestarts += r.restarts;
    maxCompletion = Math.max(maxCompletion, r.completion);
    if (r.start < r.arrival) fail(`request ${r.id} starts at ${r.start} before its arrival ${r.arrival}`);
    if (!(r.firstToken > r.arrival && r.firstToken <= r.completion))
      fail(`request ${r.id}: firstToken ${r.firstToken} not in (arrival, completion]`);
    if (r.restarts === 0 && !(r.start < r.firstToken))
      fail(`request ${r.id}: start ${r.start} ≥ firstToken ${r.firstToken}`);
    if (!(r.start < r.completion)) fail(`request ${r.id}: start ${r.start} ≥ completion ${r.completion}`);
    if (r.restarts < 0) fail(`request ${r.id}: negative restarts`);
    // The final (re)start is the start of an executed round.
    const i = roundAt.get(r.start);
    if (i === undefined) fail(`request ${r.id}: no round starts at its start ${r.start}`);
    const first = i as number;
    if (r.restarts === 0 && !chunked)
      expect(r.firstToken, `firstToken of ${r.id}`).toBe(r.start + (duration[first] as number));
    if (paper) {
      // It runs in `output` consecutive rounds from its start, back to back.
      if (first + r.output > R) fail(`request ${r.id}: fewer than o rounds after its start`);
      let busy = 0;
      for (let k = first; k < first + r.output; k++) {
        if (k > first && start[k] !== (start[k - 1] as number) + (duration[k - 1] as number))
          fail(`request ${r.id}: idle gap while it runs`);
        busy += duration[k] as number;
      }
      expect(r.completion - r.start, `completion − start of ${r.id}`).toBe(busy);
      if (mode === 'rounds') expect(r.completion).toBe(r.start + r.output);
    }
  }

  // --- Round table consistency. ---
  expect(R).toBe(t.rounds);
  // A partly prefilled member runs in a round without producing a token.
  if (chunked) expect(sum(batch)).toBeGreaterThanOrEqual(t.tokensGenerated);
  else expect(sum(batch)).toBe(t.tokensGenerated);
  expect(sum(duration)).toBe(t.busy);
  let peak = 0;
  let kvTime = 0;
  for (let i = 0; i < R; i++) {
    const k = kv[i] as number;
    if (k > M) fail(`round ${i} holds ${k} > M = ${M} tokens`);
    peak = Math.max(peak, k);
    kvTime += k * (duration[i] as number);
    if ((duration[i] as number) < 1 || !Number.isInteger(duration[i])) fail(`round ${i}: duration ${duration[i]}`);
    if (mode === 'rounds') {
      expect(duration[i]).toBe(1);
      expect(roundIdx[i]).toBe(start[i]);
    } else expect(roundIdx[i]).toBe(i);
    if (i > 0 && (start[i] as number) < (start[i - 1] as number) + (duration[i - 1] as number))
      fail(`round ${i} starts before round ${i - 1} ends`);
    const b = batch[i] as number;
    if (b < 1) fail(`round ${i} has an empty batch`);
    // Members that were (re)started this round are exactly the prefill members.
    // (Chunked: also the members continuing a prefill begun in an earlier round.)
    if (chunked)
      expect(b - (decodeRequests[i] as number), `prefill members of round ${i}`).toBeGreaterThanOrEqual(
        admitted[i] as number,
      );
    else expect(b - (decodeRequests[i] as number), `prefill members of round ${i}`).toBe(admitted[i]);
  }
  expect(t.peakKv).toBe(peak);
  expect(t.kvTime).toBe(kvTime);
  expect(t.end).toBe(R === 0 ? 0 : (start[R - 1] as number) + (duration[R - 1] as number));
  expect(t.end).toBe(maxCompletion);

  // --- Evictions and tokens. ---
  expect(sumRestarts).toBe(t.evictions);
  expect(sum(evicted), 'Σ evicted over rounds').toBe(t.evictions);
  expect(sum(admitted), 'Σ admitted = n + restarts').toBe(n + t.evictions);
  if (lookAhead && predictionsExact) expect(t.evictions, 'look-ahead with exact predictions never evicts').toBe(0);
  if (RECOMPUTE.includes(name)) {
    // Recompute keeps generated tokens: nothing is lost.
    expect(t.tokensGenerated).toBe(sumOutput);
  } else if (t.evictions === 0) {
    expect(t.tokensGenerated).toBe(sumOutput);
  } else if (chunked) {
    // A victim still prefilling had produced no token: only Σ o is certain.
    expect(t.tokensGenerated).toBeGreaterThanOrEqual(sumOutput);
  } else {
    // Each eviction throws away at least the one token its victim had generated.
    expect(t.tokensGenerated).toBeGreaterThanOrEqual(sumOutput + t.evictions);
  }

  // --- Paper policies, rounds mode, no evictions: KV and batch from the schedule alone. ---
  if (paper && mode === 'rounds' && t.evictions === 0) {
    const kvAt = new Map<number, number>();
    const nAt = new Map<number, number>();
    const promptAt = new Map<number, number>();
    for (const r of byId.values()) {
      promptAt.set(r.start, (promptAt.get(r.start) ?? 0) + r.prompt);
      for (let tau = r.start; tau < r.completion; tau++) {
        kvAt.set(tau, (kvAt.get(tau) ?? 0) + r.prompt + (tau - r.start) + 1);
        nAt.set(tau, (nAt.get(tau) ?? 0) + 1);
      }
    }
    for (let i = 0; i < R; i++) {
      const tau = start[i] as number;
      expect(kv[i], `kv of round ${tau}`).toBe(kvAt.get(tau));
      expect(batch[i], `batch of round ${tau}`).toBe(nAt.get(tau));
      expect(prefillTokens[i], `prefill tokens of round ${tau}`).toBe(promptAt.get(tau) ?? 0);
    }
    // Every round in which something runs is in the table.
    expect(kvAt.size).toBe(R);
  }
}
