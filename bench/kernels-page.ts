/** The Chromium side of the kernel benchmark: bench/kernels.html, driven by bench/kernels-browser.ts. */
import { runKernelBench, type KernelBenchResult } from '../src/gpu/kernel-bench.ts';
import { Kernels } from '../src/gpu/kernels.ts';
import { adapterIdentity } from '../src/gpu/detect.ts';
import { openSession } from '../src/gpu/session.ts';
import { browserShaderLoader } from '../src/gpu/shaders-browser.ts';
import { Timer } from '../src/gpu/timing.ts';

type Out =
  | {
      ok: true;
      adapter: Record<string, unknown>;
      userAgent: string;
      crossOriginIsolated: boolean;
      result: KernelBenchResult;
    }
  | { ok: false; error: string };
const w = window as unknown as { __kernelBench?: Out };
const log = document.getElementById('log') as HTMLElement;

async function main(): Promise<Out> {
  const quick = new URLSearchParams(location.search).has('quick');
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return { ok: false, error: 'no WebGPU adapter (launch Chromium with --enable-unsafe-webgpu)' };
  const session = await openSession(adapter);
  const kernels = await Kernels.create(session, await browserShaderLoader.load());
  const result = await runKernelBench(kernels, new Timer(session), {
    quick,
    log: (l) => (log.textContent += `\n${l}`),
  });
  session.destroy();
  return {
    ok: true,
    adapter: {
      ...adapterIdentity(adapter),
      features: [...adapter.features].sort(),
      shaderF16: adapter.features.has('shader-f16'),
    },
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated,
    result,
  };
}

main().then(
  (r) => (w.__kernelBench = r),
  (e: unknown) => (w.__kernelBench = { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
);
