/**
 * Generated kernel sources are in sync with their generators (scripts/gen-matmul-wgsl.ts,
 * scripts/gen-engine-layout.ts), and the GPU engine's kernel names its layout and enums
 * instead of spelling numbers.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateEngineLayoutWgsl } from '../../scripts/gen-engine-layout.ts';
import { generateMatmulWgsl } from '../../scripts/gen-matmul-wgsl.ts';
import { PARAMS, REQ_STATE, STATE, WGSL_ENUMS, WGSL_RECORDS, upperSnake } from '../../src/gpu-engine/layout.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (p: string): string => readFileSync(resolve(ROOT, p), 'utf8');

describe('generated WGSL', () => {
  it('shaders/matmul.wgsl is what scripts/gen-matmul-wgsl.ts writes', () => {
    expect(read('shaders/matmul.wgsl')).toBe(generateMatmulWgsl());
  });

  it('shaders/engine/layout.wgsl is what scripts/gen-engine-layout.ts writes', () => {
    expect(read('shaders/engine/layout.wgsl')).toBe(generateEngineLayoutWgsl());
  });
});

describe('GPU engine layout (src/gpu-engine/layout.ts)', () => {
  const scheduler = read('shaders/engine/scheduler.wgsl');

  it('scheduler.wgsl declares none of the generated constants itself', () => {
    expect(scheduler).not.toMatch(/\bconst\s+(?:[PSRQKX]|KIND|STATUS|PHASE|SEC)_\w+\s*:/);
    expect(scheduler).not.toMatch(/\bstruct\s+Cfg\s*\{/);
    expect(scheduler).not.toMatch(/\bconst\s+NONE\b/);
  });

  it('scheduler.wgsl compares kinds, phases and statuses with named constants, never bare numbers', () => {
    const bare = [
      /\bkind\s*(?:==|!=|<=|>=|<|>)\s*\d+u?\b/,
      /R_PHASE\)\s*(?:==|!=)\s*\d/,
      /R_PHASE,\s*\d/,
      /S_STATUS\]\s*(?:=|==|!=)\s*\d/,
      /\bx[sgi]\(\d/,
      /\bknots\[\d/,
    ];
    for (const re of bare) expect(scheduler, String(re)).not.toMatch(re);
  });

  it('every generated status, phase and scratch constant is used by scheduler.wgsl', () => {
    // Policy kinds are exempt: α-greedy and α-clearing share the kernel's continuous path
    // (their limits are parameters), so only some kinds are named in WGSL.
    for (const e of WGSL_ENUMS.filter((x) => x.prefix !== 'KIND')) {
      for (const n of e.names)
        expect(scheduler, `${e.prefix}_${upperSnake(n)}`).toMatch(new RegExp(`\\b${e.prefix}_${upperSnake(n)}\\b`));
    }
  });

  it('records fit their strides and views round-trip every field by name', () => {
    for (const r of WGSL_RECORDS) {
      const words = r.alloc(3);
      const v = r.view(words) as unknown as Record<string, number> & { at(i: number): unknown };
      v.at(2);
      r.fields.forEach((f, i) => {
        const value = f.type === 'u64' ? 2 ** 40 + i : 1000 + i;
        v[f.name] = value;
        expect(v[f.name]).toBe(value);
      });
      expect(words.subarray(0, 2 * r.stride).every((w) => w === 0)).toBe(true);
    }
    // u64 halves, and out-of-range values are refused instead of wrapping.
    const s = STATE.view(STATE.alloc(1));
    s.now = 2 ** 32 + 7;
    expect([s.nowLo, s.nowHi]).toEqual([7, 1]);
    expect(() => (PARAMS.view(PARAMS.alloc(1)).m = 2 ** 32)).toThrow(/does not fit u32/);
    expect(() => (REQ_STATE.view(REQ_STATE.alloc(1)).start = -1)).toThrow(/u64/);
  });
});
