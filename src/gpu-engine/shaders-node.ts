/** Node side of the GPU engine's shader loader: reads shaders/engine/scheduler.wgsl from disk. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const ENGINE_SHADER_PATH = fileURLToPath(new URL('../../shaders/engine/scheduler.wgsl', import.meta.url));

export function loadEngineShader(path = ENGINE_SHADER_PATH): Promise<string> {
  return readFile(path, 'utf8');
}
