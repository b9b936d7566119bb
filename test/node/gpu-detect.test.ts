/** detectWebGpu's decision logic, against fake GPU objects (no WebGPU needed in Node). */
import { describe, expect, it } from 'vitest';
import {
  adapterName,
  describeWebGpu,
  detectWebGpu,
  isNullBackendInfo,
  NO_NAVIGATOR_GPU_REASON,
  NULL_ADAPTER_REASON,
} from '../../src/gpu/detect.ts';
import { GpuError, requestSession } from '../../src/gpu/session.ts';

interface FakeAdapterSpec {
  info?: Partial<GPUAdapterInfo>;
  features?: string[];
  limits?: Record<string, number>;
}

/** Limits as WebIDL exposes them: getters on a prototype, invisible to Object.keys. */
function fakeLimits(values: Record<string, number>): GPUSupportedLimits {
  const proto = {};
  for (const [k, v] of Object.entries(values)) {
    Object.defineProperty(proto, k, { get: () => v, enumerable: true, configurable: true });
  }
  return Object.create(proto) as GPUSupportedLimits;
}

function fakeGpu(adapter: FakeAdapterSpec | null | (() => Promise<never>)): GPU {
  return {
    requestAdapter: (): Promise<GPUAdapter | null> => {
      if (typeof adapter === 'function') return adapter();
      if (adapter === null) return Promise.resolve(null);
      return Promise.resolve({
        info: { vendor: '', architecture: '', device: '', description: '', isFallbackAdapter: false, ...adapter.info },
        features: new Set(adapter.features ?? []),
        limits: fakeLimits(adapter.limits ?? {}),
        requestDevice: () => Promise.reject(new Error('fake')),
      } as unknown as GPUAdapter);
    },
    getPreferredCanvasFormat: () => 'bgra8unorm',
    wgslLanguageFeatures: new Set(),
  } as unknown as GPU;
}

describe('detectWebGpu', () => {
  it('reports a missing navigator.gpu', async () => {
    // Node 20 has no navigator.gpu.
    const d = await detectWebGpu(undefined);
    if (typeof (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu === 'undefined') {
      expect(d).toEqual({ available: false, reason: NO_NAVIGATOR_GPU_REASON });
    }
  });

  it('reports requestAdapter() returning null', async () => {
    const d = await detectWebGpu(fakeGpu(null));
    expect(d.available).toBe(false);
    if (!d.available) expect(d.reason.startsWith(NULL_ADAPTER_REASON)).toBe(true);
  });

  it('reports requestAdapter() throwing', async () => {
    const d = await detectWebGpu(fakeGpu(() => Promise.reject(new TypeError('boom'))));
    expect(d).toEqual({ available: false, reason: 'requestAdapter() failed: TypeError: boom' });
  });

  it('times out a requestAdapter() that never settles', async () => {
    const d = await detectWebGpu(
      fakeGpu(() => new Promise<never>(() => {})),
      { timeoutMs: 20 },
    );
    expect(d.available).toBe(false);
    if (!d.available) expect(d.reason).toMatch(/did not settle within 20 ms/);
  });

  it("rejects Dawn's null backend", async () => {
    const d = await detectWebGpu(fakeGpu({ info: { description: 'Null backend' } }));
    expect(d.available).toBe(false);
    if (!d.available) expect(d.reason).toMatch(/null backend/);
    expect(isNullBackendInfo({ vendor: 'google', architecture: 'swiftshader', device: '', description: '' })).toBe(
      false,
    );
    expect(isNullBackendInfo({ description: 'null' })).toBe(true);
  });

  it('describes a SwiftShader-like adapter', async () => {
    const d = await detectWebGpu(
      fakeGpu({
        info: { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true },
        features: ['timestamp-query', 'core-features-and-limits', 'subgroups'],
        limits: { maxStorageBufferBindingSize: 1 << 30, maxComputeWorkgroupSizeX: 256 },
      }),
    );
    expect(d).toEqual({
      available: true,
      adapter: {
        vendor: 'google',
        architecture: 'swiftshader',
        device: '',
        description: '',
        isFallbackAdapter: true,
        featureLevel: 'core',
      },
      features: ['core-features-and-limits', 'subgroups', 'timestamp-query'],
      limits: { maxStorageBufferBindingSize: 1 << 30, maxComputeWorkgroupSizeX: 256 },
    });
    expect(describeWebGpu(d)).toContain('google / swiftshader');
  });

  it('leaves featureLevel unset when the implementation does not say', async () => {
    const d = await detectWebGpu(fakeGpu({ info: { vendor: 'x' } }));
    expect(d.available).toBe(true);
    if (d.available) expect(d.adapter.featureLevel).toBeUndefined();
  });
});

describe('one adapter name, one null-backend check (detect.ts, used by requestSession)', () => {
  it('names adapters vendor / architecture / description everywhere', () => {
    expect(adapterName({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device' })).toBe(
      'google / swiftshader / SwiftShader Device',
    );
    expect(adapterName({ vendor: '', architecture: '', description: '' })).toBe('(unnamed adapter)');
    expect(
      describeWebGpu({
        available: true,
        adapter: { vendor: '', architecture: '', device: '', description: '', isFallbackAdapter: true },
        features: [],
        limits: {},
      }),
    ).toMatch(/^WebGPU: \(unnamed adapter\) \(/);
  });

  it('requestSession refuses no GPU object, a null adapter and every null-backend spelling', async () => {
    await expect(requestSession(undefined)).rejects.toThrow(GpuError);
    await expect(requestSession(fakeGpu(null))).rejects.toThrow(/requestAdapter\(\) returned null/);
    // The GPU engine's own check used to look at vendor/architecture/description only and
    // let an adapter whose device field says "null" through; there is one check now.
    for (const info of [{ description: 'Dawn Null Backend' }, { device: 'null' }, { vendor: 'null_backend' }]) {
      await expect(requestSession(fakeGpu({ info }))).rejects.toThrow(/null backend/);
    }
    // A real adapter gets as far as requestDevice (the fake refuses it).
    await expect(requestSession(fakeGpu({ info: { vendor: 'acme' } }))).rejects.toThrow('fake');
  });
});
