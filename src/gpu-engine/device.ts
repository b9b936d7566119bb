/**
 * Device acquisition for the GPU engine, from any `GPU` object (browser: navigator.gpu;
 * Node: see ./device-node.ts). Requests the adapter's own storage-buffer limits so
 * large jobs fit, and never accepts Dawn's null backend (it computes nothing).
 */
export interface EngineDevice {
  readonly device: GPUDevice;
  /** `vendor / architecture / description` of the adapter. */
  readonly adapter: string;
  readonly isFallbackAdapter: boolean;
}

export async function acquireDevice(gpu: GPU | undefined): Promise<EngineDevice> {
  if (gpu === undefined) throw new Error('WebGPU is not available here (no GPU object; in a browser, navigator.gpu is undefined)');
  const adapter = await gpu.requestAdapter();
  if (adapter === null) throw new Error('WebGPU requestAdapter() returned null: no usable adapter');
  const info = adapter.info;
  const name = [info.vendor, info.architecture, info.description].filter((s) => s !== '').join(' / ') || 'unknown adapter';
  if (/\bnull[\s_-]*backend\b/i.test(name)) throw new Error(`refusing Dawn's null backend adapter (${name}): it computes nothing`);
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: Math.min(l.maxStorageBuffersPerShaderStage, 8),
    },
  });
  return { device, adapter: name, isFallbackAdapter: (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false };
}
