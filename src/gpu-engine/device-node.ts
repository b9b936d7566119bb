/**
 * WebGPU in Node for the GPU engine: npm `webgpu` (Dawn). The object returned by
 * `create()` is kept in module scope for the process's life (Dawn crashes if it is
 * garbage-collected while a device is alive: shared/docs/webgpu-here.md). SwiftShader is
 * found through VK_ICD_FILENAMES, set here to Chromium's ICD when unset and present.
 */
import { existsSync } from 'node:fs';
import { acquireDevice, type EngineDevice } from './device.ts';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
let keptGpu: GPU | undefined;

export async function nodeGpu(): Promise<GPU> {
  if (keptGpu) return keptGpu;
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  const m = (await import('webgpu')) as unknown as { create(flags: string[]): GPU; globals: object };
  for (const [k, v] of Object.entries(m.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  keptGpu = m.create([]);
  return keptGpu;
}

export async function acquireNodeDevice(): Promise<EngineDevice> {
  return acquireDevice(await nodeGpu());
}
