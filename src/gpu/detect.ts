/**
 * WebGPU adapter detection, usable in a browser page and in Node (pass the `GPU`
 * object from e.g. the npm `webgpu` package). It touches nothing but the `GPU`
 * object it is given, or `globalThis.navigator.gpu` when none is given.
 *
 * It never accepts Dawn's `null` backend: that adapter "works" but every buffer
 * reads back as zeros (see docs/webgpu.md, Traps).
 */

export type FeatureLevel = 'core' | 'compatibility';

export interface WebGpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** SwiftShader (CPU) reports `true`; that is fine for tests and CI. */
  isFallbackAdapter: boolean;
  /** Known only when the implementation tells: `core` when it lists `core-features-and-limits`. */
  featureLevel?: FeatureLevel;
}

export type WebGpuUnavailable = { available: false; reason: string };

export type WebGpuAvailable = {
  available: true;
  adapter: WebGpuAdapterSummary;
  /** Adapter features, sorted. */
  features: string[];
  /** Every numeric adapter limit, by name. */
  limits: Record<string, number>;
};

export type WebGpuDetection = WebGpuUnavailable | WebGpuAvailable;

export interface DetectOptions {
  /** Passed to `requestAdapter` (e.g. `{ featureLevel: 'compatibility' }`). */
  requestAdapterOptions?: GPURequestAdapterOptions;
  /** Give up on a `requestAdapter()` that never settles. Default 15 000 ms. */
  timeoutMs?: number;
}

export const NO_NAVIGATOR_GPU_REASON =
  'navigator.gpu is undefined: this browser has no WebGPU (launch Chromium with --enable-unsafe-webgpu)';
export const NULL_ADAPTER_REASON = 'requestAdapter() returned null';

const CORE_FEATURE = 'core-features-and-limits';

/** `navigator.gpu` when this runtime has one, else `undefined`. */
export function navigatorGpu(): GPU | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  return nav?.gpu ?? undefined;
}

/** Whether adapter info describes Dawn's `null` backend (an adapter that computes nothing). */
export function isNullBackendInfo(
  info: Partial<Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description'>>,
): boolean {
  const fields = [info.vendor, info.architecture, info.device, info.description];
  return fields.some(
    (f) => typeof f === 'string' && (/\bnull[\s_-]*backend\b/i.test(f) || f.trim().toLowerCase() === 'null'),
  );
}

/**
 * How adapters are named everywhere (CLI, app, calibration profiles, the GPU engine):
 * `vendor / architecture / description`, empty parts left out.
 */
export function adapterName(info: Partial<Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'description'>>): string {
  return (
    [info.vendor, info.architecture, info.description].filter((s) => s !== undefined && s !== '').join(' / ') ||
    '(unnamed adapter)'
  );
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** An adapter's identity (`adapter.info`; the older spec put isFallbackAdapter on the adapter). */
export function adapterIdentity(adapter: GPUAdapter): Omit<WebGpuAdapterSummary, 'featureLevel'> {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const legacyFallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean(info?.isFallbackAdapter ?? legacyFallback ?? false),
  };
}

export function readLimits(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  // Limits are WebIDL attributes (getters on the prototype): for…in sees them, Object.keys does not.
  for (const key in limits) {
    const value: unknown = (limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}

/**
 * Ask `gpu` (default `navigator.gpu`) for an adapter and describe it.
 * Never throws: every failure becomes `{ available: false, reason }`.
 */
export async function detectWebGpu(gpu?: GPU, options: DetectOptions = {}): Promise<WebGpuDetection> {
  const g = gpu ?? navigatorGpu();
  if (!g) return { available: false, reason: NO_NAVIGATOR_GPU_REASON };
  if (typeof g.requestAdapter !== 'function') {
    return { available: false, reason: 'the GPU object has no requestAdapter() method: not a WebGPU implementation' };
  }

  const timeoutMs = options.timeoutMs ?? 15_000;
  let adapter: GPUAdapter | null;
  try {
    adapter = await withTimeout(g.requestAdapter(options.requestAdapterOptions), timeoutMs, 'requestAdapter()');
  } catch (e) {
    return { available: false, reason: `requestAdapter() failed: ${errorText(e)}` };
  }
  if (!adapter) {
    return {
      available: false,
      reason: `${NULL_ADAPTER_REASON} (no usable GPU or software adapter; on Linux without a GPU, Chromium needs SwiftShader and --enable-unsafe-webgpu)`,
    };
  }

  // `adapter.info` is the current API; very old implementations lack it.
  const identity = adapterIdentity(adapter);
  const { vendor, architecture, device, description } = identity;
  if (isNullBackendInfo({ vendor, architecture, device, description })) {
    return {
      available: false,
      reason: `rejected the adapter "${description || vendor || device}": it is Dawn's null backend, which runs nothing and reads back zeros`,
    };
  }

  const features: string[] = [];
  adapter.features.forEach((f) => features.push(f));
  features.sort();

  const summary: WebGpuAdapterSummary = { ...identity };
  const explicitLevel = (adapter as { featureLevel?: unknown }).featureLevel;
  if (explicitLevel === 'core' || explicitLevel === 'compatibility') summary.featureLevel = explicitLevel;
  else if (features.includes(CORE_FEATURE)) summary.featureLevel = 'core';
  else if (options.requestAdapterOptions?.featureLevel === 'compatibility') summary.featureLevel = 'compatibility';

  return { available: true, adapter: summary, features, limits: readLimits(adapter.limits) };
}

/** A short human-readable account of a detection result (for pages and logs). */
export function describeWebGpu(d: WebGpuDetection): string {
  if (!d.available) return `WebGPU unavailable: ${d.reason}`;
  const a = d.adapter;
  const name = adapterName(a);
  const bits = [
    a.isFallbackAdapter ? 'fallback (software) adapter' : 'hardware adapter',
    a.featureLevel ? `${a.featureLevel} feature level` : undefined,
    `maxStorageBufferBindingSize ${d.limits.maxStorageBufferBindingSize ?? '?'}`,
    `features: ${d.features.length > 0 ? d.features.join(', ') : 'none'}`,
  ].filter((s): s is string => s !== undefined);
  return `WebGPU: ${name} (${bits.join('; ')})`;
}
