/**
 * Integer ranges (src/model/limits.ts): every entry point refuses a value outside the
 * supported range with a message naming the value and the limit, and the engines never
 * return a number that overflowed.
 */
import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/calibrate/profile.ts';
import { simulate } from '../../src/engine/engine.ts';
import { LIMITS, MAX_FILE_BYTES, bytesText, checkRequest, fileTooLarge } from '../../src/model/limits.ts';
import type { CostModel, RequestSpec } from '../../src/model/types.ts';
import { createPolicy } from '../../src/policies/registry.ts';
import { makeBundle, parseBundle } from '../../src/storage/bundle.ts';
import { lmsys, lmsysStream, paperSynthetic } from '../../src/workload/generators.ts';
import { parseTrace, validateInstance } from '../../src/workload/trace.ts';
import { prepare } from '../../src/theory/problem.ts';
import { sampleProfile } from './helpers/profile.ts';

const req = (id: number, arrival: number, prompt = 1, output = 1): RequestSpec => ({
  id,
  arrival,
  prompt,
  output,
  predicted: output,
});

describe('trace parser', () => {
  it('refuses a rounds-mode arrival past 2^50 rounds (it reported latency 11 before)', () => {
    const text = 'arrived_at,num_prefill_tokens,num_decode_tokens\n9007199254740981,1,100\n';
    expect(() => parseTrace(text, { fileName: 't.csv', mode: 'rounds', memory: 1000 })).toThrow(
      't.csv:2: arrived_at: 9007199254740981 exceeds the supported maximum 2^50 rounds',
    );
  });

  it('refuses seconds-mode times past 2^50 µs, naming the seconds and the µs', () => {
    const text = 'arrived_at,num_prefill_tokens,num_decode_tokens\n1e10,1,1\n';
    expect(() => parseTrace(text, { fileName: 't.csv', mode: 'seconds' })).toThrow(
      't.csv:2: arrived_at: 1e10 s = 10000000000000000 µs exceeds the supported maximum 2^50 µs',
    );
    const ok = 'arrived_at,num_prefill_tokens,num_decode_tokens\n1000000000,1,1\n';
    expect(parseTrace(ok, { fileName: 't.csv', mode: 'seconds' }).requests[0]?.arrival).toBe(1e15);
  });
});

describe('generators', () => {
  it('name the rate when it pushes arrivals out of range (not "request 0")', () => {
    expect(() => lmsys({ seed: 1, rate: 1e-300, mode: 'seconds', requests: 3 })).toThrow(
      /^lmsys: rate: λ = 1e-300 puts request 0's arrival at .* µs, beyond the supported maximum 2\^50 µs; use a larger rate$/,
    );
    expect(() => paperSynthetic({ seed: 1, arrivals: 'poisson', mode: 'rounds', requests: 3 })).not.toThrow();
  });

  it('refuse more requests than an instance supports, before building any', () => {
    const max = LIMITS.requests.max;
    expect(() => paperSynthetic({ seed: 1, arrivals: 'zero', mode: 'rounds', requests: 100_000_000 })).toThrow(
      `paper-synthetic: requests: must be an integer in [1, ${max.toLocaleString('en-US')}], got 100000000`,
    );
    expect(() => lmsysStream({ seed: 1, rate: 1, mode: 'rounds', requests: max + 1 })).toThrow(
      /requests: must be an integer in \[0, 10,000,000\]/,
    );
  });
});

describe('profile import', () => {
  it('refuses coefficients beyond the supported maximum, naming the field and the limit', () => {
    const p = sampleProfile();
    const big = { ...p, costModel: { ...p.costModel, perTokenPs: 2e15 } };
    expect(() => parseProfile(JSON.stringify(big), 'p.json')).toThrow(
      'p.json: costModel.perTokenPs: exceeds the supported maximum 1e15 ps (1000 s per unit)',
    );
    const b = parseBundle(
      JSON.stringify(makeBundle([{ id: 'p', kind: 'profile', createdAt: 1, title: 't', data: big }])),
    );
    expect(!b.ok && b.error).toMatch(/data\.costModel\.perTokenPs: exceeds the supported maximum 1e15 ps/);
  });
});

describe('one request validator', () => {
  it('the CPU engine, the theory code and instances share its messages', () => {
    const big = req(0, LIMITS.time.max + 1);
    expect(() => checkRequest(big, 10)).toThrow(
      `request 0: arrival ${LIMITS.time.max + 1} exceeds the supported maximum 2^50`,
    );
    const pol = () => createPolicy('mcsf');
    expect(() => simulate([big], pol(), { memory: 10, mode: 'rounds' })).toThrow(
      /request 0: arrival .* exceeds the supported maximum 2\^50/,
    );
    expect(() => prepare({ memory: 10, requests: [big] })).toThrow(
      /request 0: arrival .* exceeds the supported maximum 2\^50/,
    );
    expect(() => validateInstance([big], 10, 'gen')).toThrow(
      /gen: arrival: request 0: .* exceeds the supported maximum 2\^50/,
    );
    expect(() => simulate([req(0, 0, 0)], pol(), { memory: 10, mode: 'rounds' })).toThrow(
      'request 0: prompt must be ≥ 1, got 0',
    );
    expect(() => simulate([req(1, 5), req(0, 5)], pol(), { memory: 10, mode: 'rounds' })).toThrow(
      /must come in arrival order/,
    );
  });
});

describe('engine arithmetic', () => {
  it('a time past 2^53 is an error, never a rounded latency', () => {
    const huge: CostModel = { name: 'slow', roundMicros: () => 2 ** 52 };
    expect(() =>
      simulate([req(0, 0, 1, 3)], createPolicy('mcsf'), { memory: 10, mode: 'seconds', costModel: huge }),
    ).toThrow(/round 1: time .* is beyond 2\^53 and cannot be represented exactly/);
  });

  it('a prompt whose Σ s² leaves the exact range names the request, not BatchStats', () => {
    const cost: CostModel = { name: 'c', roundMicros: () => 1 };
    const p = 100_000_000;
    expect(() =>
      simulate([req(7, 0, p, 1)], createPolicy('mcsf'), { memory: 2 * p, mode: 'seconds', costModel: cost }),
    ).toThrow(/^round 0: request 7's prefill of 100000000 tokens makes the batch's Σ s² exceed 2\^53/);
  });
});

describe('GPU engine', () => {
  it('refuses an instance beyond its 32-bit sums before building a single request', async () => {
    const { runPoliciesOnEngine } = await import('../../src/gpu-engine/run-cells.ts');
    const { a100Llama2_70bTp2 } = await import('../../src/cost/a100.ts');
    let built = 0;
    const instance = {
      memory: 16492,
      mode: 'seconds' as const,
      size: 10_000_000,
      description: 'lmsys stand-in, 10000000 requests',
      *requests(): Generator<RequestSpec> {
        built++;
        yield req(0, 0);
      },
    };
    const engine = {} as Parameters<typeof runPoliciesOnEngine>[0];
    await expect(async () =>
      runPoliciesOnEngine(engine, instance, ['mcsf'], { costModel: a100Llama2_70bTp2 }),
    ).rejects.toThrow(
      'GPU engine: lmsys stand-in, 10000000 requests: n·(M+1) = 10000000·16493 ≥ 2^30 exceeds the GPU engine',
    );
    expect(built).toBe(0);
  });
});

describe('bounded memory', () => {
  it('a large paper-synthetic instance is streamed, the same requests as the array', async () => {
    const { paperSyntheticStream } = await import('../../src/workload/generators.ts');
    const { buildInstance } = await import('../../src/experiment/instance.ts');
    const opts = { seed: 3, arrivals: 'poisson' as const, mode: 'rounds' as const, requests: 500 };
    expect([...paperSyntheticStream(opts).requests()]).toEqual(paperSynthetic(opts).requests);
    // 10⁷ requests: nothing is built until the engine pulls (it took 35 s and 1.3 GB before).
    const inst = buildInstance({
      workload: { kind: 'paper-synthetic', arrivals: 'poisson', requests: 10_000_000 },
      mode: 'rounds',
      seed: 1,
      predict: { kind: 'exact' },
    });
    expect(inst.size).toBe(10_000_000);
    const first = inst.requests()[Symbol.iterator]().next();
    expect(first.done).toBe(false);
    const small = buildInstance({
      workload: { kind: 'paper-synthetic', arrivals: 'poisson', requests: 300_000 },
      mode: 'rounds',
      seed: 1,
      predict: { kind: 'exact' },
    });
    expect([...small.requests()].slice(0, 3)).toEqual(
      paperSynthetic({ seed: 1, arrivals: 'poisson', mode: 'rounds', requests: 300_000 }).requests.slice(0, 3),
    );
  });
});

describe('policy parameters', () => {
  it('vllm token counts beyond 2^31 − 1 are refused, not taken as 1e20', async () => {
    const { createPolicy: create } = await import('../../src/policies/registry.ts');
    expect(() => create('vllm:99999999999999999999')).toThrow(
      'vllm: maxTokens 99999999999999999999 exceeds the supported maximum 2^31 − 1',
    );
    expect(() => create('vllm:4096:2147483648')).toThrow(/maxBatch 2147483648 exceeds/);
    expect(() => create('vllm:2147483647')).not.toThrow();
  });
});

describe('echoed file text', () => {
  it('a trace header with terminal escapes is shown escaped and capped', () => {
    const text = '\u001b[31marrived_at\u001b[0m,x,' + 'y'.repeat(200) + '\n1,1,1\n';
    let msg = '';
    try {
      parseTrace(text, { fileName: 't.csv', mode: 'rounds' });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('found \\u001b[31marrived_at\\u001b[0m,x,yyy');
    expect(msg).not.toContain('\u001b');
    expect(msg).toMatch(/…\)$/);
    expect(msg.length).toBeLessThan(300);
  });
});

describe('long cells', () => {
  it('a 3,000-character cell is echoed capped', () => {
    const text = `arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,${'x'.repeat(3000)}\n`;
    expect(() => parseTrace(text, { fileName: 't.csv', mode: 'rounds' })).toThrow(
      /^t\.csv:2: num_decode_tokens: "x{79}… is not an integer$/,
    );
  });
});

describe('policy names', () => {
  it('an unknown policy is echoed without its terminal escapes', async () => {
    const { createPolicy: create } = await import('../../src/policies/registry.ts');
    expect(() => create('\u001b[2Jmcsf')).toThrow('unknown policy "\\u001b[2Jmcsf"');
  });
});

describe('file size caps', () => {
  it('refuse a trace larger than the cap before it is read, naming both sizes', () => {
    expect(fileTooLarge('trace', MAX_FILE_BYTES.trace, 't.csv')).toBeNull();
    expect(fileTooLarge('trace', MAX_FILE_BYTES.trace + 1, 't.csv')).toBe(
      `t.csv is ${bytesText(MAX_FILE_BYTES.trace + 1)}, more than the 256 MiB a trace file may be`,
    );
  });
});
