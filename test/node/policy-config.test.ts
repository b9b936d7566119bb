/**
 * Typed policy configurations (src/policies/registry.ts): the spelling parses once into a
 * config, `formatPolicySpec` is its inverse, the parameter declarations produce the usage
 * lines and the validation messages, and a config builds the same policy as its spelling.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simulate } from '../../src/engine/engine.ts';
import {
  createPolicy,
  formatPolicySpec,
  PAPER_POLICIES,
  parsePolicySpec,
  POLICIES,
  type PolicyConfig,
} from '../../src/policies/registry.ts';
import { reqs } from './helpers/instances.ts';

/** Decimals with at most 9 places in [0, 1), as numbers (what the parser yields). */
const fraction = fc.integer({ min: 0, max: 999_999_999 }).map((n) => Number(n) / 1e9);
const positive = fc.integer({ min: 1, max: 1_000_000 });

const config: fc.Arbitrary<PolicyConfig> = fc.oneof(
  fc.constant({ kind: 'mcsf' } as const),
  fc.constant({ kind: 'mc-fcfs' } as const),
  fraction.map((alpha) => ({ kind: 'alpha-greedy', alpha }) as const),
  fc.tuple(fraction, fraction).map(([alpha, beta]) => ({ kind: 'alpha-clearing', alpha, beta }) as const),
  fc.tuple(positive, positive).map(([maxTokens, maxBatch]) => ({ kind: 'vllm', maxTokens, maxBatch }) as const),
);

describe('policy configs', () => {
  it('parses the spelling into a typed config, defaults filled in', () => {
    expect(parsePolicySpec(' alpha-clearing:0.1:0.2 ')).toEqual({ kind: 'alpha-clearing', alpha: 0.1, beta: 0.2 });
    expect(parsePolicySpec('alpha-greedy:.25')).toEqual({ kind: 'alpha-greedy', alpha: 0.25 });
    expect(parsePolicySpec('vllm')).toEqual({ kind: 'vllm', maxTokens: 4096, maxBatch: 128 });
    expect(parsePolicySpec('vllm:100')).toEqual({ kind: 'vllm', maxTokens: 100, maxBatch: 128 });
    expect(parsePolicySpec('mcsf')).toEqual({ kind: 'mcsf' });
  });

  it('formatPolicySpec is the inverse of parsePolicySpec (property)', () => {
    fc.assert(
      fc.property(config, (c) => {
        const spec = formatPolicySpec(c);
        expect(parsePolicySpec(spec)).toEqual(c);
        expect(formatPolicySpec(parsePolicySpec(spec))).toBe(spec);
      }),
      { numRuns: 2000 },
    );
  });

  it('the paper line-up is spelled canonically; trailing defaults are left out', () => {
    for (const p of PAPER_POLICIES) expect(formatPolicySpec(parsePolicySpec(p))).toBe(p);
    expect(formatPolicySpec({ kind: 'vllm', maxTokens: 4096, maxBatch: 128 })).toBe('vllm');
    expect(formatPolicySpec({ kind: 'vllm', maxTokens: 100, maxBatch: 128 })).toBe('vllm:100');
    expect(formatPolicySpec({ kind: 'vllm', maxTokens: 4096, maxBatch: 2 })).toBe('vllm:4096:2');
    expect(formatPolicySpec({ kind: 'alpha-greedy', alpha: 1e-7 })).toBe('alpha-greedy:0.0000001');
  });

  it('formatPolicySpec refuses configs the parser would refuse, with its messages', () => {
    expect(() => formatPolicySpec({ kind: 'alpha-greedy', alpha: 1 })).toThrow('alpha-greedy: α must be < 1, got 1');
    expect(() => formatPolicySpec({ kind: 'alpha-greedy', alpha: -0.1 })).toThrow(
      /alpha-greedy: α "-0.1" is not a decimal number/,
    );
    expect(() => formatPolicySpec({ kind: 'vllm', maxTokens: 0, maxBatch: 1 })).toThrow(
      'vllm: maxTokens "0" is not a positive integer',
    );
  });

  it('usage lines and validation messages come from the parameter declarations', () => {
    expect(POLICIES.map((p) => p.usage)).toEqual([
      'mcsf',
      'mc-fcfs',
      'alpha-greedy:α',
      'alpha-clearing:α:β',
      'vllm[:maxTokens[:maxBatch]]',
      'sarathi[:chunk[:maxBatch]]',
      'mcsf-budget[:chunk]',
      'orca[:maxBatch[:maxTokens]]',
    ]);
    expect(() => parsePolicySpec('sarathi:1:2:3')).toThrow(
      'sarathi takes at most chunk and maxBatch, got "sarathi:1:2:3"',
    );
    expect(() => parsePolicySpec('mcsf:1')).toThrow('mcsf takes no parameters, got "1"');
    expect(() => parsePolicySpec('alpha-greedy')).toThrow(
      'alpha-greedy needs one parameter α, e.g. alpha-greedy:0.1 (got "alpha-greedy")',
    );
    expect(() => parsePolicySpec('alpha-clearing:0.1')).toThrow(
      'alpha-clearing needs α and β, e.g. alpha-clearing:0.1:0.2 (got "alpha-clearing:0.1")',
    );
    expect(() => parsePolicySpec('vllm:1:2:3')).toThrow('vllm takes at most maxTokens and maxBatch, got "vllm:1:2:3"');
    expect(() => parsePolicySpec('vllm:x')).toThrow('vllm: maxTokens "x" is not a positive integer');
    expect(() => parsePolicySpec('vllm:99999999999999999999')).toThrow('exceeds the supported maximum 2^31 − 1');
    expect(() => parsePolicySpec('alpha-clearing:0.1:1.5')).toThrow('alpha-clearing: β must be < 1, got 1.5');
    expect(() => parsePolicySpec('nope')).toThrow(/^unknown policy "nope"; known: mcsf, mc-fcfs, alpha-greedy:α/);
  });

  it('a config builds the same policy as its spelling (label: the spelling as written, or the formatted config)', () => {
    const requests = reqs([
      [0, 8, 6],
      [0, 9, 3],
      [1, 3, 7],
      [2, 12, 2],
      [2, 4, 9],
      [3, 6, 6],
    ]);
    for (const spec of [
      ...PAPER_POLICIES,
      'alpha-clearing:0.30:0.5',
      'vllm:32:2',
      'sarathi:4:2',
      'orca:2:32',
      'mcsf-budget:3',
    ]) {
      const a = simulate(requests, createPolicy(spec), { memory: 40, mode: 'rounds' });
      const b = simulate(requests, createPolicy(parsePolicySpec(spec)), { memory: 40, mode: 'rounds' });
      expect(a.policy).toBe(spec);
      expect(b.policy).toBe(formatPolicySpec(parsePolicySpec(spec)));
      expect({ ...b, policy: spec }).toEqual(a);
    }
  });
});
