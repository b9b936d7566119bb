/**
 * The CLI's access to the GPU engine: a missing adapter or a failed device set-up is one
 * line with exit status 3 (never an uncaught Error), naming what was tried.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gpuPolicyRefusal, type GpuEngine } from '../gpu-engine/engine.ts';
import { CliError, EXIT, UsageError } from './io.ts';

/** Exit status when the requested device is missing or fails. */
export const EXIT_DEVICE = EXIT.noDevice;

/**
 * The Vulkan loader (through libwayland) prints `error: XDG_RUNTIME_DIR is invalid or not
 * set in the environment.` on stderr when the variable is unset, as in containers and CI;
 * it is harmless (no display is used). Pointing it at a private directory silences it.
 */
export function quietVulkanLoader(): void {
  if (process.env.XDG_RUNTIME_DIR) return;
  try {
    const dir = join(tmpdir(), `kvsched-runtime-${process.getuid?.() ?? 'user'}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 }); // reused by later runs
    process.env.XDG_RUNTIME_DIR = dir;
  } catch {
    /* leave the loader's warning */
  }
}

/** The process's GPU engine, or a CliError (exit 3) explaining why there is none. */
export async function cliGpuEngine(): Promise<GpuEngine> {
  quietVulkanLoader();
  const { nodeGpuEngine } = await import('../gpu-engine/run.ts');
  try {
    return await nodeGpuEngine();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new CliError(
      `--engine gpu: no usable WebGPU adapter (${why}); ` +
        `VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? '(unset)'}; ` +
        'see kvsched device, or use --engine cpu',
      EXIT_DEVICE,
    );
  }
}

/** `--engine gpu` with a policy the GPU engine has no port for: refused (exit 2) before any device is opened. */
export function checkGpuPolicies(specs: readonly string[]): void {
  for (const spec of specs) {
    const why = gpuPolicyRefusal(spec);
    if (why !== undefined) throw new UsageError(`--engine gpu: ${why}`);
  }
}
