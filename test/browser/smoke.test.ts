/**
 * Browser smoke test: runs in headless Chromium (Vitest browser mode, see
 * vitest.config.ts). Proves that WebGPU gives a real adapter (SwiftShader on a
 * GPU-less machine), that a compute kernel runs and reads back, and that
 * IndexedDB works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWebGpu, detectWebGpu, type WebGpuDetection } from '../../src/gpu/detect.ts';
import doubleWgsl from '../../shaders/smoke-double.wgsl?raw';

describe('WebGPU in the browser', () => {
  let detection: WebGpuDetection;

  beforeAll(async () => {
    detection = await detectWebGpu(navigator.gpu);
    console.log(describeWebGpu(detection));
    if (detection.available) {
      const l = detection.limits;
      console.log(
        JSON.stringify({
          adapter: detection.adapter,
          features: detection.features,
          limits: {
            maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
            maxBufferSize: l.maxBufferSize,
            maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
            maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
            maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
            maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
            maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
          },
        }),
      );
    }
  });

  it('finds a WebGPU adapter', () => {
    if (!detection.available) expect.fail(detection.reason);
    expect(detection.available).toBe(true);
    // A usable adapter has the core limits a compute kernel needs.
    expect(detection.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(detection.limits.maxComputeWorkgroupSizeX).toBeGreaterThanOrEqual(64);
    expect(typeof detection.adapter.isFallbackAdapter).toBe('boolean');
  });

  describe('compute', () => {
    let device: GPUDevice | undefined;

    afterAll(() => {
      device?.destroy();
    });

    it('doubles 64 numbers in a WGSL kernel and reads them back', async () => {
      const adapter = await navigator.gpu.requestAdapter();
      if (!adapter) return expect.fail('requestAdapter() returned null');
      device = await adapter.requestDevice();
      const dev = device;
      dev.pushErrorScope('validation');

      const n = 64;
      // Non-zero, non-trivial inputs: a backend that computes nothing reads back zeros.
      const input = Float32Array.from({ length: n }, (_, i) => i * 1.5 - 7.25);
      const bytes = input.byteLength;

      const inBuf = dev.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      const outBuf = dev.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
      const readBuf = dev.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      dev.queue.writeBuffer(inBuf, 0, input);

      const module = dev.createShaderModule({ code: doubleWgsl });
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error');
      expect(errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`)).toEqual([]);

      const pipeline = dev.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      const bindGroup = dev.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: inBuf } },
          { binding: 1, resource: { buffer: outBuf } },
        ],
      });

      const enc = dev.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(Math.ceil(n / 64));
      pass.end();
      enc.copyBufferToBuffer(outBuf, 0, readBuf, 0, bytes);
      dev.queue.submit([enc.finish()]);

      await readBuf.mapAsync(GPUMapMode.READ);
      const got = new Float32Array(readBuf.getMappedRange().slice(0));
      readBuf.unmap();

      const validation = await dev.popErrorScope();
      expect(validation?.message ?? null).toBeNull();
      expect(Array.from(got)).toEqual(Array.from(input, (x) => 2 * x));

      inBuf.destroy();
      outBuf.destroy();
      readBuf.destroy();
    });
  });
});

describe('the test page', () => {
  it('is cross-origin isolated, so performance.now() is precise', () => {
    expect(globalThis.crossOriginIsolated).toBe(true);
  });
});

describe('IndexedDB in the browser', () => {
  function req<T>(r: IDBRequest<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
    });
  }

  it('opens a database, writes a record and reads it back', async () => {
    const name = `kvsched-smoke-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore('runs', { keyPath: 'id' });
    };
    const db = await req(open);
    try {
      const record = { id: 'run-1', latencies: [1, 2, 3], note: 'smoke' };
      const tx = db.transaction('runs', 'readwrite');
      const committed = new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error ?? new Error('transaction failed'));
        tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
      });
      await req(tx.objectStore('runs').put(record));
      await committed;

      const got: unknown = await req(db.transaction('runs', 'readonly').objectStore('runs').get('run-1'));
      expect(got).toEqual(record);
    } finally {
      db.close();
      await req(indexedDB.deleteDatabase(name));
    }
  });
});
