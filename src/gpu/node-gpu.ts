/**
 * WebGPU in Node through the npm `webgpu` package (Dawn).
 *
 * - SwiftShader: Dawn finds Chromium's SwiftShader Vulkan driver only through the env
 *   var VK_ICD_FILENAMES. `ensureSwiftShaderIcd()` sets it in-process to
 *   /usr/lib/chromium/vk_swiftshader_icd.json when it is unset and that file exists; it
 *   must run before the first `create()` (the Vulkan loader reads it then). A user who
 *   sets VK_ICD_FILENAMES (e.g. to a real GPU's ICD) keeps their choice.
 * - Dawn crashes if the object returned by `create()` is garbage-collected while a
 *   device is alive (docs/webgpu.md): every instance is kept in a
 *   module-scope array for the life of the process.
 * - Dawn's `null` backend is never accepted (it computes nothing).
 */
import { existsSync } from 'node:fs';
import { adapterIdentity, adapterName, isNullBackendInfo } from './detect.ts';
import { openSession, type GpuSession, type SessionOptions } from './session.ts';

export { adapterName };

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Set VK_ICD_FILENAMES to Chromium's SwiftShader ICD when unset and present. Returns the value in effect. */
export function ensureSwiftShaderIcd(): string | undefined {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return process.env.VK_ICD_FILENAMES;
}

/** Kept alive for the process's life (see the header). */
const INSTANCES: GPU[] = [];
let webgpuModule: { create(flags: string[]): GPU; globals: object } | undefined;

async function loadWebgpu(): Promise<{ create(flags: string[]): GPU; globals: object }> {
  if (!webgpuModule) {
    ensureSwiftShaderIcd();
    webgpuModule = (await import('webgpu')) as unknown as { create(flags: string[]): GPU; globals: object };
    // GPUBufferUsage, GPUMapMode, … as globals, as in a browser.
    for (const [k, v] of Object.entries(webgpuModule.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
  }
  return webgpuModule;
}

/** A Dawn GPU object for the given flags (e.g. [] or ['backend=opengl']), cached and kept alive. */
const byFlags = new Map<string, GPU>();
export async function nodeGpu(flags: string[] = []): Promise<GPU> {
  const key = flags.join(' ');
  let g = byFlags.get(key);
  if (!g) {
    const m = await loadWebgpu();
    g = m.create(flags);
    INSTANCES.push(g);
    byFlags.set(key, g);
  }
  return g;
}

export interface FoundAdapter {
  /** `vendor / architecture / description`, for display and --adapter matching. */
  readonly name: string;
  readonly info: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallbackAdapter: boolean;
  };
  /** How it was found. */
  readonly via: string;
  readonly adapter: GPUAdapter;
}

const PROBES: Array<{ via: string; flags: string[]; options: GPURequestAdapterOptions }> = [
  { via: 'default', flags: [], options: {} },
  { via: 'high-performance', flags: [], options: { powerPreference: 'high-performance' } },
  { via: 'low-power', flags: [], options: { powerPreference: 'low-power' } },
  { via: 'fallback', flags: [], options: { forceFallbackAdapter: true } },
];

/**
 * Every distinct (non-null-backend) adapter Dawn offers through the usual request options;
 * with `firstOnly`, stop at the first one found (probing all takes a while).
 */
export async function listNodeAdapters(firstOnly = false): Promise<{ adapters: FoundAdapter[]; problems: string[] }> {
  const adapters: FoundAdapter[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const p of PROBES) {
    try {
      const gpu = await nodeGpu(p.flags);
      const a = await gpu.requestAdapter(p.options);
      if (!a) {
        problems.push(`${p.via}: requestAdapter() returned null`);
        continue;
      }
      const info = adapterIdentity(a);
      if (isNullBackendInfo(info)) {
        problems.push(`${p.via}: rejected Dawn's null backend`);
        continue;
      }
      const name = adapterName(info);
      const key = `${name}|${info.device}|${info.isFallbackAdapter}`;
      if (seen.has(key)) continue;
      seen.add(key);
      adapters.push({ name, info, via: p.via, adapter: a });
      if (firstOnly) break;
    } catch (e) {
      problems.push(`${p.via}: ${(e as Error).message}`);
    }
  }
  return { adapters, problems };
}

/** The adapter whose name contains `name` (case-insensitive), or the first one. */
export async function pickNodeAdapter(name?: string): Promise<FoundAdapter> {
  const { adapters, problems } = await listNodeAdapters(name === undefined);
  if (adapters.length === 0) {
    throw new Error(
      `no WebGPU adapter in Node (${problems.join('; ') || 'none found'}); VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? '(unset)'}` +
        ` — without a GPU install chromium and libvulkan1 for SwiftShader (${SWIFTSHADER_ICD})`,
    );
  }
  if (name === undefined) return adapters[0] as FoundAdapter;
  const hit = adapters.find((a) => a.name.toLowerCase().includes(name.toLowerCase()) || a.via === name);
  if (!hit) throw new Error(`no adapter matches "${name}"; found: ${adapters.map((a) => a.name).join(', ')}`);
  return hit;
}

/** A GPU session in Node on the adapter `pickNodeAdapter(name)` picks (the first found by default). */
export async function openNodeSession(name?: string, opts: SessionOptions = {}): Promise<GpuSession> {
  return openSession((await pickNodeAdapter(name)).adapter, opts);
}
