/**
 * A seeded few hundred fuzzed CLI invocations (test/fuzz/cli.ts): every one ends as a
 * clean error (exit 2, one line), a success (0) or a stuck policy (1, reason printed).
 * `npm run fuzz` runs 10,000 (bench/fuzz.ts).
 */
import { describe, expect, it } from 'vitest';
import { ALLOWED, classify, fuzzCli } from '../fuzz/cli.ts';

describe('CLI fuzzing', () => {
  it('the classifier knows the contract', () => {
    expect(classify(2, 'kvsched simulate: --rate: must be > 0\n(see: kvsched simulate --help)\n', '', undefined)).toBe(
      'clean-error',
    );
    expect(classify(2, 'kvsched simulate: t.csv:2: arrived_at: bad\n', '', undefined)).toBe('clean-error');
    expect(classify(2, 'Error: x\n    at main (main.ts:1:1)\n', '', undefined)).toBe('unclean-error');
    expect(classify(2, 'kvsched simulate: \u001b[31mred\n', '', undefined)).toBe('unclean-error');
    expect(classify(2, `kvsched simulate: ${'x'.repeat(600)}\n`, '', undefined)).toBe('unclean-error');
    expect(classify(1, 'policy vllm is stuck at time 3\n', '', undefined)).toBe('stuck');
    expect(classify(1, '', '', undefined)).toBe('bad-exit');
    expect(classify(null, '', '', new TypeError('boom'))).toBe('crash');
    expect(classify(0, '', 'table', undefined)).toBe('success');
  });

  it('300 seeded cases: only clean errors, successes and stuck policies', async () => {
    const s = await fuzzCli(17, 300);
    console.log(`CLI fuzz: ${JSON.stringify(s.counts)}`);
    expect(s.counts.success).toBeGreaterThan(20); // the generator gets past validation often enough
    const findings = s.findings.map((f) => `${f.outcome}: ${f.argv.join(' ')} → ${f.detail.split('\n')[0]}`);
    expect(findings).toEqual([]);
    expect(
      Object.keys(s.counts).filter((k) => !ALLOWED.includes(k as never) && s.counts[k as keyof typeof s.counts] > 0),
    ).toEqual([]);
  }, 120_000);
});
