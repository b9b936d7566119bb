/**
 * Generated kernel sources are in sync with their generators (see scripts/gen-matmul-wgsl.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateMatmulWgsl } from '../../scripts/gen-matmul-wgsl.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('generated WGSL', () => {
  it('shaders/matmul.wgsl is what scripts/gen-matmul-wgsl.ts writes', () => {
    expect(readFileSync(resolve(ROOT, 'shaders/matmul.wgsl'), 'utf8')).toBe(generateMatmulWgsl());
  });
});
