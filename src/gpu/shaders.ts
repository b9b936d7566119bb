/**
 * The WGSL kernels of the calibration (shaders/*.wgsl), by name. The same files are
 * loaded two ways: in the browser through Vite `?raw` imports (./shaders-browser.ts),
 * in Node by reading them from disk (./shaders-node.ts). Everything else takes a
 * `ShaderSet` and never knows which.
 */

/** One concern per file: shaders/<name>.wgsl. */
export const SHADER_NAMES = ['attn-decode', 'attn-prefill', 'matmul', 'matmul-gpu', 'probe-stream', 'probe-fma'] as const;
export type ShaderName = (typeof SHADER_NAMES)[number];

/** WGSL source text of every kernel. */
export type ShaderSet = Readonly<Record<ShaderName, string>>;

/** Something that can produce the kernels' sources (browser: bundled; Node: from disk). */
export interface ShaderLoader {
  load(): Promise<ShaderSet>;
}

export function checkShaderSet(s: Partial<Record<string, unknown>>): ShaderSet {
  for (const n of SHADER_NAMES) {
    const src = s[n];
    if (typeof src !== 'string' || src.trim() === '') throw new Error(`shader ${n}.wgsl is missing or empty`);
  }
  return s as ShaderSet;
}
