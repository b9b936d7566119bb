/** Node side of the shader loader: reads shaders/<name>.wgsl from the repository. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  checkShaderSet,
  ENGINE_SHADER_FILES,
  joinWgsl,
  SHADER_NAMES,
  type ShaderLoader,
  type ShaderSet,
  type WgslSource,
} from './shaders.ts';

/** The repository's shaders/ directory (this file is src/gpu/shaders-node.ts). */
export const SHADER_DIR = fileURLToPath(new URL('../../shaders/', import.meta.url));

export function nodeShaderLoader(dir = SHADER_DIR): ShaderLoader {
  return {
    async load(): Promise<ShaderSet> {
      const entries = await Promise.all(
        SHADER_NAMES.map(async (n) => [n, await readFile(`${dir}/${n}.wgsl`, 'utf8')] as const),
      );
      return checkShaderSet(Object.fromEntries(entries));
    },
  };
}

export function loadNodeShaders(dir = SHADER_DIR): Promise<ShaderSet> {
  return nodeShaderLoader(dir).load();
}

/** The GPU engine's kernel (layout + scheduler), read from disk. */
export async function loadEngineShader(dir = SHADER_DIR): Promise<WgslSource> {
  return joinWgsl(
    await Promise.all(ENGINE_SHADER_FILES.map(async (n) => [n, await readFile(`${dir}/${n}.wgsl`, 'utf8')] as const)),
  );
}
