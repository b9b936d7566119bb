/**
 * The WGSL kernels of the calibration (shaders/*.wgsl), by name. The same files are
 * loaded two ways: in the browser through Vite `?raw` imports (./shaders-browser.ts),
 * in Node by reading them from disk (./shaders-node.ts). Everything else takes a
 * `ShaderSet` and never knows which.
 */

/** One concern per file: shaders/<name>.wgsl. */
export const SHADER_NAMES = [
  'attn-decode',
  'attn-prefill',
  'matmul',
  'matmul-gpu',
  'probe-stream',
  'probe-fma',
] as const;
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

/**
 * The GPU engine's kernel: shaders/engine/layout.wgsl (generated from
 * src/gpu-engine/layout.ts) followed by shaders/engine/scheduler.wgsl. WGSL has no
 * includes, so the loaders concatenate them; `parts` maps compiler line numbers back.
 */
export const ENGINE_SHADER_FILES = ['engine/layout', 'engine/scheduler'] as const;

export interface WgslSource {
  readonly code: string;
  /** Each part's file and its first line in `code` (1-based). */
  readonly parts: readonly { readonly file: string; readonly firstLine: number }[];
}

/** Concatenate named WGSL files (name → text, in order) into one module source. */
export function joinWgsl(files: readonly (readonly [string, string])[]): WgslSource {
  const parts: { file: string; firstLine: number }[] = [];
  let code = '';
  let line = 1;
  for (const [name, text] of files) {
    if (text.trim() === '') throw new Error(`shader ${name}.wgsl is missing or empty`);
    const t = text.endsWith('\n') ? text : `${text}\n`;
    parts.push({ file: `${name}.wgsl`, firstLine: line });
    code += t;
    line += t.split('\n').length - 1;
  }
  return { code, parts };
}

/** `engine/scheduler.wgsl:12` for a line of a joined source. */
export function wgslLocation(src: WgslSource, line: number): string {
  let hit = src.parts[0];
  for (const p of src.parts) if (p.firstLine <= line) hit = p;
  return hit ? `${hit.file}:${line - hit.firstLine + 1}` : `line ${line}`;
}
